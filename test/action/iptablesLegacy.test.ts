/**
 * The native iptables backend on a legacy host: an admin sets `iptables = iptables-legacy
 * <lockingopt>` (and `ip6tables-legacy` for inet6) in action.d/iptables.local, the way the stock
 * 1.0.2 iptables.conf names the command. The stock actions' ban/unban are then recognised with
 * that command, the backend runs it and its own restore tool (`iptables-legacy-restore`), so the
 * rules land in the legacy tables (`iptables-legacy -S`) and none in nf_tables (`iptables-nft -S`):
 * the Firewall contract, a check of the two table sets, and the daemon end to end.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { NativeBackendPool } from '../../src/action/firewall/backends.js';
import { IptablesFirewall } from '../../src/action/firewall/iptables.js';
import { recogniseBanCommands, type NativeTarget } from '../../src/action/firewall/recognise.js';
import { XtablesRunner } from '../../src/action/firewall/restoreSession.js';
import { stockXtablesSpec, type XtablesSpec } from '../../src/action/firewall/xtablesSpec.js';
import { CommandAction } from '../../src/action/commandAction.js';
import { CommandLock } from '../../src/action/commandLock.js';
import { CollectingLog, Configurator, readConfigStream } from '../../src/config/index.js';
import { parseIp } from '../../src/shared/ip.js';
import { ShellRunner } from '../../src/system/exec.js';
import { NodeProcessSpawner } from '../../src/system/interactive.js';
import { NodeFileSystem } from '../../src/system/nodeFs.js';
import { MemoryLog } from '../../src/testing/memoryLog.js';
import { firewallContract, inNamespace } from '../helpers/firewallContract.js';
import { createNetns, startServerInNetns, type Netns, type NsServer } from '../helpers/netns.js';
import { logTime, tempDir, waitFor } from '../helpers/servers.js';
import { copyStockAction } from '../helpers/stockAction.js';

const spawner = new NodeProcessSpawner();
const LOCAL = '[Init]\niptables = iptables-legacy <lockingopt>\n\n[Init?family=inet6]\niptables = ip6tables-legacy <lockingopt>\n';

function legacySpec(name: string, overrides: Partial<XtablesSpec> = {}): XtablesSpec {
  const fams = stockXtablesSpec(name).families;
  return stockXtablesSpec(name, { ...overrides, families: { 4: { ...fams[4], iptables: 'iptables-legacy' }, 6: { ...fams[6], iptables: 'ip6tables-legacy' } } });
}

const iptablesIn = (ns: Netns, spec: XtablesSpec): IptablesFirewall => new IptablesFirewall(spec, new XtablesRunner(spawner, { prefix: ['ip', 'netns', 'exec', ns.name] }));

firewallContract('iptables-legacy (multiport, port 22,2222)', inNamespace('hileg', (ns) => ({ fw: iptablesIn(ns, legacySpec('ct', { type: 'multiport', port: '22,2222' })) })));

/** The stock action `name` with the admin's iptables.local, read as the daemon reads it; its ban/unban per family. */
function stockTargets(action: string): Record<4 | 6, NativeTarget | undefined> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pc-hileg-'));
  try {
    fs.mkdirSync(path.join(dir, 'action.d'));
    copyStockAction(`${action}.conf`, path.join(dir, 'action.d'));
    fs.writeFileSync(path.join(dir, 'action.d', 'iptables.local'), LOCAL);
    fs.mkdirSync(path.join(dir, 'filter.d'));
    fs.writeFileSync(path.join(dir, 'filter.d', 't.conf'), '[Definition]\nfailregex = ^fail <HOST>$\n');
    fs.writeFileSync(path.join(dir, 'j.log'), '');
    fs.writeFileSync(path.join(dir, 'jail.conf'), `[j]\nenabled = true\nfilter = t\nlogpath = ${dir}/j.log\naction = ${action}[name=j]\n`);
    const r = readConfigStream(new Configurator(new NodeFileSystem(), dir, new CollectingLog()), { overrides: new Map(), ignoreWrong: false, allowNoFiles: true });
    assert.ok(r.stream, String(r.error));
    const props: Array<[string, string]> = [];
    for (const c of r.stream) {
      const [verb, , what, , key, value] = c as unknown[];
      if (what !== 'action') continue;
      if (verb === 'set' && typeof key === 'string') props.push([key, String(value)]);
      if (verb === 'multi-set') for (const kv of key as Array<[string, string]>) props.push([kv[0], kv[1]]);
    }
    const env = { runner: new ShellRunner(), lock: new CommandLock(), log: new MemoryLog(), hostname: () => 'h', allowIpv6: () => true, now: () => 0 };
    const a = new CommandAction(action, { name: 'j', banTime: () => 600, banned: () => 0, bannedTotal: () => 0, found: () => 0, foundTotal: () => 0 }, props, env);
    const fam = (f: 'inet4' | 'inet6'): NativeTarget | undefined => recogniseBanCommands(a.staticCommand('<actionban>', f), a.staticCommand('<actionunban>', f));
    return { 4: fam('inet4'), 6: fam('inet6') };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test('the stock iptables actions with iptables = iptables-legacy: recognised, and the backend runs the legacy tools', () => {
  for (const action of ['iptables', 'iptables-multiport', 'iptables-allports']) {
    const t = stockTargets(action);
    const tail = (v: string): string[] => ['REJECT', '--reject-with', `icmp${v}-port-unreachable`];
    assert.deepEqual(t[4], { kind: 'iptables', command: 'iptables-legacy', lockArgs: ['-w'], chain: 'f2b-j', ruleTail: tail('') }, action);
    assert.deepEqual(t[6], { kind: 'iptables', command: 'ip6tables-legacy', lockArgs: ['-w'], chain: 'f2b-j', ruleTail: tail('6') }, action);
    const pool = new NativeBackendPool(spawner);
    for (const fam of [4, 6] as const) {
      const fw = pool.firewallFor(t[fam]!, fam);
      assert.ok(fw instanceof IptablesFirewall, `${action} inet${fam}: a native iptables backend`);
      assert.equal(fw.spec.families[fam].iptables, fam === 4 ? 'iptables-legacy' : 'ip6tables-legacy', 'its tool (and so `<tool>-restore`) is the legacy one');
    }
    // the family's own command only: ip6tables-legacy for IPv4 (a misconfiguration) stays a template
    assert.equal(pool.firewallFor(t[6] as NativeTarget, 4), undefined);
  }
});

test('native bans with iptables-legacy land in the legacy tables, none in nf_tables', { timeout: 60000 }, async (t) => {
  const ns = createNetns('hilg');
  t.after(() => ns.remove());
  const fw = iptablesIn(ns, legacySpec('lg', { type: 'multiport', port: '22,2222' }));
  await fw.ban(['192.0.2.1', '198.51.100.7', '2001:db8::5'].map((ip) => ({ ip: parseIp(ip) })));
  const out = (cmd: string, args: string[]): string => ns.run(cmd, args).stdout;
  assert.match(out('iptables-legacy', ['-S', 'f2b-lg']), /-A f2b-lg -s 198\.51\.100\.7\/32 -j REJECT --reject-with icmp-port-unreachable/);
  assert.match(out('iptables-legacy', ['-S', 'INPUT']), /-A INPUT -p tcp -m multiport --dports 22,2222 -j f2b-lg/);
  assert.match(out('ip6tables-legacy', ['-S', 'f2b-lg']), /-A f2b-lg -s 2001:db8::5\/128 -j REJECT --reject-with icmp6-port-unreachable/);
  assert.doesNotMatch(out('iptables-nft', ['-S']) + out('ip6tables-nft', ['-S']) + out('nft', ['list', 'ruleset']), /f2b|192\.0\.2\.1/);
  await fw.unban([parseIp('192.0.2.1')]);
  assert.doesNotMatch(out('iptables-legacy', ['-S', 'f2b-lg']), /192\.0\.2\.1/);
  await fw.stop();
  assert.doesNotMatch(out('iptables-legacy-save', []) + out('ip6tables-legacy-save', []), /f2b/);
});

test('the daemon with the stock iptables-multiport and iptables-legacy: native bans in the legacy tables', { timeout: 120000 }, async (t) => {
  const dir = tempDir('pc-hileg-');
  const ns = createNetns('hild');
  const live: { server?: NsServer } = {};
  t.after(async () => {
    live.server?.client(['stop']);
    if (live.server && !(await live.server.waitExit(20000))) live.server.kill();
    ns.remove();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  fs.mkdirSync(path.join(dir, 'action.d'));
  fs.mkdirSync(path.join(dir, 'filter.d'));
  copyStockAction('iptables-multiport.conf', path.join(dir, 'action.d'));
  fs.writeFileSync(path.join(dir, 'action.d', 'iptables.local'), LOCAL);
  fs.writeFileSync(path.join(dir, 'filter.d', 't.conf'), '[Definition]\nfailregex = ^\\s*\\S+ t: fail from <HOST>$\n');
  fs.writeFileSync(path.join(dir, 'fail2ban.conf'), `[Definition]\nloglevel = HEAVYDEBUG\nlogtarget = ${dir}/f2b.log\ndbfile = ${dir}/f2b.sqlite3\n`);
  fs.writeFileSync(path.join(dir, 'lg.log'), '');
  fs.writeFileSync(
    path.join(dir, 'jail.conf'),
    `[lg]\nenabled = true\nfilter = t\nbackend = pyinotify\nmaxretry = 2\nlogpath = ${dir}/lg.log\naction = iptables-multiport[name=lg, port="22,2222", protocol=tcp]\n`,
  );
  const s = (live.server = await startServerInNetns(ns, dir));
  const lines = ['192.0.2.9', '192.0.2.9', '2001:db8::9', '2001:db8::9'].map((ip) => `${logTime()} h t: fail from ${ip}\n`).join('');
  fs.appendFileSync(path.join(dir, 'lg.log'), lines);
  const out = (cmd: string, args: string[]): string => ns.run(cmd, args).stdout;
  await waitFor('the bans in the legacy tables', () => out('iptables-legacy', ['-S', 'f2b-lg']).includes('-s 192.0.2.9/32') && out('ip6tables-legacy', ['-S', 'f2b-lg']).includes('-s 2001:db8::9/128'));
  assert.doesNotMatch(out('iptables-nft', ['-S']) + out('ip6tables-nft', ['-S']), /f2b/, 'nothing in nf_tables');
  const log = fs.readFileSync(path.join(dir, 'f2b.log'), 'utf8');
  assert.match(log, / -- exec: .*iptables-legacy -w -N f2b-lg/, "the structure is the action's own actionstart");
  assert.doesNotMatch(log, / -- exec: ip6?tables-legacy -w -I f2b-lg 1 -s/, 'the bans ran without a shell');
  assert.match(s.client(['get', 'lg', 'actioninfo']).stdout, /'iptables-multiport', 'iptables'/);
  assert.equal(s.client(['set', 'lg', 'unbanip', '192.0.2.9']).stdout.trim(), '1');
  await waitFor('the unban', () => !out('iptables-legacy', ['-S', 'f2b-lg']).includes('192.0.2.9'));
  s.client(['stop']);
  assert.ok(await s.waitExit(30000), 'the server stops');
  assert.doesNotMatch(out('iptables-legacy-save', []) + out('ip6tables-legacy-save', []), /f2b/, 'stop leaves nothing');
});
