/**
 * The ipset backend against the Firewall contract, and against Debian's stock `iptables-ipset`
 * actions: in one namespace the stock commands run as fail2ban would, in another IpsetFirewall
 * does the same steps; `iptables-save`, `ip6tables-save` and `ipset list` (normalised) must be
 * identical after start, bans, unbans, flush and stop. iptables is Debian 12's default, the
 * nf_tables variant; ipset 7.17.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IpsetFirewall } from '../../src/action/firewall/ipset.js';
import { IpsetSession } from '../../src/action/firewall/ipsetSession.js';
import { XtablesRunner } from '../../src/action/firewall/restoreSession.js';
import { stockXtablesSpec, type XtablesSpec } from '../../src/action/firewall/xtablesSpec.js';
import { FirewallError } from '../../src/action/firewall/firewall.js';
import { NodeProcessSpawner } from '../../src/system/interactive.js';
import { parseIp } from '../../src/shared/ip.js';
import { firewallContract, inNamespace } from '../helpers/firewallContract.js';
import { createNetns, type Netns } from '../helpers/netns.js';
import { ipsetState, sh, stockCommands, xtablesState } from '../helpers/xtablesStock.js';

const spawner = new NodeProcessSpawner();

function ipsetIn(ns: Netns, spec: XtablesSpec): { fw: IpsetFirewall; session: IpsetSession } {
  const prefix = ['ip', 'netns', 'exec', ns.name];
  const session = new IpsetSession(spawner, { prefix });
  return { fw: new IpsetFirewall(spec, session, new XtablesRunner(spawner, { prefix })), session };
}

firewallContract('ipset (multiport, port 22,2222)', inNamespace('hips', (ns) => ipsetIn(ns, stockXtablesSpec('ct', { type: 'multiport', port: '22,2222' }))));
firewallContract('ipset (allports, own timeouts)', inNamespace('hips', (ns) => ipsetIn(ns, stockXtablesSpec('ct', { type: 'allports', timeouts: true }))));

const V4 = ['192.0.2.1', '192.0.2.20', '198.51.100.3'];
const V6 = ['2001:db8::1', '2001:db8:5::20'];

const CASES: { action: string; spec: Partial<XtablesSpec> }[] = [
  { action: 'iptables-ipset-proto6[name=sshd, port="22,2222", protocol=tcp]', spec: { type: 'multiport', port: '22,2222' } },
  { action: 'iptables-ipset-proto6[name=sshd, port="22,2222", protocol="tcp,udp"]', spec: { type: 'multiport', port: '22,2222', protocol: 'tcp,udp' } },
  { action: 'iptables-ipset-proto6-allports[name=sshd, protocol=tcp]', spec: { type: 'allports' } },
  { action: 'iptables-ipset[name=sshd, port=ssh, protocol=tcp]', spec: {} },
];

for (const c of CASES) {
  test(`the same sets and rules as the stock ${c.action}: start, bans, unbans, flush, stop`, { timeout: 120000 }, async (t) => {
    const stock = stockCommands(c.action, { inet4: V4, inet6: V6 });
    const a = createNetns('hsst');
    t.after(() => a.remove());
    const b = createNetns('hsou');
    t.after(() => b.remove());
    const { fw, session } = ipsetIn(b, stockXtablesSpec('sshd', c.spec));
    t.after(() => session.close());
    const fams = ['inet4', 'inet6'] as const;
    const same = (step: string): void => {
      assert.equal(xtablesState(b), xtablesState(a), step);
      assert.equal(ipsetState(b), ipsetState(a), step);
    };

    for (const fam of fams) sh(a, stock[fam].actionstart);
    await fw.start(4);
    await fw.start(6);
    assert.match(xtablesState(a), /--match-set f2b-sshd6 src/);
    same('after start');
    for (const fam of fams) sh(a, stock[fam].actioncheck);
    assert.equal(await fw.check(4), true);
    assert.equal(await fw.check(6), true);

    for (const fam of fams) for (const cmd of Object.values(stock[fam].ban)) sh(a, cmd);
    await fw.ban([...V4, ...V6].map((ip) => ({ ip: parseIp(ip) })));
    assert.match(ipsetState(a), /198\.51\.100\.3 timeout 0/);
    same('after the bans');

    for (const ip of [V4[1]!, V6[0]!]) sh(a, stock[ip.includes(':') ? 'inet6' : 'inet4'].unban[ip]!);
    await fw.unban([parseIp(V4[1]!), parseIp(V6[0]!)]);
    same('after the unbans');

    for (const fam of fams) sh(a, stock[fam].actionflush);
    await fw.flush();
    same('after flush');

    for (const fam of fams) sh(a, stock[fam].actionstop);
    await fw.stop();
    assert.doesNotMatch(xtablesState(a) + ipsetState(a), /f2b/);
    same('after stop');
  });
}

test('own timeouts reach the kernel; a set removed by hand is started again on the next ban', { timeout: 60000 }, async (t) => {
  const ns = createNetns('hsrp');
  t.after(() => ns.remove());
  const { fw, session } = ipsetIn(ns, stockXtablesSpec('r', { type: 'allports', timeouts: true }));
  t.after(() => session.close());
  await fw.ban([{ ip: parseIp('192.0.2.1'), timeoutSec: 600 }, { ip: parseIp('192.0.2.2') }, { ip: parseIp('192.0.2.3'), timeoutSec: 1e9 }]);
  const set = ns.run('ipset', ['list', 'f2b-r']).stdout;
  assert.match(set, /^192\.0\.2\.1 timeout (600|599|598)$/m, set);
  assert.match(set, /^192\.0\.2\.2 timeout 0$/m, set);
  assert.match(set, /^192\.0\.2\.3 timeout 0$/m, set);
  sh(ns, 'iptables -w -D INPUT -p tcp -m set --match-set f2b-r src -j REJECT --reject-with icmp-port-unreachable; ipset destroy f2b-r');
  assert.equal(await fw.check(4), false);
  await fw.ban([{ ip: parseIp('192.0.2.5') }]);
  assert.equal(await fw.check(4), true);
  assert.deepEqual((await fw.list()).map((a) => a.text), ['192.0.2.5']);
});

test('errors are reported with ipset\'s text, per batch; a bad spec and a non-IP are refused', { timeout: 60000 }, async (t) => {
  const ns = createNetns('hser');
  t.after(() => ns.remove());
  const { fw, session } = ipsetIn(ns, stockXtablesSpec('e'));
  t.after(() => session.close());
  const pipelined = [session.run(['add nosuchset 192.0.2.1']), session.run(['create okset hash:ip', 'add okset 192.0.2.1']), session.run(['add okset 192.0.2.1'])];
  const [bad, good, dup] = await Promise.allSettled(pipelined);
  assert.equal(bad?.status, 'rejected');
  assert.match(String(bad?.status === 'rejected' ? (bad.reason as FirewallError).output : ''), /does not exist/);
  assert.equal(good?.status, 'fulfilled');
  assert.equal(dup?.status, 'rejected');
  assert.match(String(dup?.status === 'rejected' ? (dup.reason as FirewallError).output : ''), /already added/);
  await session.run(['add okset 192.0.2.1 -exist']);
  // ipset 7.17: `-exist` stays on for the rest of an interactive session (why every line carries it).
  await session.run(['add okset 192.0.2.1']);
  const runner = new XtablesRunner(spawner);
  assert.throws(() => new IpsetFirewall(stockXtablesSpec('x\nflush'), session, runner), FirewallError);
  assert.throws(() => new IpsetFirewall(stockXtablesSpec('x', { families: { ...stockXtablesSpec('x').families, 6: { ...stockXtablesSpec('x').families[6], familyopt: 'family inet6\ndestroy' } } }), session, runner), FirewallError);
  await assert.rejects(fw.ban([{ ip: parseIp('evil.invalid') }]), FirewallError);
  await fw.stop();
});
