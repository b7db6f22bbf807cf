/** A read position in a Python pattern, iterating by code point, that raises located errors. */
import { RegexError, type RegexErrorCode } from './errors.js';

export class Cursor {
  readonly src: string;
  pos = 0;

  constructor(src: string) {
    this.src = src;
  }

  /** The code point at the position as a string, or undefined at the end. */
  peek(): string | undefined {
    const cp = this.src.codePointAt(this.pos);
    return cp === undefined ? undefined : String.fromCodePoint(cp);
  }

  /** Reads and returns one code point, or undefined at the end. */
  next(): string | undefined {
    const c = this.peek();
    if (c !== undefined) this.pos += c.length;
    return c;
  }

  /** Consumes `s` when the input continues with it. */
  eat(s: string): boolean {
    if (!this.src.startsWith(s, this.pos)) return false;
    this.pos += s.length;
    return true;
  }

  /** Reads characters while `pred` holds, at most `max`. */
  take(pred: (c: string) => boolean, max = Number.POSITIVE_INFINITY): string {
    let out = '';
    for (let c = this.peek(); c !== undefined && out.length < max && pred(c); c = this.peek()) out += this.next();
    return out;
  }

  /** Throws a located error. */
  fail(code: RegexErrorCode, construct: string, at = this.pos): never {
    throw new RegexError(code, construct, this.src, at);
  }
}

export const isDigit = (c: string): boolean => c >= '0' && c <= '9';
export const isOctal = (c: string): boolean => c >= '0' && c <= '7';
export const isHex = (c: string): boolean => /^[0-9a-fA-F]$/.test(c);
