/**
 * The nftables and null backends against the Firewall contract, and the nftables backend against
 * Debian's stock actions: in one namespace the stock `nftables-multiport` / `nftables-allports`
 * commands run as fail2ban would (resolved by Debian's own `fail2ban-client -d` and fail2ban's
 * `CommandAction.replaceTag` per family, then `/bin/sh -c`), in another NftFirewall does the same
 * steps; `nft list ruleset` must be identical after start, after bans and after stop.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { NftFirewall, stockNftSpec, type NftSpec } from '../../src/action/firewall/nftables.js';
import { NftSession } from '../../src/action/firewall/nftSession.js';
import { NullFirewall } from '../../src/action/firewall/null.js';
import { FirewallError } from '../../src/action/firewall/firewall.js';
import { NodeProcessSpawner } from '../../src/system/interactive.js';
import { parseIp } from '../../src/shared/ip.js';
import { firewallContract, inNamespace } from '../helpers/firewallContract.js';
import { createNetns, type Netns } from '../helpers/netns.js';
import { makeTree, removeTree } from '../helpers/oracle.js';
import { runPython } from '../helpers/python.js';

const spawner = new NodeProcessSpawner();

function nftIn(ns: Netns, spec: NftSpec): { fw: NftFirewall; session: NftSession } {
  const session = new NftSession(spawner, { command: ['ip', 'netns', 'exec', ns.name, 'nft'] });
  return { fw: new NftFirewall(spec, session), session };
}

firewallContract('null', () => Promise.resolve({ fw: new NullFirewall(), cleanup: () => Promise.resolve() }));
firewallContract('nftables (multiport, port 2222)', inNamespace('hfw', (ns) => nftIn(ns, stockNftSpec('ct', { port: '2222' }))));
firewallContract('nftables (allports, timeouts, interval)', inNamespace('hfw', (ns) => nftIn(ns, stockNftSpec('ct', { type: 'allports', timeouts: true, interval: true }))));

function ruleset(ns: Netns): string {
  const r = ns.run('nft', ['list', 'ruleset']);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

function sh(ns: Netns, script: string): void {
  const r = ns.run('/bin/sh', ['-c', script]);
  assert.equal(r.status, 0, `${script}\n${r.stderr}`);
}

interface StockFamily {
  actionstart: string;
  actionstop: string;
  ban: Record<string, string>;
}

/**
 * The stock action's commands per family, with `ip` filled in for each address, as Debian's
 * fail2ban resolves them: `fail2ban-client -d` on a temp config (the stock action files copied in
 * when the test runs) and fail2ban's own `CommandAction.replaceTag` with `family=inet4|inet6`.
 */
function stockCommands(action: string, addrs: Record<'inet4' | 'inet6', string[]>): Record<'inet4' | 'inet6', StockFamily> {
  const files: Record<string, string> = {
    'fail2ban.conf': '[Definition]\nloglevel = INFO\n',
    'jail.conf': `[sshd]\nenabled = true\nfilter = t\nlogpath = %(here)s/x.log\naction = ${action}\n`,
    'filter.d/t.conf': '[Definition]\nfailregex = ^x <HOST>$\n',
    'x.log': '',
  };
  for (const f of fs.readdirSync('/etc/fail2ban/action.d').filter((n) => n.startsWith('nftables'))) {
    files[`action.d/${f}`] = fs.readFileSync(path.join('/etc/fail2ban/action.d', f), 'utf8');
  }
  const dir = makeTree(files, 'pc-hnft-');
  try {
    fs.writeFileSync(path.join(dir, 'jail.conf'), files['jail.conf']!.replace('%(here)s', dir));
    return runPython(
      `
import ast, subprocess
from fail2ban.server.action import CommandAction
out = subprocess.run(['/usr/bin/fail2ban-client', '-c', DATA['dir'], '-d'], capture_output=True, text=True, check=True).stdout
opts = None
for line in out.splitlines():
    v = ast.literal_eval(line)
    if v[0] == 'multi-set' and v[2] == 'action': opts = dict(v[4])
res = {}
for fam, ips in DATA['addrs'].items():
    cond = 'family=' + fam
    res[fam] = {k: CommandAction.replaceTag(opts[k], opts, conditional=cond) for k in ('actionstart', 'actionstop')}
    res[fam]['ban'] = {ip: CommandAction.replaceTag(opts['actionban'], dict(opts, ip=ip), conditional=cond) for ip in ips}
print(json.dumps(res))
`,
      { dir, addrs },
    );
  } finally {
    removeTree(dir);
  }
}

const V4 = ['192.0.2.1', '192.0.2.20', '198.51.100.3'];
const V6 = ['2001:db8::1', '2001:db8:5::20'];

const CASES: { action: string; spec: Partial<NftSpec> }[] = [
  { action: 'nftables-multiport[name=sshd, port=ssh, protocol=tcp]', spec: {} },
  { action: 'nftables-multiport[name=sshd, port="22,2222:2230", protocol="tcp,udp"]', spec: { port: '22,2222:2230', protocol: 'tcp,udp' } },
  { action: 'nftables-allports[name=sshd, protocol=tcp]', spec: { type: 'allports' } },
  { action: 'nftables-allports[name=sshd, protocol="tcp,udp"]', spec: { type: 'allports', protocol: 'tcp,udp' } },
];

for (const c of CASES) {
  test(`the same ruleset as the stock ${c.action}: after start, bans and stop`, { timeout: 120000 }, async (t) => {
    const stock = stockCommands(c.action, { inet4: V4, inet6: V6 });
    const a = createNetns('hstk');
    t.after(() => a.remove());
    const b = createNetns('hour');
    t.after(() => b.remove());
    const { fw, session } = nftIn(b, stockNftSpec('sshd', c.spec));
    t.after(() => session.close());

    for (const fam of ['inet4', 'inet6'] as const) sh(a, stock[fam].actionstart);
    await fw.start(4);
    await fw.start(6);
    assert.match(ruleset(a), /addr6-set-sshd/);
    assert.equal(ruleset(b), ruleset(a), 'after start');

    for (const fam of ['inet4', 'inet6'] as const) for (const cmd of Object.values(stock[fam].ban)) sh(a, cmd);
    await fw.ban([...V4, ...V6].map((ip) => ({ ip: parseIp(ip) })));
    assert.match(ruleset(a), /198\.51\.100\.3/);
    assert.equal(ruleset(b), ruleset(a), 'after the bans');

    for (const fam of ['inet4', 'inet6'] as const) sh(a, stock[fam].actionstop);
    await fw.stop();
    assert.equal(ruleset(a), '');
    assert.equal(ruleset(b), '', 'after stop');
  });
}

test('extras: set timeouts and interval sets show in the kernel', { timeout: 60000 }, async (t) => {
  const ns = createNetns('hext');
  t.after(() => ns.remove());
  const { fw, session } = nftIn(ns, stockNftSpec('x', { timeouts: true, interval: true }));
  t.after(() => session.close());
  await fw.ban([{ ip: parseIp('192.0.2.1'), timeoutSec: 600 }, { ip: parseIp('10.1.0.0/16') }, { ip: parseIp('2001:db8::/48'), timeoutSec: 30 }]);
  const set4 = ns.run('nft', ['list', 'set', 'inet', 'f2b-table', 'addr-set-x']).stdout;
  assert.match(set4, /flags interval,timeout/, set4);
  assert.match(set4, /192\.0\.2\.1 timeout 10m expires/, set4);
  assert.match(set4, /10\.1\.0\.0\/16[,\s]/, set4);
  assert.doesNotMatch(set4, /10\.1\.0\.0\/16 timeout/, set4);
  assert.deepEqual((await fw.list()).map((a) => a.text).sort(), ['10.1.0.0/16', '192.0.2.1', '2001:db8::/48']);
  await fw.unban([parseIp('10.1.0.0/16'), parseIp('2001:db8::/48')]);
  assert.deepEqual((await fw.list()).map((a) => a.text), ['192.0.2.1']);
  await fw.stop();
  assert.equal(ruleset(ns), '');
});

test('stop keeps the table while another jail still has a set in it', { timeout: 60000 }, async (t) => {
  const ns = createNetns('hshr');
  t.after(() => ns.remove());
  const session = new NftSession(spawner, { command: ['ip', 'netns', 'exec', ns.name, 'nft'] });
  t.after(() => session.close());
  const one = new NftFirewall(stockNftSpec('one'), session);
  const two = new NftFirewall(stockNftSpec('two', { type: 'allports' }), session);
  await one.ban([{ ip: parseIp('192.0.2.1') }]);
  await two.ban([{ ip: parseIp('192.0.2.2') }]);
  await one.stop();
  const rs = ruleset(ns);
  assert.doesNotMatch(rs, /addr-set-one/, rs);
  assert.match(rs, /meta l4proto tcp ip saddr @addr-set-two reject/, rs);
  assert.equal(await two.check(4), true);
  await two.stop();
  assert.equal(ruleset(ns), '');
});

test('a failing batch is reported with nft\'s text; a bad spec and a non-IP are refused', { timeout: 60000 }, async (t) => {
  const ns = createNetns('herr');
  t.after(() => ns.remove());
  const { fw, session } = nftIn(ns, stockNftSpec('e'));
  t.after(() => session.close());
  // Without the interval flag a network is refused by nft itself, atomically with the batch.
  await assert.rejects(fw.ban([{ ip: parseIp('192.0.2.1') }, { ip: parseIp('10.0.0.0/8') }]), (e: unknown) => {
    assert.ok(e instanceof FirewallError, String(e));
    assert.match(e.output, /Error: .*interval/i, e.output);
    return true;
  });
  assert.deepEqual(await fw.list(), [], 'the batch is one transaction: nothing of it was applied');
  assert.throws(() => new NftFirewall(stockNftSpec('x; flush ruleset'), session), FirewallError);
  assert.throws(() => new NftFirewall(stockNftSpec('x', { blocktype: 'drop; flush ruleset' }), session), FirewallError);
  await assert.rejects(fw.ban([{ ip: parseIp('evil.invalid') }]), FirewallError);
});
