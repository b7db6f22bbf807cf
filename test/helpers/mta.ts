/**
 * A real local MTA for the mail-notice scenarios: Debian's Postfix in a private network namespace
 * and a mount namespace of its own, configured for LOCAL delivery only (mydestination =
 * localhost, no SMTP listener: mail enters through `sendmail` → postdrop → pickup, and `local`
 * delivers it into `~/Maildir/` of a test user whose home lives in the test directory). Postfix
 * logs to a file of its own (`maillog_file`, postlogd).
 *
 * The fail2ban server (portcullis' or Debian's) runs in the same network namespace and in a mount
 * namespace with the SAME bind mounts (/etc/postfix, /var/spool/postfix, /var/lib/postfix,
 * /etc/passwd: copies in the test directory), so the stock actions' `/usr/sbin/sendmail -f … …`
 * run through /bin/sh hands the notice to this Postfix. Its environment can put a directory first
 * on PATH (a fake `whois`) or hide Debian's `/usr/bin/whois` (an overlay with a whiteout on
 * /usr/bin): "whois is not installed", whatever the host has. Nothing on the host changes; /dev
 * is a private tmpfs whose /dev/log is the caller's rsyslogd socket.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { serverReady, type Netns, type NsServer } from './netns.js';
import { ROOT } from './oracle.js';
import { sleep, waitFor, type Side } from './servers.js';
import type { Daemon } from './processes.js';

/** The mount namespace ($1 = the MTA directory, $2 = the log socket, $3 = 1 to hide whois, then the command). */
const MOUNTS = `set -e
D="$1"; LOG="$2"; HIDE="$3"; shift 3
mount -t tmpfs -o mode=0755 tmpfs "$D/dev"
for n in null zero full random urandom tty; do touch "$D/dev/$n"; mount --bind "/dev/$n" "$D/dev/$n"; done
ln -s "$LOG" "$D/dev/log"
mount --rbind "$D/dev" /dev
mount --bind "$D/passwd" /etc/passwd
mount --bind "$D/etc-postfix" /etc/postfix
mount --bind "$D/spool-postfix" /var/spool/postfix
mount --bind "$D/lib-postfix" /var/lib/postfix
if [ "$HIDE" = 1 ]; then
  mount -t tmpfs -o mode=0700 tmpfs "$D/ov"
  mkdir "$D/ov/up" "$D/ov/work" && mknod "$D/ov/up/whois" c 0 0
  mount -t overlay overlay -o "lowerdir=/usr/bin,upperdir=$D/ov/up,workdir=$D/ov/work" /usr/bin
fi
exec "$@"
`;

const MAIN_CF = `compatibility_level = 3.6
myhostname = mail.portcullis.test
mydomain = portcullis.test
myorigin = $myhostname
mydestination = $myhostname, localhost
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.1/32
disable_dns_lookups = yes
smtp_dns_support_level = disabled
alias_maps =
alias_database =
local_recipient_maps =
home_mailbox = Maildir/
default_transport = error:no remote delivery in this test
relay_transport = error:no remote delivery in this test
biff = no
maillog_file = MAILLOG
maillog_file_prefixes = MAILDIR
`;

/** Local delivery only: no inet service at all. */
const MASTER_CF = [
  'pickup unix n - n 60 1 pickup', 'cleanup unix n - n - 0 cleanup', 'qmgr unix n - n 300 1 qmgr', 'rewrite unix - - n - - trivial-rewrite',
  'bounce unix - - n - 0 bounce', 'defer unix - - n - 0 bounce', 'trace unix - - n - 0 bounce', 'error unix - - n - - error',
  'retry unix - - n - - error', 'discard unix - - n - - discard', 'local unix - n n - - local', 'proxymap unix - - n - - proxymap',
  'showq unix n - n - - showq', 'flush unix n - n 1000? 0 flush', 'postlog unix-dgram n - n - 1 postlogd',
].join('\n');

export interface LocalMta extends Daemon {
  readonly dir: string;
  /** Postfix's own log (maillog_file). */
  readonly log: string;
  /** The local user receiving the notices (`destemail = USER@localhost`). */
  readonly user: string;
  /** `USER@localhost`. */
  readonly address: string;
  /** The user's Maildir (`new/` holds the delivered messages). */
  readonly maildir: string;
  /** The rsyslogd socket that is /dev/log in the namespaces. */
  readonly logSocket: string;
}

function freeUid(): number {
  const used = new Set(fs.readFileSync('/etc/passwd', 'utf8').split('\n').map((l) => Number(l.split(':')[2])));
  let uid = 61200;
  while (used.has(uid)) uid++;
  return uid;
}

/** `ip netns exec NS unshare --mount … sh -c MOUNTS …` for `argv`. */
function inMountNs(ns: Netns, mta: { dir: string; logSocket: string }, hideWhois: boolean, argv: readonly string[]): string[] {
  return ['netns', 'exec', ns.name, 'unshare', '--mount', '--propagation', 'private', 'sh', '-c', MOUNTS, 'sh', mta.dir, mta.logSocket, hideWhois ? '1' : '0', ...argv];
}

/**
 * Starts Postfix (`master -d`) in `ns` with its files copied into `dir` (created), delivering
 * mail for `user@localhost` (a user of its own, home `dir/home`) into `dir/home/Maildir`.
 * `logSocket`: an rsyslogd socket (e.g. from ./sshd.ts's startRsyslogd) that becomes /dev/log.
 */
export async function startLocalMta(ns: Netns, dir: string, logSocket: string, user = 'pcadmin'): Promise<LocalMta> {
  fs.mkdirSync(dir, { recursive: true, mode: 0o711 });
  fs.chmodSync(dir, 0o711);
  for (const d of ['dev', 'ov']) fs.mkdirSync(path.join(dir, d));
  const uid = freeUid();
  const gid = Number(/^nogroup:[^:]*:(\d+):/m.exec(fs.readFileSync('/etc/group', 'utf8'))?.[1] ?? '65534');
  const home = path.join(dir, 'home');
  fs.mkdirSync(home, { mode: 0o700 });
  fs.chownSync(home, uid, gid);
  fs.writeFileSync(path.join(dir, 'passwd'), `${fs.readFileSync('/etc/passwd', 'utf8')}${user}:x:${uid}:${gid}::${home}:/bin/sh\n`);
  for (const [from, to] of [['/etc/postfix', 'etc-postfix'], ['/var/spool/postfix', 'spool-postfix'], ['/var/lib/postfix', 'lib-postfix']] as const) {
    const r = ns.run('cp', ['-a', from, path.join(dir, to)]);
    if (r.status !== 0) throw new Error(`cp -a ${from}: ${r.stderr}`);
  }
  const log = path.join(dir, 'postfix.log');
  fs.writeFileSync(path.join(dir, 'etc-postfix', 'main.cf'), MAIN_CF.replace('MAILLOG', log).replace('MAILDIR', dir));
  fs.writeFileSync(path.join(dir, 'etc-postfix', 'master.cf'), `${MASTER_CF}\n`);
  const mta = { dir, logSocket };
  const outFile = path.join(dir, 'postfix.out');
  const out = fs.openSync(outFile, 'a');
  // setsid: on SIGTERM the master signals its own process group (its children) before it exits.
  const child = spawn('ip', inMountNs(ns, mta, false, ['setsid', '/usr/lib/postfix/sbin/master', '-d']), { stdio: ['ignore', out, out], env: { ...process.env, LANG: 'C.UTF-8' } });
  fs.closeSync(out);
  let done = false;
  child.on('exit', () => (done = true));
  child.on('error', () => (done = true));
  const stop = async (): Promise<void> => {
    if (!done) child.kill('SIGTERM');
    for (let i = 0; i < 200 && !done; i++) await sleep(50);
    if (!done) child.kill('SIGKILL');
    for (let i = 0; i < 100 && !done; i++) await sleep(50);
  };
  const read = (f: string): string => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : '');
  try {
    await waitFor('postfix logging "daemon started"', () => done || /postfix\/master\[\d+\]: daemon started/.test(read(log)), 30000);
    if (done) throw new Error(`postfix exited:\n${read(outFile)}\n${read(log)}`);
  } catch (e) {
    await stop();
    throw e;
  }
  return { pid: child.pid, stop, dir, log, user, address: `${user}@localhost`, maildir: path.join(home, 'Maildir'), logSocket };
}

/** One delivered message: its headers (names lowercased, last one wins) and body. */
export interface Delivered {
  readonly file: string;
  readonly raw: string;
  readonly headers: ReadonlyMap<string, string>;
  readonly body: string;
}

/** The messages in the Maildir's `new/`, oldest first (by delivery, i.e. file name). */
export function delivered(mta: LocalMta): Delivered[] {
  const dir = path.join(mta.maildir, 'new');
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).sort((a, b) => Number(a.split('.')[0]) - Number(b.split('.')[0]) || a.localeCompare(b)).map((name) => {
    const raw = fs.readFileSync(path.join(dir, name), 'utf8');
    const cut = raw.indexOf('\n\n');
    const head = cut < 0 ? raw : raw.slice(0, cut);
    const headers = new Map<string, string>();
    for (const m of head.replace(/\n[ \t]+/g, ' ').split('\n')) {
      const k = m.indexOf(':');
      if (k > 0) headers.set(m.slice(0, k).toLowerCase(), m.slice(k + 1).trim());
    }
    return { file: name, raw, headers, body: cut < 0 ? '' : raw.slice(cut + 2) };
  });
}

export interface MailServerOptions {
  /** Whose fail2ban-server: portcullis' (`ours`) or Debian's (`real`). */
  readonly side: Side;
  /** Hide /usr/bin/whois from the server and its actions. */
  readonly hideWhois?: boolean;
  /** Prepended to the server's PATH (a fake `whois`). */
  readonly pathFirst?: string;
}

/**
 * `fail2ban-server -f -x -c DIR -s DIR/f2b.sock -p DIR/f2b.pid` in `ns` and in the MTA's mount
 * namespace (the process is the server itself: every wrapper execs); waits for `ping`.
 */
export async function startMailServer(ns: Netns, mta: LocalMta, dir: string, opts: MailServerOptions): Promise<NsServer> {
  const socket = path.join(dir, 'f2b.sock');
  const server = opts.side === 'real' ? ['/usr/bin/fail2ban-server'] : [process.execPath, path.join(ROOT, 'bin', 'fail2ban-server')];
  const argv = [...server, '-f', '-x', '-c', dir, '-s', socket, '-p', path.join(dir, 'f2b.pid')];
  const env = { ...process.env, LANG: 'C.UTF-8', PYTHONDONTWRITEBYTECODE: '1', PATH: `${opts.pathFirst !== undefined ? `${opts.pathFirst}:` : ''}${process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'}` };
  const out = fs.openSync(path.join(dir, 'server.out'), 'a');
  const child = spawn('ip', inMountNs(ns, mta, opts.hideWhois === true, argv), { stdio: ['ignore', out, out], env });
  fs.closeSync(out);
  return serverReady(child, socket, dir, `${opts.side} server did not start in ${ns.name}`);
}

/**
 * A `-c DIR` tree in `dir` (created) over `base` (Debian's /etc/fail2ban or portcullis' built-in
 * config/): fail2ban.conf, jail.conf, paths-*.conf and filter.d by symlink, action.d as a
 * directory of symlinks plus `actionLocals` (name → text, e.g. `sendmail-whois.local`), our
 * fail2ban.local (log and database in `dir`) and `jailLocal` as jail.local.
 */
export function writeMailTree(dir: string, base: string, jailLocal: string, actionLocals: Readonly<Record<string, string>> = {}): void {
  fs.mkdirSync(path.join(dir, 'action.d'), { recursive: true });
  for (const name of fs.readdirSync(base)) {
    if (['fail2ban.conf', 'jail.conf', 'filter.d'].includes(name) || /^paths-.*\.conf$/.test(name)) fs.symlinkSync(path.join(base, name), path.join(dir, name));
  }
  for (const name of fs.readdirSync(path.join(base, 'action.d'))) fs.symlinkSync(path.join(base, 'action.d', name), path.join(dir, 'action.d', name));
  for (const [name, text] of Object.entries(actionLocals)) fs.writeFileSync(path.join(dir, 'action.d', name), text);
  fs.writeFileSync(path.join(dir, 'fail2ban.local'), `[Definition]\nloglevel = INFO\nlogtarget = ${dir}/f2b.log\ndbfile = ${dir}/f2b.sqlite3\n`);
  fs.writeFileSync(path.join(dir, 'jail.local'), jailLocal);
}
