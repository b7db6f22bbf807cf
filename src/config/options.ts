/**
 * fail2ban's argument syntax for `filter`, `action` and `banaction` values:
 * `name[key=value, key="quoted, with comma"][more=…]`, and multi-action lists.
 */
import { PortcullisError } from '../shared/errors.js';
import { pyReprString } from '../shared/pyvalue.js';
import { pyStrip } from './ini/pytext.js';

const OPTION_RE = /^([^[]+)(?:\[(.*)\])?\s*$/s;
const NAME = String.raw`[\p{L}\p{N}_\-.]+`;
const OPTION_EXTRACT_RE = new RegExp(
  String.raw`\s*(${NAME})=(?:"([^"]*)"|'([^']*)'|([^,\]]*))(?:,|\]\s*\[|$|(?<wrngA>.+))|,?\s*$|(?<wrngB>.+)`,
  'gsud',
);
const OPTION_SPLIT_RE = new RegExp(
  String.raw`(?:[^[\s]+(?:\s*\[\s*(?:${NAME}=(?:"[^"]*"|'[^']*'|[^,\]]*)\s*(?:,|\]\s*\[)?\s*)*\])?\s*|\S+)(?=\n\s*|\s+|$)`,
  'gsu',
);

/** Raised for a malformed `name[…]` value; the message is fail2ban's. */
export class OptionSyntaxError extends PortcullisError {
  constructor(message: string) {
    super('E_OPTION_SYNTAX', message);
  }
}

export interface ExtractedOptions {
  /** Everything before the first `[`, not stripped (as fail2ban: `sshd [x=1]` names "sshd "). */
  readonly name: string;
  /** The arguments in the order written; later duplicates replace earlier values. */
  readonly options: Map<string, string>;
}

/** `extractOptions`: splits `name[k=v,…]` into the name and its arguments. */
export function extractOptions(text: string): ExtractedOptions {
  const m = OPTION_RE.exec(text);
  if (!m) throw new OptionSyntaxError('unexpected option syntax');
  const options = new Map<string, string>();
  const optstr = m[2];
  if (optstr) {
    for (const om of optstr.matchAll(OPTION_EXTRACT_RE)) {
      const groups = om.groups ?? {};
      const starts = om.indices?.groups ?? {};
      if (groups.wrngA !== undefined) {
        throw new OptionSyntaxError(
          `unexpected syntax at ${starts.wrngA?.[0] ?? 0} after option ${pyReprString(om[1] ?? '')}: ${[...groups.wrngA].slice(0, 25).join('')}`,
        );
      }
      if (groups.wrngB !== undefined) {
        throw new OptionSyntaxError(`expected option, wrong syntax at ${starts.wrngB?.[0] ?? 0}: ${[...groups.wrngB].slice(0, 25).join('')}`);
      }
      const opt = om[1];
      if (!opt) continue;
      const value = om[2] ?? om[3] ?? om[4] ?? '';
      options.set(pyStrip(opt), pyStrip(value));
    }
  }
  return { name: m[1] ?? '', options };
}

/** `splitWithOptions`: the actions of a multi-line/multi-word action value. */
export function splitWithOptions(text: string): string[] {
  return [...text.matchAll(OPTION_SPLIT_RE)].map((m) => m[0]);
}

/** `splitwords`: words separated by spaces, commas or newlines; empties dropped. */
export function splitWords(text: string | null | undefined): string[] {
  if (!text) return [];
  return text
    .split(/[ ,\n]+/)
    .map(pyStrip)
    .filter((w) => w !== '');
}
