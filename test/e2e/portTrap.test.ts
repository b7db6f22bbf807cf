/**
 * Scenario 1: SSH on a moved port, with a port trap on 22. Debian's sshd listens on 2201 in a
 * private network namespace (logging through a real rsyslogd); nothing legitimate listens on 22,
 * where portcullis' port trap (jail option `porttrap = 22`, an admin's thpot-style filter
 * `failregex = SRC=<HOST>`) accepts and resets. A scanner touching 22 three times is banned on
 * every port (Debian's STOCK `nftables-allports`, a week); password guessing on 2201 is banned by
 * the stock `sshd` jail (`port = 2201`, `nftables-multiport`); the host's own connections to the
 * trap are ignored (ignoreself). `stop` closes the trap and leaves no rule.
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
const GUESSER = '127.0.0.2';
const SCANNER = '127.0.0.3';
const HOST = '127.0.0.1';

function writeTree(dir: string, authLog: string): void {
  for (const name of ['fail2ban.conf', 'jail.conf', 'action.d', 'paths-common.conf', 'paths-debian.conf']) {
    fs.symlinkSync(path.join(STOCK, name), path.join(dir, name));
  }
  // the stock filters, plus the admin's own thpot-style filter for the trap
  fs.mkdirSync(path.join(dir, 'filter.d'));
  for (const f of fs.readdirSync(path.join(STOCK, 'filter.d'))) fs.symlinkSync(path.join(STOCK, 'filter.d', f), path.join(dir, 'filter.d', f));
  fs.writeFileSync(path.join(dir, 'filter.d', 'thpot.conf'), '[Definition]\nfailregex = SRC=<HOST>\nignoreregex =\n');
  fs.writeFileSync(path.join(dir, 'fail2ban.local'), `[Definition]\nloglevel = INFO\nlogtarget = ${dir}/f2b.log\ndbfile = ${dir}/f2b.sqlite3\n`);
  fs.writeFileSync(
    path.join(dir, 'jail.local'),
    '[DEFAULT]\nbanaction = nftables-multiport\nbanaction_allports = nftables-allports\n\n' +
      `[sshd]\nenabled = true\nport = 2201\nmaxretry = 3\nfindtime = 10m\nbantime = 1h\nbackend = auto\nlogpath = ${authLog}\n\n` +
      '[porttrap]\nenabled = true\nporttrap = 22\nfilter = thpot\nmaxretry = 3\nfindtime = 1h\nbantime = 1w\n' +
      'banaction = %(banaction_allports)s\naction = %(action_)s\n',
  );
}

/** The elements of one of the stock actions' sets (empty when it does not exist). */
function setOf(ns: Netns, set: string): string[] {
  const r = ns.run('nft', ['-j', 'list', 'set', 'inet', 'f2b-table', set]);
  if (r.status !== 0) return [];
  const doc = JSON.parse(r.stdout) as { nftables?: { set?: { elem?: unknown[] } }[] };
  return doc.nftables?.flatMap((i) => i.set?.elem ?? []).map((e) => (typeof e === 'string' ? e : JSON.stringify(e))) ?? [];
}

function stat(server: NsServer, jail: string, field: string): string {
  const r = server.client(['status', jail]);
  assert.equal(r.status, 0, `status ${jail}: ${r.stderr}`);
  return new RegExp(`${field}:\\t([^\\n]*)`).exec(r.stdout)?.[1] ?? `(no "${field}" in ${r.stdout})`;
}

/**
 * A TCP connection from `source` to 127.0.0.1:`port` inside the namespace: `answered` when the
 * handshake completed (the trap accepts, then resets: either event may come first), `refused`
 * (nothing listens, or a reject rule), or what else happened.
 */
function touch(ns: Netns, source: string, port: number): string {
  const script =
    `const s=require('net').connect({host:'127.0.0.1',port:${port},localAddress:'${source}'});` +
    `s.on('connect',()=>{console.log('answered');s.destroy()});` +
    `s.on('error',(e)=>{console.log(e.code==='ECONNREFUSED'?'refused':e.code==='ECONNRESET'?'answered':'error '+e.code)});` +
    `setTimeout(()=>{console.log('timeout');process.exit(0)},5000).unref()`;
  const r = ns.run(process.execPath, ['-e', script]);
  return r.stdout.trim().split('\n')[0] ?? `nothing (${r.stderr})`;
}

test('sshd on 2201 + a port trap on 22: the scanner is banned on every port, the guesser on 2201, the host never', { timeout: 300000 }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pc-trap-'));
  const live: { ns?: Netns; rsyslog?: Rsyslog; sshd?: Sshd; server?: NsServer } = {};
  t.after(async () => {
    live.server?.kill();
    await live.sshd?.stop();
    await live.rsyslog?.stop();
    live.ns?.remove();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const ns = (live.ns = createNetns('trap'));
  const rsyslog = (live.rsyslog = await startRsyslogd(ns, dir));
  const sshd = (live.sshd = await startSshd(ns, dir, rsyslog, { port: 2201 }));
  const login = async (src: string, password: string, expect: SshOutcome, why: string): Promise<void> => {
    const a = await sshLogin(ns, sshd, src, password);
    assert.equal(a.outcome, expect, `${why}: ssh from ${src} (exit ${String(a.status)}):\n${a.stderr}`);
  };
  assert.equal(touch(ns, HOST, 22), 'refused', 'nothing listens on 22 before the server starts');

  writeTree(dir, rsyslog.authLog);
  const server = (live.server = await startServerInNetns(ns, dir));
  assert.equal(server.client(['get', 'porttrap', 'porttrap']).stdout.trim(), "['22']", 'get JAIL porttrap');

  // The host touches the trap: accepted and reset, ignored by ignoreself, never banned.
  for (let i = 0; i < 4; i++) assert.equal(touch(ns, HOST, 22), 'answered', `host touch ${i + 1}`);
  await waitFor('the host\'s touches seen and ignored', () => (fs.readFileSync(path.join(dir, 'f2b.log'), 'utf8').match(/\[porttrap\] Ignore 127\.0\.0\.1 by ignoreself rule/g)?.length ?? 0) === 4);

  // The scanner: two touches are counted, the third bans it on every port.
  for (let i = 1; i <= 3; i++) {
    assert.equal(touch(ns, SCANNER, 22), 'answered', `scanner touch ${i} reaches the trap`);
    await waitFor(`${i} trap failures counted`, () => Number(stat(server, 'porttrap', 'Total failed')) >= i);
    if (i < 3) assert.equal(stat(server, 'porttrap', 'Currently banned'), '0', `no ban after ${i} touches`);
  }
  await waitFor(`${SCANNER} in addr-set-porttrap`, () => setOf(ns, 'addr-set-porttrap').includes(SCANNER));
  assert.deepEqual(setOf(ns, 'addr-set-porttrap'), [SCANNER]);
  assert.equal(stat(server, 'porttrap', 'Banned IP list'), SCANNER);
  const chain = ns.run('nft', ['list', 'chain', 'inet', 'f2b-table', 'f2b-chain']).stdout;
  assert.match(chain, /ip saddr @addr-set-porttrap reject/, chain);
  assert.doesNotMatch(chain, /dport[^\n]*@addr-set-porttrap/, `the trap's ban covers every port:\n${chain}`);
  const ban = server.client(['get', 'porttrap', 'banip', '--with-time']).stdout;
  assert.match(ban, /127\.0\.0\.3 \t[^+]*\+ 604800 = /, `a week's ban: ${ban}`);
  await login(SCANNER, 'wrong', 'refused', 'the banned scanner is refused on 2201 too');
  assert.equal(touch(ns, SCANNER, 22), 'refused', 'and its packets to the trap are rejected');
  assert.equal(touch(ns, HOST, 22), 'answered', 'while the trap still answers the host');

  // The password guesser on 2201: banned by the sshd jail, on 2201 only.
  for (let i = 1; i <= 3; i++) await login(GUESSER, 'wrong', 'denied', `guess ${i} reaches authentication`);
  await waitFor(`${GUESSER} in addr-set-sshd`, () => setOf(ns, 'addr-set-sshd').includes(GUESSER));
  await login(GUESSER, 'wrong', 'refused', 'the guesser is refused on 2201');
  assert.equal(touch(ns, GUESSER, 22), 'answered', 'the sshd ban is on 2201 only (the trap still answers it)');
  await login(HOST, sshd.password, 'accepted', 'the host still logs in on 2201');
  assert.deepEqual(setOf(ns, 'addr-set-sshd'), [GUESSER]);

  const s = server.client(['stop']);
  assert.equal(s.status, 0, s.stderr);
  assert.ok(await server.waitExit(30000), 'the server did not exit after stop');
  assert.equal(ns.run('nft', ['list', 'ruleset']).stdout.trim(), '', 'stop leaves no rule behind');
  assert.equal(touch(ns, HOST, 22), 'refused', 'stop closes the trap');
  const log = fs.readFileSync(path.join(dir, 'f2b.log'), 'utf8');
  assert.match(log, /\[porttrap\] port trap listening on 22/, log);
  assert.match(log, /\[porttrap\] Found 127\.0\.0\.3 /, log);
  assert.doesNotMatch(log, /\bERROR\b|CRITICAL/, log);
});
