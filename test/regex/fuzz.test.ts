/**
 * Differential fuzz: random patterns from a grammar covering the translated constructs, random
 * subjects over an alphabet of troublesome characters; Python 3.11 `re.search` (span, groupdict,
 * or compile error) against ours. Seeded; a failure prints the seed, pattern and subject.
 * A second run targets loops: repeats of nullable bodies and of groups inside repeats.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NO_PYTHON, PYTHON } from '../helpers/python.js';
import { prng } from '../helpers/random.js';
import { ALPHABET, Gen, LOOP_ALPHABET, loopPattern } from './gen.js';
import { agree, ourOutcome, pythonOutcomes, refused, type Case } from './oracle.js';

const SEED = Number(process.env['REGEX_FUZZ_SEED'] ?? 20240611);
const PATTERNS = Number(process.env['REGEX_FUZZ_PATTERNS'] ?? 3000);
const SUBJECTS = 8;

interface Tally {
  readonly compared: number;
  readonly matched: number;
  readonly refused: number;
  readonly bad: readonly string[];
}

function compare(cases: readonly Case[], seed: number): Tally {
  const py = pythonOutcomes(cases);
  const bad: string[] = [];
  let refusedCount = 0;
  let compared = 0;
  let matched = 0;
  cases.forEach((c, i) => {
    const ours = ourOutcome(c);
    const theirs = py[i] ?? null;
    if (refused(ours) && !(theirs !== null && 'error' in theirs)) {
      refusedCount++;
      return;
    }
    compared++;
    if (theirs !== null && 'span' in theirs) matched++;
    if (!agree(theirs, ours)) bad.push(`seed ${seed} ${JSON.stringify(c)}\n  python ${JSON.stringify(theirs)}\n  ours   ${JSON.stringify(ours)}`);
  });
  return { compared, matched, refused: refusedCount, bad };
}

test(`differential fuzz against Python re.search (seed ${SEED})`, { skip: PYTHON === undefined && NO_PYTHON }, () => {
  const r = prng(SEED);
  const gen = new Gen(r);
  const cases: Case[] = [];
  for (let i = 0; i < PATTERNS; i++) {
    const p = gen.pattern();
    const f = r(6) === 0 ? 'm' : r(10) === 0 ? 'is' : '';
    for (let j = 0; j < SUBJECTS; j++) cases.push({ p, f, s: Array.from({ length: r(10) }, () => ALPHABET[r(ALPHABET.length)]).join('') });
  }
  const t = compare(cases, SEED);
  console.log(`regex fuzz seed ${SEED}: ${cases.length} cases, ${t.compared} compared (${t.matched} matches), ${t.refused} refused as unsupported`);
  assert.ok(t.refused < cases.length / 3, `too many refusals: ${t.refused}`);
  assert.equal(t.bad.length, 0, `${t.bad.length} disagreements:\n${t.bad.slice(0, 15).join('\n')}`);
});

test(`loop fuzz against Python re.search (seed ${SEED})`, { skip: PYTHON === undefined && NO_PYTHON }, () => {
  const r = prng(SEED + 1);
  const cases: Case[] = [];
  for (let i = 0; i < PATTERNS; i++) {
    const p = loopPattern(r);
    for (let j = 0; j < SUBJECTS; j++) cases.push({ p, f: '', s: Array.from({ length: r(12) }, () => LOOP_ALPHABET[r(LOOP_ALPHABET.length)]).join('') });
  }
  const t = compare(cases, SEED);
  console.log(`regex loop fuzz seed ${SEED}: ${cases.length} cases, ${t.compared} compared (${t.matched} matches), ${t.refused} refused as unsupported`);
  assert.ok(t.compared > cases.length / 3, `too many refusals: ${t.refused}`);
  assert.equal(t.bad.length, 0, `${t.bad.length} disagreements:\n${t.bad.slice(0, 15).join('\n')}`);
});
