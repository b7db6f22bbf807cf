/** Python's `shlex.split(s)` (POSIX mode), used for `journalmatch` lines. */
import { PortcullisError } from '../shared/errors.js';

export class ShlexError extends PortcullisError {
  constructor(message: string) {
    super('E_SHLEX', message);
  }
}

/** Splits like a POSIX shell: quotes group, backslash escapes; throws ShlexError as Python does. */
export function splitShell(text: string): string[] {
  const tokens: string[] = [];
  let token = '';
  let inToken = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] ?? '';
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else token += c;
    } else if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === '\\' && i + 1 < text.length && (text[i + 1] === '"' || text[i + 1] === '\\')) token += text[++i];
      else if (c === '\\' && i + 1 >= text.length) throw new ShlexError('No closing quotation');
      else token += c;
    } else if (/\s/.test(c)) {
      if (inToken) tokens.push(token);
      token = '';
      inToken = false;
    } else if (c === '\\') {
      if (i + 1 >= text.length) throw new ShlexError('No escaped character');
      token += text[++i];
      inToken = true;
    } else if (c === "'" || c === '"') {
      quote = c;
      inToken = true;
    } else {
      token += c;
      inToken = true;
    }
  }
  if (quote) throw new ShlexError('No closing quotation');
  if (inToken) tokens.push(token);
  return tokens;
}
