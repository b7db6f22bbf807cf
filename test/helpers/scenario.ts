/**
 * Shared pieces of the admins' scenario tests (test/e2e/journalPostfix, recidive, manualOps):
 * a `-c DIR` tree made of Debian's own files plus the admin's fail2ban.local and jail.local,
 * either server (Debian's or portcullis') running inside a private network namespace and queried
 * with either client, the elements of a stock nftables set, `status` fields, and a plain TCP
 * listener and probe inside the namespace for "is this source refused by the kernel".
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Netns } from './netns.js';
import { ROOT, runReal, type RunResult } from './oracle.js';
import { runClient, sleep, waitFor, type Side } from './servers.js';

export const STOCK = '/etc/fail2ban';
export const ATTACKER = '127.0.0.2';
export const HOST = '127.0.0.1';
const ENV = { ...process.env, LANG: 'C.UTF-8', PYTHONDONTWRITEBYTECODE: '1' };

/** `dir` as `-c DIR`: Debian's fail2ban.conf, jail.conf, filter.d, action.d, paths-*.conf by symlink (jail.d left out); ours written. */
export function stockTree(dir: string, jailLocal: string): void {
  fs.mkdirSync(dir, { recursive: true });
  for (const name of fs.readdirSync(STOCK)) {
    if (['fail2ban.conf', 'jail.conf', 'filter.d', 'action.d'].includes(name) || /^paths-.*\.conf$/.test(name)) fs.symlinkSync(path.join(STOCK, name), path.join(dir, name));
  }
  assert.ok(fs.existsSync(path.join(dir, 'action.d', 'nftables-multiport.conf')), `${STOCK}/action.d is missing: install Debian's fail2ban package`);
  fs.writeFileSync(path.join(dir, 'fail2ban.local'), `[Definition]\nloglevel = INFO\nlogtarget = ${dir}/f2b.log\ndbfile = ${dir}/f2b.sqlite3\n`);
  fs.writeFileSync(path.join(dir, 'jail.local'), jailLocal);
}

export interface ScenarioServer {
  readonly side: Side;
  readonly dir: string;
  readonly socket: string;
  /** `fail2ban-client -s SOCKET ARGS`, Debian's client unless `which` = 'ours'. */
  client(args: readonly string[], which?: Side): RunResult;
  /** `client`, failing the test unless it exits 0; its stdout. */
  ok(args: readonly string[], which?: Side): string;
  exited(): boolean;
  exitCode(): number | null;
  /** `stop` through the client, then waits for the exit (true when it exited by itself). */
  stop(): Promise<boolean>;
  /** Last resort (cleanup): SIGKILL. */
  kill(): void;
}

/** `fail2ban-server -f -x -c DIR -s DIR/f2b.sock -p DIR/f2b.pid` of `side` inside `ns`; resolves when it answers `ping`. */
export async function startInNetns(side: Side, ns: Netns, dir: string): Promise<ScenarioServer> {
  const socket = path.join(dir, 'f2b.sock');
  const argv = side === 'real' ? ['/usr/bin/fail2ban-server'] : [process.execPath, path.join(ROOT, 'bin', 'fail2ban-server')];
  const out = fs.openSync(path.join(dir, 'server.out'), 'a');
  const child: ChildProcess = spawn('ip', ['netns', 'exec', ns.name, ...argv, '-f', '-x', '-c', dir, '-s', socket, '-p', path.join(dir, 'f2b.pid')], { stdio: ['ignore', out, out], env: ENV });
  fs.closeSync(out);
  let done = false;
  let code: number | null = null;
  child.on('exit', (c) => ((done = true), (code = c)));
  const server: ScenarioServer = {
    side,
    dir,
    socket,
    client: (args, which = 'real') => runClient(socket, args, which),
    ok(args, which = 'real') {
      const r = runClient(socket, args, which);
      assert.equal(r.status, 0, `${which} client ${args.join(' ')} against the ${side} server: exit ${String(r.status)}\n${r.stdout}${r.stderr}`);
      return r.stdout;
    },
    exited: () => done,
    exitCode: () => code,
    async stop() {
      if (!done) runClient(socket, ['stop'], 'real');
      for (let i = 0; i < 600 && !done; i++) await sleep(50);
      return done;
    },
    kill() {
      if (!done) child.kill('SIGKILL');
    },
  };
  try {
    await waitFor(`the ${side} server answering ping in ${ns.name}`, () => done || runClient(socket, ['ping'], 'real').status === 0, 30000);
    if (done) throw new Error(`exited with ${String(code)}`);
  } catch (e) {
    server.kill();
    throw new Error(`${side} server did not start: ${(e as Error).message}\n${fs.readFileSync(path.join(dir, 'server.out'), 'utf8')}`);
  }
  return server;
}

/** The elements of the stock nftables actions' set `inet f2b-table addr-set-JAIL` (empty when absent). */
export function setElements(ns: Netns, jail: string): string[] {
  const r = ns.run('nft', ['-j', 'list', 'set', 'inet', 'f2b-table', `addr-set-${jail}`]);
  if (r.status !== 0) return [];
  const doc = JSON.parse(r.stdout) as { nftables?: { set?: { elem?: unknown[] } }[] };
  return doc.nftables?.flatMap((i) => i.set?.elem ?? []).map((e) => (typeof e === 'string' ? e : JSON.stringify(e))).sort() ?? [];
}

/** `label:\tvalue` lines of a `status` answer (`Currently failed` → `0`, `Banned IP list` → `…`). */
export function statusFields(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/^[\s|`-]*([A-Za-z][A-Za-z ]*):\t(.*)$/gm)) out[m[1] ?? ''] = m[2] ?? '';
  return out;
}

const LISTENER = `const net = require('net');
const s = net.createServer((c) => { c.on('error', () => {}); c.end('220 ready\\r\\n'); });
s.listen(Number(process.argv[1]), '127.0.0.1', () => console.log('listening'));`;

/** A TCP server on 127.0.0.1:`port` in `ns` that greets and closes; stop() kills it. */
export async function tcpListener(ns: Netns, port: number, dir: string): Promise<{ stop(): Promise<void> }> {
  const file = path.join(dir, `listener-${port}.out`);
  const out = fs.openSync(file, 'a');
  const child = spawn('ip', ['netns', 'exec', ns.name, process.execPath, '-e', LISTENER, String(port)], { stdio: ['ignore', out, out], env: ENV });
  fs.closeSync(out);
  let done = false;
  child.on('exit', () => (done = true));
  const stop = async (): Promise<void> => {
    if (!done) child.kill('SIGKILL');
    for (let i = 0; i < 100 && !done; i++) await sleep(50);
  };
  try {
    await waitFor(`listener on ${port}`, () => done || fs.readFileSync(file, 'utf8').includes('listening'), 20000);
    if (done) throw new Error(`listener on ${port} exited: ${fs.readFileSync(file, 'utf8')}`);
  } catch (e) {
    await stop();
    throw e;
  }
  return { stop };
}

const PROBE = `const net = require('net');
const c = net.connect({ host: '127.0.0.1', port: Number(process.argv[1]), localAddress: process.argv[2], timeout: 8000 });
c.on('data', (d) => { if (String(d).startsWith('220')) { console.log('connected'); c.destroy(); } });
c.on('error', (e) => console.log(e.code === 'ECONNREFUSED' ? 'refused' : String(e.code)));
c.on('timeout', () => { console.log('timeout'); c.destroy(); });`;

/** Connects from `source` to 127.0.0.1:`port` in `ns`: 'connected' (greeting read), 'refused' (ECONNREFUSED), or what else happened. */
export async function tcpProbe(ns: Netns, source: string, port: number): Promise<string> {
  const r = await ns.runAsync(process.execPath, ['-e', PROBE, String(port), source]);
  return r.stdout.trim() || `no answer (exit ${String(r.status)}): ${r.stderr}`;
}

/** `Failregex: N total` of Debian's fail2ban-regex on `log` with `filter` read from `confDir`. */
export function realRegexCount(confDir: string, log: string, filter: string): { count: number; report: string } {
  const r = runReal('fail2ban-regex', ['-c', confDir, log, filter]);
  return { count: Number(/^Failregex: (\d+) total/m.exec(r.stdout)?.[1] ?? NaN), report: r.stdout + r.stderr };
}
