/**
 * fail2ban-regex side by side on every sample log Debian ships: for each log and each
 * `filterOptions` set named in it (and the filter without options),
 * `fail2ban-regex -r -o '<time> <ip>' LOG FILTER[opts]` must print exactly what Debian's
 * fail2ban-regex prints. The only allowed difference: failures without a date in the line carry
 * "now", which differs by the seconds between the two runs — such a time must lie within its own
 * run's time window on both sides, with the same address.
 * A second pass compares the full report (no `-o`) of every log with its filter, apart from the
 * "[processed in … sec]" line and the same "now" times in verbose lists.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { NodeFileSystem } from '../../src/system/nodeFs.js';
import { sampleCases, sampleTests } from '../../src/testing/sampleLog.js';
import { needOracle, ROOT } from '../helpers/oracle.js';

const LOGS = '/usr/lib/python3/dist-packages/fail2ban/tests/files/logs';
const FILTERS = '/etc/fail2ban/filter.d';

interface Run {
  readonly stdout: string;
  readonly status: number | null;
  readonly start: number;
  readonly end: number;
}

function runAsync(cmd: string, args: readonly string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const start = Date.now() / 1000;
    const p = spawn(cmd, args, { env: { ...process.env, LANG: 'C.UTF-8' }, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    p.stdout.on('data', (b: Buffer) => out.push(b));
    p.stderr.resume();
    p.on('error', reject);
    p.on('close', (status) => resolve({ stdout: Buffer.concat(out).toString('utf8'), status, start: Math.floor(start), end: Math.ceil(Date.now() / 1000) }));
  });
}

/** Runs the jobs with at most `n` at a time. */
async function pool<T>(jobs: ReadonlyArray<() => Promise<T>>, n: number): Promise<T[]> {
  const results: T[] = new Array<T>(jobs.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await (jobs[i] as () => Promise<T>)();
    }
  };
  await Promise.all(Array.from({ length: n }, worker));
  return results;
}

/** The `name[k=v, …]` argument of a filter combination. */
function filterArg(name: string, opts: Readonly<Record<string, unknown>>): string {
  const entries = Object.entries(opts).filter(([k]) => !k.startsWith('test.'));
  if (entries.length === 0) return name;
  return `${name}[${entries.map(([k, v]) => `${k}=${String(v as string)}`).join(', ')}]`;
}

/** Compares `<time> <ip>` outputs line by line; "now" times may differ within each run's window. */
function sameOutput(real: Run, ours: Run): string | undefined {
  const a = real.stdout.split('\n');
  const b = ours.stdout.split('\n');
  if (a.length !== b.length) return `${a.length} lines vs ${b.length}`;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] ?? '';
    const y = b[i] ?? '';
    if (x === y) continue;
    const [tx = '', ...rx] = x.split(' ');
    const [ty = '', ...ry] = y.split(' ');
    const inWindow = (t: string, r: Run): boolean => Number(t) >= r.start - 1 && Number(t) <= r.end + 1;
    if (rx.join(' ') === ry.join(' ') && inWindow(tx, real) && inWindow(ty, ours)) continue;
    return `line ${i + 1}: ${JSON.stringify(x)} vs ${JSON.stringify(y)}`;
  }
  return undefined;
}

test('fail2ban-regex -r -o "<time> <ip>": identical to Debian\'s on every sample log and filter option set', async (t) => {
  if (!needOracle(t, 'fail2ban-regex')) return;
  const nfs = new NodeFileSystem();
  const jobs: Array<{ log: string; filter: string }> = [];
  for (const name of sampleTests(nfs, FILTERS, LOGS)) {
    if (name.startsWith('zzz-') || !fs.existsSync(path.join(LOGS, name))) continue;
    const args = new Set<string>([name]);
    for (const c of sampleCases(nfs, LOGS, name)) args.add(filterArg(name, c.opts));
    for (const filter of args) jobs.push({ log: path.join(LOGS, name), filter });
  }
  const ours = path.join(ROOT, 'bin', 'fail2ban-regex');
  const runs = await pool(jobs.map((j) => async () => {
    const argv = ['-r', '-o', '<time> <ip>', j.log, j.filter];
    const real = await runAsync('/usr/bin/fail2ban-regex', argv);
    const mine = await runAsync(process.execPath, [ours, ...argv]);
    return { j, real, mine };
  }), 2);
  const problems: string[] = [];
  let lines = 0;
  for (const { j, real, mine } of runs) {
    lines += real.stdout.split('\n').length - 1;
    if (real.status !== mine.status) problems.push(`${j.filter} ${j.log}: exit ${real.status} vs ${mine.status}`);
    const d = sameOutput(real, mine);
    if (d) problems.push(`${j.filter} ${path.basename(j.log)}: ${d}`);
  }
  t.diagnostic(`${jobs.length} runs (${new Set(jobs.map((j) => j.log)).size} logs), ${lines} failure lines compared`);
  assert.deepEqual(problems, []);
  assert.ok(jobs.length > 100 && lines > 1000, 'the sample logs were found and produced output');
});

test('fail2ban-regex report (no -o): identical to Debian\'s for every sample log with its filter', async (t) => {
  if (!needOracle(t, 'fail2ban-regex')) return;
  const nfs = new NodeFileSystem();
  const names = sampleTests(nfs, FILTERS, LOGS).filter((n) => !n.startsWith('zzz-') && fs.existsSync(path.join(LOGS, n)));
  const ours = path.join(ROOT, 'bin', 'fail2ban-regex');
  const runs = await pool(names.map((name) => async () => {
    const argv = ['--print-all-matched', '--print-all-missed', path.join(LOGS, name), name];
    return { name, real: await runAsync('/usr/bin/fail2ban-regex', argv), mine: await runAsync(process.execPath, [ours, ...argv]) };
  }), 2);
  const clean = (s: string): string => s.replace(/^\[processed in [\d.]+ sec\]$/m, '[processed]');
  const problems = runs.filter((r) => clean(r.real.stdout) !== clean(r.mine.stdout) || r.real.status !== r.mine.status).map((r) => r.name);
  t.diagnostic(`${runs.length} reports compared`);
  assert.deepEqual(problems, []);
});
