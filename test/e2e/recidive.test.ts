/**
 * Scenario 9, repeat offenders: a real sshd (Debian's openssh-server) in a private network
 * namespace logs through a real rsyslogd; portcullis' server runs Debian's jail.conf with the
 * STOCK `sshd` jail (short bans: bantime 3 s, maxretry 2, stock nftables-multiport on 2222) and
 * the STOCK `recidive` jail (Debian's filter.d/recidive.conf reading portcullis' own log, the
 * logtarget of fail2ban.local; banaction_allports = nftables-allports, bantime 1w, findtime 1d)
 * with maxretry 3.
 *
 * The attacker 127.0.0.2 is banned by sshd, the ban expires, it comes back, … and after the third
 * sshd ban recidive bans it on every port for 604800 s: in addr-set-recidive, `get recidive banip
 * --with-time`, and ssh refused after the sshd ban has expired. The host 127.0.0.1 fails as often
 * and is never banned (ignoreself). Debian's fail2ban-regex with the stock recidive filter finds
 * in our log exactly the Ban lines our recidive jail counted.
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
import { ATTACKER, HOST, realRegexCount, setElements, startInNetns, statusFields, stockTree, type ScenarioServer } from '../helpers/scenario.js';

const jailLocal = (dir: string, authLog: string): string => `[DEFAULT]
banaction = nftables-multiport
banaction_allports = nftables-allports

[sshd]
enabled = true
port = 2222
maxretry = 2
findtime = 10m
bantime = 3
backend = auto
logpath = ${authLog}

[recidive]
enabled = true
logpath = ${dir}/f2b.log
maxretry = 3
`;

test('recidive: banned by sshd three times, then by the stock recidive jail on every port for a week', { timeout: 240000 }, async (t) => {
  if (!needOracle(t, 'fail2ban-regex')) return;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pc-recidive-'));
  const live: { ns?: Netns; rsyslog?: Rsyslog; sshd?: Sshd; server?: ScenarioServer } = {};
  t.after(async () => {
    live.server?.kill();
    await live.sshd?.stop();
    await live.rsyslog?.stop();
    live.ns?.remove();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const ns = (live.ns = createNetns('recidive'));
  const rsyslog = (live.rsyslog = await startRsyslogd(ns, dir));
  const sshd = (live.sshd = await startSshd(ns, dir, rsyslog));
  const conf = path.join(dir, 'f2b');
  stockTree(conf, jailLocal(conf, rsyslog.authLog));
  // As on a Debian host (/var/log/fail2ban.log exists): the jail is configured before the server opens its log.
  fs.writeFileSync(path.join(conf, 'f2b.log'), '');
  const server = (live.server = await startInNetns('ours', ns, conf));
  const login = async (src: string, password: string, expect: SshOutcome, why: string): Promise<void> => {
    const a = await sshLogin(ns, sshd, src, password);
    assert.equal(a.outcome, expect, `${why}: ssh from ${src} (exit ${String(a.status)}):\n${a.stderr}`);
  };
  const field = (jail: string, f: string): string => statusFields(server.ok(['status', jail]))[f] ?? '(none)';
  const hostNeverBanned = (): void => assert.deepEqual([setElements(ns, 'sshd'), setElements(ns, 'recidive')].flat().filter((ip) => ip === HOST), []);

  for (let round = 1; round <= 3; round++) {
    await login(HOST, 'wrong', 'denied', `round ${round}: the host fails (ignoreself)`);
    await login(ATTACKER, 'wrong', 'denied', `round ${round}: first failure reaches authentication`);
    await login(ATTACKER, 'wrong', 'denied', `round ${round}: second failure reaches authentication`);
    await waitFor(`round ${round}: ${ATTACKER} in addr-set-sshd`, () => setElements(ns, 'sshd').includes(ATTACKER));
    await waitFor(`round ${round}: recidive counted ${round} sshd bans`, () => field('recidive', 'Total failed') === String(round));
    hostNeverBanned();
    if (round < 3) {
      assert.deepEqual(setElements(ns, 'recidive'), [], `round ${round}: no recidive ban yet`);
      await waitFor(`round ${round}: the 3 s sshd ban expired`, () => !setElements(ns, 'sshd').includes(ATTACKER));
      assert.equal(field('sshd', 'Currently banned'), '0');
    }
  }
  await waitFor(`${ATTACKER} in addr-set-recidive`, () => setElements(ns, 'recidive').includes(ATTACKER));
  assert.deepEqual(setElements(ns, 'recidive'), [ATTACKER]);
  assert.equal(field('recidive', 'Banned IP list'), ATTACKER);
  assert.equal(field('sshd', 'Total banned'), '3');
  const withTime = server.ok(['get', 'recidive', 'banip', '--with-time']);
  assert.match(withTime, /^127\.0\.0\.2 \t\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+ 604800 = \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\n$/, withTime);
  assert.equal(server.ok(['get', 'recidive', 'bantime']), '604800\n');
  const chain = ns.run('nft', ['list', 'chain', 'inet', 'f2b-table', 'f2b-chain']).stdout;
  const rule = chain.split('\n').filter((l) => l.includes('@addr-set-recidive'));
  assert.equal(rule.length, 1, chain);
  assert.match(rule[0] ?? '', /ip saddr @addr-set-recidive reject\b/, chain);
  assert.doesNotMatch(rule[0] ?? '', /dport/, `allports: no port in recidive's rule\n${chain}`);

  // The sshd ban expires; recidive's stays: ssh is still refused, the host still logs in.
  await waitFor('the third sshd ban expired', () => !setElements(ns, 'sshd').includes(ATTACKER));
  await login(ATTACKER, 'wrong', 'refused', 'after the sshd ban expired the attacker is refused (recidive)');
  await login(HOST, sshd.password, 'accepted', 'the host still logs in');
  hostNeverBanned();

  // The Ban lines in our log are what Debian's stock recidive filter matches: as many as recidive counted.
  const log = fs.readFileSync(path.join(conf, 'f2b.log'), 'utf8');
  assert.equal(log.match(/NOTICE {2}\[sshd\] Ban 127\.0\.0\.2$/gm)?.length, 3, log);
  assert.match(log, /NOTICE {2}\[recidive\] Ban 127\.0\.0\.2$/m, log);
  assert.doesNotMatch(log, /Ban 127\.0\.0\.1/, log);
  const regex = realRegexCount(conf, path.join(conf, 'f2b.log'), 'recidive');
  assert.equal(regex.count, Number(field('recidive', 'Total failed')), regex.report);
  assert.equal(regex.count, 3, regex.report);

  assert.ok(await server.stop(), 'the server did not exit after stop');
  assert.equal(server.exitCode(), 0);
  assert.equal(ns.run('nft', ['list', 'ruleset']).stdout.trim(), '', 'stop leaves no rule behind');
  assert.doesNotMatch(fs.readFileSync(path.join(conf, 'f2b.log'), 'utf8'), /\bERROR\b|CRITICAL/);
});
