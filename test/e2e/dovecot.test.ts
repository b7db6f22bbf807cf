/**
 * Scenario 4, Dovecot IMAP/POP3 login failures: a real Dovecot (IMAP 143, POP3 110, PAM passdb)
 * in a private network namespace logs through a real rsyslogd: its own lines (facility mail) to
 * mail.log, PAM's `pam_unix(dovecot:auth): authentication failure; … rhost=IP` (authpriv) to
 * auth.log. portcullis' server runs Debian's jail.conf with the stock `iptables-multiport` action
 * on `imap,imaps,pop3,pop3s` and, in one test, the STOCK `dovecot` jail on mail.log, in the other
 * an admin's own filter file (`filter.d/dovecot-pam-unix.conf`) on auth.log.
 *
 * 127.0.0.2 fails IMAP LOGIN, 127.0.0.3 fails POP3 USER/PASS: each is banned after its second
 * failure and refused on 143 and 110, while the host 127.0.0.1 logs in with IMAP and POP3 more
 * often than maxretry with ignoreself OFF and is never banned (its lines are no failures). The
 * jail's `Total failed` equals Debian's fail2ban-regex (and ours) on the produced log.
 *
 * Two tests, not one jail pair: PAM writes its line ~2 s before Dovecot answers, so a jail on
 * auth.log bans in the middle of the session; the client's LOGOUT is then rejected and Dovecot
 * would write that session's "auth failed" disconnect (what the stock jail counts) only at its
 * timeout. Each test therefore has one jail whose counts are final when it is checked.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createNetns, startServerInNetns, type Netns, type NsServer } from '../helpers/netns.js';
import { waitFor } from '../helpers/servers.js';
import * as mail from '../helpers/mailstack.js';

const ATTACKERS = [['imap', '127.0.0.2'], ['pop3', '127.0.0.3']] as const;
const HOST = '127.0.0.1';
const EMPTY = '-P INPUT ACCEPT\n-P FORWARD ACCEPT\n-P OUTPUT ACCEPT';

const OWN_FILTER = `# The admin's own: PAM's failures for dovecot in the syslog file.
[Definition]
failregex = pam_unix\\(dovecot:auth\\): authentication failure; .* rhost=<HOST>\\s
ignoreregex =
`;

interface Case {
  readonly jail: string;
  /** The jail's section of jail.local, given the stack's logs. */
  readonly section: (stack: mail.MailStack) => string;
  readonly filters: Readonly<Record<string, string>>;
  /** The filter argument for fail2ban-regex and the log it reads. */
  readonly regex: string;
  readonly log: (stack: mail.MailStack) => string;
  /** Failures written per failed login. */
  readonly perLogin: number;
}

function stat(server: NsServer, jail: string, field: string): string {
  const r = server.client(['status', jail]);
  assert.equal(r.status, 0, `status ${jail}: ${r.stderr}`);
  return new RegExp(`${field}:\\t([^\\n]*)`).exec(r.stdout)?.[1] ?? `(no "${field}" in ${r.stdout})`;
}

async function scenario(t: TestContext, c: Case): Promise<void> {
  const missing = mail.mailPackagesMissing();
  if (missing.length > 0) return t.skip(`Debian packages missing: ${missing.join(' ')}`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pc-dovecot-'));
  const conf = path.join(dir, 'f2b');
  const live: { ns?: Netns; stack?: mail.MailStack; server?: NsServer } = {};
  t.after(async () => {
    live.server?.kill();
    await live.stack?.stop();
    live.ns?.remove();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const ns = (live.ns = createNetns('dovecot'));
  const stack = (live.stack = await mail.startMailStack(ns, dir));
  const rules = (): string => ns.run('iptables', ['-w', '-S']).stdout.trim();
  assert.equal(rules(), EMPTY, 'a fresh namespace has no iptables rule');
  fs.mkdirSync(conf);
  const head = '[DEFAULT]\nbanaction = iptables-multiport\nbanaction_allports = iptables-allports\nignoreself = false\nfindtime = 10m\nbantime = 1h\n\n';
  mail.writeF2bTree(conf, head + c.section(stack), c.filters);
  const server = (live.server = await startServerInNetns(ns, conf));
  const login = async (kind: 'imap' | 'pop3', src: string, password: string, expect: mail.MailOutcome, why: string): Promise<void> => {
    const outcome = await (kind === 'imap' ? mail.imapLogin : mail.pop3Login)(ns, src, stack, password);
    assert.equal(outcome, expect, `${why}: ${kind} from ${src}`);
  };
  const hostIsFine = async (when: string): Promise<void> => {
    for (let i = 0; i < 3; i++) {
      await login('imap', HOST, stack.password, 'accepted', `host IMAP login ${i + 1} ${when}`);
      await login('pop3', HOST, stack.password, 'accepted', `host POP3 login ${i + 1} ${when}`);
    }
  };
  await hostIsFine('before any failure');

  const failed = (): number => Number(stat(server, c.jail, 'Total failed'));
  for (const [n, [kind, src]] of ATTACKERS.entries()) {
    await login(kind, src, 'wrong', 'denied', `${src}'s first failure`);
    await waitFor(`${src}'s first failure counted`, () => failed() >= (2 * n + 1) * c.perLogin);
    assert.ok(!mail.iptablesBanned(ns, c.jail).includes(src), `no ban after one failure of ${src}`);
    await login(kind, src, 'wrong', 'denied', `${src}'s second failure gets its answer`);
    await waitFor(`${src} rejected by f2b-${c.jail}`, () => mail.iptablesBanned(ns, c.jail).includes(src));
  }
  const all = ATTACKERS.map(([, src]) => src);
  assert.deepEqual(mail.iptablesBanned(ns, c.jail).sort(), all);
  assert.match(rules(), new RegExp(`^-A INPUT -p tcp -m multiport --dports 143,993,110,995 -j f2b-${c.jail}$`, 'm'), rules());
  assert.equal(failed(), 4 * c.perLogin, 'the host\'s logins are no failures');
  assert.equal(stat(server, c.jail, 'Banned IP list').split(' ').sort().join(' '), all.join(' '));
  for (const src of all) {
    await login('imap', src, stack.password, 'refused', `banned ${src} is refused on 143`);
    await login('pop3', src, stack.password, 'refused', `banned ${src} is refused on 110`);
  }
  await hostIsFine('after the bans');

  const counts = mail.regexCounts(conf, c.log(stack), c.regex);
  assert.deepEqual([counts.real, counts.ours], [4 * c.perLogin, 4 * c.perLogin], counts.report);
  const s = server.client(['stop']);
  assert.equal(s.status, 0, s.stderr);
  assert.ok(await server.waitExit(30000), 'the server did not exit after stop');
  assert.equal(rules(), EMPTY, 'stop leaves no rule behind');
  assert.doesNotMatch(fs.readFileSync(path.join(conf, 'f2b.log'), 'utf8'), /\bERROR\b|CRITICAL/);
}

// Stock filter: auth-worker's `pam(user,IP,…): pam_authenticate() failed` and the login process'
// `Disconnected: … (auth failed, 1 attempts …): … rip=IP` for each failed login.
test('dovecot: the stock filter + iptables-multiport ban IMAP and POP3 guessers, not the host', { timeout: 180000 }, (t) =>
  scenario(t, {
    jail: 'dovecot',
    section: (stack) => `[dovecot]\nenabled = true\nport = imap,imaps,pop3,pop3s\nmaxretry = 4\nlogpath = ${stack.mailLog}\n`,
    filters: {},
    regex: 'dovecot',
    log: (stack) => stack.mailLog,
    perLogin: 2,
  }));

test('dovecot: the admin\'s own pam_unix filter on auth.log + iptables-multiport ban IMAP and POP3 guessers, not the host', { timeout: 180000 }, (t) =>
  scenario(t, {
    jail: 'dovecot-pam',
    section: (stack) => `[dovecot-pam]\nenabled = true\nfilter = dovecot-pam-unix\nport = imap,imaps,pop3,pop3s\nmaxretry = 2\nlogpath = ${stack.authLog}\n`,
    filters: { 'dovecot-pam-unix.conf': OWN_FILTER },
    regex: 'dovecot-pam-unix',
    log: (stack) => stack.authLog,
    perLogin: 1,
  }));
