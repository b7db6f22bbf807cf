/**
 * portcullis' built-in configuration (config/): read cleanly by `portcullis config check` and by
 * both `fail2ban-client -d` (ours and Debian's, identical streams) with every jail enabled; each
 * built-in filter named like a stock one passes every `# failJSON:` expectation of Debian's sample
 * log of that name, in every mode the log exercises, checked as fail2ban's own sample test checks
 * them; and the firewall actions' ban/unban are recognised as native where they should be.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { readFilterSettings } from '../../src/config/filterFile.js';
import { TemplateRegexCache } from '../../src/filter/dateRegex.js';
import { createDateTemplateContext } from '../../src/filter/dateTemplates.js';
import { truthy } from '../../src/filter/failData.js';
import { Filter, type Failure } from '../../src/filter/filter.js';
import { intlZone } from '../../src/filter/strptime.js';
import { mktime } from '../../src/filter/strptimeLocal.js';
import { ipEquals, isIpAddress } from '../../src/shared/ip.js';
import type { TemplateHits } from '../../src/filter/dateDetector.js';
import type { FileSystem } from '../../src/system/fs.js';
import { CommandAction } from '../../src/action/commandAction.js';
import { CommandLock } from '../../src/action/commandLock.js';
import { recogniseBanCommands } from '../../src/action/firewall/recognise.js';
import { CollectingLog, Configurator, readConfigStream } from '../../src/config/index.js';
import { NodeFileSystem } from '../../src/system/nodeFs.js';
import { ShellRunner } from '../../src/system/exec.js';
import { MemoryLog } from '../../src/testing/memoryLog.js';
import { sampleCases, sampleTests } from '../../src/testing/sampleLog.js';
import { makeTree, needOracle, removeTree, ROOT, runOurs, runReal, stripLogPrefix } from '../helpers/oracle.js';

const BUILTIN = process.env.PORTCULLIS_BUILTIN ?? path.join(ROOT, 'config');

const SAMPLE_LOGS = '/usr/lib/python3/dist-packages/fail2ban/tests/files/logs';
/** The sample test's clock and zone (fail2ban's setUpMyTime). */
const TEST_NOW = 1124013600;
const TEST_NOW_STR = '2005-08-14T10:00:00';
const ZONE = intlZone('Europe/Zurich');

/** `time.mktime` of a failJSON time in the harness zone. */
function expectedTime(text: string): number {
  const m = /^(\d{4})-(\d{1,2})-(\d{1,2})T(\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d+))?$/.exec(text);
  assert.ok(m, `bad failJSON time ${text}`);
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const micro = m[7] ? Number(m[7].padEnd(6, '0').slice(0, 6)) / 1e6 : 0;
  return mktime(ZONE, Date.UTC(y, mo - 1, d, h, mi, s) / 1000) + micro;
}

interface SampleReport {
  /** Sample lines (per combination) whose expectation held, of all that were not skipped. */
  passed: number;
  total: number;
  /** Lines expected to match whose failure was checked. */
  matches: number;
  combos: string[];
  problems: string[];
}

/** One failure against its failJSON, as samplestestcase.py asserts it; the first broken rule or undefined. */
function judge(ret: readonly Failure[], fd: Readonly<Record<string, unknown>>): string | undefined {
  const first = ret[0];
  if (!first) return fd.match === true ? 'not matched but should' : undefined;
  if (fd.match !== true && (first.fid === null || truthy(first.fail.get('nofail')))) return undefined; // a helper line
  if (fd.match !== true) return `matched (${first.fid?.text ?? '-'}) but should not`;
  if (ret.length !== 1) return `${ret.length} regexes matched`;
  for (const [k, v] of Object.entries(fd)) {
    if (['time', 'match', 'desc', 'constraint'].includes(k)) continue;
    let fv: unknown = first.fail.get(k) ?? null;
    if (fv === null && k === 'host') fv = first.fid;
    if (fv === null && k === 'attempts') fv = (first.fail.get('matches') as unknown[] | undefined)?.length ?? 0;
    if (isIpAddress(fv)) {
      if (!ipEquals(fv, String(v))) return `${k}: ${fv.text} != ${String(v)}`;
    } else if (fv instanceof Set || Array.isArray(fv)) {
      if (JSON.stringify([...(fv as Iterable<unknown>)].map(String).sort()) !== JSON.stringify((v as unknown[]).map(String).sort())) return `${k}: ${JSON.stringify([...(fv as Iterable<unknown>)])} != ${JSON.stringify(v)}`;
    } else if (JSON.stringify(fv) !== JSON.stringify(v)) return `${k}: ${JSON.stringify(fv)} != ${JSON.stringify(v)}`;
  }
  if (typeof fd.time === 'string' && first.time !== expectedTime(fd.time)) return `time ${first.time} != ${expectedTime(fd.time)} (${fd.time})`;
  return undefined;
}

/**
 * Debian's sample log `name` through the filter of the same name in `basedir`, each combination
 * (`filterOptions`) with its own filter kept across the file as fail2ban's harness keeps it.
 */
function checkSamples(nfs: FileSystem, basedir: string, name: string): SampleReport {
  const dates = createDateTemplateContext({ year: new Date().getFullYear() });
  const env = { now: () => TEST_NOW, realClock: () => Date.now() / 1000, zone: ZONE, dates, regexCache: new TemplateRegexCache(), sharedHits: new Map() as TemplateHits };
  const filters = new Map<string, Filter>();
  const report: SampleReport = { passed: 0, total: 0, matches: 0, combos: [], problems: [] };
  for (const c of sampleCases(nfs, SAMPLE_LOGS, name)) {
    if (c.skipped) continue;
    let f = filters.get(c.combo);
    if (!f) {
      const opts = new Map(Object.entries(c.opts).filter(([k]) => !k.startsWith('test.')).map(([k, v]) => [k, String(v)]));
      const s = readFilterSettings(nfs, basedir, name, opts, new CollectingLog());
      const settings = { usedns: 'warn', prefregex: s.prefregex, failregex: s.failregex, ignoreregex: s.ignoreregex, datepattern: s.datepattern };
      f = new Filter(s.maxlines !== undefined ? { ...settings, maxlines: s.maxlines } : settings, env, { returnRawHost: true, checkAllRegex: true, checkFindTime: false });
      filters.set(c.combo, f);
      report.combos.push(c.combo.slice(name.length) || '(default)');
    }
    const prefix = typeof c.opts['test.prefix-line'] === 'string' ? c.opts['test.prefix-line'] : '';
    const ret = c.opts.logtype === 'journal' ? f.processLine(['', TEST_NOW_STR, prefix + c.line], TEST_NOW) : f.processLine(c.line);
    report.total++;
    const problem = judge(ret, c.faildata);
    if (problem === undefined) report.passed++;
    else report.problems.push(`${name} [${c.combo}] ${c.file}:${c.ln}: ${problem}\n  ${c.line}`);
    if (c.faildata.match === true && problem === undefined) report.matches++;
  }
  return report;
}

/** Jail sections of the built-in jail.conf, found without portcullis' reader. */
function jailNames(): string[] {
  const text = fs.readFileSync(path.join(BUILTIN, 'jail.conf'), 'utf8');
  return [...text.matchAll(/^\[([^\]\n]+)\]/gm)].map((m) => m[1] ?? '').filter((n) => n !== 'INCLUDES' && n !== 'DEFAULT');
}

describe('the built-in configuration, every jail enabled', () => {
  let dir = '';
  const jails = jailNames();
  before(() => {
    dir = makeTree({}, 'pc-builtin-');
    fs.cpSync(fs.realpathSync(BUILTIN), dir, { recursive: true });
    fs.mkdirSync(path.join(dir, 'logs'));
    const local = jails.map((j) => {
      fs.writeFileSync(path.join(dir, 'logs', `${j}.log`), '');
      return `[${j}]\nenabled = true\nbackend = polling\nlogpath = ${path.join(dir, 'logs', `${j}.log`)}\n`;
    });
    fs.mkdirSync(path.join(dir, 'jail.d'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'jail.d', 'zz-all.local'), local.join('\n'));
  });
  after(() => dir && removeTree(dir));

  test('the jails the issue asks for are there', () => {
    for (const j of ['sshd', 'postfix', 'postfix-sasl', 'dovecot', 'nginx-http-auth', 'recidive', 'porttrap']) assert.ok(jails.includes(j), `no [${j}] jail`);
  });

  test('portcullis config check: no problem in the tree as shipped, nor with every jail enabled', () => {
    for (const d of [BUILTIN, dir]) {
      const r = runOurs('portcullis', ['config', 'check', '-c', d]);
      assert.equal(r.status, 0, r.stdout + r.stderr);
      assert.match(r.stdout, / 0 errors, 0 warnings\n$/, d);
      assert.equal(r.stderr, '', d);
    }
  });

  test("fail2ban-client -c DIR -d: ours and Debian's give the same stream, every jail started", (t) => {
    const ours = runOurs('fail2ban-client', ['-c', dir, '-d']);
    assert.equal(ours.status, 0, ours.stderr);
    for (const j of jails) assert.ok(ours.stdout.includes(`['start', '${j}']`), `jail ${j} not started`);
    assert.doesNotMatch(ours.stderr, /ERROR|WARNING/);
    if (!needOracle(t)) return;
    const real = runReal('fail2ban-client', ['-c', dir, '-d']);
    assert.equal(real.status, 0, real.stderr);
    assert.equal(ours.stdout, real.stdout);
    assert.equal(stripLogPrefix(ours.stderr), stripLogPrefix(real.stderr));
  });
});

test("each built-in filter named like a stock one passes Debian's sample log of that name", (t) => {
  if (!fs.existsSync(SAMPLE_LOGS)) {
    assert.equal(process.env.PORTCULLIS_NO_ORACLE, '1', `needs ${SAMPLE_LOGS} (Debian's fail2ban)`);
    t.skip(`needs ${SAMPLE_LOGS} (PORTCULLIS_NO_ORACLE=1)`);
    return;
  }
  const nfs = new NodeFileSystem();
  const names = sampleTests(nfs, path.join(BUILTIN, 'filter.d'), SAMPLE_LOGS);
  const problems: string[] = [];
  for (const name of names) {
    const r = checkSamples(nfs, BUILTIN, name);
    t.diagnostic(`${name}: ${r.passed}/${r.total} samples passed (${r.matches} failures checked; modes ${r.combos.join(', ')})`);
    problems.push(...r.problems);
    assert.ok(r.total > 0 && r.matches > 0, `${name}: no samples`);
  }
  assert.equal(problems.length, 0, problems.slice(0, 12).join('\n'));
  for (const n of ['sshd', 'postfix', 'dovecot', 'nginx-http-auth', 'recidive']) assert.ok(names.includes(n), `no built-in ${n} filter`);
});

/** Built-in action files and what their ban/unban must be recognised as, per family. */
const NATIVE: Record<string, { 4: unknown; 6: unknown }> = {
  'nftables-multiport': { 4: { kind: 'nftables', command: 'nft', tableFamily: 'inet', table: 'f2b-table', set: 'addr-set-j' }, 6: { kind: 'nftables', command: 'nft', tableFamily: 'inet', table: 'f2b-table', set: 'addr6-set-j' } },
  'nftables-allports': { 4: { kind: 'nftables', command: 'nft', tableFamily: 'inet', table: 'f2b-table', set: 'addr-set-j' }, 6: { kind: 'nftables', command: 'nft', tableFamily: 'inet', table: 'f2b-table', set: 'addr6-set-j' } },
  'iptables-multiport': {
    4: { kind: 'iptables', command: 'iptables', lockArgs: ['-w'], chain: 'f2b-j', ruleTail: ['REJECT', '--reject-with', 'icmp-port-unreachable'] },
    6: { kind: 'iptables', command: 'ip6tables', lockArgs: ['-w'], chain: 'f2b-j', ruleTail: ['REJECT', '--reject-with', 'icmp6-port-unreachable'] },
  },
  'iptables-allports': {
    4: { kind: 'iptables', command: 'iptables', lockArgs: ['-w'], chain: 'f2b-j', ruleTail: ['REJECT', '--reject-with', 'icmp-port-unreachable'] },
    6: { kind: 'iptables', command: 'ip6tables', lockArgs: ['-w'], chain: 'f2b-j', ruleTail: ['REJECT', '--reject-with', 'icmp6-port-unreachable'] },
  },
  'iptables-ipset': { 4: { kind: 'ipset', command: 'ipset', set: 'f2b-j', timeout: 0 }, 6: { kind: 'ipset', command: 'ipset', set: 'f2b-j6', timeout: 0 } },
  'iptables-ipset-allports': { 4: { kind: 'ipset', command: 'ipset', set: 'f2b-j', timeout: 0 }, 6: { kind: 'ipset', command: 'ipset', set: 'f2b-j6', timeout: 0 } },
  'sendmail-whois': { 4: undefined, 6: undefined },
};

test('the built-in actions: every file listed, firewall ban/unban recognised as native, mail stays a template', () => {
  const files = fs.readdirSync(path.join(BUILTIN, 'action.d')).filter((f) => f.endsWith('.conf') && !f.endsWith('common.conf')).map((f) => f.slice(0, -5));
  assert.deepEqual(files.sort(), Object.keys(NATIVE).sort());
  const dir = makeTree({ 'filter.d/t.conf': '[Definition]\nfailregex = ^fail <HOST>$\n', 'j.log': '' }, 'pc-builtin-act-');
  try {
    fs.symlinkSync(path.join(BUILTIN, 'action.d'), path.join(dir, 'action.d'));
    const jails = Object.keys(NATIVE).map((a, i) => `[j${i}]\nenabled = true\nfilter = t\nlogpath = ${dir}/j.log\naction = ${a}[name=j]\n`);
    fs.writeFileSync(path.join(dir, 'jail.conf'), jails.join('\n'));
    const r = readConfigStream(new Configurator(new NodeFileSystem(), dir, new CollectingLog()), { overrides: new Map(), ignoreWrong: false, allowNoFiles: true });
    assert.ok(r.stream, String(r.error));
    const env = { runner: new ShellRunner(), lock: new CommandLock(), log: new MemoryLog(), hostname: () => 'h', allowIpv6: () => true, now: () => 0 };
    Object.keys(NATIVE).forEach((name, i) => {
      const props: Array<[string, string]> = [];
      for (const c of r.stream ?? []) {
        const [verb, jail, what, act, key, value] = c as unknown[];
        if (jail !== `j${i}` || what !== 'action' || typeof act !== 'string') continue;
        if (verb === 'set' && typeof key === 'string') props.push([key, String(value)]);
        if (verb === 'multi-set') for (const kv of key as Array<[string, string]>) props.push([kv[0], kv[1]]);
      }
      assert.ok(props.length > 0, `${name}: no properties in the stream`);
      // A mail notice has nothing to check or undo; a firewall action has every hook.
      const hooks = NATIVE[name]?.[4] === undefined ? ['actionstart', 'actionstop', 'actionban'] : ['actionstart', 'actionstop', 'actioncheck', 'actionflush', 'actionban', 'actionunban'];
      for (const hook of hooks) assert.ok(props.some(([k, v]) => k === hook && v.trim() !== ''), `${name}: no ${hook}`);
      const action = new CommandAction(name, { name: 'j', banTime: () => 600, banned: () => 0, bannedTotal: () => 0, found: () => 0, foundTotal: () => 0 }, props, env);
      for (const fam of [4, 6] as const) {
        const family = fam === 4 ? 'inet4' : 'inet6';
        const got = recogniseBanCommands(action.staticCommand('<actionban>', family), action.staticCommand('<actionunban>', family));
        assert.deepEqual(got, NATIVE[name]?.[fam], `${name} ${family}: ${action.staticCommand('<actionban>', family)}`);
      }
    });
  } finally {
    removeTree(dir);
  }
});
