/** Template patterns prepared for reading group 1 without the `d` flag. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { prepareTemplatePattern } from '../../src/filter/dateRegex.js';

test('prepareTemplatePattern: names wanted groups; wraps the prefix only when group 1 is a plain top-level item', () => {
  const cases: Array<[string, number[], string, boolean]> = [
    ['(a)(b)', [1, 2], '(?P<_pcdd_gpre>)(?P<_pcdd_g1>a)(?P<_pcdd_g2>b)', true],
    ['x(?P<s>a)(?P=s)', [1], '(?P<_pcdd_gpre>x)(?P<s>a)(?P=s)', true],
    ['(?iu)^\\W?(a[(]\\))', [1], '(?iu)(?P<_pcdd_gpre>^\\W?)(?P<_pcdd_g1>a[(]\\))', true],
    ['x(a)\\1', [1], 'x(?P<_pcdd_g1>a)\\1', false],
    ['(?i)(a)+', [1], '(?i)(?P<_pcdd_g1>a)+', false],
    ['(a)(?(1)b|c)', [1], '(?P<_pcdd_g1>a)(?(1)b|c)', false],
    ['x(a)|y', [1], 'x(?P<_pcdd_g1>a)|y', false],
    ['(?:x(a))', [1], '(?:x(?P<_pcdd_g1>a))', false],
  ];
  for (const [p, wanted, pattern, wrapped] of cases) assert.deepEqual({ ...prepareTemplatePattern(p, wanted), names: undefined }, { pattern, names: undefined, wrapped }, p);
});
