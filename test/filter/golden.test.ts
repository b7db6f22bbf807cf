/**
 * The filter engine against fail2ban's own results on Debian's sample logs: every (test,
 * combination, line) of test/fixtures/spec/golden-debian.jsonl — recorded by running Debian's
 * fail2ban 1.0.2 Filter over the logs as its sample test does — is replayed through portcullis'
 * Filter built from the stock /etc/fail2ban filters, and every result is compared exactly: regex
 * index, failure id, time, all groups (users, mlfid, pending/nofail flags, number of matched lines).
 * Then the failJSON expectations are checked as fail2ban's harness does.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { readFilterSettings } from '../../src/config/filterFile.js';
import { CollectingLog } from '../../src/config/log.js';
import { TemplateRegexCache } from '../../src/filter/dateRegex.js';
import { createDateTemplateContext } from '../../src/filter/dateTemplates.js';
import { GroupTuple, truthy, type FailValue } from '../../src/filter/failData.js';
import { Filter, type Failure } from '../../src/filter/filter.js';
import { intlZone } from '../../src/filter/strptime.js';
import { mktime } from '../../src/filter/strptimeLocal.js';
import { ipEquals, isIpAddress } from '../../src/shared/ip.js';
import { NodeFileSystem } from '../../src/system/nodeFs.js';
import { sampleCases, type SampleCase } from '../../src/testing/sampleLog.js';
import { ROOT } from '../helpers/oracle.js';
import type { TemplateHits } from '../../src/filter/dateDetector.js';

const LOGS = '/usr/lib/python3/dist-packages/fail2ban/tests/files/logs';
const GOLDEN = path.join(ROOT, 'test', 'fixtures', 'spec', 'golden-debian.jsonl');
const CONFIG = '/etc/fail2ban';
const TEST_NOW = 1124013600;
const TEST_NOW_STR = '2005-08-14T10:00:00';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Row = [number, string | null, number | null, Record<string, Json>, string[]];

interface Golden {
  test: string;
  combo: string;
  file: string;
  ln: number;
  results?: Row[];
  counted?: Row[];
  skipped?: boolean;
  fatal?: string;
}

/** golden_samples.py's `jsonable`. */
function jsonable(v: FailValue): Json {
  if (v === null || typeof v === 'string' || typeof v === 'number') return v;
  if (isIpAddress(v)) return v.text;
  if (v instanceof Set) return [...v].sort();
  if (v instanceof GroupTuple) return v.items.map(jsonable);
  if (Array.isArray(v)) return v.map((l) => [...l]);
  return String(v);
}

function row(f: Failure): Row {
  const flags: string[] = [];
  if (f.fid === null) flags.push('pending');
  if (truthy(f.fail.get('nofail'))) flags.push('nofail');
  const groups: Record<string, Json> = {};
  for (const [k, v] of f.fail) if (k !== 'matches' && k !== 'nofail-matches') groups[k] = jsonable(v);
  const matches = f.fail.get('matches');
  groups['attempts(len matches)'] = Array.isArray(matches) ? matches.length : 0;
  return [f.index, f.fid ? f.fid.text : null, f.time, groups, flags];
}

/** Canonical JSON with sorted keys (dict order is not part of the comparison). */
function canon(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => {
    if (x && typeof x === 'object' && !Array.isArray(x)) {
      return Object.fromEntries(Object.entries(x as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    }
    return x;
  });
}

/** `time.mktime` of a failJSON time in the harness zone. */
function expectedTime(text: string): number {
  const m = /^(\d{4})-(\d{1,2})-(\d{1,2})T(\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d+))?$/.exec(text);
  assert.ok(m, `bad failJSON time ${text}`);
  const zone = intlZone('Europe/Zurich');
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const micro = m[7] ? Number(m[7].padEnd(6, '0').slice(0, 6)) / 1e6 : 0;
  return mktime(zone, Date.UTC(y, mo - 1, d, h, mi, s) / 1000) + micro;
}

test('the filter engine gives fail2ban\'s exact results on every sample-log line (golden-debian.jsonl)', (t) => {
  if (!fs.existsSync(LOGS) || !fs.existsSync(CONFIG)) {
    assert.equal(process.env.PORTCULLIS_NO_ORACLE, '1', `needs ${LOGS} and ${CONFIG} (Debian's fail2ban)`);
    t.skip('needs Debian fail2ban (PORTCULLIS_NO_ORACLE=1)');
    return;
  }
  const golden = fs.readFileSync(GOLDEN, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Golden).filter((g) => g.fatal === undefined);
  const nfs = new NodeFileSystem();
  const dates = createDateTemplateContext({ year: new Date().getFullYear() });
  const regexCache = new TemplateRegexCache();
  const sharedHits: TemplateHits = new Map();
  const zone = intlZone('Europe/Zurich');
  const env = { now: () => TEST_NOW, realClock: () => Date.now() / 1000, zone, dates, regexCache, sharedHits };
  const tests = [...new Set(golden.map((g) => g.test))];
  let compared = 0;
  let failJsonChecked = 0;
  const mismatches: string[] = [];
  let gi = 0;
  for (const name of tests) {
    const cache = new Map<string, Filter>();
    const used = new Map<string, Set<number>>();
    const filterFor = (c: SampleCase): Filter => {
      let f = cache.get(c.combo);
      if (!f) {
        const opts = new Map(Object.entries(c.opts).filter(([k]) => !k.startsWith('test.')).map(([k, v]) => [k, String(v)]));
        const s = readFilterSettings(nfs, CONFIG, name, opts, new CollectingLog());
        f = new Filter(
          { usedns: 'warn', prefregex: s.prefregex, failregex: s.failregex, ignoreregex: s.ignoreregex, ...(s.maxlines !== undefined ? { maxlines: s.maxlines } : {}), datepattern: s.datepattern },
          env,
          { returnRawHost: true, checkAllRegex: true, checkFindTime: false },
        );
        cache.set(c.combo, f);
        used.set(c.combo, new Set());
      }
      return f;
    };
    for (const c of sampleCases(nfs, LOGS, name)) {
      const g = golden[gi++];
      assert.ok(g && g.test === c.test && g.combo === c.combo && g.ln === c.ln && g.file === c.file, `case order at ${c.test}:${c.file}:${c.ln}`);
      if (c.skipped) continue;
      const flt = filterFor(c);
      let ret: Failure[];
      if (c.opts.logtype !== 'journal') ret = flt.processLine(c.line);
      else ret = flt.processLine(['', TEST_NOW_STR, (typeof c.opts['test.prefix-line'] === 'string' ? c.opts['test.prefix-line'] : '') + c.line], TEST_NOW);
      const rows = ret.map(row);
      compared++;
      if (canon(rows) !== canon(g.results ?? [])) {
        mismatches.push(`${c.test} [${c.combo}] ${c.file}:${c.ln}\n  line: ${c.line}\n  ours:   ${canon(rows)}\n  fail2ban: ${canon(g.results)}`);
        continue;
      }
      // fail2ban's own assertions (samplestestcase.py) on top of the exact comparison.
      const found = ret.filter((r) => r.fid !== null && !truthy(r.fail.get('nofail')));
      for (const r of ret) used.get(c.combo)?.add(r.index);
      const fd = c.faildata;
      if (found.length === 0) {
        assert.ok(!fd.match, `${c.test} ${c.file}:${c.ln} should match`);
        continue;
      }
      assert.ok(fd.match === true, `${c.test} ${c.file}:${c.ln} should not match`);
      assert.equal(found.length, 1, `${c.test} ${c.file}:${c.ln}: multiple regexes matched`);
      const r = found[0] as Failure;
      for (const [k, v] of Object.entries(fd)) {
        if (['time', 'match', 'desc', 'constraint'].includes(k)) continue;
        let fv: unknown = r.fail.get(k) ?? null;
        if (fv === null && k === 'host') fv = r.fid;
        if (fv === null && k === 'attempts') fv = (r.fail.get('matches') as unknown[] | undefined)?.length ?? 0;
        if (isIpAddress(fv)) assert.ok(ipEquals(fv, String(v)), `${c.test} ${c.file}:${c.ln} ${k}: ${fv.text} != ${String(v)}`);
        else if (fv instanceof Set) assert.deepEqual([...fv].sort(), [...(v as string[])].sort());
        else assert.deepEqual(fv, v, `${c.test} ${c.file}:${c.ln} ${k}`);
      }
      if (typeof fd.time === 'string') assert.equal(r.time, expectedTime(fd.time), `${c.test} ${c.file}:${c.ln} time`);
      failJsonChecked++;
    }
    for (const [combo, f] of cache) {
      const u = used.get(combo) ?? new Set();
      f.failRegexes.forEach((fr, i) => {
        const usedElsewhere = [...cache.entries()].some(([c2, f2]) => c2 !== combo && f2.failRegexes.some((r2, j) => r2.source === fr.source && used.get(c2)?.has(j)));
        assert.ok(u.has(i) || usedElsewhere, `${name} [${combo}]: regex has no samples: ${i}`);
      });
    }
  }
  assert.equal(gi, golden.length, 'every golden record replayed');
  t.diagnostic(`${compared} lines compared with fail2ban's results, ${failJsonChecked} failJSON matches checked, ${mismatches.length} mismatches`);
  assert.equal(mismatches.length, 0, mismatches.slice(0, 8).join('\n'));
});
