/**
 * Step 1 of an action command's tag substitution (fail2ban's `CommandAction.replaceTag` over the
 * action's properties): the properties are first substituted into each other
 * (`substituteRecursiveTags`, shared with the configuration reader), then the command's own tags
 * are replaced pass by pass until nothing changes (at most 26 passes). With a conditional family,
 * `<tag?family=inet6>` is preferred over `<tag>`. `<br>`, `<sp>` and the host names are filled in;
 * unknown tags (the per-ticket ones: `<ip>`, `<F-USER>` …) stay for step 2. Results are cached per
 * (command, family) until a property changes.
 */
import { substituteTags, TagRecursionError } from '../config/tags.js';
import { PortcullisError } from '../shared/errors.js';
import { pyReprFloat, PyFloat } from '../shared/pyvalue.js';

/** A property value as the configuration stream carries it (`norestored = True`, `timeout = 60` …). */
export type PropertyValue = string | number | boolean | PyFloat | null;

/** The property names whose static values are shell-escaped (their content is out of the admin's control). */
export const ESCAPED_TAGS: ReadonlySet<string> = new Set(['matches', 'ipmatches', 'ipjailmatches']);

const TAG_RE = /<([^ <>]+)>/g;
const MAX_PASSES = 25;

/** A property refers to itself (directly or through others), or a command never stops growing. */
export class ActionTagError extends PortcullisError {
  constructor(
    readonly jail: string,
    readonly action: string,
    readonly tag: string,
    /** fail2ban's ValueError text. */
    readonly pythonMessage: string,
  ) {
    super('E_ACTION_TAG', `Cannot substitute tags of action "${action}" in jail "${jail}": tag <${tag}> refers to itself`);
  }
}

/** Python's `str()` of a property value. */
export function propertyText(value: PropertyValue): string {
  if (value === null) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (value instanceof PyFloat) return pyReprFloat(value.value);
  return String(value);
}

/** fail2ban's `escapeTag`: a backslash before every shell-special character; newline → `\n`, CR → `\r`. */
export function escapeTag(value: string): string {
  return value.replace(/[\\#&;`|*?~<>^()[\]{}$'"\n\r]/g, (c) => (c === '\n' ? '\\n' : c === '\r' ? '\\r' : `\\${c}`));
}

/** The action's properties with tags substituted into each other, and its commands resolved. */
export class StaticTags {
  private readonly commands = new Map<string, string>();
  private readonly interpolated = new Map<string, ReadonlyMap<string, PropertyValue>>();

  /**
   * @param properties the action's current properties (read again after {@link clear})
   * @param hostname the host's name for `<fq-hostname>` / `<sh-hostname>`
   */
  constructor(
    private readonly jail: string,
    private readonly action: string,
    private readonly properties: () => ReadonlyMap<string, PropertyValue>,
    private readonly hostname: (fqdn: boolean) => string,
  ) {}

  /** Forgets every cached result (a property changed). */
  clear(): void {
    this.commands.clear();
    this.interpolated.clear();
  }

  /**
   * `query` (e.g. `<actionban>`) with the properties' values in place, `family` ('' = none,
   * else `inet4` / `inet6`) selecting conditional values. Throws {@link ActionTagError}.
   */
  resolve(query: string, family: string): string {
    if (!query.includes('<')) return query;
    const conditional = family ? `family=${family}` : '';
    const key = `${conditional}\0${query}`;
    const hit = this.commands.get(key);
    if (hit !== undefined) return hit;
    const tags = this.tagsFor(conditional);
    const value = this.replaceLoop(query, tags, conditional);
    this.commands.set(key, value);
    return value;
  }

  private tagsFor(conditional: string): ReadonlyMap<string, PropertyValue> {
    let tags = this.interpolated.get(conditional);
    if (tags === undefined) {
      try {
        tags = substituteTags(this.properties(), { ignore: ESCAPED_TAGS, conditional });
      } catch (e) {
        if (e instanceof TagRecursionError) throw new ActionTagError(this.jail, this.action, e.tag, e.message);
        throw e;
      }
      this.interpolated.set(conditional, tags);
    }
    return tags;
  }

  private replaceOnce(query: string, tags: ReadonlyMap<string, PropertyValue>, conditional: string): string {
    return query.replace(TAG_RE, (m: string, tag: string) => {
      let value = conditional ? tags.get(`${tag}?${conditional}`) : undefined;
      if (value === undefined || value === null) value = tags.get(tag);
      if (value === undefined || value === null) return this.extra(tag) ?? m;
      const text = propertyText(value);
      return ESCAPED_TAGS.has(tag) ? escapeTag(text) : text;
    });
  }

  private replaceLoop(start: string, tags: ReadonlyMap<string, PropertyValue>, conditional: string): string {
    let query = start;
    for (let count = MAX_PASSES + 1; ; ) {
      const value = this.replaceOnce(query, tags, conditional);
      if (value === query || !value.includes('<')) return value;
      query = value;
      if (--count <= 0) {
        const tag = /<([^ <>]+)>/.exec(query)?.[1] ?? '';
        throw new ActionTagError(
          this.jail,
          this.action,
          tag,
          `unexpected too long replacement interpolation, possible self referencing definitions in query: ${query}`,
        );
      }
    }
  }

  private extra(tag: string): string | undefined {
    switch (tag) {
      case 'br':
        return '\n';
      case 'sp':
        return ' ';
      case 'fq-hostname':
        return this.hostname(true);
      case 'sh-hostname':
        return this.hostname(false);
      default:
        return undefined;
    }
  }
}
