/**
 * exp, log and pow in double-double precision, rounded once at the end. V8's Math.exp/log/pow
 * (fdlibm) are often one unit in the last place away from glibc's, whose results are (nearly
 * always) the correctly rounded ones; computing with ~100 bits and rounding gives glibc's digits.
 */
import { scaleByPowerOfTwo } from './intFloat.js';

export type DD = readonly [number, number];

function twoSum(a: number, b: number): DD {
  const s = a + b;
  const bb = s - a;
  return [s, a - (s - bb) + (b - bb)];
}

function quickTwoSum(a: number, b: number): DD {
  const s = a + b;
  return [s, b - (s - a)];
}

function split(a: number): DD {
  const c = 134217729 * a;
  const hi = c - (c - a);
  return [hi, a - hi];
}

function twoProd(a: number, b: number): DD {
  const p = a * b;
  const [ah, al] = split(a);
  const [bh, bl] = split(b);
  return [p, ah * bh - p + ah * bl + al * bh + al * bl];
}

function ddAdd(a: DD, b: DD): DD {
  const [s, e] = twoSum(a[0], b[0]);
  const [t, f] = twoSum(a[1], b[1]);
  const [s2, e2] = quickTwoSum(s, e + t);
  return quickTwoSum(s2, e2 + f);
}

function ddMul(a: DD, b: DD): DD {
  const [p, e] = twoProd(a[0], b[0]);
  return quickTwoSum(p, e + a[0] * b[1] + a[1] * b[0]);
}

function ddDiv(a: DD, b: DD): DD {
  const q1 = a[0] / b[0];
  const r = ddAdd(a, ddMul([-q1, 0], b));
  return quickTwoSum(q1, r[0] / b[0]);
}

const LN2_DD: DD = [0.6931471805599453, 2.3190468138462996e-17];
const LN2_HI = 0.6931471803691238;
const LN2_MID = 1.9082149292705877e-10;
const LN2_LO = 1.1612227229362532e-26;

/** e**x for a double-double x with |x| < 746; the result is not yet scaled by 2**k. */
function expDD(x: DD): { readonly m: DD; readonly k: number } {
  const k = Math.round(x[0] / LN2_DD[0]);
  let r = ddAdd(x, [-k * LN2_HI, 0]);
  r = ddAdd(r, twoProd(-k, LN2_MID));
  r = ddAdd(r, [-k * LN2_LO, 0]);
  r = [r[0] / 512, r[1] / 512];
  let term: DD = r;
  let sum = ddAdd([1, 0], r);
  for (let n = 2; n <= 12; n++) {
    term = ddMul(term, r);
    term = ddDiv(term, [n, 0]);
    sum = ddAdd(sum, term);
  }
  for (let i = 0; i < 9; i++) sum = ddMul(sum, sum);
  return { m: sum, k };
}

export function expOf(x: DD): number {
  if (x[0] > 710) return Infinity;
  if (x[0] < -746) return 0;
  const { m, k } = expDD(x);
  return scaleByPowerOfTwo(m[0] + m[1], k);
}

/** log(x) as a double-double, for a finite x > 0. */
function logDD(x: number): DD {
  let e = Math.floor(Math.log2(x));
  let m = scaleByPowerOfTwo(x, -e);
  while (m >= Math.SQRT2) {
    m /= 2;
    e++;
  }
  while (m < Math.SQRT1_2) {
    m *= 2;
    e--;
  }
  const s = ddDiv([m - 1, 0], twoSum(m, 1));
  const s2 = ddMul(s, s);
  let power: DD = s;
  let series: DD = s;
  for (let n = 3; n <= 61; n += 2) {
    power = ddMul(power, s2);
    series = ddAdd(series, ddDiv(power, [n, 0]));
    if (Math.abs(power[0]) < 1e-40) break;
  }
  return ddAdd(ddMul(LN2_DD, [e, 0]), [series[0] * 2, series[1] * 2]);
}

export function logOf(x: number): number {
  if (Number.isNaN(x) || x === Infinity) return x;
  if (x === 0) return -Infinity;
  if (x === 1) return 0;
  const r = logDD(x);
  return r[0] + r[1];
}

/** x ** y for finite x > 0 and finite y. */
export function powOf(x: number, y: number): number {
  if (x === 1 || y === 0) return 1;
  if (y === 1) return x;
  return expOf(ddMul(logDD(x), [y, 0]));
}
