/**
 * The seed scenario end to end: a real sshd (Debian's openssh-server) on port 2222 in a private
 * network namespace logs through a real rsyslogd into a traditional auth.log; portcullis' server,
 * in the same namespace, watches it with Debian's own jail.conf, the STOCK `sshd` filter and the
 * STOCK `nftables-multiport` action (the tree in the temp dir links to /etc/fail2ban; only
 * fail2ban.local and jail.local are written). A client failing passwords from 127.0.0.2 is
 * refused by the kernel after maxretry failures, listed by `status sshd`, and reaches the password
 * prompt again after `unbanip`; 127.0.0.1 (the host itself: ignoreself) fails more often than
 * maxretry and is never banned; `stop` leaves an empty ruleset.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createNetns, startServerInNetns, type Netns, type NsServer } from '../helpers/netns.js';
import { waitFor } from '../helpers/servers.js';
import { sshLogin, startRsyslogd, startSshd, type Rsyslog, type Sshd, type SshOutcome } from '../helpers/sshd.js';

const STOCK = '/etc/fail2ban';
const ATTACKER = '127.0.0.2';
const HOST = '127.0.0.1';

/** `-c DIR`: Debian's files by symlink (jail.d left out), our fail2ban.local and jail.local. */
function writeTree(dir: string, authLog: string): void {
  for (const name of fs.readdirSync(STOCK)) {
    if (name === 'fail2ban.conf' || name === 'jail.conf' || name === 'filter.d' || name === 'action.d' || /^paths-.*\.conf$/.test(name)) {
      fs.symlinkSync(path.join(STOCK, name), path.join(dir, name));
    }
  }
  assert.ok(fs.existsSync(path.join(dir, 'filter.d', 'sshd.conf')), `${STOCK}/filter.d/sshd.conf is missing: install Debian's fail2ban package`);
  assert.ok(fs.existsSync(path.join(dir, 'action.d', 'nftables-multiport.conf')), `${STOCK}/action.d/nftables-multiport.conf is missing`);
  fs.writeFileSync(path.join(dir, 'fail2ban.local'), `[Definition]\nloglevel = INFO\nlogtarget = ${dir}/f2b.log\ndbfile = ${dir}/f2b.sqlite3\n`);
  fs.writeFileSync(
    path.join(dir, 'jail.local'),
    `[DEFAULT]\nbanaction = nftables-multiport\nbanaction_allports = nftables-allports\n\n` +
      `[sshd]\nenabled = true\nport = 2222\nmaxretry = 3\nfindtime = 10m\nbantime = 1h\nbackend = auto\nlogpath = ${authLog}\n`,
  );
}

/** The elements of `inet f2b-table addr-set-sshd` (empty when the set does not exist). */
function banned(ns: Netns): string[] {
  const r = ns.run('nft', ['-j', 'list', 'set', 'inet', 'f2b-table', 'addr-set-sshd']);
  if (r.status !== 0) return [];
  const doc = JSON.parse(r.stdout) as { nftables?: { set?: { elem?: unknown[] } }[] };
  return doc.nftables?.flatMap((i) => i.set?.elem ?? []).map((e) => (typeof e === 'string' ? e : JSON.stringify(e))) ?? [];
}

function stat(server: NsServer, field: string): string {
  const r = server.client(['status', 'sshd']);
  assert.equal(r.status, 0, `status sshd: ${r.stderr}`);
  return new RegExp(`${field}:\\t([^\\n]*)`).exec(r.stdout)?.[1] ?? `(no "${field}" in ${r.stdout})`;
}

test('sshd + rsyslogd + stock sshd filter + stock nftables-multiport: ban, refuse, unban, clean stop', { timeout: 300000 }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pc-sshd-'));
  const live: { ns?: Netns; rsyslog?: Rsyslog; sshd?: Sshd; server?: NsServer } = {};
  t.after(async () => {
    live.server?.kill();
    await live.sshd?.stop();
    await live.rsyslog?.stop();
    live.ns?.remove();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const ns = (live.ns = createNetns('sshd'));
  const rsyslog = (live.rsyslog = await startRsyslogd(ns, dir));
  const sshd = (live.sshd = await startSshd(ns, dir, rsyslog));
  const ruleset = (): string => ns.run('nft', ['list', 'ruleset']).stdout.trim();
  assert.equal(ruleset(), '', 'a fresh namespace has an empty ruleset');
  const login = async (src: string, password: string, expect: SshOutcome, why: string): Promise<void> => {
    const a = await sshLogin(ns, sshd, src, password);
    assert.equal(a.outcome, expect, `${why}: ssh from ${src} (exit ${String(a.status)}):\n${a.stderr}`);
  };
  await login(HOST, sshd.password, 'accepted', 'the test user logs in with its password');

  writeTree(dir, rsyslog.authLog);
  const server = (live.server = await startServerInNetns(ns, dir));
  assert.equal(stat(server, 'Currently banned'), '0');

  // The host itself fails more often than maxretry: ignored (ignoreself), never banned.
  for (let i = 0; i < 4; i++) await login(HOST, 'wrong', 'denied', `host failure ${i + 1}`);
  // The attacker: each failure reaches the password prompt until the third is counted.
  for (let i = 1; i <= 3; i++) {
    await login(ATTACKER, 'wrong', 'denied', `attacker failure ${i} reaches authentication`);
    await waitFor(`${i} failures counted`, () => Number(stat(server, 'Total failed')) >= i);
    if (i < 3) assert.equal(stat(server, 'Currently banned'), '0', `no ban after ${i} failures`);
  }
  await waitFor(`${ATTACKER} in addr-set-sshd`, () => banned(ns).includes(ATTACKER));
  assert.deepEqual(banned(ns), [ATTACKER]);
  assert.equal(stat(server, 'Total failed'), '3', 'the host\'s failures were not counted');
  assert.equal(stat(server, 'Currently banned'), '1');
  assert.equal(stat(server, 'Banned IP list'), ATTACKER);
  const chain = ns.run('nft', ['list', 'chain', 'inet', 'f2b-table', 'f2b-chain']).stdout;
  assert.match(chain, /tcp dport 2222 ip saddr @addr-set-sshd reject/, chain);
  const log = fs.readFileSync(path.join(dir, 'f2b.log'), 'utf8');
  assert.equal(log.match(/\[sshd\] Ignore 127\.0\.0\.1 by ignoreself rule/g)?.length, 4, `the host's failures were seen and ignored:\n${log}`);
  assert.match(log, /\[sshd\] Ban 127\.0\.0\.2/, log);

  await login(ATTACKER, 'wrong', 'refused', 'the banned attacker is refused by the kernel');
  await login(HOST, 'wrong', 'denied', 'the host still reaches authentication');
  await login(HOST, sshd.password, 'accepted', 'the host still logs in');

  const r = server.client(['set', 'sshd', 'unbanip', ATTACKER]);
  assert.equal(r.status, 0, r.stderr);
  await waitFor(`${ATTACKER} gone from addr-set-sshd`, () => !banned(ns).includes(ATTACKER));
  assert.equal(stat(server, 'Currently banned'), '0');
  await login(ATTACKER, 'wrong', 'denied', 'after unbanip the attacker reaches the password prompt again');

  const s = server.client(['stop']);
  assert.equal(s.status, 0, s.stderr);
  assert.ok(await server.waitExit(30000), 'the server did not exit after stop');
  assert.equal(server.exitCode(), 0, `server exit code; log:\n${fs.readFileSync(path.join(dir, 'f2b.log'), 'utf8')}`);
  assert.equal(ruleset(), '', 'stop leaves no rule behind');
  assert.doesNotMatch(fs.readFileSync(path.join(dir, 'f2b.log'), 'utf8'), /\bERROR\b|CRITICAL/);
});
