/**
 * `<tag>` substitution between the options of a filter or action (fail2ban's
 * `substituteRecursiveTags`): tags resolve from other options, then from a fallback lookup;
 * unknown tags stay literal; self reference or more than 25 replacements of one tag is an error.
 */
import { PortcullisError } from '../shared/errors.js';
import { pyReprString } from '../shared/pyvalue.js';
import { pyStr, type OptionValue } from './ini/store.js';

const TAG_RE = /<([^ <>]+)>/g;
const MAX_TAG_REPLACE_COUNT = 25;
/**
 * fail2ban has no bound here: tags that each expand to several copies of each other grow
 * exponentially until Python runs out of memory (observed: 24 GB, then killed). portcullis stops
 * at a size no real option approaches and reports it instead of crashing.
 */
export const MAX_TAG_VALUE_LENGTH = 1 << 20;

/** Raised when tags refer to themselves; the message is fail2ban's. */
export class TagRecursionError extends PortcullisError {
  constructor(
    readonly tag: string,
    message: string,
  ) {
    super('E_TAG_RECURSION', message);
  }
}

function searchTag(value: string, from: number): RegExpExecArray | null {
  TAG_RE.lastIndex = from;
  return TAG_RE.exec(value);
}

function pyDictRepr(counts: ReadonlyMap<string, number>): string {
  return '{' + [...counts].map(([k, v]) => `${pyReprString(k)}: ${v}`).join(', ') + '}';
}

export interface TagOptions {
  readonly ignore?: ReadonlySet<string>;
  /** Address family suffix (`family=inet6`): `<tag?family=inet6>` values are preferred. */
  readonly conditional?: string;
  /** Fallback for tags that are not options (fail2ban's `getCombOption`). */
  readonly lookup?: (tag: string) => OptionValue | undefined;
}

/** Returns a new map with every resolvable tag in every value replaced. */
export function substituteTags(input: ReadonlyMap<string, OptionValue>, opts: TagOptions = {}): Map<string, OptionValue> {
  const tags = new Map(input);
  const ignore = opts.ignore ?? new Set<string>();
  const done = new Set<string>();
  const repCounts = new Map<string, Map<string, number>>();
  for (;;) {
    let again = false;
    for (const tag of input.keys()) {
      if (ignore.has(tag) || done.has(tag)) continue;
      const orig = tags.get(tag) ?? null;
      const original = pyStr(orig);
      if (!original.includes('<')) {
        done.add(tag);
        continue;
      }
      let value = original;
      const counts = repCounts.get(tag) ?? new Map<string, number>();
      let m = searchTag(value, 0);
      while (m) {
        const rtag = m[1] ?? '';
        if (ignore.has(rtag)) {
          m = searchTag(value, m.index + m[0].length);
          continue;
        }
        if (rtag === tag || (counts.get(rtag) ?? 1) > MAX_TAG_REPLACE_COUNT) {
          throw new TagRecursionError(
            tag,
            `properties contain self referencing definitions and cannot be resolved, fail tag: ${tag}, found: ${rtag} in ${pyDictRepr(counts)}, value: ${value}`,
          );
        }
        let repl: OptionValue | undefined;
        if (opts.conditional) repl = tags.get(`${rtag}?${opts.conditional}`);
        if (repl === undefined || repl === null) repl = tags.get(rtag);
        if ((repl === undefined || repl === null) && opts.lookup) repl = opts.lookup(rtag);
        if (repl === undefined || repl === null) {
          m = searchTag(value, m.index + m[0].length);
          continue;
        }
        const replacement = pyStr(repl);
        const copies = value.split(`<${rtag}>`);
        if (value.length + (copies.length - 1) * replacement.length > MAX_TAG_VALUE_LENGTH) {
          throw new TagRecursionError(
            tag,
            `properties contain self referencing definitions and cannot be resolved, fail tag: ${tag}, found: ${rtag}: the value grows past ${MAX_TAG_VALUE_LENGTH} characters`,
          );
        }
        value = copies.join(replacement);
        counts.set(rtag, (counts.get(rtag) ?? 0) + 1);
        m = searchTag(value, m.index);
      }
      if (original !== value) {
        if (searchTag(value, 0)) {
          repCounts.set(tag, counts);
          again = true;
        }
        tags.set(tag, value);
      } else {
        // Nothing in it resolved; the option names and lookups are fixed, so nothing ever will.
        done.add(tag);
      }
      if (!value.includes('<')) done.add(tag);
    }
    if (!again) return tags;
  }
}
