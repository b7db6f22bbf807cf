/**
 * Transparent acceleration of the stock nftables, iptables-ipset and iptables-multiport actions, end to end in a private network
 * namespace: portcullis' server bans through the persistent nft session (no `nft` command per ban
 * in its log), the action's own actionstart/actionstop still build and remove the structure,
 * `native = false` keeps an action a template, `portcullis status JAIL` says which is which; a
 * flood is banned in batches; when the structure is removed behind the server's back, the ban is
 * repaired (actioncheck, stop + start) and retried; when the native path keeps failing, the
 * action's own commands take over and status shows the error — no ban is dropped.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createNetns, startServerInNetns, type Netns, type NsServer } from '../helpers/netns.js';
import { ROOT } from '../helpers/oracle.js';
import { logTime, tempDir, waitFor } from '../helpers/servers.js';
import { copyStockAction } from '../helpers/stockAction.js';
import { descendantCommands } from '../helpers/processes.js';

/** An `nft` that refuses interactive mode (the native session) and runs every other call. */
const BROKEN_NFT = '#!/bin/sh\ncase "$1" in -i) echo "no interactive mode here" >&2; exit 1;; esac\nexec nft "$@"\n';

function writeTree(dir: string): void {
  const act = (jail: string, extra = ''): string => `nftables-multiport[name=${jail}, port="22,2222", protocol=tcp${extra}]`;
  const jail = (name: string, action: string): string => `[${name}]\nenabled = true\nfilter = t\nlogpath = ${dir}/${name}.log\naction = ${action}\n`;
  const files: Record<string, string> = {
    'fail2ban.conf': `[Definition]\nloglevel = HEAVYDEBUG\nlogtarget = ${dir}/f2b.log\ndbfile = ${dir}/f2b.sqlite3\n`,
    'jail.conf': [
      '[DEFAULT]\nbackend = pyinotify\nmaxretry = 2\nfindtime = 600\nbantime = 600\n',
      jail('nat', act('nat')),
      jail('tpl', act('tpl', ', native=false')),
      jail('brk', act('brk', `, nftables=${dir}/bin/nft`)),
      jail('ips', 'iptables-ipset[name=ips, port=ssh, protocol=tcp]'),
      jail('ipt', 'iptables-multiport[name=ipt, port="22,2222", protocol=tcp]'),
    ].join('\n'),
    'filter.d/t.conf': '[Definition]\nfailregex = ^\\s*\\S+ t: fail from <HOST>$\n',
    'bin/nft': BROKEN_NFT,
  };
  for (const j of ['nat', 'tpl', 'brk', 'ips', 'ipt']) files[`${j}.log`] = '';
  for (const [name, body] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), body, { mode: name.startsWith('bin/') ? 0o755 : 0o644 });
  }
  fs.mkdirSync(path.join(dir, 'action.d'), { recursive: true });
  for (const a of ['nftables-multiport', 'iptables-ipset', 'iptables-multiport']) copyStockAction(`${a}.conf`, path.join(dir, 'action.d'));
}

const fail = (ips: readonly string[]): string => ips.flatMap((ip) => [ip, ip]).map((ip) => `${logTime()} h t: fail from ${ip}\n`).join('');

function inSet(ns: Netns, set: string): string[] {
  const r = ns.run('nft', ['-j', 'list', 'set', 'inet', 'f2b-table', set]);
  if (r.status !== 0) return [];
  const doc = JSON.parse(r.stdout) as { nftables: Array<{ set?: { elem?: unknown[] } }> };
  return doc.nftables.flatMap((x) => (x.set?.elem ?? []).filter((e): e is string => typeof e === 'string'));
}

/** `nft` commands the server ran through a shell, as its HEAVYDEBUG log shows them (`-- exec:` lines). */
const execs = (dir: string, what: RegExp): number =>
  fs.readFileSync(path.join(dir, 'f2b.log'), 'utf8').split('\n').filter((l) => l.includes(' -- exec: ') && what.test(l)).length;

function portcullis(ns: Netns, dir: string, args: readonly string[]): string {
  const r = spawnSync('ip', ['netns', 'exec', ns.name, process.execPath, path.join(ROOT, 'bin', 'portcullis'), ...args, '-s', path.join(dir, 'f2b.sock')], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

test('stock nftables action: native batched bans, template opt-out, repair, fallback', { timeout: 240000 }, async (t) => {
  const dir = tempDir('pc-native-');
  const ns = createNetns('native');
  const holder: { server?: NsServer } = {};
  t.after(async () => {
    const srv = holder.server;
    srv?.client(['stop']);
    if (srv && !(await srv.waitExit(20000))) srv.kill();
    ns.remove();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  writeTree(dir);
  const s = (holder.server = await startServerInNetns(ns, dir));

  // the native tools start with the jails, not with the first ban of an attack; the firewall
  // itself is untouched until then (the stock actions' actionstart runs on demand)
  await waitFor('nft -i and ipset - running before any ban', () => {
    const running = descendantCommands(s.child.pid);
    return running.some((c) => /(^|\/)nft -i$/.test(c)) && running.some((c) => /(^|\/)ipset -$/.test(c));
  });
  assert.equal(ns.run('nft', ['list', 'ruleset']).stdout.trim(), '', 'no table before the first ban');

  // one attacker per jail: all three end in their sets
  for (const j of ['nat', 'tpl', 'brk']) fs.appendFileSync(path.join(dir, `${j}.log`), fail(['192.0.2.1']));
  for (const j of ['nat', 'tpl', 'brk']) await waitFor(`${j}: first ban`, () => inSet(ns, `addr-set-${j}`).includes('192.0.2.1'));
  assert.equal(execs(dir, /add element inet f2b-table addr-set-nat /), 0, 'nat bans without a shell');
  assert.equal(execs(dir, /add element inet f2b-table addr-set-tpl /), 1, 'tpl (native = false) bans through its command');
  assert.equal(execs(dir, /add element inet f2b-table addr-set-brk /), 1, 'brk: the native session fails, the command takes over');
  assert.equal(execs(dir, /add table inet f2b-table/) >= 3, true, "the structure is the action's own actionstart");
  const nat = portcullis(ns, dir, ['status', 'nat']);
  assert.match(nat, /\n {2}Actions:\n {4}nftables-multiport {2}native nftables, batched\n$/, nat);
  assert.match(portcullis(ns, dir, ['status', 'tpl']), /nftables-multiport {2}the action's own commands\n$/);
  assert.match(portcullis(ns, dir, ['status', 'brk']), /nftables-multiport {2}native nftables, batched \(last change failed, the action's own commands took over: .*no interactive mode here/);
  const log = fs.readFileSync(path.join(dir, 'f2b.log'), 'utf8');
  assert.match(log, /ERROR +\[brk\] nftables-multiport: native ban failed/);
  assert.match(log, /WARNING +\[brk\] nftables-multiport: falling back to the action's own commands/);

  // a flood in one write: every attacker in the set, still no shell per ban
  const flood = [...Array.from({ length: 250 }, (_, i) => `198.51.100.${i}`), ...Array.from({ length: 50 }, (_, i) => `203.0.113.${i}`)];
  fs.appendFileSync(path.join(dir, 'nat.log'), fail(flood));
  await waitFor('the flood banned', () => inSet(ns, 'addr-set-nat').length === 301, 60000);
  assert.equal(execs(dir, /add element inet f2b-table addr-set-nat /), 0, 'no shell per ban in the flood');
  assert.match(s.client(['status', 'nat']).stdout, /Currently banned:\t301/);

  // the stock ipset and iptables actions: native ipset / iptables on the set and chain their actionstart made
  fs.appendFileSync(path.join(dir, 'ips.log'), fail(['192.0.2.31', '2001:db8::31']));
  fs.appendFileSync(path.join(dir, 'ipt.log'), fail(['192.0.2.32', '2001:db8::32']));
  const listed = (cmd: string, args: readonly string[]): string => ns.run(cmd, args).stdout;
  await waitFor('ipset bans', () => listed('ipset', ['list', 'f2b-ips']).includes('192.0.2.31') && listed('ipset', ['list', 'f2b-ips6']).includes('2001:db8::31'));
  await waitFor('iptables bans', () => listed('iptables', ['-S', 'f2b-ipt']).includes('-s 192.0.2.32/32') && listed('ip6tables', ['-S', 'f2b-ipt']).includes('-s 2001:db8::32/128'));
  assert.equal(execs(dir, /ipset -exist add f2b-ips/), 0, 'ipset bans without a shell');
  assert.equal(execs(dir, /iptables -w -I f2b-ipt /), 0, 'iptables bans without a shell');
  assert.match(portcullis(ns, dir, ['status', 'ips']), /iptables-ipset {2}native ipset, batched\n$/);
  assert.match(portcullis(ns, dir, ['status', 'ipt']), /iptables-multiport {2}native iptables, batched\n$/);
  assert.equal(s.client(['set', 'ipt', 'unbanip', '192.0.2.32']).stdout.trim(), '1');
  await waitFor('iptables unban', () => !listed('iptables', ['-S', 'f2b-ipt']).includes('192.0.2.32'));

  // the table removed behind the server's back: the next native ban fails, is repaired, retried
  assert.equal(ns.run('nft', ['delete', 'table', 'inet', 'f2b-table']).status, 0);
  fs.appendFileSync(path.join(dir, 'nat.log'), fail(['192.0.2.77']));
  await waitFor('the ban after the repair', () => inSet(ns, 'addr-set-nat').includes('192.0.2.77'), 60000);
  const after = fs.readFileSync(path.join(dir, 'f2b.log'), 'utf8');
  assert.match(after, /ERROR +\[nat\] nftables-multiport: native ban failed: .*No such file or directory/);
  assert.match(after, /Invariant check failed\. Trying to restore a sane environment/);
  assert.match(portcullis(ns, dir, ['status', 'nat']), /nftables-multiport {2}native nftables, batched\n$/, 'the error is gone after a successful retry');

  // manual unban goes through the native path too; stop leaves nothing
  assert.equal(s.client(['set', 'nat', 'unbanip', '192.0.2.77']).stdout.trim(), '1');
  await waitFor('unbanned', () => !inSet(ns, 'addr-set-nat').includes('192.0.2.77'));
  assert.equal(execs(dir, /delete element inet f2b-table addr-set-nat /), 0, 'no shell for the unban');
  s.client(['stop']);
  assert.ok(await s.waitExit(30000), 'the server stops');
  assert.doesNotMatch(ns.run('nft', ['list', 'ruleset']).stdout, /f2b/, 'stop leaves no f2b rule behind');
  assert.equal(ns.run('ipset', ['list', '-n']).stdout.trim(), '', 'stop leaves no ipset behind');
});
