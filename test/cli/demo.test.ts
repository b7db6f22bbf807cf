/**
 * `portcullis demo`: the narrative with a fake lab (order of the story, failures as sentences
 * with their exit codes, cleanup after success, error and Ctrl-C), then the real thing as root —
 * `node bin/portcullis demo` builds its namespace, sshd, rsyslogd and server, bans and unbans the
 * attacker, and leaves no namespace, process or directory behind (also when interrupted).
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runDemo } from '../../src/cli/demo.js';
import { DemoLabError, type DemoLab, type JailCounts, type SshOutcome } from '../../src/system/demoLab.js';
import { ROOT } from '../helpers/oracle.js';

/** An sshd jail in memory: the attacker's wrong passwords count, the third bans (unless `banComes` is false). */
class FakeLab implements DemoLab {
  readonly host = '127.0.0.1';
  readonly attacker = '127.0.0.2';
  now = 1_000_000;
  readonly clock = { nowMs: (): number => this.now };
  readonly calls: string[] = [];
  banComes = true;
  checkError: DemoLabError | undefined;
  /** Interrupt (as Ctrl-C) when the attacker's nth attempt starts; that attempt never ends. */
  interruptAtAttempt = 0;
  private failed = 0;
  private inSet = false;
  private attempts = 0;
  private handler: (() => void) | undefined;
  listening = false;
  private serverStarted = false;

  check(): Promise<void> {
    this.calls.push('check');
    return this.checkError ? Promise.reject(this.checkError) : Promise.resolve();
  }
  createNamespace(): Promise<{ namespace: string; dir: string }> {
    this.calls.push('namespace');
    return Promise.resolve({ namespace: 'portcullis-demo-fake', dir: '/tmp/portcullis-demo-fake' });
  }
  startSyslog(): Promise<string> {
    return Promise.resolve('/tmp/portcullis-demo-fake/auth.log');
  }
  startSshd(): Promise<{ port: number; user: string }> {
    return Promise.resolve({ port: 22, user: 'pcdemo' });
  }
  startServer(): Promise<{ jailLocal: string; settings: string }> {
    this.serverStarted = true;
    return Promise.resolve({ jailLocal: '/tmp/portcullis-demo-fake/config/jail.local', settings: 'maxretry = 3' });
  }
  ssh(from: 'host' | 'attacker', password: 'right' | 'wrong'): Promise<{ outcome: SshOutcome; message: string }> {
    this.now += 2000;
    if (from === 'host') return Promise.resolve(password === 'right' ? { outcome: 'accepted', message: 'logged in' } : { outcome: 'denied', message: 'Permission denied (password).' });
    if (++this.attempts === this.interruptAtAttempt) {
      this.handler?.();
      return new Promise(() => undefined);
    }
    if (this.inSet) return Promise.resolve({ outcome: 'refused', message: 'ssh: connect to host 127.0.0.1 port 22: Connection refused' });
    if (++this.failed >= 3 && this.banComes) this.inSet = true;
    return Promise.resolve({ outcome: 'denied', message: 'pcdemo@127.0.0.1: Permission denied (password).' });
  }
  jail(): Promise<JailCounts> {
    return Promise.resolve({ failedTotal: this.failed, bannedCurrent: this.inSet ? 1 : 0, bannedList: this.inSet ? [this.attacker] : [] });
  }
  firewallSet(): Promise<readonly string[]> {
    return Promise.resolve(this.inSet ? [this.attacker] : []);
  }
  unban(ip: string): Promise<string> {
    this.calls.push(`unban ${ip}`);
    this.inSet = false;
    return Promise.resolve(`${ip} unbanned in sshd`);
  }
  serverLog(): string {
    return this.serverStarted ? 'Jail sshd started' : '';
  }
  cleanup(): Promise<string[]> {
    this.calls.push('cleanup');
    return Promise.resolve(['server stopped', 'namespace portcullis-demo-fake deleted']);
  }
  sleep(ms: number): Promise<void> {
    this.now += ms;
    return Promise.resolve();
  }
  onInterrupt(handler: () => void): () => void {
    this.handler = handler;
    this.listening = true;
    return () => (this.listening = false);
  }
}

async function demo(lab: FakeLab): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runDemo({ stdout: (t) => (out += t), stderr: (t) => (err += t), clock: lab.clock }, lab);
  return { code, out, err };
}

/** Asserts that `patterns` match `text` in this order; returns the matches. */
function inOrder(text: string, patterns: readonly RegExp[]): RegExpExecArray[] {
  let at = 0;
  return patterns.map((p) => {
    const m = new RegExp(p.source, p.flags.replace('g', '') + 'g');
    m.lastIndex = at;
    const hit = m.exec(text);
    assert.ok(hit, `${String(p)} not found after offset ${at} in:\n${text}`);
    at = hit.index + hit[0].length;
    return hit;
  });
}

const STORY = [
  /built network namespace (\S+), work directory (\S+)\n/,
  /sshd listens on 127\.0\.0\.1 port \d+/,
  /portcullis server runs the built-in configuration/,
  /host 127\.0\.0\.1 logs in with the right password: accepted/,
  /attacker 127\.0\.0\.2, wrong password 1: .*Permission denied/,
  /Total failed 1\n/,
  /attacker 127\.0\.0\.2, wrong password 2: .*Permission denied/,
  /Total failed 2\n/,
  /attacker 127\.0\.0\.2, wrong password 3: .*Permission denied/,
  /BANNED: 127\.0\.0\.2 is in the nft set inet f2b-table addr-set-sshd \d+ ms after/,
  /portcullis status sshd: Total failed 3, Currently banned 1, Banned IP list 127\.0\.0\.2\n/,
  /attacker 127\.0\.0\.2 tries again: .*Connection refused/,
  /host 127\.0\.0\.1 still logs in: accepted/,
  /portcullis unban 127\.0\.0\.2/,
  /127\.0\.0\.2 is no longer in the firewall/,
  /reaches the password prompt: .*Permission denied/,
  /cleaning up/,
];

describe('portcullis demo: the narrative (fake lab)', () => {
  test('the whole story in order, then cleanup; exit 0', async () => {
    const lab = new FakeLab();
    const r = await demo(lab);
    assert.equal(r.err, '');
    assert.equal(r.code, 0);
    inOrder(r.out, [...STORY, /namespace portcullis-demo-fake deleted/, /Done: .*portcullis start/]);
    assert.match(r.out, /^\[ {2}0\.0s\] built network namespace/m, 'lines carry the elapsed time');
    assert.deepEqual(lab.calls, ['check', 'namespace', 'unban 127.0.0.2', 'cleanup']);
    assert.equal(lab.listening, false, 'the interrupt handler is removed');
  });

  test('the ban never comes: a clear sentence, the server log, exit 70, and cleanup still runs', async () => {
    const lab = new FakeLab();
    lab.banComes = false;
    const r = await demo(lab);
    assert.equal(r.code, 70);
    assert.match(r.err, /^portcullis demo: the ban did not come: 127\.0\.0\.2 was not in the firewall 15 s after its 3rd failure\n/);
    assert.match(r.err, /The server's last lines:\n {2}Jail sshd started/);
    assert.doesNotMatch(r.out, /BANNED|Done/);
    inOrder(r.out, [/wrong password 3/, /cleaning up/, /server stopped/, /namespace portcullis-demo-fake deleted/]);
    assert.deepEqual(lab.calls, ['check', 'namespace', 'cleanup']);
  });

  test('not root / a missing package: the lab\'s sentence and code; cleanup still runs', async () => {
    const lab = new FakeLab();
    lab.checkError = new DemoLabError(77, 'portcullis demo needs root: it creates a network namespace');
    const r = await demo(lab);
    assert.equal(r.code, 77);
    assert.match(r.err, /^portcullis demo: portcullis demo needs root: it creates a network namespace\n$/);
    assert.deepEqual(lab.calls, ['check', 'cleanup']);
  });

  test('Ctrl-C during a step: exit 130 at once, cleanup runs', async () => {
    const lab = new FakeLab();
    lab.interruptAtAttempt = 2;
    const r = await demo(lab);
    assert.equal(r.code, 130);
    assert.match(r.err, /^portcullis demo: interrupted/);
    inOrder(r.out, [/wrong password 1/, /cleaning up/, /namespace portcullis-demo-fake deleted/]);
    assert.deepEqual(lab.calls, ['check', 'namespace', 'cleanup']);
    assert.equal(lab.listening, false);
  });
});

interface DemoRun {
  readonly code: number | null;
  readonly out: string;
  readonly err: string;
}

/** `node bin/portcullis demo` in its own process group; `interruptWhen` sends SIGINT to the group (as Ctrl-C does). */
function runRealDemo(interruptWhen?: RegExp): Promise<DemoRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'portcullis'), 'demo'], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let out = '';
    let err = '';
    let sent = false;
    const killer = setTimeout(() => child.kill('SIGKILL'), 180000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (interruptWhen !== undefined && !sent && interruptWhen.test(out) && child.pid !== undefined) {
        sent = true;
        process.kill(-child.pid, 'SIGINT');
      }
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(killer);
      resolve({ code, out, err });
    });
  });
}

/** Nothing of the demo is left: its namespace, any process naming its directory, the directory. */
function assertNothingLeft(namespace: string, dir: string): void {
  assert.match(namespace, /^portcullis-demo-[0-9a-f]+$/);
  assert.match(dir, /portcullis-demo-/);
  const list = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  assert.equal(list.status, 0, list.stderr);
  assert.ok(!list.stdout.split('\n').some((l) => l.split(' ')[0] === namespace), `namespace ${namespace} is left:\n${list.stdout}`);
  const left = fs
    .readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .map((p) => {
      try {
        return `${p}: ${fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').replace(/\0/g, ' ')}`;
      } catch {
        return '';
      }
    })
    .filter((c) => c.includes(dir) || c.includes(namespace));
  assert.deepEqual(left, [], 'no sshd, rsyslogd or server of the demo is left');
  assert.ok(!fs.existsSync(dir), `${dir} is left`);
}

describe('portcullis demo: the real thing (root)', () => {
  test('node bin/portcullis demo: bans live, unbans, removes everything; exit 0', { timeout: 200000 }, async () => {
    const r = await runRealDemo();
    assert.equal(r.err, '', r.out);
    assert.equal(r.code, 0, `${r.out}\n${r.err}`);
    const [built] = inOrder(r.out, [...STORY, /server stopped/, /sshd stopped/, /rsyslogd stopped/, /namespace \S+ deleted/, /\S+ removed/, /Done: nothing of the demo is left/]);
    assertNothingLeft(built?.[1] ?? '', built?.[2] ?? '');
  });

  test('Ctrl-C in the middle: exit 130 and nothing left', { timeout: 200000 }, async () => {
    const r = await runRealDemo(/wrong password 1: /);
    assert.equal(r.code, 130, `${r.out}\n${r.err}`);
    assert.match(r.err, /^portcullis demo: interrupted/);
    const [built] = inOrder(r.out, [STORY[0] ?? /built/, /wrong password 1/, /cleaning up/, /server stopped/, /namespace \S+ deleted/, /\S+ removed/]);
    assertNothingLeft(built?.[1] ?? '', built?.[2] ?? '');
  });
});
