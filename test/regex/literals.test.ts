/** Required literals: hand-made cases (under-approximation only: never a literal a match could lack). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compilePythonRegex, firstCodeUnits, requiredLiteral } from '../../src/regex/index.js';

test('requiredLiteral: the longest text every match contains', () => {
  const cases: Array<[string, string | undefined, boolean?]> = [
    ['^Failed (?:publickey|password) for (?P<user>\\S+) from x', 'Failed '],
    ['(?i)abc', undefined],
    ['a(?i:bc)d', 'a'],
    ['(?:ab)+cd', 'ab'],
    ['x(?=hello)', 'hello'],
    ['x(?!hello)y', 'xy'],
    ['(?:foo|foo)bar', 'foobar'],
    ['(?:foo|fox)bar', 'bar'],
    ['a{3}b', 'aaab'],
    ['ab?c', 'a'],
    ['a*', undefined],
    ['[x]yz', 'xyz'],
    ['[^x]yz', 'yz'],
    ['(?P<a>ab)(?P=a)c', 'ab'],
    ['^$', ''],
    ['user (?:\\S+) from', 'user '],
  ];
  for (const [p, want] of cases) assert.equal(requiredLiteral(p) ?? undefined, want === '' ? undefined : want, p);
});

test('firstCodeUnits: what an anchored match can begin with', () => {
  const set = (s: string): number[] => [...s].map((c) => c.charCodeAt(0)).sort((a, b) => a - b);
  const cases: Array<[string, string | undefined, boolean?]> = [
    ['^Failed x', 'F'],
    ['^[Aa]uth', 'Aa'],
    ['^(?P<user>ROOT) LOGIN', 'R'],
    ['^(?:Accepted|Failed) ', 'AF'],
    ['^(?:x)?y', 'xy'],
    ['^a*b', 'ab'],
    ['^(?=a)b', 'b'],
    ['\\Afoo', 'f'],
    ['^(?:a|)', undefined],
    ['^a*', undefined],
    ['(?i)^abc', undefined],
    ['^[^x]', undefined],
    ['^\\w', undefined],
    ['^.x', undefined],
    ['foo', undefined],
    ['^a|b', undefined],
    ['^a', undefined, true],
    ['^\\U0001F600x', '\ud83d'],
  ];
  for (const [p, want, ml] of cases) {
    const got = firstCodeUnits(p, { multiline: ml ?? false });
    assert.deepEqual(got === undefined ? undefined : [...got].sort((a, b) => a - b), want === undefined ? undefined : set(JSON.parse(`"${want}"`) as string), p);
  }
  // The pre-check never rejects a subject the regex matches (random subjects over the sets' letters).
  for (const [p] of cases) {
    const units = firstCodeUnits(p);
    if (units === undefined) continue;
    const rx = compilePythonRegex(p);
    for (const s of ['Failed x', 'Auth', 'auth', 'ROOT LOGIN', 'Accepted ', 'y', 'xy', 'aab', 'b', 'foo', 'c', '']) {
      if (rx.search(s)) assert.ok(units.has(s.charCodeAt(0)), `${p} on ${s}`);
    }
  }
});
