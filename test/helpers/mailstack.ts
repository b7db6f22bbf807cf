/**
 * A real mail stack for scenario tests: Debian's Postfix (SMTP on 127.0.0.1:25, submission on
 * :587, SMTP AUTH through Dovecot's auth socket) and Dovecot (IMAP :143, POP3 :110, PAM passdb)
 * inside a private network namespace, logging through syslog(3) to a real `rsyslogd` that writes
 * a traditional `mail.log` (facility mail) and `auth.log` (auth, authpriv) in the test directory.
 *
 * Nothing on the host changes (the approach of ./sshd.ts): each daemon runs in its own mount
 * namespace (`ip netns exec` + `unshare --mount`, private propagation) where /dev is a tmpfs with
 * the few device nodes and `/dev/log` → rsyslogd's socket, /run is a tmpfs, and /etc/passwd,
 * /etc/shadow, /etc/postfix, /etc/dovecot, /var/spool/postfix and /var/lib/postfix are bind mounts
 * of copies in the test directory. Both mount namespaces see the same copies, so Postfix reaches
 * Dovecot's auth socket at /var/spool/postfix/private/auth. Postfix runs without chroot (so
 * its /dev/log is the private one); mail is accepted and then discarded (no delivery anywhere).
 * Clients: `swaks` for SMTP, a small Node line client for anything else; both from any loopback
 * source address, inside the namespace.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Netns } from './netns.js';
import { runOurs, runReal } from './oracle.js';
import { spawnDaemon, type Daemon } from './processes.js';
import { waitFor } from './servers.js';

/** A process started here: SIGTERM, then SIGKILL after a deadline (idempotent). */
export type MailDaemon = Daemon;

/** Children still in a session cut by a ban (smtpd, imap-login…) outlive their master: killed after it. */
function daemon(ns: Netns, argv: readonly string[], outFile: string): { proc: MailDaemon; exited: () => boolean } {
  return spawnDaemon(ns, argv, outFile, { termMs: 10000 });
}

async function started(what: string, d: { proc: MailDaemon; exited: () => boolean }, ready: () => boolean, out: string): Promise<void> {
  try {
    await waitFor(what, () => d.exited() || ready(), 30000);
    if (d.exited()) throw new Error(`${what}: exited:\n${fs.readFileSync(out, 'utf8')}`);
  } catch (e) {
    await d.proc.stop();
    throw e;
  }
}

const read = (file: string): string => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '');

/** The mount namespace of one daemon ($1 = the test directory, the rest = the command). */
const MOUNTS = `set -e
D="$1"; shift
mount -t tmpfs -o mode=0755 tmpfs "$D/dev"
for n in null zero full random urandom tty; do touch "$D/dev/$n"; mount --bind "/dev/$n" "$D/dev/$n"; done
ln -s "$D/log.sock" "$D/dev/log"
mount --rbind "$D/dev" /dev
mount -t tmpfs -o mode=0755 tmpfs /run
mount --bind "$D/passwd" /etc/passwd
mount --bind "$D/shadow" /etc/shadow
mount --bind "$D/etc-postfix" /etc/postfix
mount --bind "$D/etc-dovecot" /etc/dovecot
mount --bind "$D/spool-postfix" /var/spool/postfix
mount --bind "$D/lib-postfix" /var/lib/postfix
exec "$@"
`;

const MAIN_CF = `compatibility_level = 3.6
myhostname = mail.portcullis.test
mydomain = portcullis.test
myorigin = $myhostname
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.1/32
smtpd_peername_lookup = no
disable_dns_lookups = yes
smtp_dns_support_level = disabled
alias_maps =
alias_database =
default_transport = discard
relay_transport = discard
biff = no
smtpd_banner = $myhostname ESMTP $mail_name (Debian/GNU)
smtpd_tls_security_level = none
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = private/auth
smtpd_relay_restrictions = permit_mynetworks permit_sasl_authenticated reject_unauth_destination
`;

/** No chroot (the private /dev/log must be the one smtpd logs to). */
const MASTER_CF = [
  'smtp inet n - n - - smtpd',
  'submission inet n - n - - smtpd\n  -o syslog_name=postfix/submission',
  ...['pickup unix n - n 60 1 pickup', 'cleanup unix n - n - 0 cleanup', 'qmgr unix n - n 300 1 qmgr', 'rewrite unix - - n - - trivial-rewrite'],
  ...['bounce unix - - n - 0 bounce', 'defer unix - - n - 0 bounce', 'trace unix - - n - 0 bounce', 'verify unix - - n - 1 verify'],
  ...['flush unix n - n 1000? 0 flush', 'proxymap unix - - n - - proxymap', 'showq unix n - n - - showq', 'error unix - - n - - error'],
  ...['retry unix - - n - - error', 'discard unix - - n - - discard', 'anvil unix - - n - 1 anvil', 'scache unix - - n - 1 scache'],
].join('\n');

const dovecotConf = (dir: string, uid: number): string => `protocols = imap pop3
listen = 127.0.0.1
base_dir = /run/dovecot
log_path = syslog
syslog_facility = mail
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_verbose = yes
first_valid_uid = ${uid}
last_valid_uid = ${uid}
mail_location = maildir:${dir}/home/Maildir
passdb {
  driver = pam
  args = dovecot
}
userdb {
  driver = passwd
}
service auth {
  unix_listener /var/spool/postfix/private/auth {
    mode = 0660
    user = postfix
    group = postfix
  }
}
`;

export interface MailStack {
  readonly dir: string;
  /** facility mail (Postfix, Dovecot), RSYSLOG_TraditionalFileFormat. */
  readonly mailLog: string;
  /** facilities auth and authpriv (PAM's pam_unix lines). */
  readonly authLog: string;
  readonly user: string;
  readonly password: string;
  /** Stops Postfix, Dovecot and rsyslogd (idempotent). */
  stop(): Promise<void>;
}

function freeUid(): number {
  const used = new Set(fs.readFileSync('/etc/passwd', 'utf8').split('\n').map((l) => Number(l.split(':')[2])));
  let uid = 61100;
  while (used.has(uid)) uid++;
  return uid;
}

/** The copies that the daemons' mount namespaces see instead of the host's files. */
function prepare(ns: Netns, dir: string, user: string, password: string): number {
  const uid = freeUid();
  const gid = /^nogroup:[^:]*:(\d+):/m.exec(fs.readFileSync('/etc/group', 'utf8'))?.[1] ?? '65534';
  const hash = ns.run('openssl', ['passwd', '-6', password]);
  if (hash.status !== 0) throw new Error(`openssl passwd -6: ${hash.stderr}`);
  fs.chmodSync(dir, 0o711);
  fs.mkdirSync(path.join(dir, 'dev'));
  fs.mkdirSync(path.join(dir, 'home'), { mode: 0o700 });
  fs.chownSync(path.join(dir, 'home'), uid, Number(gid));
  fs.writeFileSync(path.join(dir, 'passwd'), `${fs.readFileSync('/etc/passwd', 'utf8')}${user}:x:${uid}:${gid}::${dir}/home:/bin/sh\n`);
  fs.writeFileSync(path.join(dir, 'shadow'), `${fs.readFileSync('/etc/shadow', 'utf8')}${user}:${hash.stdout.trim()}:19000:0:99999:7:::\n`, { mode: 0o600 });
  for (const [from, to] of [['/etc/postfix', 'etc-postfix'], ['/var/spool/postfix', 'spool-postfix'], ['/var/lib/postfix', 'lib-postfix']] as const) {
    const r = ns.run('cp', ['-a', from, path.join(dir, to)]);
    if (r.status !== 0) throw new Error(`cp -a ${from}: ${r.stderr}`);
  }
  fs.writeFileSync(path.join(dir, 'etc-postfix', 'main.cf'), MAIN_CF);
  fs.writeFileSync(path.join(dir, 'etc-postfix', 'master.cf'), `${MASTER_CF}\n`);
  fs.mkdirSync(path.join(dir, 'etc-dovecot'));
  fs.writeFileSync(path.join(dir, 'etc-dovecot', 'dovecot.conf'), dovecotConf(dir, uid));
  return uid;
}

async function startRsyslog(ns: Netns, dir: string): Promise<MailDaemon> {
  const socket = path.join(dir, 'log.sock');
  fs.mkdirSync(path.join(dir, 'rsyslog'));
  const conf = path.join(dir, 'rsyslog.conf');
  const file = (sel: string, name: string): string => `${sel} action(type="omfile" file="${dir}/${name}" template="RSYSLOG_TraditionalFileFormat")\n`;
  const head = `global(workDirectory="${dir}/rsyslog")\nmodule(load="imuxsock" SysSock.Use="off")\ninput(type="imuxsock" Socket="${socket}" CreatePath="on")\n`;
  fs.writeFileSync(conf, head + file('mail.*', 'mail.log') + file('auth,authpriv.*', 'auth.log'));
  // Both exist from the start (as on a Debian host), so a jail on either can start at once.
  for (const name of ['mail.log', 'auth.log']) fs.writeFileSync(path.join(dir, name), '', { mode: 0o640 });
  const out = path.join(dir, 'rsyslog.out');
  const d = daemon(ns, ['rsyslogd', '-n', '-f', conf, '-i', path.join(dir, 'rsyslog.pid')], out);
  await started('rsyslogd socket', d, () => fs.existsSync(socket), out);
  return d.proc;
}

/** The Debian packages (postfix, dovecot-imapd, dovecot-pop3d, swaks) that are not installed. */
export function mailPackagesMissing(): string[] {
  const need = { postfix: '/usr/lib/postfix/sbin/master', 'dovecot-imapd': '/usr/lib/dovecot/imap', 'dovecot-pop3d': '/usr/lib/dovecot/pop3', swaks: '/usr/bin/swaks' };
  return Object.entries(need).flatMap(([pkg, file]) => (fs.existsSync(file) ? [] : [pkg]));
}

/**
 * Starts rsyslogd, Dovecot (`dovecot -F`) and Postfix (`master -d`) in `ns`, with one local user
 * of their own (PAM, mail discarded). Resolves once both logged their start through rsyslogd.
 */
export async function startMailStack(ns: Netns, dir: string, opts: { user?: string; password?: string } = {}): Promise<MailStack> {
  const user = opts.user ?? 'pcmail';
  const password = opts.password ?? 'portcullis-right';
  prepare(ns, dir, user, password);
  const mailLog = path.join(dir, 'mail.log');
  const authLog = path.join(dir, 'auth.log');
  const procs: MailDaemon[] = [];
  const stop = async (): Promise<void> => {
    for (const p of procs.splice(0).reverse()) await p.stop();
  };
  try {
    procs.push(await startRsyslog(ns, dir));
    const inNs = (argv: readonly string[]): string[] => ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', MOUNTS, 'sh', dir, ...argv];
    const dovecotOut = path.join(dir, 'dovecot.out');
    const dovecot = daemon(ns, inNs(['/usr/sbin/dovecot', '-F']), dovecotOut);
    procs.push(dovecot.proc);
    await started('dovecot logging "starting up" to mail.log', dovecot, () => / dovecot(?:\[\d+\])?: master: Dovecot v\S+ .*starting up/.test(read(mailLog)), dovecotOut);
    await waitFor('dovecot auth socket in the spool', () => fs.existsSync(path.join(dir, 'spool-postfix', 'private', 'auth')), 30000);
    const postfixOut = path.join(dir, 'postfix.out');
    // setsid: on SIGTERM the master signals its own process group (its children) before it exits.
    const postfix = daemon(ns, inNs(['setsid', '/usr/lib/postfix/sbin/master', '-d']), postfixOut);
    procs.push(postfix.proc);
    await started('postfix logging "daemon started" to mail.log', postfix, () => /postfix\/master\[\d+\]: daemon started/.test(read(mailLog)), postfixOut);
  } catch (e) {
    await stop();
    throw e;
  }
  return { dir, mailLog, authLog, user, password, stop };
}

/** How a client session ended: `refused` is the kernel's answer to a banned source. */
export type MailOutcome = 'accepted' | 'denied' | 'refused' | 'other';

export interface MailAttempt {
  readonly outcome: MailOutcome;
  readonly transcript: string;
}

/** `swaks` in the namespace from `source` to 127.0.0.1:`port`; `args` say what to do (auth, mail). */
async function swaks(ns: Netns, source: string, port: number, args: readonly string[]): Promise<MailAttempt> {
  const r = await ns.runAsync('swaks', ['--server', '127.0.0.1', '--port', String(port), '--local-interface', source, '--timeout', '20', '--helo', 'client.test', ...args]);
  const transcript = `${r.stdout}${r.stderr}`;
  const outcome: MailOutcome = r.status === 0 ? 'accepted' : /Connection refused/.test(transcript) ? 'refused' : /^<~?\*+ 535 /m.test(transcript) ? 'denied' : 'other';
  return { outcome, transcript };
}

/** SMTP AUTH (`PLAIN` or `LOGIN`) as the stack's user with `password`, then QUIT. */
export function smtpAuth(ns: Netns, source: string, port: number, stack: MailStack, mech: 'PLAIN' | 'LOGIN', password: string): Promise<MailAttempt> {
  return swaks(ns, source, port, ['--auth', mech, '--auth-user', stack.user, '--auth-password', password, '--quit-after', 'AUTH']);
}

/** A whole mail from `source` (mynetworks when 127.0.0.1) to a remote recipient, discarded by Postfix. */
export function smtpSend(ns: Netns, source: string, port: number): Promise<MailAttempt> {
  return swaks(ns, source, port, ['--from', 'admin@portcullis.test', '--to', 'someone@example.com', '--body', 'portcullis mail stack test']);
}

/** One step of a line dialogue: a line to send (CRLF added), then a line of the answer to wait for. */
export interface Step {
  readonly send?: string;
  readonly until?: string;
}

const LINE_CLIENT = `const net = require('node:net');
const [port, local, json] = process.argv.slice(1);
const steps = JSON.parse(json); const lines = []; let buf = ''; let i = 0; let out = null;
const s = net.connect({ host: '127.0.0.1', port: Number(port), localAddress: local });
const finish = (o) => { if (out === null) { out = o; process.stdout.write(JSON.stringify({ outcome: o, lines })); process.exit(0); } };
const next = () => {
  while (i < steps.length) {
    const st = steps[i];
    if (st.send !== undefined && !st.sent) { s.write(st.send + '\\r\\n'); st.sent = true; }
    if (st.until !== undefined && !st.seen) return;
    i++;
  }
  s.end(() => finish('done'));
};
s.on('connect', next);
s.on('data', (d) => {
  buf += d.toString('latin1');
  let k;
  while ((k = buf.indexOf('\\n')) >= 0) {
    const line = buf.slice(0, k).replace(/\\r$/, ''); buf = buf.slice(k + 1); lines.push(line);
    const st = steps[i];
    if (st !== undefined && st.until !== undefined && new RegExp(st.until).test(line)) { st.seen = true; i++; next(); }
  }
});
s.on('error', (e) => finish(e.code === 'ECONNREFUSED' ? 'refused' : 'error ' + e.code));
s.on('close', () => finish('closed'));
setTimeout(() => finish('timeout'), 25000);
`;

export interface LineSession {
  /**
   * `done`: every step passed, the client's last line (if any) and its FIN handed to the kernel;
   * `refused`, `closed` (by the server before the last step), `timeout`, `error …`.
   */
  readonly outcome: string;
  readonly lines: readonly string[];
}

/**
 * A TCP dialogue from `source` to 127.0.0.1:`port` in the namespace (`node -e`), ended after the
 * last step without waiting for the server's close (a ban in the middle of the session rejects
 * the client's later packets: the client must not wait for an answer that cannot come).
 */
export async function lineSession(ns: Netns, source: string, port: number, steps: readonly Step[]): Promise<LineSession> {
  const r = await ns.runAsync(process.execPath, ['-e', LINE_CLIENT, String(port), source, JSON.stringify(steps)]);
  try {
    return JSON.parse(r.stdout) as LineSession;
  } catch {
    return { outcome: `client failed (${String(r.status)}): ${r.stderr}`, lines: [] };
  }
}

/** IMAP LOGIN (143) with `password`: `accepted`, `denied` (NO) or `refused`. */
export async function imapLogin(ns: Netns, source: string, stack: MailStack, password: string): Promise<MailOutcome> {
  const s = await lineSession(ns, source, 143, [{ until: '^\\* OK' }, { send: `a1 LOGIN ${stack.user} "${password}"`, until: '^a1 ' }, { send: 'a2 LOGOUT' }]);
  // The answer decides (a ban may cut the session after it: LOGOUT refused); no answer and refused: refused.
  return s.lines.some((l) => l.startsWith('a1 OK')) ? 'accepted' : s.lines.some((l) => l.startsWith('a1 NO')) ? 'denied' : s.outcome === 'refused' ? 'refused' : 'other';
}

/** POP3 USER/PASS (110) with `password`: `accepted`, `denied` (-ERR) or `refused`. */
export async function pop3Login(ns: Netns, source: string, stack: MailStack, password: string): Promise<MailOutcome> {
  const s = await lineSession(ns, source, 110, [{ until: '^\\+OK' }, { send: `USER ${stack.user}`, until: '^[+-]' }, { send: `PASS ${password}`, until: '^[+-]' }, { send: 'QUIT' }]);
  const pass = s.lines[2] ?? '';
  return pass.startsWith('+OK') ? 'accepted' : pass.startsWith('-ERR') ? 'denied' : s.outcome === 'refused' ? 'refused' : 'other';
}

const STOCK = '/etc/fail2ban';

/**
 * A `-c` tree in `dir` (created): Debian's fail2ban.conf, jail.conf, paths-*.conf and action.d by
 * symlink, filter.d as a directory of symlinks to the stock filters plus the admin's own `filters`
 * (name → text, e.g. `postfix.local`), our fail2ban.local, and `jailLocal` as jail.local.
 */
export function writeF2bTree(dir: string, jailLocal: string, filters: Readonly<Record<string, string>> = {}): void {
  fs.mkdirSync(path.join(dir, 'filter.d'), { recursive: true });
  for (const name of fs.readdirSync(STOCK)) {
    if (name === 'fail2ban.conf' || name === 'jail.conf' || name === 'action.d' || /^paths-.*\.conf$/.test(name)) fs.symlinkSync(path.join(STOCK, name), path.join(dir, name));
  }
  for (const name of fs.readdirSync(path.join(STOCK, 'filter.d'))) fs.symlinkSync(path.join(STOCK, 'filter.d', name), path.join(dir, 'filter.d', name));
  for (const [name, text] of Object.entries(filters)) fs.writeFileSync(path.join(dir, 'filter.d', name), text);
  fs.writeFileSync(path.join(dir, 'fail2ban.local'), `[Definition]\nloglevel = INFO\nlogtarget = ${dir}/f2b.log\ndbfile = ${dir}/f2b.sqlite3\n`);
  fs.writeFileSync(path.join(dir, 'jail.local'), jailLocal);
}

/** The elements of nftables-multiport's `inet f2b-table addr-set-JAIL` (empty when absent). */
export function nftBanned(ns: Netns, jail: string): string[] {
  const r = ns.run('nft', ['-j', 'list', 'set', 'inet', 'f2b-table', `addr-set-${jail}`]);
  if (r.status !== 0) return [];
  const doc = JSON.parse(r.stdout) as { nftables?: { set?: { elem?: unknown[] } }[] };
  return doc.nftables?.flatMap((i) => i.set?.elem ?? []).map((e) => (typeof e === 'string' ? e : JSON.stringify(e))) ?? [];
}

/** The sources iptables-multiport's chain `f2b-JAIL` rejects (empty when absent). */
export function iptablesBanned(ns: Netns, jail: string): string[] {
  const r = ns.run('iptables', ['-w', '-S', `f2b-${jail}`]);
  if (r.status !== 0) return [];
  return [...r.stdout.matchAll(/^-A f2b-\S+ -s (\S+?)(?:\/32)? -j REJECT/gm)].map((m) => m[1] ?? '');
}

/** `Failregex: N total` of Debian's fail2ban-regex and of ours, over `log` with `filter` from the tree in `confDir`. */
export function regexCounts(confDir: string, log: string, filter: string): { real: number; ours: number; report: string } {
  const args = ['-c', confDir, log, filter];
  const real = runReal('fail2ban-regex', args);
  const ours = runOurs('fail2ban-regex', args);
  const count = (out: string): number => Number(/^Failregex: (\d+) total/m.exec(out)?.[1] ?? NaN);
  return { real: count(real.stdout), ours: count(ours.stdout), report: `Debian's:\n${real.stdout}${real.stderr}\nours:\n${ours.stdout}${ours.stderr}` };
}
