/**
 * Firewall daemons for end-to-end tests (firewalld, ufw) without touching the host: a *sandbox* is
 * a private network namespace plus a private mount namespace (`ip netns exec NS unshare --mount
 * --propagation private`) held open by one `sleep` process; inside it /run is a tmpfs and the
 * daemon's configuration directories are bind mounts of copies in the test's directory. Every
 * other process joins both namespaces with `nsenter -t HOLDER -m -n` (nsenter execs: the child
 * is the program itself). firewalld gets a private D-Bus system bus (its own `dbus-daemon` on a
 * socket in the test's directory, `DBUS_SYSTEM_BUS_ADDRESS` for firewalld, firewall-cmd and
 * portcullis' server; the policy is the session bus's, everything allowed: the eavesdrop rules
 * also allow receiving, without them replies are rejected); no polkit there, so firewalld
 * authorises root by its uid.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createNetns, serverReady, type Netns, type NsServer } from './netns.js';
import { ROOT, type RunResult } from './oracle.js';
import { sleep, waitFor } from './servers.js';

type Env = Readonly<Record<string, string>>;

/** A process started in a sandbox: SIGTERM, then SIGKILL after a deadline (idempotent). */
export interface Proc {
  readonly child: ChildProcess;
  exited(): boolean;
  exitCode(): number | null;
  stop(): Promise<void>;
}

export interface Sandbox {
  readonly ns: Netns;
  /** `nsenter … --`: the argv prefix that runs a command inside. */
  readonly enter: readonly string[];
  run(cmd: string, args: readonly string[], env?: Env): RunResult;
  start(argv: readonly string[], outFile: string, env?: Env): Proc;
  /** Stops what was started in it (last first), the holder, and deletes the namespace. */
  remove(): Promise<void>;
}

const BASE_ENV = { ...process.env, LANG: 'C.UTF-8' };

function startProc(argv: readonly string[], outFile: string, env: Env): Proc {
  const out = fs.openSync(outFile, 'a');
  const [cmd = '', ...args] = argv;
  const child = spawn(cmd, args, { stdio: ['ignore', out, out], env: { ...BASE_ENV, ...env } });
  fs.closeSync(out);
  let done = false;
  let code: number | null = null;
  child.on('exit', (c) => ((done = true), (code = c)));
  child.on('error', () => (done = true));
  return {
    child,
    exited: () => done,
    exitCode: () => code,
    async stop() {
      if (!done) child.kill('SIGTERM');
      for (let i = 0; i < 300 && !done; i++) await sleep(50);
      if (!done) child.kill('SIGKILL');
      for (let i = 0; i < 100 && !done; i++) await sleep(50);
    },
  };
}

/** `binds`: [copy in the test's directory, path inside] — the copy is mounted over the path. */
export async function createSandbox(prefix: string, dir: string, binds: ReadonlyArray<readonly [string, string]>): Promise<Sandbox> {
  const ns = createNetns(prefix);
  const ready = path.join(dir, `${ns.name}.ready`);
  const script = 'set -e; mount -t tmpfs -o mode=0755 tmpfs /run; r=$1; shift; while [ $# -gt 0 ]; do mount --bind "$1" "$2"; shift 2; done; touch "$r"; exec sleep infinity';
  const holder = startProc(['ip', 'netns', 'exec', ns.name, 'unshare', '--mount', '--propagation', 'private', 'sh', '-c', script, 'sh', ready, ...binds.flat()], path.join(dir, 'sandbox.out'), {});
  const procs: Proc[] = [];
  const enter = ['nsenter', '-t', String(holder.child.pid), '-m', '-n', '--'];
  const sb: Sandbox = {
    ns,
    enter,
    run(cmd, args, env = {}) {
      const r = spawnSync(enter[0] ?? '', [...enter.slice(1), cmd, ...args], { encoding: 'utf8', env: { ...BASE_ENV, ...env }, timeout: 60000 });
      return { stdout: r.stdout, stderr: r.stderr, status: r.status };
    },
    start(argv, outFile, env = {}) {
      const p = startProc([...enter, ...argv], outFile, env);
      procs.push(p);
      return p;
    },
    async remove() {
      for (const p of procs.reverse()) await p.stop();
      await holder.stop();
      ns.remove();
    },
  };
  try {
    await waitFor(`the sandbox's mounts (${path.join(dir, 'sandbox.out')})`, () => fs.existsSync(ready) || holder.exited(), 30000);
    if (holder.exited()) throw new Error(`cannot make the sandbox: ${fs.readFileSync(path.join(dir, 'sandbox.out'), 'utf8')}`);
  } catch (e) {
    await sb.remove();
    throw e;
  }
  return sb;
}

export interface Firewalld {
  /** `DBUS_SYSTEM_BUS_ADDRESS` for firewall-cmd and the server. */
  readonly env: Env;
  cmd(args: readonly string[]): RunResult;
}

const BUS_CONF = (socket: string): string => `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=${socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="root"/>
    <allow own="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
  </policy>
</busconfig>
`;

/** Copies /etc/firewalld for {@link createSandbox}'s binds. */
export function firewalldBinds(dir: string): Array<[string, string]> {
  const etc = path.join(dir, 'etc-firewalld');
  fs.cpSync('/etc/firewalld', etc, { recursive: true });
  return [[etc, '/etc/firewalld']];
}

/** dbus-daemon and `firewalld --nofork --nopid` in the sandbox; resolves once firewall-cmd --state says running. */
export async function startFirewalld(sb: Sandbox, dir: string): Promise<Firewalld> {
  const socket = path.join(dir, 'system_bus');
  fs.writeFileSync(path.join(dir, 'bus.conf'), BUS_CONF(socket));
  sb.start(['dbus-daemon', `--config-file=${path.join(dir, 'bus.conf')}`, '--nofork', '--nopidfile'], path.join(dir, 'dbus.out'));
  await waitFor('the private system bus', () => fs.existsSync(socket));
  const env = { DBUS_SYSTEM_BUS_ADDRESS: `unix:path=${socket}` };
  const out = path.join(dir, 'firewalld.out');
  const fwd = sb.start(['firewalld', '--nofork', '--nopid', '--log-target', 'console'], out, env);
  const cmd = (args: readonly string[]): RunResult => sb.run('firewall-cmd', args, env);
  const until = Date.now() + 90000;
  while (cmd(['--state']).stdout.trim() !== 'running') {
    if (fwd.exited() || Date.now() > until) throw new Error(`firewalld did not start (exited: ${String(fwd.exited())}):\n${fs.readFileSync(out, 'utf8').slice(-4000)}`);
    await sleep(200);
  }
  return { env, cmd };
}

/** portcullis' `fail2ban-server -f -x -c DIR` in the sandbox; resolves once it answers `ping`. */
export async function startServerInSandbox(sb: Sandbox, dir: string, env: Env = {}): Promise<NsServer> {
  const socket = path.join(dir, 'f2b.sock');
  const argv = [process.execPath, path.join(ROOT, 'bin', 'fail2ban-server'), '-f', '-x', '-c', dir, '-s', socket, '-p', path.join(dir, 'f2b.pid')];
  const p = sb.start(argv, path.join(dir, 'server.out'), env);
  return serverReady(p.child, socket, dir, "portcullis' server did not start");
}

/** A tcp listener on `port` (all addresses) in the sandbox, answering `hi`. */
export function listen(sb: Sandbox, dir: string, port: number): Proc {
  const js = `require('node:net').createServer((s) => s.end('hi\\n')).listen(${port})`;
  return sb.start([process.execPath, '-e', js], path.join(dir, 'listener.out'));
}

/**
 * Connects from `src` to `dst:port`, run with the argv prefix `enter` (a namespace): `connected`,
 * `refused`, `timeout` (after 3 s: dropped), or another error code.
 */
export function connect(enter: readonly string[], src: string, dst: string, port: number): string {
  const js = `const s = require('node:net').connect({ host: ${JSON.stringify(dst)}, port: ${port}, localAddress: ${JSON.stringify(src)}, timeout: 3000 });
s.on('data', () => { console.log('connected'); s.destroy(); });
s.on('timeout', () => { console.log('timeout'); s.destroy(); });
s.on('error', (e) => console.log(e.code === 'ECONNREFUSED' ? 'refused' : String(e.code)));`;
  const [cmd = '', ...pre] = enter;
  const r = spawnSync(cmd, [...pre, process.execPath, '-e', js], { encoding: 'utf8', env: BASE_ENV, timeout: 30000 });
  return r.stdout.trim() || `(no outcome: ${r.stderr.trim()})`;
}

/** `n` sshd "Failed password" lines from `ip`, timestamped now (syslog's traditional format). */
export function sshdFailures(ip: string, n: number): string {
  const d = new Date();
  const p = (x: number): string => String(x).padStart(2, '0');
  const month = d.toLocaleString('en-US', { month: 'short' });
  const stamp = `${month} ${String(d.getDate()).padStart(2, ' ')} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
  return Array.from({ length: n }, (_, i) => `${stamp} host sshd[${1000 + i}]: Failed password for root from ${ip} port ${40000 + i} ssh2\n`).join('');
}

const STOCK = '/etc/fail2ban';

/**
 * `-c DIR` as an admin's: Debian's files by symlink (jail.d left out), action.d a directory of
 * symlinks to the stock actions plus the test's `.local` files, and fail2ban.local / jail.local.
 */
export function writeStockTree(dir: string, jailLocal: string, actionLocals: Readonly<Record<string, string>> = {}): void {
  for (const name of fs.readdirSync(STOCK)) {
    if (name === 'fail2ban.conf' || name === 'jail.conf' || name === 'filter.d' || /^paths-.*\.conf$/.test(name)) fs.symlinkSync(path.join(STOCK, name), path.join(dir, name));
  }
  fs.mkdirSync(path.join(dir, 'action.d'));
  for (const name of fs.readdirSync(path.join(STOCK, 'action.d'))) fs.symlinkSync(path.join(STOCK, 'action.d', name), path.join(dir, 'action.d', name));
  for (const [name, body] of Object.entries(actionLocals)) fs.writeFileSync(path.join(dir, 'action.d', name), body);
  fs.writeFileSync(path.join(dir, 'fail2ban.local'), `[Definition]\nloglevel = HEAVYDEBUG\nlogtarget = ${dir}/f2b.log\ndbfile = ${dir}/f2b.sqlite3\n`);
  fs.writeFileSync(path.join(dir, 'jail.local'), jailLocal);
}

/** The commands the server ran through a shell (`-- exec:` entries of its HEAVYDEBUG log, scripts of several lines whole) matching `what`. */
export function execs(dir: string, what: RegExp): string[] {
  const entries = fs.readFileSync(path.join(dir, 'f2b.log'), 'utf8').split(/\n(?=\d{4}-\d\d-\d\d \d\d:)/);
  return entries.filter((e) => e.includes(' -- exec: ') && what.test(e));
}

/** `portcullis ARGS -s DIR/f2b.sock` (it must succeed): its output. */
export function portcullis(dir: string, args: readonly string[]): string {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'portcullis'), ...args, '-s', path.join(dir, 'f2b.sock')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`portcullis ${args.join(' ')}: exit ${String(r.status)}: ${r.stderr}`);
  return r.stdout;
}
