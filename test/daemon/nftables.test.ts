/**
 * The real firewall end to end: portcullis' fail2ban-server runs inside a private network
 * namespace with Debian's stock `nftables-multiport` action (copied from /etc/fail2ban/action.d
 * when the test runs, with what it includes), so every `nft` command its actions run changes only
 * that namespace's ruleset. Two jails — inotify (t1) and polling (t2, bantime 3 s) — ban IPv4 and
 * IPv6 attackers into the action's per-family sets; manual unban/ban, expiry, hostile log lines,
 * the rules actually rejecting a banned source, and `stop` leaving no f2b table behind are checked
 * with `nft` itself. The time from appending the failure line that reaches maxretry to the address
 * being in the nft set is measured and printed (never asserted).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createNetns, startServerInNetns, type Netns, type NsServer } from '../helpers/netns.js';
import { copyStockAction } from '../helpers/stockAction.js';
import { logTime, sleep, waitFor } from '../helpers/servers.js';

const TABLE = 'f2b-table';

function writeTree(dir: string): void {
  const action = (jail: string): string => `nftables-multiport[name=${jail}, port="22,2222", protocol=tcp]`;
  const files: Record<string, string> = {
    'fail2ban.conf': `[Definition]\nloglevel = INFO\nlogtarget = ${dir}/f2b.log\nsocket = ${dir}/f2b.sock\npidfile = ${dir}/f2b.pid\ndbfile = ${dir}/f2b.sqlite3\n`,
    'jail.conf': `[DEFAULT]
maxretry = 3
findtime = 600
bantime = 3

[t1]
enabled = true
backend = pyinotify
filter = sshd-test
logpath = ${dir}/t1.log
# long enough for the manual unban/ban checks; t2 shows expiry
bantime = 600
action = ${action('t1')}

[t2]
enabled = true
backend = polling
filter = sshd-test
logpath = ${dir}/t2.log
action = ${action('t2')}
`,
    'filter.d/sshd-test.conf': '[Definition]\nfailregex = ^\\s*\\S+ sshd-test: Failed password for \\S+ from <HOST>$\n',
    't1.log': '',
    't2.log': '',
  };
  for (const [name, body] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), body);
  }
  fs.mkdirSync(path.join(dir, 'action.d'), { recursive: true });
  copyStockAction('nftables-multiport.conf', path.join(dir, 'action.d'));
}

const failLine = (ip: string, user = 'root'): string => `${logTime()} gate sshd-test: Failed password for ${user} from ${ip}\n`;

/** The elements of an nft set (empty when the set does not exist). */
function elementsOf(json: string): string[] {
  const out: string[] = [];
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch {
    return out;
  }
  const visit = (v: unknown): void => {
    if (typeof v === 'string') out.push(v);
    else if (Array.isArray(v)) v.forEach(visit);
    else if (v !== null && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if ('elem' in o) visit(o.elem);
      else if ('val' in o) visit(o.val);
    }
  };
  for (const item of (doc as { nftables?: unknown[] }).nftables ?? []) {
    const set = (item as { set?: { elem?: unknown } }).set;
    if (set?.elem !== undefined) visit(set.elem);
  }
  return out;
}

function setArgs(set: string): string[] {
  return ['-j', 'list', 'set', 'inet', TABLE, set];
}

const inSet = (ns: Netns, set: string): string[] => {
  const r = ns.run('nft', setArgs(set));
  return r.status === 0 ? elementsOf(r.stdout) : [];
};

/** `nft monitor new elements` in the namespace, each output line stamped with performance.now(). */
class Monitor {
  readonly events: { t: number; line: string }[] = [];
  private readonly child: ChildProcess;
  private buf = '';

  constructor(ns: Netns) {
    this.child = spawn('ip', ['netns', 'exec', ns.name, 'nft', 'monitor', 'new', 'elements'], { stdio: ['ignore', 'pipe', 'ignore'] });
    this.child.stdout?.setEncoding('utf8');
    this.child.stdout?.on('data', (chunk: string) => {
      const t = performance.now();
      this.buf += chunk;
      const lines = this.buf.split('\n');
      this.buf = lines.pop() ?? '';
      for (const line of lines) this.events.push({ t, line });
    });
  }

  stop(): void {
    if (this.child.exitCode === null) this.child.kill();
  }
}

interface Latency {
  what: string;
  monitorMs: number | undefined;
  pollMs: number;
}

/**
 * Appends `line` (the failure that reaches maxretry) and polls `nft list set` (async, a few ms
 * apart) until `ip` is in `set`; also reads the time nft's own monitor reported the element.
 */
async function measureBan(ns: Netns, mon: Monitor, what: string, logFile: string, line: string, set: string, ip: string): Promise<Latency> {
  const mark = mon.events.length;
  const t0 = performance.now();
  fs.appendFileSync(logFile, line);
  let pollMs: number | undefined;
  const until = Date.now() + 30000;
  while (pollMs === undefined) {
    const r = await ns.runAsync('nft', setArgs(set));
    if (r.status === 0 && elementsOf(r.stdout).includes(ip)) pollMs = performance.now() - t0;
    else if (Date.now() > until) throw new Error(`timed out waiting for ${ip} in set ${set} (${what})`);
    else await sleep(2);
  }
  const find = (): { t: number } | undefined => mon.events.slice(mark).find((e) => e.line.includes(` ${set} `) && e.line.includes(ip));
  const mUntil = Date.now() + 2000;
  while (find() === undefined && Date.now() < mUntil) await sleep(5);
  const ev = find();
  return { what, monitorMs: ev === undefined ? undefined : ev.t - t0, pollMs };
}

function totalFailed(server: NsServer, jail: string): number {
  const m = /Total failed:\s+(\d+)/.exec(server.client(['status', jail]).stdout);
  return m ? Number(m[1]) : -1;
}

/** Appends the first two failures of `ip` and waits until the jail has counted them. */
async function twoFailures(server: NsServer, jail: string, logFile: string, ip: string, user = 'root'): Promise<void> {
  const before = totalFailed(server, jail);
  fs.appendFileSync(logFile, failLine(ip, user) + failLine(ip, user));
  await waitFor(`${jail}: two failures of ${ip} counted`, () => totalFailed(server, jail) >= before + 2);
}

/**
 * Inside the namespace: listens on port 2222 and connects to it from each given local source
 * address (assigned to lo by the caller); prints `{source: "connected" | error code}`.
 */
const PROBE = `
const net = require('node:net');
const sources = JSON.parse(process.argv[1]);
const srv = net.createServer((s) => s.end()).listen(2222, '::', async () => {
  const res = {};
  for (const src of sources) {
    res[src] = await new Promise((r) => {
      const c = net.connect({ host: src, port: 2222, localAddress: src, timeout: 3000 });
      c.on('connect', () => { c.destroy(); r('connected'); });
      c.on('error', (e) => r(e.code));
      c.on('timeout', () => { c.destroy(); r('timeout'); });
    });
  }
  console.log(JSON.stringify(res));
  srv.close();
});
`;

function probe(ns: Netns, sources: readonly string[]): Record<string, string> {
  const r = ns.run(process.execPath, ['-e', PROBE, JSON.stringify(sources)]);
  assert.equal(r.status, 0, `connection probe failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, string>;
}

test('nftables-multiport in a private network namespace: bans, unbans, expiry, hostile lines, clean stop', { timeout: 240000 }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pc-nft-'));
  const live: { ns?: Netns; server?: NsServer; mon?: Monitor } = {};
  t.after(() => {
    live.mon?.stop();
    live.server?.kill();
    live.ns?.remove();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  writeTree(dir);
  const ns = (live.ns = createNetns('nft'));
  const ruleset = (): string => {
    const r = ns.run('nft', ['list', 'ruleset']);
    assert.equal(r.status, 0, `nft list ruleset: ${r.stderr}`);
    return r.stdout;
  };
  assert.equal(ruleset().trim(), '', 'a fresh namespace has an empty ruleset');

  const srv = (live.server = await startServerInNetns(ns, dir));
  const mon = (live.mon = new Monitor(ns));
  await sleep(300); // let nft monitor subscribe
  const t1log = path.join(dir, 't1.log');
  const t2log = path.join(dir, 't2.log');
  const lat: Latency[] = [];

  // t1 (inotify): first IPv4 ban (actionstart for inet4 on demand, then the ban), a second
  // IPv4 ban (set exists), first IPv6 ban (actionstart for inet6).
  await twoFailures(srv, 't1', t1log, '192.0.2.10');
  lat.push(await measureBan(ns, mon, 't1 inotify, first IPv4 ban (incl. on-demand actionstart)', t1log, failLine('192.0.2.10'), 'addr-set-t1', '192.0.2.10'));
  await twoFailures(srv, 't1', t1log, '192.0.2.11');
  lat.push(await measureBan(ns, mon, 't1 inotify, second IPv4 ban', t1log, failLine('192.0.2.11'), 'addr-set-t1', '192.0.2.11'));
  await twoFailures(srv, 't1', t1log, '2001:db8::10');
  lat.push(await measureBan(ns, mon, 't1 inotify, first IPv6 ban (incl. on-demand actionstart)', t1log, failLine('2001:db8::10'), 'addr6-set-t1', '2001:db8::10'));
  await twoFailures(srv, 't1', t1log, '2001:db8::11');
  lat.push(await measureBan(ns, mon, 't1 inotify, second IPv6 ban', t1log, failLine('2001:db8::11'), 'addr6-set-t1', '2001:db8::11'));

  assert.deepEqual(inSet(ns, 'addr-set-t1').sort(), ['192.0.2.10', '192.0.2.11']);
  assert.deepEqual(inSet(ns, 'addr6-set-t1').sort(), ['2001:db8::10', '2001:db8::11']);
  const chain = ns.run('nft', ['list', 'chain', 'inet', TABLE, 'f2b-chain']).stdout;
  assert.match(chain, /type filter hook input priority filter - 1;/, chain);
  assert.match(chain, /tcp dport \{ 22, 2222 \} ip saddr @addr-set-t1 reject/, chain);
  assert.match(chain, /tcp dport \{ 22, 2222 \} ip6 saddr @addr6-set-t1 reject/, chain);
  let st = srv.client(['status', 't1']);
  assert.equal(st.status, 0, st.stderr);
  assert.match(st.stdout, /Currently banned:\t4\n/, st.stdout);
  for (const ip of ['192.0.2.10', '192.0.2.11', '2001:db8::10', '2001:db8::11']) assert.ok(st.stdout.includes(ip), `status t1 lists ${ip}:\n${st.stdout}`);

  // The rules really reject a banned source (and only on the jail's ports, only banned sources).
  for (const a of ['192.0.2.10/32', '192.0.2.99/32', '2001:db8::10/128', '2001:db8::99/128']) {
    const r = ns.run('ip', ['addr', 'add', a, 'dev', 'lo', ...(a.includes(':') ? ['nodad'] : [])]);
    assert.equal(r.status, 0, r.stderr);
  }
  const reach = probe(ns, ['192.0.2.10', '192.0.2.99', '2001:db8::10', '2001:db8::99']);
  assert.deepEqual(reach, { '192.0.2.10': 'ECONNREFUSED', '192.0.2.99': 'connected', '2001:db8::10': 'ECONNREFUSED', '2001:db8::99': 'connected' });

  // Manual unban and ban through the client.
  let r = srv.client(['set', 't1', 'unbanip', '192.0.2.11']);
  assert.equal(r.status, 0, r.stderr);
  await waitFor('192.0.2.11 gone from addr-set-t1', () => !inSet(ns, 'addr-set-t1').includes('192.0.2.11'));
  r = srv.client(['set', 't1', 'banip', '192.0.2.77']);
  assert.equal(r.status, 0, r.stderr);
  await waitFor('192.0.2.77 in addr-set-t1', () => inSet(ns, 'addr-set-t1').includes('192.0.2.77'));
  assert.deepEqual(inSet(ns, 'addr-set-t1').sort(), ['192.0.2.10', '192.0.2.77']);

  // Hostile lines: a matched host that is no IP (an nft option, a name that does not resolve)
  // is never banned; shell metacharacters in the user part do not run anything.
  const marker = path.join(dir, 'pwned');
  for (const host of ['--flush', 'evil.invalid', '^ruleset']) fs.appendFileSync(t1log, failLine(host).repeat(3));
  const hostileUsers = [`$(touch\${IFS}${marker}1)`, `\`touch\${IFS}${marker}2\``, `;touch\${IFS}${marker}3;`, `'";{touch,${marker}4}|`];
  for (const u of hostileUsers) fs.appendFileSync(t1log, failLine('192.0.2.30', u));
  await waitFor('192.0.2.30 in addr-set-t1', () => inSet(ns, 'addr-set-t1').includes('192.0.2.30'));
  assert.deepEqual(inSet(ns, 'addr-set-t1').sort(), ['192.0.2.10', '192.0.2.30', '192.0.2.77'], 'only IP addresses are banned');
  assert.deepEqual(inSet(ns, 'addr6-set-t1').sort(), ['2001:db8::10', '2001:db8::11']);
  for (let i = 1; i <= hostileUsers.length; i++) assert.ok(!fs.existsSync(`${marker}${i}`), `a log line ran a command (${marker}${i})`);
  assert.match(ruleset(), /set addr-set-t1/, 'the ruleset was not flushed');

  // t2 (polling, bantime 3 s): IPv4 and IPv6 bans that expire by themselves.
  await twoFailures(srv, 't2', t2log, '198.51.100.20');
  lat.push(await measureBan(ns, mon, 't2 polling, first IPv4 ban (incl. on-demand actionstart)', t2log, failLine('198.51.100.20'), 'addr-set-t2', '198.51.100.20'));
  fs.appendFileSync(t2log, failLine('2001:db8:2::20').repeat(3));
  await waitFor('2001:db8:2::20 in addr6-set-t2', () => inSet(ns, 'addr6-set-t2').includes('2001:db8:2::20'));
  st = srv.client(['status', 't2']);
  assert.match(st.stdout, /Currently banned:\t[12]\n/, st.stdout);
  await waitFor('t2 bans expired from the sets', () => inSet(ns, 'addr-set-t2').length === 0 && inSet(ns, 'addr6-set-t2').length === 0, 30000);
  await waitFor('status t2 shows no bans', () => /Currently banned:\t0\n/.test(srv.client(['status', 't2']).stdout));
  assert.match(srv.client(['status', 't2']).stdout, /Total banned:\t2\n/);
  // t1's bans (bantime 600) are untouched by t2's expiry.
  assert.deepEqual(inSet(ns, 'addr-set-t1').sort(), ['192.0.2.10', '192.0.2.30', '192.0.2.77']);

  for (const l of lat) {
    console.log(`ban latency, ${l.what}: ${l.monitorMs === undefined ? 'n/a' : l.monitorMs.toFixed(1)} ms (nft monitor), ${l.pollMs.toFixed(1)} ms (nft list set polling)`);
  }

  // stop: everything portcullis added is gone and the server exits 0.
  r = srv.client(['stop']);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(await srv.waitExit(30000), 'the server did not exit after stop');
  assert.equal(srv.exitCode(), 0, `server exit code; log:\n${fs.readFileSync(path.join(dir, 'f2b.log'), 'utf8')}`);
  const after = ruleset();
  assert.doesNotMatch(after, /f2b|addr-set|addr6-set/, `ruleset after stop:\n${after}`);
  assert.equal(after.trim(), '', `ruleset after stop:\n${after}`);
  const log = fs.readFileSync(path.join(dir, 'f2b.log'), 'utf8');
  assert.doesNotMatch(log, /\bERROR\b|CRITICAL/, `errors in the server log:\n${log}`);
});
