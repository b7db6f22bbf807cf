/**
 * The lab of `portcullis demo`: a throw-away network namespace with a real OpenSSH server logging
 * through a real rsyslogd, an attacker's `ssh` from 127.0.0.2, and portcullis' own server on the
 * built-in configuration. Nothing on the host changes: sshd runs in its own mount namespace where
 * /dev/log is rsyslogd's socket in the work directory, /run is a tmpfs and /etc/passwd,
 * /etc/shadow are bind mounts of copies with one demo user; every process is started in its own
 * process group (a Ctrl-C on the terminal reaches only the demo, which stops them in order), and
 * `cleanup` deletes the namespace (its firewall with it) and the work directory.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** How one login attempt ended, read from ssh's own messages. */
export type SshOutcome = 'accepted' | 'denied' | 'refused' | 'other';

/** The sshd jail's counters, from `portcullis status sshd --json`. */
export interface JailCounts {
  readonly failedTotal: number;
  readonly bannedCurrent: number;
  readonly bannedList: readonly string[];
}

/** What `portcullis demo` does to the system, one step per method. */
export interface DemoLab {
  readonly host: string;
  readonly attacker: string;
  /** Root and the programs the demo needs, or a DemoLabError naming the package. */
  check(): Promise<void>;
  /** The namespace and work directory; returns their names. */
  createNamespace(): Promise<{ namespace: string; dir: string }>;
  /** rsyslogd in the namespace; returns the auth.log it writes. */
  startSyslog(): Promise<string>;
  startSshd(): Promise<{ port: number; user: string }>;
  /** portcullis' server on the built-in configuration plus the demo's jail.local; returns that file. */
  startServer(): Promise<{ jailLocal: string; settings: string }>;
  /** One password login from `host` or `attacker` with the right or a wrong password. */
  ssh(from: 'host' | 'attacker', password: 'right' | 'wrong'): Promise<{ outcome: SshOutcome; message: string }>;
  jail(): Promise<JailCounts>;
  /** The addresses in the sshd jail's nft set (empty when the set does not exist). */
  firewallSet(): Promise<readonly string[]>;
  /** `portcullis unban IP` through the server's socket; its output. */
  unban(ip: string): Promise<string>;
  /** The last lines the server wrote (for a failure report). */
  serverLog(): string;
  /** Stops and removes everything started so far, in reverse order; what was done. Idempotent. */
  cleanup(): Promise<string[]>;
  sleep(ms: number): Promise<void>;
  /** Calls `handler` on SIGINT/SIGTERM until the returned function is called. */
  onInterrupt(handler: () => void): () => void;
}

/** An expected failure of the lab: a sentence and its sysexits code. */
export class DemoLabError extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'DemoLabError';
  }
}

const EX_UNAVAILABLE = 69;
const EX_SOFTWARE = 70;
const EX_NOPERM = 77;
const ENV = { ...process.env, LANG: 'C.UTF-8' };
const SSHD_PORT = 22;
const USER = 'pcdemo';
const RIGHT = 'demo-right-password';
const SBIN = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];
/** Program → the Debian package that brings it. */
const NEEDED: ReadonlyArray<readonly [string, string]> = [
  ['ip', 'iproute2'],
  ['nft', 'nftables'],
  ['sshd', 'openssh-server'],
  ['ssh', 'openssh-client'],
  ['rsyslogd', 'rsyslog'],
  ['openssl', 'openssl'],
  ['unshare', 'util-linux'],
];

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function run(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv = ENV): Promise<Run> {
  return new Promise((resolve) => {
    execFile(cmd, args, { encoding: 'utf8', env, timeout: 30000 }, (err, stdout, stderr) => {
      const status = err === null ? 0 : typeof err.code === 'number' ? err.code : null;
      resolve({ status, stdout, stderr: stderr || (err?.message ?? '') });
    });
  });
}

/** A long-running child in its own process group: stop = SIGTERM to the group, SIGKILL after `graceMs`. */
class Proc {
  private done = false;
  private readonly child: ChildProcess;
  constructor(argv: readonly string[], outFile: string) {
    const out = fs.openSync(outFile, 'a');
    this.child = spawn(argv[0] ?? 'true', argv.slice(1), { stdio: ['ignore', out, out], env: ENV, detached: true });
    fs.closeSync(out);
    this.child.on('exit', () => (this.done = true));
    this.child.on('error', () => (this.done = true));
  }
  get pid(): number | undefined {
    return this.child.pid;
  }
  exited(): boolean {
    return this.done;
  }
  async stop(graceMs: number): Promise<void> {
    const kids = descendants(this.child.pid);
    this.signal('SIGTERM');
    for (let t = 0; t < graceMs && !this.done; t += 20) await sleep(20);
    this.signal('SIGKILL');
    for (const k of kids) kill(k, 'SIGKILL');
    for (let t = 0; t < 5000 && !this.done; t += 20) await sleep(20);
  }
  private signal(sig: NodeJS.Signals): void {
    if (!this.done && this.child.pid !== undefined) kill(-this.child.pid, sig);
  }
}

function kill(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/** The pids below `pid` (sshd's per-connection processes may leave its process group). */
function descendants(pid: number | undefined): number[] {
  if (pid === undefined) return [];
  try {
    const kids = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    return kids.flatMap((k) => [k, ...descendants(k)]);
  } catch {
    return [];
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(what: string, done: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  for (const end = Date.now() + timeoutMs; !(await done()); await sleep(50)) {
    if (Date.now() > end) throw new DemoLabError(EX_SOFTWARE, `${what} did not happen within ${timeoutMs / 1000} s`);
  }
}

const tail = (file: string, lines = 15): string => {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
};

/** sshd's private mount namespace ($1 = the work directory), then sshd itself. */
const SSHD_MOUNTS = `set -e
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

/** Creates the real lab: `selfArgv` runs this program (`node …/portcullis`), `builtinConfigDir` is its `config/`. */
export function createDemoLab(opts: { readonly selfArgv: readonly string[]; readonly builtinConfigDir: string }): DemoLab {
  return new RealDemoLab(opts.selfArgv, opts.builtinConfigDir);
}

class RealDemoLab implements DemoLab {
  readonly host = '127.0.0.1';
  readonly attacker = '127.0.0.2';
  private ns: string | undefined;
  private dir = '';
  private readonly procs: Array<{ name: string; proc: Proc; graceMs: number }> = [];

  constructor(
    private readonly selfArgv: readonly string[],
    private readonly builtinConfigDir: string,
  ) {}

  private file(name: string): string {
    return path.join(this.dir, name);
  }

  private inNs(cmd: string, args: readonly string[], env?: NodeJS.ProcessEnv): Promise<Run> {
    return run('ip', ['netns', 'exec', this.ns ?? '', cmd, ...args], env);
  }

  private portcullis(args: readonly string[]): Promise<Run> {
    const [node = process.execPath, ...pre] = this.selfArgv;
    return run(node, [...pre, ...args, '-s', this.file('portcullis.sock')]);
  }

  check(): Promise<void> {
    if (process.getuid?.() !== 0) throw new DemoLabError(EX_NOPERM, 'portcullis demo needs root: it creates a network namespace, starts sshd and sets firewall rules there (run it with sudo)');
    const dirs = [...new Set([...(process.env.PATH ?? '').split(':').filter(Boolean), ...SBIN])];
    for (const [prog, pkg] of NEEDED) {
      if (!dirs.some((d) => fs.existsSync(path.join(d, prog)))) throw new DemoLabError(EX_UNAVAILABLE, `portcullis demo needs ${prog} (apt-get install ${pkg})`);
    }
    if (!fs.existsSync('/usr/sbin/sshd')) throw new DemoLabError(EX_UNAVAILABLE, 'portcullis demo needs /usr/sbin/sshd (apt-get install openssh-server)');
    return Promise.resolve();
  }

  async createNamespace(): Promise<{ namespace: string; dir: string }> {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portcullis-demo-'));
    fs.chmodSync(this.dir, 0o711); // the demo user's home below must be reachable for its session
    const name = `portcullis-demo-${randomBytes(3).toString('hex')}`;
    const add = await run('ip', ['netns', 'add', name]);
    if (add.status !== 0) throw new DemoLabError(EX_UNAVAILABLE, `cannot create the network namespace ${name}: ${add.stderr.trim()}`);
    this.ns = name;
    const up = await this.inNs('ip', ['link', 'set', 'lo', 'up']);
    if (up.status !== 0) throw new DemoLabError(EX_UNAVAILABLE, `cannot bring up the loopback interface in ${name}: ${up.stderr.trim()}`);
    return { namespace: name, dir: this.dir };
  }

  private start(name: string, argv: readonly string[], graceMs: number): Proc {
    const proc = new Proc(['ip', 'netns', 'exec', this.ns ?? '', ...argv], this.file(`${name}.out`));
    this.procs.push({ name, proc, graceMs });
    return proc;
  }

  private async started(name: string, proc: Proc, ready: () => boolean | Promise<boolean>): Promise<void> {
    await until(`${name} starting`, async () => proc.exited() || (await ready()), 30000);
    if (proc.exited()) throw new DemoLabError(EX_SOFTWARE, `${name} did not start:\n${tail(this.file(`${name}.out`))}`);
  }

  async startSyslog(): Promise<string> {
    const conf = this.file('rsyslog.conf');
    fs.mkdirSync(this.file('rsyslog'));
    fs.writeFileSync(
      conf,
      `global(workDirectory="${this.file('rsyslog')}")\nmodule(load="imuxsock" SysSock.Use="off")\n` +
        `input(type="imuxsock" Socket="${this.file('log.sock')}" CreatePath="on")\n` +
        `auth,authpriv.* action(type="omfile" file="${this.file('auth.log')}" template="RSYSLOG_TraditionalFileFormat")\n`,
    );
    const proc = this.start('rsyslogd', ['rsyslogd', '-n', '-f', conf, '-i', this.file('rsyslog.pid')], 5000);
    await this.started('rsyslogd', proc, () => fs.existsSync(this.file('log.sock')));
    return this.file('auth.log');
  }

  async startSshd(): Promise<{ port: number; user: string }> {
    const hash = await run('openssl', ['passwd', '-6', RIGHT]);
    if (hash.status !== 0) throw new DemoLabError(EX_SOFTWARE, `openssl passwd -6 failed: ${hash.stderr.trim()}`);
    const used = new Set(fs.readFileSync('/etc/passwd', 'utf8').split('\n').map((l) => Number(l.split(':')[2])));
    let uid = 61000;
    while (used.has(uid)) uid++;
    const gid = /^nogroup:[^:]*:(\d+):/m.exec(fs.readFileSync('/etc/group', 'utf8'))?.[1] ?? '65534';
    fs.mkdirSync(this.file('dev'));
    fs.mkdirSync(this.file('home'), { mode: 0o755 });
    fs.writeFileSync(this.file('passwd'), `${fs.readFileSync('/etc/passwd', 'utf8')}${USER}:x:${uid}:${gid}::${this.file('home')}:/bin/sh\n`);
    fs.writeFileSync(this.file('shadow'), `${fs.readFileSync('/etc/shadow', 'utf8')}${USER}:${hash.stdout.trim()}:19000:0:99999:7:::\n`, { mode: 0o600 });
    const key = this.file('ssh_host_ed25519_key');
    const kg = await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
    if (kg.status !== 0) throw new DemoLabError(EX_SOFTWARE, `ssh-keygen failed: ${kg.stderr.trim()}`);
    const config = [`Port ${SSHD_PORT}`, 'ListenAddress 127.0.0.1', `HostKey ${key}`, `PidFile ${this.file('sshd.pid')}`, 'SyslogFacility AUTH', 'LogLevel INFO', 'UsePAM yes'];
    config.push('PasswordAuthentication yes', 'KbdInteractiveAuthentication no', 'PubkeyAuthentication no', 'AuthorizedKeysFile none', 'PermitRootLogin no', `AllowUsers ${USER}`);
    fs.writeFileSync(this.file('sshd_config'), `${config.join('\n')}\n`);
    for (const [name, pw] of [['right', RIGHT], ['wrong', 'guess-123456']] as const) fs.writeFileSync(this.file(`askpass-${name}`), `#!/bin/sh\necho '${pw}'\n`, { mode: 0o755 });
    const proc = this.start('sshd', ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', SSHD_MOUNTS, 'sh', this.dir], 5000);
    const listening = `sshd[${String(proc.pid)}]: Server listening on 127.0.0.1 port ${SSHD_PORT}.`;
    await this.started('sshd', proc, () => tail(this.file('auth.log'), 50).includes(listening));
    return { port: SSHD_PORT, user: USER };
  }

  async startServer(): Promise<{ jailLocal: string; settings: string }> {
    const conf = this.file('config');
    fs.mkdirSync(conf);
    for (const name of fs.readdirSync(this.builtinConfigDir)) fs.symlinkSync(path.join(this.builtinConfigDir, name), path.join(conf, name));
    fs.writeFileSync(path.join(conf, 'fail2ban.local'), `[Definition]\nlogtarget = ${this.file('portcullis.log')}\ndbfile = ${this.file('portcullis.sqlite3')}\n`);
    const settings = [`port = ${SSHD_PORT}`, 'backend = auto', `logpath = ${this.file('auth.log')}`, 'maxretry = 3', 'findtime = 10m', 'bantime = 10m'];
    const jailLocal = path.join(conf, 'jail.local');
    fs.writeFileSync(
      jailLocal,
      '# portcullis demo: the built-in sshd jail on the demo sshd, banned after 3 failures.\n' +
        "# The built-in ignoreip (127.0.0.1/8) would cover the attacker's 127.0.0.2.\n" +
        `[sshd]\nenabled = true\n${settings.join('\n')}\nignoreip = 127.0.0.1/32 ::1\n`,
    );
    const args = ['server', '-f', '-x', '-c', conf, '-s', this.file('portcullis.sock'), '-p', this.file('portcullis.pid')];
    const proc = this.start('server', [...this.selfArgv, ...args], 20000);
    await this.started('server', proc, async () => (await this.portcullis(['status', 'sshd'])).status === 0);
    return { jailLocal, settings: settings.join(', ') };
  }

  async ssh(from: 'host' | 'attacker', password: 'right' | 'wrong'): Promise<{ outcome: SshOutcome; message: string }> {
    const opts = ['StrictHostKeyChecking=no', 'UserKnownHostsFile=/dev/null', 'GlobalKnownHostsFile=/dev/null', 'PreferredAuthentications=password'];
    opts.push('PubkeyAuthentication=no', 'NumberOfPasswordPrompts=1', 'ConnectTimeout=10', 'LogLevel=ERROR', 'BatchMode=no');
    const src = from === 'host' ? this.host : this.attacker;
    const env = { ...ENV, SSH_ASKPASS: this.file(`askpass-${password}`), SSH_ASKPASS_REQUIRE: 'force' };
    const r = await this.inNs('ssh', ['-F', '/dev/null', ...opts.flatMap((o) => ['-o', o]), '-b', src, '-p', String(SSHD_PORT), `${USER}@127.0.0.1`, 'true'], env);
    const message = r.stderr.trim().split('\n').pop() ?? '';
    const outcome: SshOutcome = r.status === 0 ? 'accepted' : /Connection refused/.test(r.stderr) ? 'refused' : /Permission denied/.test(r.stderr) ? 'denied' : 'other';
    return { outcome, message: r.status === 0 ? 'logged in' : message };
  }

  async jail(): Promise<JailCounts> {
    const r = await this.portcullis(['status', 'sshd', '--json']);
    if (r.status !== 0) throw new DemoLabError(EX_SOFTWARE, `portcullis status sshd failed: ${r.stderr.trim()}`);
    const j = JSON.parse(r.stdout) as { failed: { total: number }; banned: { current: number; addresses: string[] } };
    return { failedTotal: j.failed.total, bannedCurrent: j.banned.current, bannedList: j.banned.addresses };
  }

  async firewallSet(): Promise<readonly string[]> {
    const r = await this.inNs('nft', ['-j', 'list', 'set', 'inet', 'f2b-table', 'addr-set-sshd']);
    if (r.status !== 0) return [];
    const doc = JSON.parse(r.stdout) as { nftables?: Array<{ set?: { elem?: unknown[] } }> };
    return (doc.nftables ?? []).flatMap((i) => i.set?.elem ?? []).map((e) => (typeof e === 'string' ? e : JSON.stringify(e)));
  }

  async unban(ip: string): Promise<string> {
    const r = await this.portcullis(['unban', ip]);
    if (r.status !== 0) throw new DemoLabError(EX_SOFTWARE, `portcullis unban ${ip} failed: ${r.stderr.trim()}`);
    return r.stdout.trim();
  }

  serverLog(): string {
    return this.dir === '' ? '' : [tail(this.file('server.out')), tail(this.file('portcullis.log'))].filter(Boolean).join('\n');
  }

  async cleanup(): Promise<string[]> {
    const done: string[] = [];
    for (let p = this.procs.pop(); p !== undefined; p = this.procs.pop()) {
      await p.proc.stop(p.graceMs);
      done.push(`${p.name} stopped`);
    }
    if (this.ns !== undefined) {
      const del = await run('ip', ['netns', 'delete', this.ns]);
      done.push(del.status === 0 ? `namespace ${this.ns} deleted` : `could not delete namespace ${this.ns}: ${del.stderr.trim()}`);
      this.ns = undefined;
    }
    if (this.dir !== '') {
      fs.rmSync(this.dir, { recursive: true, force: true });
      done.push(`${this.dir} removed`);
      this.dir = '';
    }
    return done;
  }

  sleep(ms: number): Promise<void> {
    return sleep(ms);
  }

  onInterrupt(handler: () => void): () => void {
    process.on('SIGINT', handler);
    process.on('SIGTERM', handler);
    return () => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    };
  }
}
