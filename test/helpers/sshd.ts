/**
 * A real OpenSSH server for scenario tests: Debian's `sshd` inside a private network namespace,
 * logging through syslog(3) to a real `rsyslogd` that writes a traditional `auth.log` in the
 * test's directory, and an `ssh` client driven by `sshpass` from any loopback source address.
 *
 * Nothing on the host changes. sshd's libc logs to the fixed path /dev/log, which must not be the
 * host's; so sshd runs in its own mount namespace (`ip netns exec` + `unshare --mount`, private
 * propagation) where /dev is a tmpfs holding bind mounts of the few device nodes sshd needs and
 * `/dev/log` → rsyslogd's socket in the test directory. In the same mount namespace /run is a
 * tmpfs (sshd's privilege separation directory /run/sshd) and /etc/passwd, /etc/shadow are bind
 * mounts of copies with one extra user: a real local user for sshd and PAM, invisible to (and
 * never to be removed from) the host. All of it disappears with the sshd process.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Netns } from './netns.js';
import { spawnDaemon, type Daemon } from './processes.js';
import { waitFor } from './servers.js';

export type { Daemon } from './processes.js';

export interface Rsyslog extends Daemon {
  /** The unix datagram socket rsyslogd reads (what /dev/log points to for sshd). */
  readonly socket: string;
  /** auth and authpriv messages, RSYSLOG_TraditionalFileFormat (`Nov 22 10:19:46 host sshd[1]: …`). */
  readonly authLog: string;
}

/** Starts `rsyslogd -n` in the namespace with its own config, pid file, work dir and socket in `dir`. */
export async function startRsyslogd(ns: Netns, dir: string): Promise<Rsyslog> {
  const socket = path.join(dir, 'log.sock');
  const authLog = path.join(dir, 'auth.log');
  fs.mkdirSync(path.join(dir, 'rsyslog'), { recursive: true });
  const conf = path.join(dir, 'rsyslog.conf');
  fs.writeFileSync(
    conf,
    `global(workDirectory="${dir}/rsyslog")\n` +
      'module(load="imuxsock" SysSock.Use="off")\n' +
      `input(type="imuxsock" Socket="${socket}" CreatePath="on")\n` +
      `auth,authpriv.* action(type="omfile" file="${authLog}" template="RSYSLOG_TraditionalFileFormat")\n`,
  );
  const { proc, exited } = spawnDaemon(ns, ['rsyslogd', '-n', '-f', conf, '-i', path.join(dir, 'rsyslog.pid')], path.join(dir, 'rsyslog.out'));
  try {
    await waitFor('rsyslogd socket', () => exited() || fs.existsSync(socket), 20000);
    if (exited()) throw new Error(`rsyslogd exited:\n${fs.readFileSync(path.join(dir, 'rsyslog.out'), 'utf8')}`);
  } catch (e) {
    await proc.stop();
    throw e;
  }
  return { ...proc, stop: () => proc.stop(), socket, authLog };
}

export interface SshdOptions {
  readonly port?: number;
  readonly user?: string;
  readonly password?: string;
}

export interface Sshd extends Daemon {
  readonly port: number;
  readonly user: string;
  readonly password: string;
}

/** The script run by `sh` in sshd's private mount namespace ($1 = the test directory). */
const MOUNTS = `set -e
D="$1"
mount -t tmpfs -o mode=0755 tmpfs "$D/dev"
for n in null zero full random urandom tty ptmx; do touch "$D/dev/$n"; mount --bind "/dev/$n" "$D/dev/$n"; done
mkdir "$D/dev/pts" "$D/dev/shm"
mount --rbind /dev/pts "$D/dev/pts"
ln -s "$D/log.sock" "$D/dev/log"
mount --rbind "$D/dev" /dev
mount -t tmpfs -o mode=0755 tmpfs /run
mkdir -m 0755 /run/sshd
mount --bind "$D/passwd" /etc/passwd
mount --bind "$D/shadow" /etc/shadow
exec /usr/sbin/sshd -D -f "$D/sshd_config"
`;

function freeUid(): number {
  const used = new Set(fs.readFileSync('/etc/passwd', 'utf8').split('\n').map((l) => Number(l.split(':')[2])));
  let uid = 61000;
  while (used.has(uid)) uid++;
  return uid;
}

function sha512Crypt(ns: Netns, password: string): string {
  const r = ns.run('openssl', ['passwd', '-6', password]);
  if (r.status !== 0) throw new Error(`openssl passwd -6: ${r.stderr}`);
  return r.stdout.trim();
}

/**
 * Starts `sshd -D` on 127.0.0.1:`port` (default 2222) in the namespace, logging with facility AUTH
 * to `rsyslog`, with password authentication (PAM, as Debian ships it) for one user of its own.
 * Resolves once rsyslogd's auth.log shows "Server listening".
 */
export async function startSshd(ns: Netns, dir: string, rsyslog: Rsyslog, opts: SshdOptions = {}): Promise<Sshd> {
  const port = opts.port ?? 2222;
  const user = opts.user ?? 'pcssh';
  const password = opts.password ?? 'portcullis-right';
  fs.chmodSync(dir, 0o711); // the user's home below must be reachable for a session
  fs.mkdirSync(path.join(dir, 'dev'));
  fs.mkdirSync(path.join(dir, 'home'), { mode: 0o755 });
  const gid = /^nogroup:[^:]*:(\d+):/m.exec(fs.readFileSync('/etc/group', 'utf8'))?.[1] ?? '65534';
  fs.writeFileSync(path.join(dir, 'passwd'), `${fs.readFileSync('/etc/passwd', 'utf8')}${user}:x:${freeUid()}:${gid}::${dir}/home:/bin/sh\n`);
  fs.writeFileSync(path.join(dir, 'shadow'), `${fs.readFileSync('/etc/shadow', 'utf8')}${user}:${sha512Crypt(ns, password)}:19000:0:99999:7:::\n`, { mode: 0o600 });
  const key = path.join(dir, 'ssh_host_ed25519_key');
  const kg = ns.run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
  if (kg.status !== 0) throw new Error(`ssh-keygen: ${kg.stderr}`);
  const config = [`Port ${port}`, 'ListenAddress 127.0.0.1', `HostKey ${key}`, `PidFile ${dir}/sshd.pid`, 'SyslogFacility AUTH', 'LogLevel INFO', 'UsePAM yes'];
  config.push('PasswordAuthentication yes', 'KbdInteractiveAuthentication no', 'PubkeyAuthentication no', 'AuthorizedKeysFile none', 'PermitRootLogin no', `AllowUsers ${user}`);
  fs.writeFileSync(path.join(dir, 'sshd_config'), `${config.join('\n')}\n`);
  const out = path.join(dir, 'sshd.out');
  // sshd's per-connection children get 5 s to finish, then are killed with the listener (a
  // connection cut by a ban would otherwise wait out LoginGraceTime, orphaned)
  const { proc, exited } = spawnDaemon(ns, ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', MOUNTS, 'sh', dir], out, { childrenGraceMs: 5000 });
  const listening = `sshd[${String(proc.pid)}]: Server listening on 127.0.0.1 port ${port}.`;
  const started = (): boolean => fs.existsSync(rsyslog.authLog) && fs.readFileSync(rsyslog.authLog, 'utf8').includes(listening);
  try {
    await waitFor(`sshd logging "${listening}" through rsyslogd`, () => exited() || started(), 20000);
    if (exited()) throw new Error(`sshd exited:\n${fs.readFileSync(out, 'utf8')}`);
  } catch (e) {
    await proc.stop();
    throw e;
  }
  return { ...proc, stop: () => proc.stop(), port, user, password };
}

/** How one login attempt ended, read from ssh's own messages. */
export type SshOutcome = 'accepted' | 'denied' | 'refused' | 'other';

export interface SshAttempt {
  readonly outcome: SshOutcome;
  readonly status: number | null;
  readonly stderr: string;
}

/**
 * `sshpass -p PASSWORD ssh -b SOURCE -p PORT USER@127.0.0.1 true` in the namespace: password
 * authentication only, one prompt, no host key checks, no client configuration files.
 */
export async function sshLogin(ns: Netns, sshd: Sshd, source: string, password: string): Promise<SshAttempt> {
  const opts = ['StrictHostKeyChecking=no', 'UserKnownHostsFile=/dev/null', 'GlobalKnownHostsFile=/dev/null', 'PreferredAuthentications=password'];
  opts.push('PubkeyAuthentication=no', 'NumberOfPasswordPrompts=1', 'ConnectTimeout=10', 'LogLevel=ERROR');
  const args = ['-p', password, 'ssh', '-F', '/dev/null', ...opts.flatMap((o) => ['-o', o]), '-b', source, '-p', String(sshd.port), `${sshd.user}@127.0.0.1`, 'true'];
  const r = await ns.runAsync('sshpass', args);
  const outcome: SshOutcome = r.status === 0 ? 'accepted' : /Connection refused/.test(r.stderr) ? 'refused' : /Permission denied/.test(r.stderr) ? 'denied' : 'other';
  return { outcome, status: r.status, stderr: r.stderr };
}
