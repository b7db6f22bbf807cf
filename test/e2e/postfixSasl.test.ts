/**
 * Scenario 2, Postfix SMTP AUTH brute force: a real Postfix (smtp 25, submission 587, SASL through
 * a real Dovecot's auth socket) in a private network namespace logs through a real rsyslogd into
 * a traditional mail.log; portcullis' server in the same namespace runs Debian's jail.conf with
 * the STOCK `postfix-sasl` jail (filter `postfix[mode=auth]`) and the admins' own variant: a
 * filter `filter.d/postfix-auth0.local` catching `disconnect from …[IP] … auth=0/N` (a session
 * that tried AUTH and never succeeded), both with the stock `nftables-multiport` action.
 *
 * The attacker 127.0.0.2 fails AUTH PLAIN and LOGIN on 25 and 587 (swaks) and is refused on both
 * ports after maxretry; the host 127.0.0.1 authenticates and sends mail before and after the ban
 * and stays allowed. ignoreself is OFF: the host is not banned because its lines do not match
 * (proved by behaviour and by the counters), not because it is on the ignore list.
 * Each jail's `Total failed` equals Debian's fail2ban-regex (and ours) on the produced mail.log.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createNetns, startServerInNetns, type Netns, type NsServer } from '../helpers/netns.js';
import { waitFor } from '../helpers/servers.js';
import * as mail from '../helpers/mailstack.js';

const ATTACKER = '127.0.0.2';
const HOST = '127.0.0.1';

const OWN_FILTER = `# The admins' own: a session that tried SMTP AUTH and never succeeded.
[INCLUDES]
before = common.conf

[Definition]
_daemon = postfix(-\\w+)?/\\w+(?:/smtp[ds])?
failregex = ^%(__prefix_line)sdisconnect from [^[]*\\[<HOST>\\](?::\\d+)?(?: \\S+=\\S+)* auth=0/\\d+
ignoreregex =
`;

const jailLocal = (mailLog: string): string => `[DEFAULT]
banaction = nftables-multiport
banaction_allports = nftables-allports
ignoreself = false
findtime = 10m
bantime = 1h

[postfix-sasl]
enabled = true
maxretry = 3
logpath = ${mailLog}

[postfix-auth0]
enabled = true
filter = postfix-auth0
port = smtp,submission,465
maxretry = 3
logpath = ${mailLog}
`;

function stat(server: NsServer, jail: string, field: string): string {
  const r = server.client(['status', jail]);
  assert.equal(r.status, 0, `status ${jail}: ${r.stderr}`);
  return new RegExp(`${field}:\\t([^\\n]*)`).exec(r.stdout)?.[1] ?? `(no "${field}" in ${r.stdout})`;
}

test('postfix SASL brute force: stock postfix-sasl and the admins\' auth=0/N filter ban on 25/587, the host keeps sending', { timeout: 240000 }, async (t) => {
  const missing = mail.mailPackagesMissing();
  if (missing.length > 0) return t.skip(`Debian packages missing: ${missing.join(' ')}`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pc-postfix-sasl-'));
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
  const ruleset = (): string => ns.run('nft', ['list', 'ruleset']).stdout.trim();
  assert.equal(ruleset(), '', 'a fresh namespace has an empty ruleset');
  const expect = async (what: Promise<mail.MailAttempt>, outcome: mail.MailOutcome, why: string): Promise<void> => {
    const a = await what;
    assert.equal(a.outcome, outcome, `${why}:\n${a.transcript}`);
  };
  const hostIsFine = async (when: string): Promise<void> => {
    await expect(mail.smtpAuth(ns, HOST, 587, stack, 'PLAIN', stack.password), 'accepted', `host AUTH PLAIN on 587 ${when}`);
    await expect(mail.smtpAuth(ns, HOST, 25, stack, 'LOGIN', stack.password), 'accepted', `host AUTH LOGIN on 25 ${when}`);
    await expect(mail.smtpSend(ns, HOST, 25), 'accepted', `host sends a mail on 25 ${when}`);
  };

  fs.mkdirSync(conf);
  mail.writeF2bTree(conf, jailLocal(stack.mailLog), { 'postfix-auth0.local': OWN_FILTER });
  const server = (live.server = await startServerInNetns(ns, conf));
  await hostIsFine('before any failure');

  const attempts: [number, 'PLAIN' | 'LOGIN'][] = [[25, 'PLAIN'], [587, 'LOGIN'], [25, 'LOGIN']];
  for (const [i, [port, mech]] of attempts.entries()) {
    await expect(mail.smtpAuth(ns, ATTACKER, port, stack, mech, 'wrong'), 'denied', `attacker failure ${i + 1} (AUTH ${mech} on ${port}) reaches authentication`);
    await waitFor(`${i + 1} failures counted by both jails`, () => Number(stat(server, 'postfix-sasl', 'Total failed')) >= i + 1 && Number(stat(server, 'postfix-auth0', 'Total failed')) >= i + 1);
    if (i < 2) assert.deepEqual([mail.nftBanned(ns, 'postfix-sasl'), mail.nftBanned(ns, 'postfix-auth0')], [[], []], `no ban after ${i + 1} failures`);
    if (i === 0) await hostIsFine('between the attacker\'s failures');
  }
  await waitFor(`${ATTACKER} in both sets`, () => mail.nftBanned(ns, 'postfix-sasl').includes(ATTACKER) && mail.nftBanned(ns, 'postfix-auth0').includes(ATTACKER));
  for (const jail of ['postfix-sasl', 'postfix-auth0']) {
    assert.deepEqual(mail.nftBanned(ns, jail), [ATTACKER], jail);
    assert.equal(stat(server, jail, 'Total failed'), '3', `${jail}: only the attacker's failures count`);
    assert.equal(stat(server, jail, 'Banned IP list'), ATTACKER, jail);
  }
  const chain = ns.run('nft', ['list', 'chain', 'inet', 'f2b-table', 'f2b-chain']).stdout;
  const rule = (jail: string): string => new RegExp(`tcp dport \\{([^}]*)\\} ip saddr @addr-set-${jail} reject`).exec(chain)?.[1] ?? `(no rule for ${jail} in ${chain})`;
  for (const jail of ['postfix-sasl', 'postfix-auth0']) {
    const ports = rule(jail).split(',').map((p) => p.trim());
    for (const p of ['25', '465', '587']) assert.ok(ports.includes(p) || ports.includes({ 25: 'smtp', 465: 'submissions', 587: 'submission' }[p] ?? p), `${jail} rule covers port ${p}: ${chain}`);
  }

  // swaks reports a refused connect vaguely ("Operation already in progress"): the line client says ECONNREFUSED.
  for (const port of [25, 587]) {
    const greeting = await mail.lineSession(ns, ATTACKER, port, [{ until: '^220 ' }]);
    assert.equal(greeting.outcome, 'refused', `the banned attacker is refused on ${port}: ${JSON.stringify(greeting)}`);
    const good = await mail.lineSession(ns, HOST, port, [{ until: '^220 ' }, { send: 'QUIT', until: '^221 ' }]);
    assert.equal(good.outcome, 'done', `the host still gets the greeting on ${port}: ${JSON.stringify(good)}`);
  }
  await expect(mail.smtpAuth(ns, ATTACKER, 587, stack, 'PLAIN', stack.password), 'other', 'the banned attacker cannot even try the right password');
  await hostIsFine('after the ban');
  assert.equal(stat(server, 'postfix-sasl', 'Currently banned'), '1');

  // The cheap oracle: the filters over the log produced, by Debian's fail2ban-regex and ours.
  const sasl = mail.regexCounts(conf, stack.mailLog, 'postfix[mode=auth]');
  assert.deepEqual([sasl.real, sasl.ours], [3, 3], sasl.report);
  const own = mail.regexCounts(conf, stack.mailLog, 'postfix-auth0');
  assert.deepEqual([own.real, own.ours], [3, 3], own.report);
  const log = fs.readFileSync(stack.mailLog, 'utf8');
  assert.equal(log.match(/ disconnect from unknown\[127\.0\.0\.1\] /g)?.length, 11, `the host's eleven sessions are in the log:\n${log}`);

  const s = server.client(['stop']);
  assert.equal(s.status, 0, s.stderr);
  assert.ok(await server.waitExit(30000), 'the server did not exit after stop');
  assert.equal(ruleset(), '', 'stop leaves no rule behind');
  assert.doesNotMatch(fs.readFileSync(path.join(conf, 'f2b.log'), 'utf8'), /\bERROR\b|CRITICAL/);
});
