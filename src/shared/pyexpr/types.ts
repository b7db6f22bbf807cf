/**
 * The evaluator's value model and its error: Python numbers (int `bigint`, float `number`, bool
 * `boolean`), the functions and namespaces a scope offers, `PyExprError`, the int size cap and
 * Python's type names for error texts.
 */
import { PortcullisError } from '../errors.js';

/** A Python number: int (`bigint`), float (`number`) or bool. */
export type PyNumeric = bigint | number | boolean;

/** A callable the scope offers (`min`, `math.exp`, `random.random` …). */
export interface PyFunction {
  readonly kind: 'function';
  readonly name: string;
  readonly call: (args: readonly PyNumeric[]) => PyNumeric;
}

/** An object with attributes (`ban`, `math`, `random`). */
export interface PyNamespace {
  readonly kind: 'namespace';
  readonly name: string;
  readonly attrs: ReadonlyMap<string, PyScopeValue>;
}

export type PyScopeValue = PyNumeric | PyFunction | PyNamespace;
export type PyScope = ReadonlyMap<string, PyScopeValue>;

/** Why an expression was refused or failed; `pyType` is the Python exception class it stands for. */
export class PyExprError extends PortcullisError {
  constructor(
    readonly pyType: string,
    readonly detail: string,
    readonly position: number,
  ) {
    super('E_PYEXPR', `${pyType}: ${detail} (at ${position})`);
  }
}

/** Largest int (in bits) an expression may build; Python has no limit, we refuse instead of hanging. */
export const MAX_INT_BITS = 65536;

/** Python's type name of a value, for TypeError texts. */
export function pyTypeName(v: PyScopeValue): string {
  if (typeof v === 'bigint') return 'int';
  if (typeof v === 'number') return 'float';
  if (typeof v === 'boolean') return 'bool';
  return v.kind === 'function' ? 'builtin_function_or_method' : 'module';
}
