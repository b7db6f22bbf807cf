/**
 * Scenario 8, Postfix SASL brute force read from the journal: Debian's jail.conf with the STOCK
 * `postfix-sasl` jail (filter `postfix[mode=auth]`, whose journalmatch is
 * `_SYSTEMD_UNIT=postfix.service`) switched to `backend = systemd[journalpath=DIR]` and the STOCK
 * `nftables-multiport` action. There is no journald: the journal file is written by
 * systemd-journal-remote from the export format with what postfix/smtpd logs through journald
 * (`_SYSTEMD_UNIT=postfix.service`, `SYSLOG_IDENTIFIER=postfix/smtpd`, `_PID`, …), plus decoys:
 * the very same SASL failures logged by another unit, which must not count.
 *
 * portcullis (reading through journalctl) runs in one network namespace, Debian's fail2ban-server
 * (python3-systemd) in another, both on the same journal directory. The attacker 127.0.0.2 is
 * banned by both after maxretry, and in ours refused on port 25 (a listener there) while the host
 * and the decoys' address still connect; `status postfix-sasl` (with `Journal matches:`), `status`
 * and `get … journalmatch` printed by Debian's fail2ban-client are byte-identical for both servers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createNetns, type Netns } from '../helpers/netns.js';
import { needOracle } from '../helpers/oracle.js';
import { tempDir, waitFor } from '../helpers/servers.js';
import { ATTACKER, HOST, setElements, startInNetns, statusFields, stockTree, tcpListener, tcpProbe, type ScenarioServer } from '../helpers/scenario.js';

const REMOTE = '/lib/systemd/systemd-journal-remote';
const NO_TOOLS = fs.existsSync(REMOTE) && fs.existsSync('/usr/bin/journalctl') ? false : 'systemd-journal-remote / journalctl not installed (apt-get install systemd-journal-remote)';
const DECOY = '127.0.0.3';
const JAIL = 'postfix-sasl';
const BOOT = '8d1c7e5a9b2f40c6a1e3d5f7092b4c6e';

const jailLocal = (journal: string): string => `[DEFAULT]
banaction = nftables-multiport
banaction_allports = nftables-allports

[${JAIL}]
enabled = true
backend = systemd[journalpath=${journal}]
maxretry = 3
findtime = 10m
bantime = 1h
`;

interface Entry {
  readonly unit: string;
  readonly message: string;
}

let mono = 9_000_000_000;
let pid = 31000;
/** Appends the entries, dated now, to DIR/remote.journal as journald would have stored them for a syslog(3) client. */
function append(journal: string, entries: readonly Entry[]): void {
  const sec = Date.now() * 1000;
  let text = '';
  for (const [i, e] of entries.entries()) {
    mono += 1_000_000;
    text += `__REALTIME_TIMESTAMP=${sec + i}\n__MONOTONIC_TIMESTAMP=${mono}\n_BOOT_ID=${BOOT}\n_HOSTNAME=mail\n_TRANSPORT=syslog\n`;
    text += `_SYSTEMD_UNIT=${e.unit}\n_COMM=smtpd\nSYSLOG_FACILITY=2\nPRIORITY=4\nSYSLOG_IDENTIFIER=postfix/smtpd\n_PID=${pid++}\nMESSAGE=${e.message}\n\n`;
  }
  const r = spawnSync(REMOTE, [`--output=${path.join(journal, 'remote.journal')}`, '-'], { input: text });
  assert.equal(r.status, 0, r.stderr.toString());
}

const sasl = (unit: string, ip: string, mech: string): Entry => ({ unit, message: `warning: unknown[${ip}]: SASL ${mech} authentication failed: UGFzc3dvcmQ6` });
const noise = (ip: string): Entry[] => [
  { unit: 'postfix.service', message: `connect from unknown[${ip}]` },
  { unit: 'postfix.service', message: `disconnect from unknown[${ip}] ehlo=1 auth=0/1 quit=1 commands=2/3` },
];

test('postfix SASL failures in the journal: stock postfix-sasl on backend=systemd bans on 25, other units ignored, status as fail2ban\'s', { skip: NO_TOOLS, timeout: 180000 }, async (t) => {
  if (!needOracle(t, 'fail2ban-server')) return;
  const base = tempDir('pc-jpostfix-');
  const journal = path.join(base, 'journal');
  const live: { ns: Netns[]; servers: ScenarioServer[]; listener?: { stop(): Promise<void> } } = { ns: [], servers: [] };
  t.after(async () => {
    for (const s of live.servers) s.kill();
    await live.listener?.stop();
    for (const n of live.ns) n.remove();
    fs.rmSync(base, { recursive: true, force: true });
  });
  fs.mkdirSync(journal);
  const dirs = { ours: path.join(base, 'ours'), real: path.join(base, 'real') };
  for (const d of Object.values(dirs)) stockTree(d, jailLocal(journal));

  // Already in the journal at start: sessions, the host failing once (ignoreself), two decoys.
  append(journal, [...noise(ATTACKER), sasl('postfix.service', HOST, 'LOGIN'), sasl('decoy.service', DECOY, 'LOGIN'), sasl('decoy.service', DECOY, 'PLAIN')]);
  const ns = createNetns('jpostfix');
  live.ns.push(ns);
  const nsReal = createNetns('jpostfix-real');
  live.ns.push(nsReal);
  live.listener = await tcpListener(ns, 25, base);
  const ours = await startInNetns('ours', ns, dirs.ours);
  live.servers.push(ours);
  const real = await startInNetns('real', nsReal, dirs.real);
  live.servers.push(real);
  const both = [ours, real];
  const field = (s: ScenarioServer, f: string): string => statusFields(s.ok(['status', JAIL]))[f] ?? '(none)';
  const counted = async (n: number): Promise<void> => {
    await waitFor(`${n} failures counted by both`, () => both.every((s) => Number(field(s, 'Total failed')) >= n), 60000);
    assert.deepEqual(both.map((s) => `${s.side}: ${field(s, 'Total failed')}`), [`ours: ${n}`, `real: ${n}`], 'Total failed (the decoys and the host not counted)');
  };

  for (const [i, mech] of ['LOGIN', 'PLAIN', 'LOGIN'].entries()) {
    append(journal, [...noise(ATTACKER), sasl('decoy.service', DECOY, mech), sasl('postfix.service', ATTACKER, mech), ...noise(DECOY)]);
    await counted(i + 1);
    if (i < 2) {
      assert.deepEqual([setElements(ns, JAIL), setElements(nsReal, JAIL)], [[], []], `no ban after ${i + 1} failures`);
      assert.equal(await tcpProbe(ns, ATTACKER, 25), 'connected', `the attacker still connects after ${i + 1} failures`);
    }
  }
  await waitFor(`${ATTACKER} in addr-set-${JAIL} of both namespaces`, () => setElements(ns, JAIL).includes(ATTACKER) && setElements(nsReal, JAIL).includes(ATTACKER));
  assert.deepEqual(setElements(ns, JAIL), [ATTACKER], 'the decoys (another unit) and the host were not banned');
  assert.deepEqual(setElements(nsReal, JAIL), [ATTACKER], 'Debian\'s server agrees');
  const chain = ns.run('nft', ['list', 'chain', 'inet', 'f2b-table', 'f2b-chain']).stdout;
  assert.match(chain, new RegExp(`tcp dport \\{[^}]*\\b(?:25|smtp)\\b[^}]*\\} ip saddr @addr-set-${JAIL} reject`), chain);
  assert.equal(await tcpProbe(ns, ATTACKER, 25), 'refused', 'the banned attacker is refused on 25');
  assert.equal(await tcpProbe(ns, HOST, 25), 'connected', 'the host still connects');
  assert.equal(await tcpProbe(ns, DECOY, 25), 'connected', 'the decoys\' address still connects');

  const want = [
    `Status for the jail: ${JAIL}`,
    '|- Filter',
    '|  |- Currently failed:\t0',
    '|  |- Total failed:\t3',
    '|  `- Journal matches:\t_SYSTEMD_UNIT=postfix.service',
    '`- Actions',
    '   |- Currently banned:\t1',
    '   |- Total banned:\t1',
    `   \`- Banned IP list:\t${ATTACKER}`,
    '',
  ].join('\n');
  assert.equal(real.ok(['status', JAIL]), want, 'Debian\'s client against Debian\'s server (the expectation itself)');
  for (const args of [['status', JAIL], ['status'], ['get', JAIL, 'journalmatch'], ['get', JAIL, 'banip'], ['status', JAIL, 'short']]) {
    const expected = real.ok(args);
    assert.equal(ours.ok(args), expected, `Debian's client: ${args.join(' ')} of ours vs Debian's server`);
    assert.equal(ours.ok(args, 'ours'), expected, `our client: ${args.join(' ')} of ours vs Debian's client on Debian's server`);
  }

  for (const s of both) assert.ok(await s.stop(), `the ${s.side} server did not exit after stop`);
  assert.equal(ours.exitCode(), 0);
  assert.equal(ns.run('nft', ['list', 'ruleset']).stdout.trim(), '', 'stop leaves no rule behind');
  const log = fs.readFileSync(path.join(dirs.ours, 'f2b.log'), 'utf8');
  assert.match(log, new RegExp(`\\[${JAIL}\\] Ignore ${HOST.replace(/\./g, '\\.')} by ignoreself rule`), log);
  assert.doesNotMatch(log, /\bERROR\b|CRITICAL/, log);
});
