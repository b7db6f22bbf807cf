/**
 * The per-ticket tags of an action command (`<ip>`, `<matches>`, `<F-USER>` …, fail2ban's
 * `replaceDynamicTags`): substituted once, never recursively. What a log line can influence never
 * becomes shell syntax: a value made only of characters that mean nothing to the shell is written
 * in as a word; any other value (a space, a quote, `$`, `;`, a newline …) is handed to the shell as
 * a positional argument and the tag becomes a variable reference, the way fail2ban does it for
 * its list of dangerous characters — stricter here, since fail2ban lets spaces and tabs through
 * (and so splits such a value into several words).
 */
import { mapTagToGroup } from '../filter/tagExpand.js';

/** A shell script and the positional arguments it reads its variables from (`sh -c script args…`). */
export interface ShellCommand {
  readonly script: string;
  readonly args: readonly string[];
}

const TAG = /<([^ <>]+)>/g;
const F_TAG = /<F-([A-Z0-9_-]+)>/g;
/** Characters that are a plain word to `sh` in any context a tag is used in (unquoted or quoted). */
const SAFE_WORD = /^[A-Za-z0-9_.:/@%+=,-]*$/;

/** Tags every command knows besides the ticket's (`<br>`, `<sp>`, host names). */
export interface ExtraTags {
  /** The host's name, fully qualified or short. */
  readonly hostname: (fqdn: boolean) => string;
}

type Ctx = { kind: 'plain' | 'dq' | 'sq' | 'bq' } | { kind: 'cs'; depth: number };

/**
 * Where in the shell's quoting a position of a command is: unquoted, inside "…", '…', `…` or
 * $(…) — the lexing `sh` does, enough to reference a variable so that it is always one whole word.
 */
class QuoteTracker {
  private readonly stack: Ctx[] = [{ kind: 'plain' }];

  get top(): Ctx['kind'] {
    return (this.stack[this.stack.length - 1] as Ctx).kind;
  }

  /** Advances over `text` (which holds no tag being substituted). */
  feed(text: string): void {
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      const top = this.stack[this.stack.length - 1] as Ctx;
      if (top.kind === 'sq') {
        if (c === "'") this.stack.pop();
        continue;
      }
      if (c === '\\') {
        i++;
        continue;
      }
      if (top.kind === 'dq') {
        if (c === '"') this.stack.pop();
        else if (c === '`') this.stack.push({ kind: 'bq' });
        else if (c === '$' && text[i + 1] === '(') {
          this.stack.push({ kind: 'cs', depth: 0 });
          i++;
        }
        continue;
      }
      // unquoted, inside `…` or $(…)
      if (c === "'") this.stack.push({ kind: 'sq' });
      else if (c === '"') this.stack.push({ kind: 'dq' });
      else if (c === '`') {
        if (top.kind === 'bq') this.stack.pop();
        else this.stack.push({ kind: 'bq' });
      } else if (c === '$' && text[i + 1] === '(') {
        this.stack.push({ kind: 'cs', depth: 0 });
        i++;
      } else if (top.kind === 'cs' && c === '(') top.depth++;
      else if (top.kind === 'cs' && c === ')') {
        if (top.depth === 0) this.stack.pop();
        else top.depth--;
      }
    }
  }

  /** A reference to `$name` that expands to exactly one word, unchanged, at the current position. */
  reference(name: string): string {
    const top = this.top;
    if (top === 'dq') return `\${${name}}`;
    if (top === 'sq') return `'"\${${name}}"'`;
    return `"\${${name}}"`;
  }
}

/** `text` with every match of `re` replaced; `replace` gets the quoting context at the match. */
function replaceTracked(text: string, re: RegExp, replace: (m: RegExpMatchArray, q: QuoteTracker) => string): string {
  const q = new QuoteTracker();
  let out = '';
  let last = 0;
  for (const m of text.matchAll(re)) {
    const at = m.index;
    const before = text.slice(last, at);
    q.feed(before);
    const rep = replace(m, q);
    out += before + rep;
    // what was put in is shell text too (a word, a variable reference, a line break …)
    q.feed(rep);
    last = at + m[0].length;
  }
  return out + text.slice(last);
}

/**
 * Substitutes the dynamic tags of `cmd`: `lookup(tag)` gives a ticket value (undefined: not a
 * ticket tag), `fdata` the ticket's groups for `<F-NAME>` (a missing one becomes empty). A value
 * that is not a plain word becomes a variable set from a positional argument and is referenced so
 * that it stays one word whatever quotes the command puts around the tag.
 */
export function substituteDynamic(
  cmd: string,
  lookup: (tag: string) => string | undefined,
  fdata: ReadonlyMap<string, string>,
  extra: ExtraTags,
): ShellCommand {
  const vars = new Map<string, string>();
  const escape = (tag: string, value: string, q: QuoteTracker): string => {
    if (SAFE_WORD.test(value)) return value;
    const name = `f2bV_${tag.replace(/\W/g, '_')}`;
    vars.set(name, value);
    return q.reference(name);
  };
  let out = replaceTracked(cmd, TAG, (m, q) => {
    const tag = m[1] as string;
    const v = lookup(tag);
    if (v !== undefined) return escape(tag, v, q);
    switch (tag) {
      case 'br': return '\n';
      case 'sp': return ' ';
      case 'fq-hostname': return extra.hostname(true);
      case 'sh-hostname': return extra.hostname(false);
      default: return m[0];
    }
  });
  if (out.includes('<')) {
    out = replaceTracked(out, F_TAG, (m, q) => {
      const key = mapTagToGroup(m[1] as string);
      const v = fdata.get(key);
      return v === undefined ? '' : escape(`F_${key}`, v, q);
    });
  }
  if (vars.size === 0) return { script: out, args: [] };
  let stat = '';
  const args: string[] = [];
  for (const [name, value] of vars) {
    stat += `${name}=$${args.length} `;
    args.push(value);
  }
  return { script: `${stat}\n${out}`, args };
}
