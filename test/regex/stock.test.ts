/**
 * Every failregex / prefregex / ignoreregex fail2ban compiles for the stock filters that have a
 * sample log (default options plus each `filterOptions` of the log), taken from fail2ban's own
 * `Regex` class (tags resolved, `((?i)…)` rewritten), must translate, and must agree with Python's
 * `search` (span, groupdict) on every line of the filter's sample log (line + "\n"), and on the
 * same lines without their first 1…6 space-separated fields (so `^`-anchored message regexes match).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NO_PYTHON, PYTHON, runPython } from '../helpers/python.js';
import { compilePythonRegex, firstCodeUnits, requiredLiteral } from '../../src/regex/index.js';
import { captureIndices } from '../../src/regex/translate.js';

interface StockRegex {
  readonly filter: string;
  readonly p: string;
  readonly m: boolean;
  readonly lines: readonly string[];
  readonly results: ReadonlyArray<null | { span: [number, number]; groups: Record<string, string | null> }>;
}

const SCRIPT = `
import os, re, glob, logging
from fail2ban.client.filterreader import FilterReader
from fail2ban.server.failregex import Regex
logging.getLogger('fail2ban').setLevel(logging.CRITICAL + 1)
SRC = '/usr/lib/python3/dist-packages'
CFG = '/etc/fail2ban'
LOGS = os.path.join(SRC, 'fail2ban', 'tests', 'files', 'logs')
out, seen = [], set()
for logf in sorted(glob.glob(os.path.join(LOGS, '*'))):
    name = os.path.basename(logf)
    if not os.path.isfile(os.path.join(CFG, 'filter.d', name + '.conf')):
        continue
    lines, combos, common = [], [{}], {}
    for line in open(logf, encoding='utf-8', errors='replace'):
        line = line.rstrip('\\r\\n')
        m = re.match(r"^#+ ?((?:file|filter)Options):(.+)$", line)
        if m:
            d = json.loads(m.group(2))
            if m.group(1) == 'fileOptions':
                common = d; continue
            for dd in (d if isinstance(d, list) else [d]):
                o = dict(common); o.update(dd)
                o = {k: v for k, v in o.items() if not k.startswith('test.')}
                if o not in combos: combos.append(o)
        elif line and not line.startswith('#'):
            lines.append(line + '\\n')
    lines = lines[:400]
    # also each line without its first 1..6 space-separated fields, so regexes anchored on the
    # message (after fail2ban's date/prefix removal) match too
    lines = lines + [l.split(' ', k)[k] for l in lines for k in range(1, 7) if l.count(' ') >= k]
    for opts in combos:
        fr = FilterReader(name, 'jail', dict(opts), basedir=CFG, share_config={})
        if not fr.read(): continue
        fr.getOptions({})
        stream = fr.convert()
        maxlines = max([int(t[3]) for t in stream if t[2] == 'maxlines'] + [1])
        for tok in stream:
            if tok[2] not in ('addfailregex', 'addignoreregex', 'prefregex'): continue
            for v in (tok[3] if tok[0] == 'multi-set' else [tok[3]]):
                ml = tok[2] == 'addfailregex' and maxlines > 1
                try:
                    rx = Regex(v, multiline=ml, useDns='warn')
                except Exception:
                    continue
                key = (name, rx.getRegex(), ml)
                if key in seen: continue
                seen.add(key)
                c = re.compile(rx.getRegex(), re.M if ml else 0)
                res = []
                for l in lines:
                    mm = c.search(l)
                    res.append(None if mm is None else {'span': mm.span(), 'groups': mm.groupdict()})
                out.append({'filter': name, 'p': rx.getRegex(), 'm': ml, 'lines': lines, 'results': res})
print(json.dumps(out))
`;

/**
 * Stock regexes still refused (E_REGEX_UNSUPPORTED), by filter. None at present; a refusal of a
 * filter not listed fails the test, and so does a listed filter that no longer refuses anything.
 */
const KNOWN_REFUSED = new Set<string>([]);

const cpLen = (s: string): number => Array.from(s).length;

test('stock fail2ban regexes translate and agree with Python on the sample logs', { skip: PYTHON === undefined && NO_PYTHON }, (t) => {
  const stock = runPython<StockRegex[]>(SCRIPT, null);
  const failures: string[] = [];
  const refusals: string[] = [];
  let lines = 0;
  let matches = 0;
  let withLiteral = 0;
  let skippedByLiteral = 0;
  let withFirst = 0;
  let skippedByFirst = 0;
  for (const r of stock) {
    // The pre-check literal: every line Python matches must contain it (it may only skip non-matches).
    const literal = requiredLiteral(r.p, { multiline: r.m });
    if (literal !== undefined) withLiteral++;
    // The first-character pre-check: a line Python matches must begin with one of the units.
    const units = firstCodeUnits(r.p, { multiline: r.m });
    if (units !== undefined) withFirst++;
    r.lines.forEach((line, i) => {
      if (units !== undefined && !units.has(line.charCodeAt(0))) {
        skippedByFirst++;
        if (r.results[i]) failures.push(`${r.filter}: first unit of a line Python matches not in the set: ${JSON.stringify(line)}`);
      }
      if (literal === undefined) return;
      if (!line.includes(literal)) {
        skippedByLiteral++;
        if (r.results[i]) failures.push(`${r.filter}: literal ${JSON.stringify(literal)} missing from a line Python matches: ${JSON.stringify(line)}`);
      }
    });
    let rx;
    try {
      rx = compilePythonRegex(r.p, { multiline: r.m });
    } catch (e) {
      (KNOWN_REFUSED.has(r.filter) ? refusals : failures).push(`${r.filter}: ${r.p}\n  ${String(e)}`);
      continue;
    }
    // Capture indices read from the source agree with V8's own numbering (groups list in capture order).
    const probe = new RegExp(`(?:${rx.regex.source})|`, rx.regex.flags.replace('d', '')).exec('');
    const v8 = Object.keys(probe?.groups ?? {});
    const scanned = captureIndices(rx.regex.source);
    if (probe?.length !== v8.length + 1 || JSON.stringify([...scanned.keys()]) !== JSON.stringify(v8) || [...scanned.values()].some((v, k) => v !== k + 1)) {
      failures.push(`${r.filter}: capture indices ${JSON.stringify([...scanned])} differ from V8's ${JSON.stringify(v8)}`);
    }
    r.lines.forEach((line, i) => {
      lines++;
      const m = rx.search(line);
      const ours = m && {
        span: [cpLen(line.slice(0, m.index)), cpLen(line.slice(0, m.end))],
        groups: Object.fromEntries(Object.entries(m.groups).map(([k, v]) => [k, v ?? null])),
      };
      if (ours) matches++;
      if (JSON.stringify(ours) !== JSON.stringify(r.results[i] ?? null)) {
        failures.push(`${r.filter}: ${r.p}\n  line ${JSON.stringify(line)}\n  python ${JSON.stringify(r.results[i])}\n  ours   ${JSON.stringify(ours)}`);
      }
    });
  }
  console.log(`stock regexes: ${stock.length} (filter, regex) pairs, ${refusals.length} refused (known), ${lines} line comparisons, ${matches} matches`);
  console.log(`first code units: ${withFirst} regexes have a set; ${skippedByFirst} (regex, line) searches skipped by it, none of them a Python match`);
  assert.ok(withFirst > 0 && skippedByFirst > 0, 'the first-unit pre-check applies to some stock regexes');
  console.log(`required literals: ${withLiteral} regexes have one; ${skippedByLiteral} (regex, line) searches skipped by it, none of them a Python match`);
  assert.ok(withLiteral > stock.length / 2, 'most stock regexes have a required literal');
  for (const r of refusals) t.diagnostic(`TODO refused: ${r.slice(0, 300)}`);
  assert.ok(stock.length > 200);
  const stale = [...KNOWN_REFUSED].filter((f) => !refusals.some((r) => r.startsWith(`${f}: `)));
  assert.deepEqual(stale, [], 'filters listed as refused that now translate: remove them from KNOWN_REFUSED');
  assert.equal(failures.length, 0, `${failures.length} failures:\n${failures.slice(0, 10).join('\n')}`);
});
