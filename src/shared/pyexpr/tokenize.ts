/**
 * The tokenizer of the expression subset: numbers (Python's literal forms, `_` separators),
 * names, operators; strings, complex numbers and unknown characters are refused.
 */
import { PyExprError } from './types.js';

const MAX_LENGTH = 10000;

export type Token =
  | { readonly k: 'num'; readonly v: bigint | number; readonly pos: number }
  | { readonly k: 'name'; readonly v: string; readonly pos: number }
  | { readonly k: 'op'; readonly v: string; readonly pos: number }
  | { readonly k: 'end'; readonly pos: number };

export const KEYWORDS = new Set(['and', 'or', 'not', 'if', 'else', 'True', 'False', 'None', 'lambda', 'in', 'is', 'for', 'import',
  'from', 'as', 'await', 'yield', 'async', 'def', 'class', 'return', 'del', 'global', 'nonlocal', 'pass', 'raise',
  'try', 'except', 'finally', 'while', 'with', 'assert', 'break', 'continue', 'elif']);
const NUMBER_END_KEYWORDS = ['and', 'else', 'for', 'if', 'in', 'is', 'not', 'or'];
const OPS = ['**', '//', '<<', '>>', '<=', '>=', '==', '!=', '+', '-', '*', '/', '%', '&', '|', '^', '~', '<', '>', '(', ')', ',', '.'];
const DIGITS = String.raw`\d(?:_?\d)*`;
const NUMBER_RE = new RegExp(
  String.raw`0[xX](?:_?[0-9a-fA-F])+|0[oO](?:_?[0-7])+|0[bB](?:_?[01])+|(?:(?:${DIGITS})?\.${DIGITS}|${DIGITS}\.?)(?:[eE][+-]?${DIGITS})?`,
  'y',
);

export const syntax = (detail: string, pos: number): PyExprError => new PyExprError('SyntaxError', detail, pos);

function numberValue(text: string, pos: number): bigint | number {
  const clean = text.replaceAll('_', '');
  if (/^0[xob]/i.test(clean)) return BigInt(clean);
  if (/[.eE]/.test(clean)) return Number(clean);
  if (/^0+[1-9]/.test(clean)) throw syntax('leading zeros in decimal integer literals are not permitted', pos);
  if (clean.length > 4300) throw syntax('Exceeds the limit (4300 digits) for integer string conversion', pos);
  return BigInt(clean);
}

export function tokenize(src: string): Token[] {
  if (src.length > MAX_LENGTH) throw new PyExprError('Unsupported', `expression longer than ${MAX_LENGTH} characters`, 0);
  const tokens: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i] ?? '';
    if (c === ' ' || c === '\t' || c === '\f') {
      i++;
      continue;
    }
    NUMBER_RE.lastIndex = i;
    const num = /[\d.]/.test(c) ? NUMBER_RE.exec(src) : null;
    if (num !== null && num[0] !== '.') {
      const end = i + num[0].length;
      const rest = src.slice(end, end + 6);
      if (/^[jJ]/.test(rest)) throw new PyExprError('Unsupported', 'complex numbers are not supported', i);
      if (/^[\p{L}\p{N}_]/u.test(rest) && !NUMBER_END_KEYWORDS.some((k) => rest.startsWith(k))) throw syntax('invalid decimal literal', i);
      tokens.push({ k: 'num', v: numberValue(num[0], i), pos: i });
      i = end;
      continue;
    }
    const name = /^[\p{L}_][\p{L}\p{N}_]*/u.exec(src.slice(i, i + 200));
    if (name !== null) {
      tokens.push({ k: 'name', v: name[0], pos: i });
      i += name[0].length;
      continue;
    }
    const op = OPS.find((o) => src.startsWith(o, i));
    if (op === undefined) {
      const what = c === "'" || c === '"' ? 'strings are not supported' : `character ${JSON.stringify(c)} is not supported`;
      throw new PyExprError(c === "'" || c === '"' ? 'Unsupported' : 'SyntaxError', what, i);
    }
    tokens.push({ k: 'op', v: op, pos: i });
    i += op.length;
  }
  tokens.push({ k: 'end', pos: src.length });
  return tokens;
}
