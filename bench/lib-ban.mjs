// Shared by bench/ban-latency.mjs: private network namespaces, the configuration both servers
// run, the two servers inside their namespaces, `nft monitor` with arrival times on this
// process' clock, /proc readings and the generated sshd lines. Everything started here is
// registered with `cleanup` so that an error or a signal still removes it.
import { execFile, execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';

export const ENV = { ...process.env, LANG: 'C.UTF-8', PYTHONDONTWRITEBYTECODE: '1' };
export const F2B_SERVER = '/usr/bin/fail2ban-server';
export const F2B_CLIENT = '/usr/bin/fail2ban-client';
export const JAIL = 'bench';
export const SET = `addr-set-${JAIL}`;
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// --- cleanup: everything started is undone in reverse order, also on SIGINT/SIGTERM ---------
const undo = [];
export function onCleanup(fn) {
  undo.push(fn);
  return () => {
    const i = undo.indexOf(fn);
    if (i >= 0) undo.splice(i, 1);
  };
}
export function cleanupAll() {
  while (undo.length > 0) {
    try {
      undo.pop()();
    } catch {
      /* best effort */
    }
  }
}
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    cleanupAll();
    process.exit(130);
  });
}

// --- network namespaces ----------------------------------------------------------------------
export function createNs(tag) {
  const name = `pc-bench-${tag}-${randomBytes(3).toString('hex')}`;
  execFileSync('ip', ['netns', 'add', name], { env: ENV });
  let removed = false;
  const ns = {
    name,
    exec: (cmd, args, opts = {}) => execFileSync('ip', ['netns', 'exec', name, cmd, ...args], { env: ENV, encoding: 'utf8', maxBuffer: 1 << 30, ...opts }),
    remove() {
      if (removed) return;
      removed = true;
      spawnSync('ip', ['netns', 'delete', name], { env: ENV });
    },
  };
  onCleanup(() => ns.remove());
  ns.exec('ip', ['link', 'set', 'lo', 'up']);
  return ns;
}

/** The addresses in the namespace's set (empty when the set does not exist yet). */
export function setElements(ns, set = SET) {
  let out;
  try {
    out = ns.exec('nft', ['-j', 'list', 'set', 'inet', 'f2b-table', set], { stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return [];
  }
  const res = [];
  for (const item of JSON.parse(out).nftables ?? []) {
    for (const e of item.set?.elem ?? []) res.push(typeof e === 'string' ? e : (e.elem?.val ?? String(e)));
  }
  return res;
}

// --- the configuration tree (the same for both servers) --------------------------------------
/** Copies a stock file and, recursively, what its [INCLUDES] before/after name (.local only when present). */
function copyStock(kind, name, destDir, seen = new Set()) {
  if (seen.has(name)) return;
  seen.add(name);
  const src = path.join('/etc/fail2ban', kind, name);
  if (!fs.existsSync(src)) {
    if (name.endsWith('.local')) return;
    throw new Error(`${src} is missing (Debian's fail2ban package is needed)`);
  }
  const text = fs.readFileSync(src, 'utf8');
  fs.writeFileSync(path.join(destDir, name), text);
  let inIncludes = false;
  for (const line of text.split('\n')) {
    const section = /^\[([^\]]+)\]/.exec(line);
    if (section) inIncludes = section[1] === 'INCLUDES';
    const inc = inIncludes ? /^(before|after)\s*=\s*(.*)$/.exec(line) : null;
    if (inc) for (const f of inc[2].trim().split(/\s+/).filter(Boolean)) copyStock(kind, f, destDir, seen);
  }
}

/**
 * DIR/fail2ban.conf, DIR/jail.conf (one jail: the stock sshd filter, the stock nftables-multiport
 * action, backend auto, maxretry 3, findtime and bantime one day), the stock filter and action
 * files copied from /etc/fail2ban at run time, and the empty log DIR/auth.log.
 */
export function writeTree(dir) {
  fs.mkdirSync(path.join(dir, 'filter.d'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'action.d'), { recursive: true });
  fs.writeFileSync(
    path.join(dir, 'fail2ban.conf'),
    `[Definition]\nloglevel = INFO\nlogtarget = ${dir}/f2b.log\nsocket = ${dir}/f2b.sock\npidfile = ${dir}/f2b.pid\ndbfile = ${dir}/f2b.sqlite3\n`,
  );
  fs.writeFileSync(
    path.join(dir, 'jail.conf'),
    `[DEFAULT]\nignoreself = false\n\n[${JAIL}]\nenabled = true\nfilter = sshd\nbackend = auto\nlogpath = ${dir}/auth.log\n` +
      `maxretry = 3\nfindtime = 1d\nbantime = 1d\naction = nftables-multiport[name=${JAIL}, port="22", protocol=tcp]\n`,
  );
  copyStock('filter.d', 'sshd.conf', path.join(dir, 'filter.d'));
  copyStock('action.d', 'nftables-multiport.conf', path.join(dir, 'action.d'));
  fs.writeFileSync(path.join(dir, 'auth.log'), '');
}

// --- the servers -----------------------------------------------------------------------------
export function client(dir, args) {
  return new Promise((resolve) => {
    execFile(F2B_CLIENT, ['-s', path.join(dir, 'f2b.sock'), ...args], { env: ENV, encoding: 'utf8', timeout: 60000, maxBuffer: 256 << 20 }, (err, stdout) =>
      resolve({ ok: err === null, stdout }),
    );
  });
}

/** `Total failed` of the jail (-1 when the server does not answer). */
export async function totalFailed(dir) {
  const r = await client(dir, ['status', JAIL]);
  const m = /Total failed:\s+(\d+)/.exec(r.stdout);
  return r.ok && m ? Number(m[1]) : -1;
}

/**
 * `SERVER -f -x -c DIR -s DIR/f2b.sock -p DIR/f2b.pid` inside the namespace (`ip netns exec`
 * execs, so the child's pid is the server's); waits until it answers `ping` (Debian's client for
 * both: the same protocol).
 */
export async function startServer(side, ns, dir, pcRoot) {
  const argv = ['-f', '-x', '-c', dir, '-s', path.join(dir, 'f2b.sock'), '-p', path.join(dir, 'f2b.pid')];
  const cmd = side === 'real' ? [F2B_SERVER, ...argv] : [process.execPath, path.join(pcRoot, 'bin', 'fail2ban-server'), ...argv];
  const out = fs.openSync(path.join(dir, 'server.out'), 'a');
  const child = spawn('ip', ['netns', 'exec', ns.name, ...cmd], { stdio: ['ignore', out, out], env: ENV });
  fs.closeSync(out);
  let exited = false;
  child.on('exit', () => (exited = true));
  const kill = () => {
    if (!exited) child.kill('SIGKILL');
  };
  const forget = onCleanup(kill);
  const server = {
    side,
    dir,
    pid: child.pid,
    async stop() {
      if (!exited) await client(dir, ['stop']);
      const until = Date.now() + 60000;
      while (!exited && Date.now() < until) await sleep(50);
      kill();
      forget();
    },
  };
  const until = Date.now() + 60000;
  while (!(await client(dir, ['ping'])).ok) {
    if (exited || Date.now() > until) {
      kill();
      throw new Error(`${side} server did not start in ${ns.name}:\n${fs.readFileSync(path.join(dir, 'server.out'), 'utf8')}`);
    }
    await sleep(100);
  }
  return server;
}

/** The backend the jail's log reader uses, from the server's own log (for the report). */
export function backendOf(dir) {
  const log = fs.existsSync(path.join(dir, 'f2b.log')) ? fs.readFileSync(path.join(dir, 'f2b.log'), 'utf8') : '';
  return /Jail '[^']+' uses (\w+)/.exec(log)?.[1] ?? 'unknown';
}

// --- nft monitor -----------------------------------------------------------------------------
/**
 * `nft monitor new elements` inside the namespace (nft flushes each event: no stdbuf needed).
 * Every address added to SET is stamped with performance.now() when its line arrives here.
 */
export class Monitor {
  constructor(ns, set = SET) {
    this.seen = new Map();
    this.buf = '';
    this.watchers = new Set();
    const prefix = `add element inet f2b-table ${set} {`;
    this.child = spawn('ip', ['netns', 'exec', ns.name, 'nft', 'monitor', 'new', 'elements'], { stdio: ['ignore', 'pipe', 'ignore'], env: ENV });
    this.forget = onCleanup(() => this.stop());
    this.child.stdout.setEncoding('utf8');
    this.child.stdout.on('data', (chunk) => {
      const t = performance.now();
      const lines = (this.buf + chunk).split('\n');
      this.buf = lines.pop();
      let added = false;
      for (const line of lines) {
        if (!line.startsWith(prefix)) continue;
        const body = line.slice(prefix.length, line.lastIndexOf('}'));
        for (const e of body.split(',')) {
          const ip = e.trim().split(' ')[0];
          if (ip && !this.seen.has(ip)) {
            this.seen.set(ip, t);
            added = true;
          }
        }
      }
      if (added) for (const w of this.watchers) w();
    });
  }

  /** Resolves with the arrival time once `check()` holds (checked on every event), or null at the deadline. */
  until(check, timeoutMs) {
    return new Promise((resolve) => {
      const done = (v) => {
        clearTimeout(timer);
        this.watchers.delete(w);
        resolve(v);
      };
      const w = () => {
        if (check()) done(performance.now());
      };
      const timer = setTimeout(() => done(null), timeoutMs);
      this.watchers.add(w);
      w();
    });
  }

  stop() {
    if (this.child.exitCode === null) this.child.kill();
    this.forget();
  }
}

// --- /proc -----------------------------------------------------------------------------------
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

function statFields(pid) {
  const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return s.slice(s.lastIndexOf(')') + 2).split(' ');
}

/** The live descendants of a process (every /proc/N/stat read for its parent pid). */
function liveDescendants(pid) {
  const parent = new Map();
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      parent.set(Number(d), Number(statFields(d)[1]));
    } catch {
      // exited meanwhile
    }
  }
  const out = [];
  const walk = (p) => {
    for (const [c, pp] of parent) if (pp === p) out.push(c), walk(c);
  };
  walk(pid);
  return out;
}

/**
 * CPU seconds of the process itself (utime+stime) and of its children: those it has waited for
 * (cutime+cstime: the action's shells and their nft) plus those still running (a persistent
 * `nft -i` session is counted by its own utime+stime, else it would be invisible until it exits).
 */
export function cpuOf(pid) {
  const f = statFields(pid);
  let children = (Number(f[13]) + Number(f[14])) / CLK_TCK;
  for (const d of liveDescendants(pid)) {
    try {
      const g = statFields(d);
      children += (Number(g[11]) + Number(g[12]) + Number(g[13]) + Number(g[14])) / CLK_TCK;
    } catch {
      // gone in between: its time is in its parent's cutime by now
    }
  }
  return { self: (Number(f[11]) + Number(f[12])) / CLK_TCK, children };
}

/** VmHWM / VmRSS of the process in KiB. */
export function memOf(pid) {
  const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (k) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? NaN);
  return { hwm: kib('VmHWM'), rss: kib('VmRSS') };
}

// --- log lines -------------------------------------------------------------------------------
const MON = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
let pid = 2000;
/** The syslog prefix of now, local time: `Nov 22 07:39:02 gate `. */
export function prefix() {
  const d = new Date();
  const p = (n) => String(n).padStart(2, '0');
  return `${MON[d.getMonth()]} ${String(d.getDate()).padStart(2, ' ')} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())} gate `;
}
const FAIL = [
  (ip, n) => `sshd[${n}]: Failed password for root from ${ip} port ${20000 + (n % 40000)} ssh2`,
  (ip, n) => `sshd[${n}]: Failed password for invalid user admin from ${ip} port ${20000 + (n % 40000)} ssh2`,
  (ip, n) => `sshd[${n}]: Invalid user oracle from ${ip} port ${20000 + (n % 40000)}`,
];
const NOISE = [
  (n) => `CRON[${n}]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)`,
  (n) => `sshd[${n}]: Accepted publickey for deploy from 192.168.77.5 port ${20000 + (n % 40000)} ssh2: ED25519 SHA256:0123456789abcdefghijklmnopqrstuvwxyzABCDEFG`,
  (n) => `systemd-logind[412]: New session ${n} of user deploy.`,
];
/** One sshd failure line for `ip` (a new sshd pid each, as one connection per attempt). */
export function failLine(ip, pre = prefix()) {
  pid++;
  return `${pre}${FAIL[pid % FAIL.length](ip, pid)}\n`;
}
/** One line no failregex matches. */
export function noiseLine(pre = prefix()) {
  pid++;
  return `${pre}${NOISE[pid % NOISE.length](pid)}\n`;
}

/** Address number i (0-based) in 10.0.0.0/8 (attackers), 172.16.0.0/12 (benign) or 198.18.0.0/15 (latency). */
const quad = (n) => `${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
export const attackerIp = (i) => `10.${quad(i + 1)}`;
export const benignIp = (i) => `172.${16 + (((i + 1) >> 16) & 15)}.${quad(i + 1).split('.').slice(1).join('.')}`;
export const latencyIp = (i) => `198.18.${(i >> 8) & 255}.${(i & 255) + 1}`;

// --- statistics ------------------------------------------------------------------------------
export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? NaN : s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
/** Nearest rank. */
export const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};
