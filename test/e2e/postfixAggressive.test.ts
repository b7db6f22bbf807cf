/**
 * Scenario 3, Postfix in `mode = aggressive` with an admin's extra regex: a real Postfix in a
 * private network namespace logs through a real rsyslogd into mail.log; portcullis' server runs
 * Debian's jail.conf with the STOCK `postfix` jail set to `mode = aggressive` in jail.local, and
 * the admin's `filter.d/postfix.local` adds `mdre-ddos2` (clients without reverse DNS whose
 * session ends with failed or missing commands, `disconnect from unknown[IP] … commands=N/M`) to
 * the aggressive mode, with the stock `nftables-multiport` action.
 *
 * The scanner 127.0.0.2 connects, reads the greeting and hangs up without a command (Postfix logs
 * `lost connection after CONNECT`, caught by the stock ddos prefix, and `disconnect … commands=0/0`,
 * caught only by the admin's regex): banned on 25 and 587. The host 127.0.0.1 sends mail and
 * authenticates more often than maxretry with ignoreself OFF and is never banned: its sessions
 * end `commands=5`, no failure. Debian's fail2ban-regex (and ours) count the same failures as the
 * jail on the produced log, and the stock filter alone counts exactly the admin's lines fewer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createNetns, startServerInNetns, type Netns, type NsServer } from '../helpers/netns.js';
import { waitFor } from '../helpers/servers.js';
import * as mail from '../helpers/mailstack.js';

const SCANNER = '127.0.0.2';
const HOST = '127.0.0.1';
const MAXRETRY = 6;

/** The admin's addition: a prefix for every `disconnect from`, and the regex for what follows. */
const POSTFIX_LOCAL = `[Definition]
mdpr-ddos2 = disconnect from
mdre-ddos2 = ^unknown\\[<HOST>\\]%(_port)s.+commands=\\d+/\\d+$
mdpr-aggressive = (?:%(mdpr-auth)s|%(mdpr-normal)s|%(mdpr-ddos)s|%(mdpr-ddos2)s)
mdre-aggressive = %(mdre-auth2)s
                  %(mdre-normal)s
                  %(mdre-ddos2)s
`;

const jailLocal = (mailLog: string): string => `[DEFAULT]
banaction = nftables-multiport
banaction_allports = nftables-allports
ignoreself = false

[postfix]
enabled = true
mode = aggressive
maxretry = ${MAXRETRY}
findtime = 10m
bantime = 1h
logpath = ${mailLog}
`;

function stat(server: NsServer, field: string): string {
  const r = server.client(['status', 'postfix']);
  assert.equal(r.status, 0, `status postfix: ${r.stderr}`);
  return new RegExp(`${field}:\\t([^\\n]*)`).exec(r.stdout)?.[1] ?? `(no "${field}" in ${r.stdout})`;
}

test('postfix aggressive + the admin\'s mdre-ddos2: a connect-and-hang-up scanner is banned, a sender is not', { timeout: 240000 }, async (t) => {
  const missing = mail.mailPackagesMissing();
  if (missing.length > 0) return t.skip(`Debian packages missing: ${missing.join(' ')}`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pc-postfix-aggr-'));
  const conf = path.join(dir, 'f2b');
  const live: { ns?: Netns; stack?: mail.MailStack; server?: NsServer } = {};
  t.after(async () => {
    live.server?.kill();
    await live.stack?.stop();
    live.ns?.remove();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const ns = (live.ns = createNetns('postfix'));
  const stack = (live.stack = await mail.startMailStack(ns, dir));
  fs.mkdirSync(conf);
  mail.writeF2bTree(conf, jailLocal(stack.mailLog), { 'postfix.local': POSTFIX_LOCAL });
  const server = (live.server = await startServerInNetns(ns, conf));
  const send = async (why: string): Promise<void> => {
    const a = await mail.smtpSend(ns, HOST, 25);
    assert.equal(a.outcome, 'accepted', `${why}:\n${a.transcript}`);
  };
  const scan = (port: number): Promise<mail.LineSession> => mail.lineSession(ns, SCANNER, port, [{ until: '^220 ' }]);

  // The host: more normal sessions than maxretry, mail and a correct AUTH, before the scanner.
  for (let i = 0; i < MAXRETRY + 1; i++) await send(`host mail ${i + 1}`);
  const auth = await mail.smtpAuth(ns, HOST, 587, stack, 'PLAIN', stack.password);
  assert.equal(auth.outcome, 'accepted', auth.transcript);
  // every host session logged its end (what the jail reads; delivery itself is postfix's queue's business)
  await waitFor('the host\'s sessions logged', () => (fs.readFileSync(stack.mailLog, 'utf8').match(/disconnect from unknown\[127\.0\.0\.1\]/g)?.length ?? 0) >= MAXRETRY + 2, 60000);

  // The scanner: each hang-up is two failures (lost connection…, disconnect … commands=0/0).
  for (let i = 1; i <= MAXRETRY / 2; i++) {
    const s = await scan(i % 2 === 0 ? 587 : 25);
    assert.equal(s.outcome, 'done', `scan ${i} gets the greeting: ${JSON.stringify(s)}`);
    await waitFor(`${2 * i} failures counted`, () => Number(stat(server, 'Total failed')) >= 2 * i);
    if (i < MAXRETRY / 2) assert.deepEqual(mail.nftBanned(ns, 'postfix'), [], `no ban after ${i} scans`);
  }
  await waitFor(`${SCANNER} in addr-set-postfix`, () => mail.nftBanned(ns, 'postfix').includes(SCANNER));
  assert.deepEqual(mail.nftBanned(ns, 'postfix'), [SCANNER]);
  assert.equal(stat(server, 'Total failed'), String(MAXRETRY), 'the host\'s sessions are no failures');
  assert.equal(stat(server, 'Banned IP list'), SCANNER);
  for (const port of [25, 587]) assert.equal((await scan(port)).outcome, 'refused', `the scanner is refused on ${port}`);
  await send('the host still sends mail');

  const log = fs.readFileSync(stack.mailLog, 'utf8');
  const zero = log.match(/ disconnect from unknown\[127\.0\.0\.2\] commands=0\/0$/gm)?.length ?? 0;
  assert.equal(zero, MAXRETRY / 2, `one commands=0/0 line per scan:\n${log}`);
  const withLocal = mail.regexCounts(conf, stack.mailLog, 'postfix[mode=aggressive]');
  assert.deepEqual([withLocal.real, withLocal.ours], [MAXRETRY, MAXRETRY], withLocal.report);
  const stock = mail.regexCounts(conf, stack.mailLog, '/etc/fail2ban/filter.d/postfix.conf[mode=aggressive]');
  assert.deepEqual([stock.real, stock.ours], [MAXRETRY - zero, MAXRETRY - zero], `the stock filter alone misses the commands=0/0 lines:\n${stock.report}`);

  const s = server.client(['stop']);
  assert.equal(s.status, 0, s.stderr);
  assert.ok(await server.waitExit(30000), 'the server did not exit after stop');
  assert.equal(ns.run('nft', ['list', 'ruleset']).stdout.trim(), '', 'stop leaves no rule behind');
  assert.doesNotMatch(fs.readFileSync(path.join(conf, 'f2b.log'), 'utf8'), /\bERROR\b|CRITICAL/);
});
