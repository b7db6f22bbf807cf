/**
 * The ignore rules at daemon level, side by side with Debian's real fail2ban-server: the same
 * configuration and log lines on both, then what got banned (the recording action), `status JAIL`,
 * `get JAIL ignoreip|ignoreself|ignorecommand`, the server logs' `[jail] Ignore <ip> by <source>`
 * lines and fail2ban.ipdns' `Unable to find a corresponding IP address for <name>: <error>`
 * warnings, and `addignoreip` / `delignoreip` at run time. Rules covered: a single address, a
 * network, host names that resolve without network (`localhost`) and one that does not
 * (`no-such-host.invalid`, also a failure's host with usedns = yes), ignoreself true/false with
 * lines from 127.0.0.1, ::1 and this host's own address, an ignorecommand on `<ip>` (exit 0, 1 and
 * 2) and one on `<F-USER>`. `file:` lists are newer than Debian's fail2ban 1.0.2 (which refuses
 * them), so they are checked on portcullis alone, with the file changed while the server runs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { appendLines, failLine, recordedBans, serverLog, writeTree, type JailSpec } from '../helpers/daemonTree.js';
import { needOracle } from '../helpers/oracle.js';
import { cleanup, sleep, startServer, tempDir, waitFor, type RunningServer, type Side } from '../helpers/servers.js';

/** Failures that every jail bans, one per round: once it is recorded, every line before it was processed. */
const SENTINEL = ['192.0.2.250', '192.0.2.251'] as const;

/** This host's own address on a real interface (not a self IP for fail2ban unless the host name resolves to it). */
function ownAddress(): string | undefined {
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) if (!a.internal && a.family === 'IPv4') return a.address;
  }
  return undefined;
}

const SCRIPTS: Record<string, string> = {
  // 0: ignore, 1: do not, anything else: the command failed (fail2ban then does not ignore).
  'ign-ip.sh': '#!/bin/sh\ncase "$1" in 192.0.2.60) exit 0;; 192.0.2.62) exit 2;; *) exit 1;; esac\n',
  'ign-user.sh': '#!/bin/sh\n[ "$1" = trusted ] && exit 0\nexit 1\n',
};

function jails(dir: string): JailSpec[] {
  return [
    { name: 'jip', maxretry: 1, extra: 'ignoreself = false\nignoreip = 192.0.2.50 198.51.100.0/24 localhost no-such-host.invalid' },
    { name: 'jself', maxretry: 1 },
    { name: 'jnoself', maxretry: 1, extra: 'ignoreself = false' },
    { name: 'jcmd', maxretry: 1, extra: `ignoreself = false\nignorecommand = ${dir}/ign-ip.sh <ip>` },
    { name: 'jcmdu', maxretry: 1, extra: `ignoreself = false\nignorecommand = ${dir}/ign-user.sh <F-USER>` },
    { name: 'jdns', maxretry: 1, extra: 'ignoreself = false\nusedns = yes' },
  ];
}

function setUp(dir: string): void {
  writeTree(dir, jails(dir), SCRIPTS);
  for (const f of Object.keys(SCRIPTS)) fs.chmodSync(path.join(dir, f), 0o755);
}

/** The failures of one round, per jail (the same text goes to both servers). */
function round1(own: string | undefined): Record<string, string[]> {
  const at = Date.now() - 5000;
  const line = (ip: string, user = 'u'): string => failLine(ip, user, at);
  const selfLines = ['127.0.0.1', '::1', ...(own !== undefined ? [own] : [])].map((ip) => line(ip));
  return {
    jip: ['192.0.2.50', '198.51.100.7', '127.0.0.1', '192.0.2.51'].map((ip) => line(ip)),
    jself: selfLines,
    jnoself: selfLines,
    jcmd: ['192.0.2.60', '192.0.2.61', '192.0.2.62'].map((ip) => line(ip)),
    jcmdu: [line('192.0.2.70', 'trusted'), line('192.0.2.71', 'mallory')],
    jdns: [line('unknown-host.invalid'), line('localhost')],
  };
}

/** Appends each jail's lines and the sentinel to both trees, then waits until both servers banned the sentinel everywhere. */
async function feed(dirs: Record<Side, string>, lines: Record<string, string[]>, sentinel: string): Promise<void> {
  const at = Date.now() - 5000;
  for (const [jail, ls] of Object.entries(lines)) {
    for (const d of Object.values(dirs)) appendLines(path.join(d, `${jail}.log`), [...ls, failLine(sentinel, 'sentinel', at)]);
  }
  for (const [side, d] of Object.entries(dirs)) {
    await waitFor(`${side}: sentinel bans`, () => Object.keys(lines).every((j) => recordedBans(d, j).some((b) => b.ip === sentinel)), 60000);
  }
}

/** `logger level message` of the log lines a comparison looks at (time and pid dropped). */
function logLines(dir: string, keep: (message: string) => boolean): string[] {
  const out: string[] = [];
  for (const m of serverLog(dir).matchAll(/^\S+ \S+ (\S+)\s*\[\d+\]: (\S+)\s+(.*)$/gm)) {
    const msg = m[3] ?? '';
    if (keep(msg)) out.push(`${m[1] ?? ''} ${m[2] ?? ''} ${msg}`);
  }
  return out;
}

/**
 * What a jail's failure side logged (Ignore, Found) plus the ipdns warnings for names only this
 * jail looks up, in order, then (after a `--`) what its ban side logged. The jails, and in fail2ban
 * a jail's two sides, run independently, so only the order within each is defined.
 */
function jailLog(dir: string, jail: string, names: readonly string[]): string[] {
  const lines = logLines(dir, (msg) => msg.startsWith(`[${jail}] `) || names.some((n) => msg.startsWith(`Unable to find a corresponding IP address for ${n}:`)));
  const bans = lines.filter((l) => l.startsWith('fail2ban.actions '));
  return [...lines.filter((l) => !l.startsWith('fail2ban.actions ')), '--', ...bans];
}

/**
 * An ignoreip listing with its single addresses sorted: fail2ban keeps them in a Python set of
 * IPAddr, hashed by their text, so their order changes from one process to the next
 * (PYTHONHASHSEED); networks and names come first, in the order they were added.
 */
function singlesSorted(text: string): string {
  const head = 'These IP addresses/networks are ignored:\n';
  if (!text.startsWith(head)) return text;
  const entries = text.slice(head.length).trimEnd().split('\n').map((l) => l.slice(3));
  const single = (e: string): boolean => !e.includes('/') && (e.includes(':') || /^[\d.]+$/.test(e));
  const ordered = [...entries.filter((e) => !single(e)), ...entries.filter(single).sort()];
  return head + ordered.map((e, i) => (i === ordered.length - 1 ? '`- ' : '|- ') + e).join('\n') + '\n';
}

const LOG_NAMES: Record<string, readonly string[]> = { jip: ['no-such-host.invalid'], jdns: ['unknown-host.invalid'] };

test('ignoreip, ignoreself, ignorecommand and DNS names as Debian fail2ban-server', { timeout: 240000 }, async (t) => {
  if (!needOracle(t, 'fail2ban-server')) return;
  const base = tempDir('pc-ign-sbs-');
  const servers: RunningServer[] = [];
  cleanup(t, base, servers);
  const dirs: Record<Side, string> = { real: path.join(base, 'real'), ours: path.join(base, 'ours') };
  for (const d of Object.values(dirs)) setUp(d);
  for (const side of ['real', 'ours'] as const) servers.push(await startServer(side, dirs[side]));
  const [real, ours] = servers as [RunningServer, RunningServer];
  const norm = (text: string, s: RunningServer): string => singlesSorted(text.split(s.dir).join('<DIR>'));
  const compare = (args: string[]): void => {
    const r = real.client(args);
    const o = ours.client(args);
    assert.equal(norm(o.stdout, ours), norm(r.stdout, real), `stdout of ${args.join(' ')}`);
    assert.equal(o.status, r.status, `exit code of ${args.join(' ')}`);
  };
  const names = jails('<DIR>').map((j) => j.name);
  const bans = (s: RunningServer, jail: string): string[] => recordedBans(s.dir, jail).map((b) => `${b.ip} ${b.user}`);
  const compareJails = (when: string): void => {
    for (const j of names) {
      assert.deepEqual(bans(ours, j), bans(real, j), `${when}: bans of ${j}`);
      assert.deepEqual(jailLog(ours.dir, j, LOG_NAMES[j] ?? []), jailLog(real.dir, j, LOG_NAMES[j] ?? []), `${when}: log of ${j}`);
      compare(['status', j]);
    }
  };

  await feed(dirs, round1(ownAddress()), SENTINEL[0]);
  compareJails('round 1');
  // The outcome itself, so that an agreement on nothing cannot pass.
  assert.deepEqual(bans(real, 'jip'), ['192.0.2.51 u', `${SENTINEL[0]} sentinel`]);
  assert.deepEqual(bans(real, 'jcmd'), ['192.0.2.61 u', '192.0.2.62 u', `${SENTINEL[0]} sentinel`]);
  assert.deepEqual(bans(real, 'jcmdu'), ['192.0.2.71 mallory', `${SENTINEL[0]} sentinel`]);
  assert.ok(jailLog(real.dir, 'jip', LOG_NAMES.jip ?? []).some((l) => l.startsWith('fail2ban.ipdns WARNING Unable to find a corresponding IP address for no-such-host.invalid: ')));

  for (const j of names) {
    for (const what of ['ignoreip', 'ignoreself', 'ignorecommand']) compare(['get', j, what]);
  }
  // At run time: a new single address, one removed, a duplicate, one that is not there.
  compare(['set', 'jip', 'addignoreip', '203.0.113.9']);
  compare(['set', 'jip', 'delignoreip', '192.0.2.50']);
  compare(['set', 'jip', 'addignoreip', '203.0.113.9']);
  compare(['set', 'jip', 'delignoreip', '192.0.2.99']);
  compare(['set', 'jip', 'addignoreip', '2001:db8::/32']);
  compare(['get', 'jip', 'ignoreip']);
  compare(['set', 'jnoself', 'ignoreself', 'true']);
  compare(['set', 'jself', 'ignoreself', 'false']);
  compare(['set', 'jcmd', 'ignorecommand', `test <ip> != ${SENTINEL[1]}`]);
  compare(['get', 'jcmd', 'ignorecommand']);

  const at = Date.now() - 5000;
  const line = (ip: string): string => failLine(ip, 'r2', at);
  await feed(
    dirs,
    {
      jip: ['203.0.113.9', '192.0.2.50', '2001:db8::5', '192.0.2.52'].map(line),
      jself: ['127.0.0.1'].map(line),
      jnoself: ['127.0.0.1', '192.0.2.80'].map(line),
      jcmd: ['192.0.2.61'].map(line),
    },
    SENTINEL[1],
  );
  compareJails('round 2');
  assert.deepEqual(bans(real, 'jip').slice(2), ['192.0.2.50 r2', '192.0.2.52 r2', `${SENTINEL[1]} sentinel`]);
  assert.deepEqual(bans(real, 'jcmd').slice(3), [`${SENTINEL[1]} sentinel`], 'the new command ignores everything but the sentinel');
});

test('a file: list in ignoreip is read again after it changed (portcullis only: fail2ban 1.0.2 has no file: lists)', { timeout: 120000 }, async (t) => {
  const dir = tempDir('pc-ign-file-');
  const servers: RunningServer[] = [];
  cleanup(t, dir, servers);
  const list = path.join(dir, 'allow.txt');
  fs.writeFileSync(list, '# office\n203.0.113.0/24\n198.51.100.9 # gateway\n');
  writeTree(dir, [{ name: 'jfile', maxretry: 1, extra: `ignoreself = false\nignoreip = file:${list}` }]);
  const s = await startServer('ours', dir);
  servers.push(s);
  const log = path.join(dir, 'jfile.log');
  const banned = (): string[] => recordedBans(dir, 'jfile').map((b) => b.ip);
  appendLines(log, ['203.0.113.40', '198.51.100.9', '198.51.100.10', SENTINEL[0]].map((ip) => failLine(ip, 'u')));
  await waitFor('sentinel ban', () => banned().includes(SENTINEL[0]), 60000);
  assert.deepEqual(banned(), ['198.51.100.10', SENTINEL[0]]);
  assert.match(s.client(['get', 'jfile', 'ignoreip']).stdout, new RegExp(`\`- file:${list}`));

  fs.writeFileSync(list, '192.0.2.0/24\n');
  // The list is read again at most once a second: lines after that see the new content.
  await sleep(1500);
  appendLines(log, ['192.0.2.33', '203.0.113.41', '198.51.100.9'].map((ip) => failLine(ip, 'r2')));
  await waitFor('bans after the change', () => banned().includes('198.51.100.9'), 60000);
  assert.deepEqual(banned(), ['198.51.100.10', SENTINEL[0], '203.0.113.41', '198.51.100.9']);
  assert.match(serverLog(dir), /\[jfile\] Ignore 192\.0\.2\.33 by ip-set$/m);
});
