/**
 * The iptables backend against the Firewall contract, and against Debian's stock `iptables`,
 * `iptables-multiport` and `iptables-allports`: in one namespace the stock commands run as fail2ban
 * would, in another IptablesFirewall does the same steps; `iptables-save` and `ip6tables-save`
 * (normalised) must be identical after start, bans, unbans, flush and stop. Debian 12's default
 * `iptables` is the nf_tables variant (iptables v1.8.9 (nf_tables)), the one used here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IptablesFirewall } from '../../src/action/firewall/iptables.js';
import { XtablesRunner } from '../../src/action/firewall/restoreSession.js';
import { stockXtablesSpec, type XtablesSpec } from '../../src/action/firewall/xtablesSpec.js';
import { FirewallError } from '../../src/action/firewall/firewall.js';
import { NodeProcessSpawner } from '../../src/system/interactive.js';
import { parseIp } from '../../src/shared/ip.js';
import { firewallContract, inNamespace } from '../helpers/firewallContract.js';
import { createNetns, type Netns } from '../helpers/netns.js';
import { sh, stockCommands, xtablesState } from '../helpers/xtablesStock.js';

const spawner = new NodeProcessSpawner();

function iptablesIn(ns: Netns, spec: XtablesSpec): IptablesFirewall {
  return new IptablesFirewall(spec, new XtablesRunner(spawner, { prefix: ['ip', 'netns', 'exec', ns.name] }));
}

firewallContract('iptables (multiport, port 22,2222)', inNamespace('hipt', (ns) => ({ fw: iptablesIn(ns, stockXtablesSpec('ct', { type: 'multiport', port: '22,2222' })) })));
firewallContract('iptables (allports, tcp and udp)', inNamespace('hipt', (ns) => ({ fw: iptablesIn(ns, stockXtablesSpec('ct', { type: 'allports', protocol: 'tcp,udp' })) })));

const V4 = ['192.0.2.1', '192.0.2.20', '198.51.100.3'];
const V6 = ['2001:db8::1', '2001:db8:5::20'];

const CASES: { action: string; spec: Partial<XtablesSpec> }[] = [
  { action: 'iptables-multiport[name=sshd, port="22,2222", protocol=tcp]', spec: { type: 'multiport', port: '22,2222' } },
  { action: 'iptables-multiport[name=sshd, port="22,2222", protocol="tcp,udp"]', spec: { type: 'multiport', port: '22,2222', protocol: 'tcp,udp' } },
  { action: 'iptables-allports[name=sshd, protocol=tcp]', spec: { type: 'allports' } },
  { action: 'iptables[name=sshd, port=ssh, protocol=tcp]', spec: {} },
];

for (const c of CASES) {
  test(`the same rules as the stock ${c.action}: start, bans, unbans, flush, stop`, { timeout: 120000 }, async (t) => {
    const stock = stockCommands(c.action, { inet4: V4, inet6: V6 });
    const a = createNetns('hist');
    t.after(() => a.remove());
    const b = createNetns('hiou');
    t.after(() => b.remove());
    const fw = iptablesIn(b, stockXtablesSpec('sshd', c.spec));
    const fams = ['inet4', 'inet6'] as const;
    const same = (step: string): void => assert.equal(xtablesState(b), xtablesState(a), step);

    for (const fam of fams) sh(a, stock[fam].actionstart);
    await fw.start(4);
    await fw.start(6);
    assert.match(xtablesState(a), /-j f2b-sshd/);
    same('after start');
    for (const fam of fams) sh(a, stock[fam].actioncheck);
    assert.equal(await fw.check(4), true);

    for (const fam of fams) for (const cmd of Object.values(stock[fam].ban)) sh(a, cmd);
    await fw.ban([...V4, ...V6].map((ip) => ({ ip: parseIp(ip) })));
    assert.match(xtablesState(a), /198\.51\.100\.3/);
    same('after the bans');

    for (const ip of [V4[1]!, V6[0]!]) sh(a, stock[ip.includes(':') ? 'inet6' : 'inet4'].unban[ip]!);
    await fw.unban([parseIp(V4[1]!), parseIp(V6[0]!)]);
    same('after the unbans');

    for (const fam of fams) sh(a, stock[fam].actionflush);
    await fw.flush();
    same('after flush');

    for (const fam of fams) sh(a, stock[fam].actionstop);
    await fw.stop();
    assert.doesNotMatch(xtablesState(a), /f2b/);
    same('after stop');
  });
}

test('a duplicate rule is unbanned whole; a chain removed by hand is started again on the next ban', { timeout: 60000 }, async (t) => {
  const ns = createNetns('hird');
  t.after(() => ns.remove());
  const fw = iptablesIn(ns, stockXtablesSpec('r', { type: 'allports' }));
  await fw.ban([{ ip: parseIp('192.0.2.1') }, { ip: parseIp('192.0.2.1') }, { ip: parseIp('10.1.0.0/16') }]);
  sh(ns, 'iptables -w -I f2b-r 1 -s 192.0.2.1 -j DROP');
  assert.deepEqual((await fw.list()).map((a) => a.text).sort(), ['10.1.0.0/16', '192.0.2.1']);
  await fw.unban([parseIp('192.0.2.1'), parseIp('10.1.0.0/16')]);
  assert.deepEqual(await fw.list(), []);
  sh(ns, 'iptables -w -D INPUT -p tcp -j f2b-r; iptables -w -F f2b-r; iptables -w -X f2b-r');
  assert.equal(await fw.check(4), false);
  await fw.ban([{ ip: parseIp('192.0.2.5') }]);
  assert.equal(await fw.check(4), true);
  assert.deepEqual((await fw.list()).map((a) => a.text), ['192.0.2.5']);
});

test('a failing batch is reported with the tool\'s text; a bad spec and a non-IP are refused', { timeout: 60000 }, async (t) => {
  const ns = createNetns('hier');
  t.after(() => ns.remove());
  const fw = iptablesIn(ns, stockXtablesSpec('e', { families: { ...stockXtablesSpec('e').families, 4: { ...stockXtablesSpec('e').families[4], blocktype: 'NOSUCHTARGET' } } }));
  await assert.rejects(fw.ban([{ ip: parseIp('192.0.2.1') }]), (e: unknown) => {
    assert.ok(e instanceof FirewallError, String(e));
    assert.equal(e.tool, 'iptables-restore');
    assert.match(e.output, /NOSUCHTARGET|line \d+ failed/, e.output);
    return true;
  });
  assert.deepEqual(await fw.list(), [], 'the transaction applied nothing');
  const runner = new XtablesRunner(spawner);
  assert.throws(() => new IptablesFirewall(stockXtablesSpec('x\n-F INPUT'), runner), FirewallError);
  assert.throws(() => new IptablesFirewall(stockXtablesSpec('x', { port: '22\nCOMMIT' }), runner), FirewallError);
  assert.throws(() => new IptablesFirewall(stockXtablesSpec('x', { protocol: 'tcp $(reboot)' }), runner), FirewallError);
  await assert.rejects(fw.ban([{ ip: parseIp('evil.invalid') }]), FirewallError);
});
