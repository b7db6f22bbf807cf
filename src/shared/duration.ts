/**
 * fail2ban's time abbreviations ("10m", "1h 30m", "1d12h", "1y-6mo", "-1") converted to seconds,
 * the way `MyTime.str2seconds` does it: units become multiplications, neighbouring numbers are
 * added, and the result is evaluated as arithmetic. Python's `eval` is replaced by a small,
 * safe arithmetic evaluator (numbers, + - * / // % **, parentheses) with Python's error texts.
 */
import { PortcullisError } from './errors.js';
import type { PyFloat} from './pyvalue.js';
import { pyNumber } from './pyvalue.js';
import { evaluateArithmetic } from './arith.js';

const UNIT_RULES: ReadonlyArray<readonly [RegExp, string]> = [
  [/(?<=[\d\s])(days?|da|dd?)\b/gi, '*86400'],
  [/(?<=[\d\s])(weeks?|wee?|ww?)\b/gi, '*604800'],
  [/(?<=[\d\s])(months?|mon?)\b/gi, '*2629800.0'],
  [/(?<=[\d\s])(years?|yea?|yy?)\b/gi, '*31557600.0'],
  [/(?<=[\d\s])(seconds?|sec?|ss?)\b/gi, '*1'],
  [/(?<=[\d\s])(minutes?|min?|mm?)\b/gi, '*60'],
  [/(?<=[\d\s])(hours?|hou?|hh?)\b/gi, '*3600'],
];

/** Raised for a time string that does not evaluate; the message is Python's. */
export class DurationError extends PortcullisError {
  constructor(message: string) {
    super('E_DURATION', message);
  }
}

/** The arithmetic expression a time string stands for ("1d12h" -> "1*86400+12*3600"). */
export function durationExpression(text: string): string {
  let expr = text.replace(/(?<=[a-z])(\d)/gi, ' $1');
  for (const [re, repl] of UNIT_RULES) expr = expr.replace(re, repl);
  return expr.replace(/(\d)\s+(\d)/g, '$1+$2');
}

/**
 * `str2seconds`: an integer (number) or a float (PyFloat), as Python would compute it.
 * Throws DurationError with Python's message for anything else.
 */
export function str2seconds(text: string): number | bigint | PyFloat {
  const result = evaluateArithmetic(durationExpression(text));
  if (typeof result === 'string') throw new DurationError(result);
  return result;
}

/** Seconds as a plain number, or undefined when the text is not a valid time. */
export function parseDurationSeconds(text: string): number | undefined {
  try {
    const v = str2seconds(text);
    return pyNumber(v);
  } catch {
    return undefined;
  }
}
