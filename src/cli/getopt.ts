/**
 * Python's `getopt.getopt(args, shortopts, longopts)`: options stop at the first non-option
 * argument or `--`; long options may be abbreviated to a unique prefix.
 */
import { PortcullisError } from '../shared/errors.js';

export class GetoptError extends PortcullisError {
  constructor(message: string) {
    super('E_USAGE', message);
  }
}

export type ParsedOption = readonly [name: string, value: string];

/** Returns the options as [name, value] (value '' for flags) and the remaining arguments. */
export function getopt(args: readonly string[], shortOpts: string, longOpts: readonly string[]): { opts: ParsedOption[]; rest: string[] } {
  const opts: ParsedOption[] = [];
  let i = 0;
  while (i < args.length) {
    const arg = args[i] ?? '';
    if (arg === '--') return { opts, rest: args.slice(i + 1) };
    if (!arg.startsWith('-') || arg === '-') break;
    i++;
    if (arg.startsWith('--')) i = parseLong(arg.slice(2), args, i, longOpts, opts);
    else i = parseShort(arg.slice(1), args, i, shortOpts, opts);
  }
  return { opts, rest: args.slice(i) };
}

function parseLong(text: string, args: readonly string[], next: number, longOpts: readonly string[], out: ParsedOption[]): number {
  const eq = text.indexOf('=');
  const name = eq === -1 ? text : text.slice(0, eq);
  let value: string | undefined = eq === -1 ? undefined : text.slice(eq + 1);
  const exact = longOpts.find((o) => o === name || o === `${name}=`);
  const candidates = exact ? [exact] : longOpts.filter((o) => o.startsWith(name));
  if (candidates.length === 0) throw new GetoptError(`option --${name} not recognized`);
  if (candidates.length > 1) throw new GetoptError(`option --${name} not a unique prefix`);
  const spec = candidates[0] ?? '';
  const full = spec.replace(/=$/, '');
  let i = next;
  if (spec.endsWith('=')) {
    if (value === undefined) {
      if (i >= args.length) throw new GetoptError(`option --${full} requires argument`);
      value = args[i++] ?? '';
    }
  } else if (value !== undefined) throw new GetoptError(`option --${full} must not have an argument`);
  out.push([`--${full}`, value ?? '']);
  return i;
}

function parseShort(text: string, args: readonly string[], next: number, shortOpts: string, out: ParsedOption[]): number {
  let i = next;
  let rest = text;
  while (rest !== '') {
    const c = rest[0] ?? '';
    rest = rest.slice(1);
    const at = shortOpts.indexOf(c);
    if (at === -1 || c === ':') throw new GetoptError(`option -${c} not recognized`);
    if (shortOpts[at + 1] === ':') {
      if (rest === '') {
        if (i >= args.length) throw new GetoptError(`option -${c} requires argument`);
        rest = args[i++] ?? '';
      }
      out.push([`-${c}`, rest]);
      rest = '';
    } else out.push([`-${c}`, '']);
  }
  return i;
}
