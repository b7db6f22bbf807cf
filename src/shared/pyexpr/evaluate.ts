/**
 * Evaluation of a parsed tree against a scope, and the compile API: `compilePyExpr` parses once,
 * `CompiledPyExpr.evaluate` runs as often as needed.
 */
import { Parser, type Node } from './parse.js';
import { binary, compare, pyTruthy, unary } from './operators.js';
import { syntax, tokenize } from './tokenize.js';
import { PyExprError, pyTypeName, type PyNumeric, type PyScope, type PyScopeValue } from './types.js';

function numeric(v: PyScopeValue, pos: number): PyNumeric {
  if (typeof v === 'object') throw new PyExprError('TypeError', `expression result is a ${pyTypeName(v)}, not a number`, pos);
  return v;
}

function evaluate(node: Node, scope: PyScope): PyScopeValue {
  switch (node.t) {
    case 'const': return node.v;
    case 'name': {
      const v = scope.get(node.name);
      if (v === undefined) throw new PyExprError('NameError', `name '${node.name}' is not defined`, node.pos);
      return v;
    }
    case 'attr': {
      const obj = evaluate(node.obj, scope);
      const v = typeof obj === 'object' && obj.kind === 'namespace' ? obj.attrs.get(node.name) : undefined;
      if (v === undefined) {
        throw new PyExprError('AttributeError', `'${pyTypeName(obj)}' object has no attribute '${node.name}'`, node.pos);
      }
      return v;
    }
    case 'call': {
      const fn = evaluate(node.fn, scope);
      if (typeof fn !== 'object' || fn.kind !== 'function') {
        throw new PyExprError('TypeError', `'${pyTypeName(fn)}' object is not callable`, node.pos);
      }
      const args = node.args.map((a) => numeric(evaluate(a, scope), a.pos));
      try {
        return fn.call(args);
      } catch (e) {
        if (e instanceof PyExprError && e.position < 0) throw new PyExprError(e.pyType, e.detail, node.pos);
        throw e;
      }
    }
    case 'unary': return unary(node.op, evaluate(node.arg, scope), node.pos);
    case 'bin': return binary(node.op, evaluate(node.l, scope), evaluate(node.r, scope), node.pos);
    case 'bool': {
      let v: PyScopeValue = false;
      for (const item of node.items) {
        v = evaluate(item, scope);
        if (pyTruthy(v) === (node.op === 'or')) return v;
      }
      return v;
    }
    case 'cmp': {
      let left = evaluate(node.first, scope);
      for (let k = 0; k < node.ops.length; k++) {
        const right = evaluate(node.rest[k] as Node, scope);
        if (!compare(node.ops[k] as string, left, right, node.pos)) return false;
        left = right;
      }
      return true;
    }
    case 'if': return pyTruthy(evaluate(node.cond, scope)) ? evaluate(node.then, scope) : evaluate(node.other, scope);
  }
}

/** A parsed expression, evaluated as often as needed against a scope. */
export class CompiledPyExpr {
  constructor(
    readonly source: string,
    private readonly tree: Node,
  ) {}

  /** Evaluates against `scope`; the result must be a number. Throws PyExprError. */
  evaluate(scope: PyScope): PyNumeric {
    return numeric(evaluate(this.tree, scope), 0);
  }
}

/** Parses `source` (Python `eval` mode, the subset above). Throws PyExprError for anything else. */
export function compilePyExpr(source: string): CompiledPyExpr {
  // Python's eval strips leading spaces and tabs and accepts trailing newlines.
  const text = source.replace(/^[ \t]+/, '').replace(/[\r\n]+$/, '');
  if (/[\r\n]/.test(text)) throw syntax('multi-line expressions are not supported', text.search(/[\r\n]/));
  return new CompiledPyExpr(source, new Parser(tokenize(text)).parse());
}
