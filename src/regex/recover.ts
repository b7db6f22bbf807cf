/**
 * Python keeps, for a group inside a repeat, the value from the last iteration that set it; JS
 * clears captures at every iteration. For such loops (emit.ts `LoopRecovery`) the main regex only
 * gives the loop's span [s, e]; the iterations are then replayed one at a time.
 *
 * Why this is Python's path: nothing after the loop depends on its captures (no references, checked),
 * so the tail succeeds or fails by e alone, and the path the backtracker keeps is the first loop path,
 * in priority order, from s that ends at e (an earlier one ending at e would have succeeded first).
 * Its first iteration is the first match of `body body{a,b}` at s pinned to end at e (a sticky regex
 * with a lookahead on the remaining length); then the same from where that iteration ended. With a
 * non-empty body (checked), JS and Python order these paths alike.
 */
import type { LoopRecovery } from './emit.js';

const CACHE_LIMIT = 64;
const cache = new WeakMap<LoopRecovery, Map<string, RegExp>>();

function iterationRegex(loop: LoopRecovery, more: readonly [number, number], tail: number): RegExp {
  let byKey = cache.get(loop);
  if (byKey === undefined) {
    byKey = new Map<string, RegExp>();
    cache.set(loop, byKey);
  }
  const key = `${more[0]},${more[1]},${tail}`;
  let rx = byKey.get(key);
  if (rx === undefined) {
    if (byKey.size >= CACHE_LIMIT) byKey.clear();
    const [a, b] = more;
    const q = b === Infinity ? `{${a},}` : `{${a},${b}}`;
    const src = `(?<__it>${loop.first})(?:${loop.rest})${q}${loop.lazy ? '?' : ''}(?=[\\s\\S]{${tail}}(?![\\s\\S]))`;
    rx = new RegExp(src, 'uy');
    byKey.set(key, rx);
  }
  return rx;
}

const cpCount = (s: string): number => s.length - (s.match(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g)?.length ?? 0);

/**
 * Python's values of the captures of `loop`, which matched `input` from s to e: the last value
 * each group took along the loop's path (groups never set are absent).
 */
export function recoverLoop(loop: LoopRecovery, input: string, s: number, e: number): Map<string, string> {
  const last = new Map<string, string>();
  const tail = cpCount(input.slice(e));
  let p = s;
  for (let count = 0; count < loop.max; count++) {
    if (loop.lazy && count >= loop.min && p === e) break;
    const rx = iterationRegex(loop, [Math.max(0, loop.min - count - 1), loop.max - count - 1], tail);
    rx.lastIndex = p;
    const m = rx.exec(input);
    const it = m?.groups?.['__it'];
    if (!m || it === undefined || it.length === 0) break;
    for (const [js, py] of loop.jsToPython) {
      const v = m.groups?.[js];
      if (v !== undefined) last.set(py, v);
    }
    p += it.length;
  }
  return last;
}
