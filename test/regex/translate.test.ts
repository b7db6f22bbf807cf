/**
 * Python `re` → JS translation, rule by rule: every expectation is computed by the system Python
 * 3.11 (`re.compile(p, flags).search(s)`: span and groupdict, or the compile error).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NO_PYTHON, PYTHON } from '../helpers/python.js';
import { compilePythonRegex, RegexError } from '../../src/regex/index.js';
import { scopeGroupFlags as fail2banFlagRewrite } from '../../src/filter/tagExpand.js';
import { agree, ourOutcome, pythonOutcomes, type Case } from './oracle.js';

const TRICKY = ['', 'a', 'ab\n', 'x\ny\n', 'a\rb', 'a\u2028b', 'a\x1cb', 'a\x85b', '\ufeff', 'é٣', 'K k', 'ß ẞ', 'ǅǆǄ', 'ı I i İ', 'ſ s'];

/** [pattern, flags, subjects] — subjects default to TRICKY plus the listed ones. */
const RULES: Array<[string, string, string[]]> = [
  // named groups, backreferences (a reference to a group that did not participate fails)
  ['(?P<a>\\w+)-(?P=a)', '', ['ab-ab', 'ab-ac', 'x-x-x']],
  ['(?:(?P<g>a)|b)(?P=g)c', '', ['bc', 'aac', 'bc aac']],
  ['(?:(?P<g>a)|b)c?(?P=g)?c', '', ['bc', 'bcc', 'aac']],
  ['(a)|b\\1', '', ['b', 'ba', 'a']],
  ['(?P<x>a|)?b(?P=x)', '', ['b', 'ab', 'aba']],
  // back-references under IGNORECASE to groups that can only capture caseless characters
  ['(?i)(?P<s>[-/])jan(?P=s)(?P<y>\\d+)', '', ['12-JAN-2005', '12/jan/2005', '12-Jan/2005', '12/jan-2005']],
  ['(?i)(?P<s>[-/.\\d])x(?P=s)', '', ['-X-', '1x1', '.X.', '1x2']],
  // conditionals
  ['(?P<a><)?\\w+(?(a)>|$)', '', ['<ab>', '<ab', 'ab', 'ab\n', 'ab>']],
  ['(?P<q>")?x(?(q)"|)y', '', ['"x"y', 'xy', '"xy']],
  ['(?:(?P<g>b)|(?P<h>b))(?(g)c|)', '', ['bc', 'b']],
  ['(?:b|(?P<g>b))(?(g)c|)', '', ['bc', 'b']],
  ['(?P<o>\\[)?(\\d+)(?(o)\\])', '', ['[12]', '[12', '12]']],
  ['(?(1)a|b)(x)?', '', ['b', 'ax', 'bx']],
  ['(?P<s>\\()?a(?(s)\\))(?P<t>-)?(?(t)b|c)', '', ['(a)-b', 'ac', '(a)c', 'a-b']],
  ['^Failed (?P<cond_inv>invalid user )?(?P<user>(?P<cond_user>\\S+)|(?(cond_inv)(?:(?! from ).)*?|[^:]+)) from (?P<h>\\S+)(?(cond_user): |(?:(?:(?! from ).)*)$)', '',
    ['Failed invalid user a b from 1.2.3.4\n', 'Failed root from 1.2.3.4: x', 'Failed root from 1.2.3.4\n', 'Failed a b from h port 2\n', 'Failed invalid user x from h: \n']],
  // flags
  ['(?i)straße k', '', ['STRASSE K', 'Straße K', 'straẞe k']],
  ['(?i:k)K', '', ['KK', 'kk', 'Kk', 'KK']],
  ['(?i:[a-c]x)[^k]', '', ['BXK', 'bxK', 'Bxk', 'bXa']],
  ['(?i:[^k])', '', ['k', 'K', 'K', 'x']],
  ['(?i:ǆ)(?i:ı)(?i:s)', '', ['ǅIſ', 'Ǆis', 'ǆİS']],
  ['(?s:.)(?m:^x$)', '', ['\nx\n', 'a\nx', 'ax']],
  ['a.b', 's', ['a\nb', 'a\rb']],
  ['^b$', 'm', ['a\nb\nc', 'a\rb', 'a\u2028b\u2029']],
  ['(?-i:a)b', 'i', ['AB', 'aB', 'Ab']],
  // anchors and dot
  ['a$', '', ['a\n', 'a\n\n', 'a\r', 'ba']],
  ['^a', '', ['\na', 'a']],
  ['\\Aa\\Z', '', ['a', 'a\n']],
  ['a.b', '', ['a\nb', 'a\rb', 'a\u2028b']],
  // quantifiers and braces
  ['a{,2}b', '', ['aaab', 'b', 'a{,2}b']],
  ['a{}b{', '', ['a{}b{']],
  ['x{2,}?y{1}', '', ['xxxy']],
  ['(?:|a)?b', '', ['ab', 'b']],
  ['(?:a|)?(?P<n>b)?', '', ['ab', 'b', '']],
  // repeats of nullable bodies where Python and JS end the loop alike, unnamed groups in loops
  ['\\[(?:[^\\]"]*|"[^"]*")*\\]', '', ['[a"]"b]', '[]', '["x]', '[a"b"c] [d]']],
  ['(?:a?)*b|(?:|a)*?c', '', ['aab', 'ac', 'b']],
  ['(x(y)?)+z', '', ['xyxz', 'xz']],
  // named groups set in some iterations only keep their last value, as in Python
  ['(?:(?P<x>a)|b)*', '', ['abb', 'bab', 'b']],
  ['(?:(?P<x>a)|ab)*c', '', ['abc', 'aabc']],
  ['(?: u=(?P<u>\\w+)| e="(?P<e>[^"]+)"| \\S+)* end', '', [' u=a e="x y" k=v end', ' k=v u=b end', ' end']],
  ['(?:(?P<a>a)|(?P<b>b))*?c', '', ['abc', 'bac']],
  // grafana's failregex (stock sample lines do not reach it: they keep the `t=…` prefix)
  ["^(?: lvl=err?or)? msg=\"Invalid username or password\"(?: uname=(?:\"(?P<alt_user>[^\"]+)\"|(?P<user>\\S+))| error=\"(?P<error>[^\"]+)\"| \\S+=(?:\\S*|\"[^\"]+\"))* remote_addr=\\[?(?:(?:::f{4,6}:)?(?P<ip4>(?:\\d{1,3}\\.){3}\\d{1,3})|(?P<ip6>(?:[0-9a-fA-F]{1,4}::?|::){1,7}(?:[0-9a-fA-F]{1,4}|(?<=:):)))\\]?$", '', [" lvl=eror msg=\"Invalid username or password\" logger=context userId=0 orgId=0 uname= error=\"Invalid Username or Password\" remote_addr=182.56.23.12", " msg=\"Invalid username or password\" uname=admin error=\"x\" uname=\"bob y\" k=v remote_addr=::ffff:10.0.0.1", " msg=\"Invalid username or password\" uname=\"a b\" uname=c error=\"e1\" error=\"e2\" remote_addr=[2001:db8::1]", " msg=\"Invalid username or password\" remote_addr=1.2.3.4"]],
  ['\\{\\d{1,3}\\}|}', '', ['{12}', '}']],
  // classes
  ['[]a]+', '', [']a]b']],
  ['[^]]+', '', ['ab]cd']],
  ['[\\w.]+', '', ['é٣.x_', '-']],
  ['[^\\w]+', '', ['é٣.- x']],
  ['[\\W\\d]+', '', ['é٣.- x']],
  ['[^\\W\\d]+', '', ['٣é.- x']],
  ['[\\S]+', '', ['a\x1cb\x85c\ufeffd']],
  ['[^\\s-]+', '', ['a b-c\x1cd']],
  ['[a-]+|[-z]', '', ['a-a', 'z']],
  ['[\\]\\\\]+', '', ['\\]]']],
  // categories and boundaries
  ['\\d+', '', ['٣4', '²']],
  ['\\w+', '', ['é٣_ǅ', 'ⅷ']],
  ['\\s+', '', [' \t\x1c\x1d\x85\u2028\ufeff']],
  ['\\S+', '', ['\ufeffa\x1db']],
  ['\\bé\\b', '', ['aé é', 'é']],
  ['\\B', '', ['', 'a', ' ']],
  ['x\\B', '', ['xé', 'x ']],
  // escapes
  ['\\:\\"\\-\\<\\>\\,\\ \\;\\=\\\'\\/', '', [':"-<>, ;=\'/']],
  ['\\x1D|\\u00e9|\\U0001F600|\\0|\\101', '', ['\x1d', 'é', '😀', '\0', 'A']],
  ['[\\x1D-\\x1f]', '', ['\x1e']],
  ['\\t\\n\\v\\f\\r\\a[\\b]', '', ['\t\n\v\f\r\x07\x08']],
  ['(?#comment)a', '', ['a']],
  ['(?<=a)b(?<!c)', '', ['ab', 'cb']],
  // errors Python raises
  ['a**', '', []],
  ['(?P<a>x)(?P<a>y)', '', []],
  ['(?P=b)', '', []],
  ['(?<=a+)b', '', []],
  ['a(?i)b', '', []],
  ['\\q', '', []],
  ['[a', '', []],
  ['(a', '', []],
  ['a)', '', []],
  ['[z-a]', '', []],
  ['(?(x)a|b)', '', []],
  ['(?P<a>a(?P=a))', '', []],
  ['a{3,2}', '', []],
];

const cases: Case[] = RULES.flatMap(([p, f, subjects]) => [...subjects, ...TRICKY].map((s) => ({ p, f, s })));

test('each rule agrees with Python re.search', { skip: PYTHON === undefined && NO_PYTHON }, () => {
  const py = pythonOutcomes(cases);
  const matched = py.filter((o) => o !== null && 'span' in o).length;
  console.log(`regex rules: ${RULES.length} patterns, ${cases.length} cases, ${matched} matches in Python`);
  assert.ok(matched > 200, 'enough matches to be meaningful');
  const bad: string[] = [];
  cases.forEach((c, i) => {
    const ours = ourOutcome(c);
    if (!agree(py[i] ?? null, ours)) bad.push(`${JSON.stringify(c)}\n  python ${JSON.stringify(py[i])}\n  ours   ${JSON.stringify(ours)}`);
  });
  assert.equal(bad.length, 0, `${bad.length}/${cases.length} disagree:\n${bad.slice(0, 20).join('\n')}`);
});

test('untranslatable constructs throw E_REGEX_UNSUPPORTED naming the construct and position', () => {
  const expect: Array<[string, RegExp]> = [
    ['ab(?>c)', /atomic group .* position 2/],
    ['a*+', /possessive/],
    ['(?x)a b', /inline flag \(\?x\) at position 0/],
    ['x(?=a)*', /quantified lookaround at position 1/],
    ['(?:(?P<a>a)|b)+(?P=a)', /capturing group that may not participate/],
    ['(?:(?:(?P<a>a)|b)+c)*', /may not participate in every iteration of a repeat at position 3/],
    ['(?:|a)*', /empty string/],
    ['(?:a*|b)*', /empty string/],
    ['(?:(?P<a>a?))*b', /empty string/],
    ['(?i)(a)\\1', /IGNORECASE/],
    ['\\N{DIGIT ONE}', /named character/],
  ];
  for (const [p, re] of expect) {
    assert.throws(() => compilePythonRegex(p), (e: unknown) => e instanceof RegexError && e.code === 'E_REGEX_UNSUPPORTED' && re.test(e.message), p);
  }
});

test('renamed group copies map back to the Python name', () => {
  const rx = compilePythonRegex('(?P<q>")?(?P<u>\\w+)(?(q)"|)');
  assert.deepEqual(rx.translation.groupNames, ['q', 'u']);
  assert.ok([...rx.translation.jsToPython.keys()].some((k) => k !== 'u' && rx.translation.jsToPython.get(k) === 'u'));
  assert.deepEqual(rx.search('"abc"')?.groups, { q: '"', u: 'abc' });
  assert.deepEqual(rx.search('abc')?.groups, { q: undefined, u: 'abc' });
  assert.equal(rx.match('x abc', 2)?.index, 2);
  assert.equal(rx.match('x abc', 1), null);
  assert.equal(rx.match('x abc', 0)?.end, 1);
  assert.equal(rx.match(' abc', 0), null);
});

test('fail2ban rewrites ((?i)X) and (?:(?i)X) into (?i:X)', () => {
  assert.equal(fail2banFlagRewrite('SASL ((?i)LOGIN|PLAIN)'), 'SASL (?i:LOGIN|PLAIN)');
  assert.equal(fail2banFlagRewrite('(?:(?i)expn|vrfy)'), '(?i:expn|vrfy)');
  assert.equal(fail2banFlagRewrite('\\((?i)x)'), '\\((?i)x)');
  assert.equal(fail2banFlagRewrite('(?i)x'), '(?i)x');
});
