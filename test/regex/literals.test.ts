/** Required literals: hand-made cases (under-approximation only: never a literal a match could lack). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { requiredLiteral } from '../../src/regex/index.js';

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
