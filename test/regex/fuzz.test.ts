/**
 * Differential fuzz: random patterns from a grammar covering the translated constructs, random
 * subjects over an alphabet of troublesome characters; Python 3.11 `re.search` (span, groupdict,
 * or compile error) against ours. Seeded; a failure prints the seed, pattern and subject.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NO_PYTHON, PYTHON } from '../helpers/python.js';
import { prng } from '../helpers/random.js';
import { ALPHABET, Gen } from './gen.js';
import { agree, ourOutcome, pythonOutcomes, refused, type Case } from './oracle.js';

const SEED = Number(process.env['REGEX_FUZZ_SEED'] ?? 20240611);
const PATTERNS = Number(process.env['REGEX_FUZZ_PATTERNS'] ?? 3000);
const SUBJECTS = 8;

test(`differential fuzz against Python re.search (seed ${SEED})`, { skip: PYTHON === undefined && NO_PYTHON }, () => {
  const r = prng(SEED);
  const gen = new Gen(r);
  const cases: Case[] = [];
  for (let i = 0; i < PATTERNS; i++) {
    const p = gen.pattern();
    const f = r(6) === 0 ? 'm' : r(10) === 0 ? 'is' : '';
    for (let j = 0; j < SUBJECTS; j++) cases.push({ p, f, s: Array.from({ length: r(10) }, () => ALPHABET[r(ALPHABET.length)]).join('') });
  }
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
    if (!agree(theirs, ours)) bad.push(`seed ${SEED} ${JSON.stringify(c)}\n  python ${JSON.stringify(theirs)}\n  ours   ${JSON.stringify(ours)}`);
  });
  console.log(`regex fuzz seed ${SEED}: ${cases.length} cases, ${compared} compared (${matched} matches), ${refusedCount} refused as unsupported`);
  assert.ok(refusedCount < cases.length / 3, `too many refusals: ${refusedCount}`);
  assert.equal(bad.length, 0, `${bad.length} disagreements:\n${bad.slice(0, 15).join('\n')}`);
});
