/**
 * The functional side of bench/ban-latency.sh: a small flood against portcullis' server in a
 * private network namespace, on the benchmark's configuration (Debian's stock sshd filter and
 * nftables-multiport action, copied from /etc/fail2ban at run time; backend auto; maxretry 3).
 * One write appends 200 IPv4 and 20 IPv6 attackers with 3 failures each, 100 + 10 benign
 * addresses with 2 failures each (one below maxretry) and non-matching lines between them.
 * Once the jail has counted every failure, the action's sets hold exactly the attackers: every
 * one of them, none of the benign addresses. No timing is asserted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createNetns, startServerInNetns, type Netns, type NsServer } from '../helpers/netns.js';
import { sleep, waitFor } from '../helpers/servers.js';

const JAIL = 'bench';

/** Copies a stock file of /etc/fail2ban/KIND and what its [INCLUDES] name (.local only if present). */
function copyStock(kind: string, name: string, destDir: string, seen = new Set<string>()): void {
  if (seen.has(name)) return;
  seen.add(name);
  const src = path.join('/etc/fail2ban', kind, name);
  if (!fs.existsSync(src)) {
    if (name.endsWith('.local')) return;
    assert.fail(`${src} is missing: install Debian's fail2ban package to run this test`);
  }
  const text = fs.readFileSync(src, 'utf8');
  fs.writeFileSync(path.join(destDir, name), text);
  let inIncludes = false;
  for (const line of text.split('\n')) {
    const section = /^\[([^\]]+)\]/.exec(line);
    if (section) inIncludes = section[1] === 'INCLUDES';
    const inc = inIncludes ? /^(before|after)\s*=\s*(.*)$/.exec(line) : null;
    if (inc) for (const f of (inc[2] ?? '').trim().split(/\s+/).filter(Boolean)) copyStock(kind, f, destDir, seen);
  }
}

function writeTree(dir: string): void {
  for (const d of ['filter.d', 'action.d']) fs.mkdirSync(path.join(dir, d), { recursive: true });
  fs.writeFileSync(
    path.join(dir, 'fail2ban.conf'),
    `[Definition]\nloglevel = INFO\nlogtarget = ${dir}/f2b.log\nsocket = ${dir}/f2b.sock\npidfile = ${dir}/f2b.pid\ndbfile = ${dir}/f2b.sqlite3\n`,
  );
  fs.writeFileSync(
    path.join(dir, 'jail.conf'),
    `[DEFAULT]\nignoreself = false\n\n[${JAIL}]\nenabled = true\nfilter = sshd\nbackend = auto\nlogpath = ${dir}/auth.log\n` +
      `maxretry = 3\nfindtime = 1d\nbantime = 1d\naction = nftables-multiport[name=${JAIL}, port="22", protocol=tcp]\n`,
  );
  copyStock('filter.d', 'sshd.conf', path.join(dir, 'filter.d'));
  copyStock('action.d', 'nftables-multiport.conf', path.join(dir, 'action.d'));
  fs.writeFileSync(path.join(dir, 'auth.log'), '');
}

const MON = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
function syslogPrefix(): string {
  const d = new Date();
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${MON[d.getMonth()] ?? 'Jan'} ${String(d.getDate()).padStart(2, ' ')} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())} gate `;
}

function pick<T>(xs: readonly T[], n: number): T {
  const x = xs[n % xs.length];
  assert.ok(x !== undefined);
  return x;
}

/** sshd's own failure messages, a new sshd pid per line (one connection per attempt). */
function flood(attackers: readonly string[], benign: readonly string[]): string {
  const pre = syslogPrefix();
  let pid = 3000;
  const fail = [
    (ip: string, n: number): string => `sshd[${n}]: Failed password for root from ${ip} port ${30000 + n} ssh2`,
    (ip: string, n: number): string => `sshd[${n}]: Failed password for invalid user admin from ${ip} port ${30000 + n} ssh2`,
    (ip: string, n: number): string => `sshd[${n}]: Invalid user oracle from ${ip} port ${30000 + n}`,
  ];
  const noise = [
    (n: number): string => `CRON[${n}]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)`,
    (n: number): string => `sshd[${n}]: Accepted publickey for deploy from 192.168.77.5 port ${30000 + n} ssh2: ED25519 SHA256:0123456789abcdef`,
  ];
  const lines: string[] = [];
  const add = (msg: string): void => void lines.push(`${pre}${msg}\n`);
  for (let round = 0; round < 3; round++) {
    attackers.forEach((ip, i) => {
      pid++;
      add(pick(fail, pid)(ip, pid));
      const b = benign[i];
      if (round < 2 && b !== undefined) add(pick(fail, ++pid)(b, pid));
      if (round === 2) add(pick(noise, ++pid)(pid));
    });
  }
  return lines.join('');
}

function elements(ns: Netns, set: string): string[] {
  const r = ns.run('nft', ['-j', 'list', 'set', 'inet', 'f2b-table', set]);
  if (r.status !== 0) return [];
  const doc = JSON.parse(r.stdout) as { nftables?: { set?: { elem?: unknown[] } }[] };
  const out: string[] = [];
  for (const item of doc.nftables ?? []) for (const e of item.set?.elem ?? []) if (typeof e === 'string') out.push(e);
  return out;
}

function totalFailed(server: NsServer): number {
  const m = /Total failed:\s+(\d+)/.exec(server.client(['status', JAIL]).stdout);
  return m ? Number(m[1]) : -1;
}

test('a flood of attackers with benign lines between them: every attacker in the set, no benign address', { timeout: 300000 }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pc-banflood-'));
  const live: { ns?: Netns; server?: NsServer } = {};
  t.after(() => {
    live.server?.kill();
    live.ns?.remove();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  writeTree(dir);
  const ns = (live.ns = createNetns('flood'));
  const srv = (live.server = await startServerInNetns(ns, dir));
  await sleep(300);

  const v4 = Array.from({ length: 200 }, (_, i) => `10.20.0.${i + 1}`);
  const v6 = Array.from({ length: 20 }, (_, i) => `2001:db8:20::${(i + 1).toString(16)}`);
  const benign4 = Array.from({ length: 100 }, (_, i) => `172.20.0.${i + 1}`);
  const benign6 = Array.from({ length: 10 }, (_, i) => `2001:db8:99::${(i + 1).toString(16)}`);
  const attackers = [...v4, ...v6];
  fs.appendFileSync(path.join(dir, 'auth.log'), flood(attackers, [...benign4, ...benign6]));

  await waitFor('every attacker in the sets', () => elements(ns, 'addr-set-bench').length >= v4.length && elements(ns, 'addr6-set-bench').length >= v6.length, 240000);
  const expected = attackers.length * 3 + (benign4.length + benign6.length) * 2;
  await waitFor(`the jail counted all ${expected} failures`, () => totalFailed(srv) >= expected, 120000);
  assert.equal(totalFailed(srv), expected, 'failures counted: 3 per attacker, 2 per benign address, none for the other lines');
  assert.deepEqual(elements(ns, 'addr-set-bench').sort(), [...v4].sort(), 'IPv4 set: exactly the attackers');
  assert.deepEqual(elements(ns, 'addr6-set-bench').sort(), [...v6].sort(), 'IPv6 set: exactly the attackers');
  const st = srv.client(['status', JAIL]);
  assert.match(st.stdout, new RegExp(`Currently banned:\\t${attackers.length}\\n`), st.stdout);

  const r = srv.client(['stop']);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(await srv.waitExit(60000), 'the server did not exit after stop');
  assert.equal(srv.exitCode(), 0);
  assert.equal(ns.run('nft', ['list', 'ruleset']).stdout.trim(), '', 'stop leaves an empty ruleset');
});
