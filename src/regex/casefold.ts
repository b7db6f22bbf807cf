/**
 * Python's IGNORECASE equivalence for str patterns: x matches c when lower(x) equals lower(c) or
 * is one of the other lowercase letters with the same uppercase (sre's "fixes", e.g. i/ı, s/ſ,
 * k/K). Modelled as the classes of the relation {c ~ simpleLower(c), c ~ simpleUpper(c)} over
 * code points U+0000–U+1FFFF (all cased letters are below U+1E944), using the JS engine's Unicode
 * case mappings (single code point results only; İ lowers to i as in Python's simple mapping).
 * Differences can come only from Unicode version differences between Node's ICU and Python 3.11.
 */

const LIMIT = 0x20000;

let classes: Map<number, readonly number[]> | undefined;
let cased: number[] = [];

function single(s: string): number | undefined {
  const cp = s.codePointAt(0);
  return cp !== undefined && String.fromCodePoint(cp).length === s.length ? cp : undefined;
}

function simpleLower(cp: number): number {
  if (cp === 0x130) return 0x69;
  return single(String.fromCodePoint(cp).toLowerCase()) ?? cp;
}

function simpleUpper(cp: number): number {
  return single(String.fromCodePoint(cp).toUpperCase()) ?? cp;
}

function build(): Map<number, readonly number[]> {
  const parent = new Map<number, number>();
  const find = (x: number): number => {
    let r = x;
    for (let p = parent.get(r); p !== undefined && p !== r; p = parent.get(r)) r = p;
    parent.set(x, r);
    return r;
  };
  const union = (a: number, b: number): void => {
    if (a === b) return;
    const ra = find(a);
    const rb = find(b);
    if (ra !== rb) parent.set(ra, rb);
  };
  for (let cp = 0; cp < LIMIT; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    union(cp, simpleLower(cp));
    union(cp, simpleUpper(cp));
  }
  const groups = new Map<number, number[]>();
  for (const cp of parent.keys()) {
    const r = find(cp);
    const g = groups.get(r) ?? [];
    g.push(cp);
    groups.set(r, g);
  }
  const out = new Map<number, readonly number[]>();
  for (const g of groups.values()) {
    if (g.length < 2) continue;
    g.sort((a, b) => a - b);
    for (const cp of g) out.set(cp, g);
  }
  cased = [...out.keys()].sort((a, b) => a - b);
  return out;
}

/** Every code point Python's IGNORECASE treats as equal to `cp` (including `cp`), ascending. */
export function caseClass(cp: number): readonly number[] {
  classes ??= build();
  return classes.get(cp) ?? [cp];
}

/** Whether any code point in [lo, hi] has case variants. */
export function hasCased(lo: number, hi: number): boolean {
  return casedIn(lo, hi).length > 0;
}

/** The code points in [lo, hi] that have case variants. */
function casedIn(lo: number, hi: number): number[] {
  caseClass(0);
  let a = 0;
  let b = cased.length;
  while (a < b) {
    const m = (a + b) >> 1;
    if ((cased[m] ?? 0) < lo) a = m + 1;
    else b = m;
  }
  const out: number[] = [];
  for (let i = a; i < cased.length && (cased[i] ?? 0) <= hi; i++) out.push(cased[i] ?? 0);
  return out;
}

/** The ranges plus every case variant of their members (Python's IGNORECASE class semantics). */
export function caseClose(ranges: ReadonlyArray<readonly [number, number]>): Array<[number, number]> {
  const out: Array<[number, number]> = ranges.map(([a, b]) => [a, b]);
  for (const [lo, hi] of ranges) {
    for (const cp of casedIn(lo, hi)) for (const v of caseClass(cp)) out.push([v, v]);
  }
  return normalize(out);
}

/** Sorted, merged ranges. */
export function normalize(ranges: ReadonlyArray<readonly [number, number]>): Array<[number, number]> {
  const sorted = [...ranges].sort((x, y) => x[0] - y[0]);
  const out: Array<[number, number]> = [];
  for (const [a, b] of sorted) {
    const last = out[out.length - 1];
    if (last && a <= last[1] + 1) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  return out;
}
