/** Errors raised while translating a Python `re` pattern into a JavaScript RegExp. */
import { PortcullisError } from '../shared/errors.js';

/** `E_REGEX_SYNTAX`: Python itself rejects the pattern. `E_REGEX_UNSUPPORTED`: Python accepts it, we cannot translate it faithfully. */
export type RegexErrorCode = 'E_REGEX_SYNTAX' | 'E_REGEX_UNSUPPORTED';

/** A pattern that is invalid in Python, or valid but not translatable; names the construct and its offset (UTF-16 units). */
export class RegexError extends PortcullisError {
  readonly position: number;
  readonly pattern: string;
  readonly construct: string;

  constructor(code: RegexErrorCode, construct: string, pattern: string, position: number) {
    const what = code === 'E_REGEX_SYNTAX' ? 'invalid Python regex' : 'untranslatable Python regex construct';
    super(code, `${what}: ${construct} at position ${position} in ${JSON.stringify(pattern)}`);
    this.position = position;
    this.pattern = pattern;
    this.construct = construct;
  }
}
