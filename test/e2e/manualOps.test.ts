/**
 * Scenario 10, what admins do by hand: a real sshd in a private network namespace logging through
 * a real rsyslogd, portcullis' server with Debian's jail.conf, the STOCK `sshd` jail and the STOCK
 * `postfix-sasl` jail (so `status` lists two), both with the STOCK nftables-multiport action, driven
 * with Debian's own /usr/bin/fail2ban-client. Every answer is compared with the text Debian's
 * client prints for fail2ban 1.0.2 (and our client must print the same):
 * `status`, `status sshd` (all six fields), `set sshd unbanip` (removed from the set, the
 * connection works again), `set JAIL banip` by hand, `unban IP`, `unban --all`; then a restart
 * (`stop`, a new server on the same database): every ban, the manual ones included, is back in
 * `status`, in the nft sets, refused by the kernel, and logged as `Restore Ban`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createNetns, type Netns } from '../helpers/netns.js';
import { needOracle } from '../helpers/oracle.js';
import { waitFor } from '../helpers/servers.js';
import { sshLogin, startRsyslogd, startSshd, type Rsyslog, type Sshd, type SshOutcome } from '../helpers/sshd.js';
import { ATTACKER, HOST, setElements, startInNetns, stockTree, type ScenarioServer } from '../helpers/scenario.js';

const OTHER = '127.0.0.3';
const DOC = '192.0.2.50';

const jailLocal = (authLog: string, mailLog: string): string => `[DEFAULT]
banaction = nftables-multiport
banaction_allports = nftables-allports

[sshd]
enabled = true
port = 2222
maxretry = 3
findtime = 10m
bantime = 1h
backend = auto
logpath = ${authLog}

[postfix-sasl]
enabled = true
logpath = ${mailLog}
`;

/** `status JAIL` exactly as Debian's fail2ban-client prints it for a file-based jail. */
function jailStatus(jail: string, failed: [number, number], file: string, banned: [number, number], list: readonly string[]): string {
  return [
    `Status for the jail: ${jail}`,
    '|- Filter',
    `|  |- Currently failed:\t${failed[0]}`,
    `|  |- Total failed:\t${failed[1]}`,
    `|  \`- File list:\t${file}`,
    '`- Actions',
    `   |- Currently banned:\t${banned[0]}`,
    `   |- Total banned:\t${banned[1]}`,
    `   \`- Banned IP list:\t${list.join(' ')}`,
    '',
  ].join('\n');
}

test('manual operations with Debian\'s fail2ban-client: status, unbanip, banip, unban, unban --all, bans kept across a restart', { timeout: 240000 }, async (t) => {
  if (!needOracle(t, 'fail2ban-client')) return;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pc-manual-'));
  const live: { ns?: Netns; rsyslog?: Rsyslog; sshd?: Sshd; servers: ScenarioServer[] } = { servers: [] };
  t.after(async () => {
    for (const s of live.servers) s.kill();
    await live.sshd?.stop();
    await live.rsyslog?.stop();
    live.ns?.remove();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const ns = (live.ns = createNetns('manual'));
  const rsyslog = (live.rsyslog = await startRsyslogd(ns, dir));
  const sshd = (live.sshd = await startSshd(ns, dir, rsyslog));
  const conf = path.join(dir, 'f2b');
  const mailLog = path.join(dir, 'mail.log');
  fs.writeFileSync(mailLog, '');
  stockTree(conf, jailLocal(rsyslog.authLog, mailLog));
  let server = await startInNetns('ours', ns, conf);
  live.servers.push(server);
  const login = async (src: string, password: string, expect: SshOutcome, why: string): Promise<void> => {
    const a = await sshLogin(ns, sshd, src, password);
    assert.equal(a.outcome, expect, `${why}: ssh from ${src} (exit ${String(a.status)}):\n${a.stderr}`);
  };
  /** Debian's client prints `want`; ours prints the same. */
  const answer = (args: readonly string[], want: string): void => {
    assert.equal(server.ok(args), want, `Debian's fail2ban-client ${args.join(' ')}`);
    if (args[0] === 'status' || args[0] === 'get') assert.equal(server.ok(args, 'ours'), want, `our fail2ban-client ${args.join(' ')}`);
  };
  const sshdStatus = (failed: [number, number], banned: [number, number], list: readonly string[]): void =>
    answer(['status', 'sshd'], jailStatus('sshd', failed, rsyslog.authLog, banned, list));
  const failUntilBanned = async (): Promise<void> => {
    for (let i = 1; i <= 3; i++) await login(ATTACKER, 'wrong', 'denied', `attacker failure ${i} reaches authentication`);
    await waitFor(`${ATTACKER} in addr-set-sshd`, () => setElements(ns, 'sshd').includes(ATTACKER));
  };

  answer(['status'], 'Status\n|- Number of jail:\t2\n`- Jail list:\tpostfix-sasl, sshd\n');
  sshdStatus([0, 0], [0, 0], []);
  answer(['status', 'postfix-sasl'], jailStatus('postfix-sasl', [0, 0], mailLog, [0, 0], []));

  // Banned by its failures; the host's failure is ignored (ignoreself).
  await login(HOST, 'wrong', 'denied', 'the host fails once');
  await failUntilBanned();
  sshdStatus([0, 3], [1, 1], [ATTACKER]);
  await login(ATTACKER, sshd.password, 'refused', 'the banned attacker is refused');
  await login(HOST, sshd.password, 'accepted', 'the host logs in');

  // unbanip: out of the set, the connection works again.
  answer(['set', 'sshd', 'unbanip', ATTACKER], '1\n');
  answer(['set', 'sshd', 'unbanip', ATTACKER], '0\n');
  assert.deepEqual(setElements(ns, 'sshd'), []);
  await login(ATTACKER, sshd.password, 'accepted', 'after unbanip the attacker connects (right password)');
  sshdStatus([0, 3], [0, 1], []);

  // banip by hand in two jails, unban IP takes it out of both.
  answer(['set', 'sshd', 'banip', OTHER], '1\n');
  answer(['set', 'postfix-sasl', 'banip', OTHER], '1\n');
  assert.deepEqual([setElements(ns, 'sshd'), setElements(ns, 'postfix-sasl')], [[OTHER], [OTHER]]);
  await login(OTHER, sshd.password, 'refused', 'banned by hand: refused');
  sshdStatus([0, 3], [1, 2], [OTHER]);
  answer(['unban', OTHER], '2\n'); // one per jail
  answer(['unban', DOC], '0\n');
  assert.deepEqual([setElements(ns, 'sshd'), setElements(ns, 'postfix-sasl')], [[], []]);
  await login(OTHER, sshd.password, 'accepted', 'after unban the address connects');

  // unban --all.
  answer(['set', 'sshd', 'banip', ATTACKER, OTHER], '2\n');
  assert.deepEqual(setElements(ns, 'sshd'), [ATTACKER, OTHER]);
  answer(['unban', '--all'], '2\n');
  assert.deepEqual(setElements(ns, 'sshd'), []);
  sshdStatus([0, 3], [0, 4], []);
  await login(ATTACKER, sshd.password, 'accepted', 'after unban --all the attacker connects');

  // The state kept across the restart: a ban by failures and two by hand.
  await failUntilBanned();
  answer(['set', 'sshd', 'banip', OTHER], '1\n');
  answer(['set', 'postfix-sasl', 'banip', DOC], '1\n');
  sshdStatus([0, 6], [2, 6], [ATTACKER, OTHER]);
  const before = { sshd: setElements(ns, 'sshd'), sasl: setElements(ns, 'postfix-sasl') };
  assert.deepEqual(before, { sshd: [ATTACKER, OTHER], sasl: [DOC] });

  answer(['stop'], 'Shutdown successful\n');
  assert.ok(await server.stop(), 'the server did not exit after stop');
  assert.equal(server.exitCode(), 0);
  assert.equal(ns.run('nft', ['list', 'ruleset']).stdout.trim(), '', 'stop leaves no rule behind');
  server = await startInNetns('ours', ns, conf);
  live.servers.push(server);
  await waitFor('every ban back in the sets', () => setElements(ns, 'sshd').length === 2 && setElements(ns, 'postfix-sasl').length === 1);
  assert.deepEqual({ sshd: setElements(ns, 'sshd'), sasl: setElements(ns, 'postfix-sasl') }, before);
  // The list's order after a restore is not defined (fail2ban restores in another thread): sorted.
  const st = server.ok(['status', 'sshd']).replace(/(Banned IP list:\t)(.*)\n/, (_, head: string, ips: string) => `${head}${ips.split(' ').sort().join(' ')}\n`);
  assert.equal(st, jailStatus('sshd', [0, 0], rsyslog.authLog, [2, 2], [ATTACKER, OTHER]), 'after the restart: old lines not read again, the restored bans are the total (as in fail2ban)');
  answer(['status', 'postfix-sasl'], jailStatus('postfix-sasl', [0, 0], mailLog, [1, 1], [DOC]));
  assert.equal(server.ok(['get', 'sshd', 'banip']).trim().split(' ').sort().join(' '), `${ATTACKER} ${OTHER}`);
  await login(ATTACKER, sshd.password, 'refused', 'after the restart the attacker is still refused');
  await login(OTHER, sshd.password, 'refused', 'after the restart the address banned by hand is still refused');
  await login(HOST, sshd.password, 'accepted', 'the host logs in');
  const log = fs.readFileSync(path.join(conf, 'f2b.log'), 'utf8');
  const restored = [...log.matchAll(/NOTICE {2}\[(\S+)\] Restore Ban (\S+)$/gm)].map((m) => `${m[1] ?? ''} ${m[2] ?? ''}`).sort();
  assert.deepEqual(restored, [`postfix-sasl ${DOC}`, `sshd ${ATTACKER}`, `sshd ${OTHER}`], log);

  assert.ok(await server.stop(), 'the second server did not exit after stop');
  assert.equal(ns.run('nft', ['list', 'ruleset']).stdout.trim(), '');
  assert.doesNotMatch(fs.readFileSync(path.join(conf, 'f2b.log'), 'utf8'), /\bERROR\b|CRITICAL/);
});
