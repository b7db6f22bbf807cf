/**
 * The one contract every `Firewall` backend passes (nftables, ipset, iptables, null): call
 * `firewallContract(name, setup)` from a test file. `setup` builds a fresh backend per test (in a
 * fresh network namespace for the real ones) and its cleanup; with `ns`, the rules are also
 * checked to really reject traffic from a banned source on `probePort` (default 2222: configure
 * the backend to cover tcp port 2222, or all ports) and to let other sources through.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Firewall } from '../../src/action/firewall/firewall.js';
import { parseIp, type IpAddress } from '../../src/shared/ip.js';
import { createNetns, type Netns } from './netns.js';

export interface FirewallFixture {
  readonly fw: Firewall;
  /** The namespace the backend works in: enables the traffic checks. */
  readonly ns?: Netns;
  /** A tcp port the backend's rules cover (default 2222). */
  readonly probePort?: number;
  cleanup(): Promise<void>;
}

/**
 * A setup for the contract in a fresh namespace (`pc-<tag>-…`): `build` makes the backend there;
 * the cleanup closes the backend's tool session, if it has one, and removes the namespace.
 */
export function inNamespace(tag: string, build: (ns: Netns) => { fw: Firewall; session?: { close(): Promise<void> } }): () => Promise<FirewallFixture> {
  return () => {
    const ns = createNetns(tag);
    const { fw, session } = build(ns);
    return Promise.resolve({
      fw,
      ns,
      async cleanup() {
        await session?.close();
        ns.remove();
      },
    });
  };
}

const ips = (...texts: string[]): IpAddress[] => texts.map((t) => parseIp(t));
const entries = (...texts: string[]): { ip: IpAddress }[] => ips(...texts).map((ip) => ({ ip }));
const texts = async (fw: Firewall): Promise<string[]> => (await fw.list()).map((a) => a.text).sort();
const sorted = (...t: string[]): string[] => [...t].sort();

/** `count` distinct addresses: IPv4 in 10.0.0.0/8 then IPv6 in 2001:db8::/32, three quarters IPv4. */
export function manyAddresses(count: number): string[] {
  const v4 = Math.ceil((count * 3) / 4);
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    out.push(i < v4 ? `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` : `2001:db8::${(i - v4 + 1).toString(16)}`);
  }
  return out;
}

export function firewallContract(name: string, setup: () => Promise<FirewallFixture>): void {
  const it = (title: string, body: (f: FirewallFixture) => Promise<void>): void => {
    test(title, { timeout: 120000 }, async () => {
      const f = await setup();
      try {
        await body(f);
      } finally {
        await f.cleanup();
      }
    });
  };

  void describe(`Firewall contract: ${name}`, () => {
    it('start is idempotent and keeps the entries', async ({ fw }) => {
      await fw.start(4);
      await fw.start(4);
      await fw.ban(entries('192.0.2.1'));
      await fw.start(4);
      assert.deepEqual(await texts(fw), ['192.0.2.1']);
      assert.ok(fw.families.has(4));
      assert.equal(await fw.check(4), true);
    });

    it('a batch of IPv4 and IPv6 addresses is banned and listed', async ({ fw }) => {
      await fw.ban(entries('192.0.2.1', '2001:db8::1', '198.51.100.7', '2001:db8:1::2'));
      assert.deepEqual(await texts(fw), sorted('192.0.2.1', '2001:db8::1', '198.51.100.7', '2001:db8:1::2'));
      assert.deepEqual([...fw.families].sort(), [4, 6]);
    });

    it('banning a present address is no error', async ({ fw }) => {
      await fw.ban(entries('192.0.2.1', '2001:db8::1'));
      await fw.ban(entries('192.0.2.1', '192.0.2.2', '2001:db8::1'));
      assert.deepEqual(await texts(fw), sorted('192.0.2.1', '192.0.2.2', '2001:db8::1'));
    });

    it('unbanning an absent address is no error, in a started family or not', async ({ fw }) => {
      await fw.ban(entries('192.0.2.1'));
      await fw.unban(ips('192.0.2.9', '2001:db8::9'));
      await fw.start(6);
      await fw.unban(ips('192.0.2.9', '2001:db8::9', '192.0.2.1'));
      assert.deepEqual(await texts(fw), []);
    });

    it('unban removes exactly the given addresses', async ({ fw }) => {
      await fw.ban(entries('192.0.2.1', '192.0.2.2', '2001:db8::1', '2001:db8::2'));
      await fw.unban(ips('192.0.2.1', '2001:db8::2'));
      assert.deepEqual(await texts(fw), sorted('192.0.2.2', '2001:db8::1'));
    });

    it('flush empties the sets and keeps the structure', async ({ fw }) => {
      await fw.ban(entries('192.0.2.1', '2001:db8::1'));
      await fw.flush();
      assert.deepEqual(await texts(fw), []);
      assert.equal(await fw.check(4), true);
      assert.equal(await fw.check(6), true);
      await fw.ban(entries('192.0.2.3'));
      assert.deepEqual(await texts(fw), ['192.0.2.3']);
    });

    it('check is true after start and false after stop; stop leaves nothing', async ({ fw }) => {
      assert.equal(await fw.check(4), false);
      await fw.start(4);
      await fw.start(6);
      assert.equal(await fw.check(4), true);
      assert.equal(await fw.check(6), true);
      await fw.ban(entries('192.0.2.1', '2001:db8::1'));
      await fw.stop();
      assert.equal(await fw.check(4), false);
      assert.equal(await fw.check(6), false);
      assert.deepEqual(await texts(fw), []);
      assert.equal(fw.families.size, 0);
    });

    it('a batch of 2,000 addresses goes in and out in one call each', async ({ fw }) => {
      const all = manyAddresses(2000);
      await fw.ban(all.map((t) => ({ ip: parseIp(t), timeoutSec: 600 })));
      assert.deepEqual(await texts(fw), sorted(...all));
      await fw.unban(ips(...all.slice(0, 1000)));
      assert.deepEqual(await texts(fw), sorted(...all.slice(1000)));
    });

    it('traffic from a banned source is rejected, other sources pass (namespace only)', async (f) => {
      if (f.ns === undefined) return;
      const port = f.probePort ?? 2222;
      for (const a of ['fd00::2/128', 'fd00::3/128']) {
        const r = f.ns.run('ip', ['addr', 'add', a, 'dev', 'lo', 'nodad']);
        assert.equal(r.status, 0, r.stderr);
      }
      const sources = ['127.0.0.2', '127.0.0.3', 'fd00::2', 'fd00::3'];
      assert.deepEqual(probe(f.ns, port, sources), { '127.0.0.2': 'connected', '127.0.0.3': 'connected', 'fd00::2': 'connected', 'fd00::3': 'connected' });
      await f.fw.ban(entries('127.0.0.2', 'fd00::2'));
      const banned = probe(f.ns, port, sources);
      assert.notEqual(banned['127.0.0.2'], 'connected', JSON.stringify(banned));
      assert.notEqual(banned['fd00::2'], 'connected', JSON.stringify(banned));
      assert.equal(banned['127.0.0.3'], 'connected', JSON.stringify(banned));
      assert.equal(banned['fd00::3'], 'connected', JSON.stringify(banned));
      await f.fw.unban(ips('127.0.0.2', 'fd00::2'));
      assert.deepEqual(probe(f.ns, port, sources), { '127.0.0.2': 'connected', '127.0.0.3': 'connected', 'fd00::2': 'connected', 'fd00::3': 'connected' });
    });
  });
}

/**
 * Inside the namespace: listens on `port` and connects to 127.0.0.1 / ::1 from each local source
 * address (never to the source itself, so a rule on the destination would not pass for one on the
 * source); prints `{source: "connected" | error code | "timeout"}` (a dropped SYN times out after 2 s).
 */
const PROBE = `
const net = require('node:net');
const [port, sources] = [Number(process.argv[1]), JSON.parse(process.argv[2])];
const srv = net.createServer((s) => s.end()).listen(port, '::', async () => {
  const res = {};
  for (const src of sources) {
    res[src] = await new Promise((r) => {
      const c = net.connect({ host: src.includes(':') ? '::1' : '127.0.0.1', port, localAddress: src, timeout: 2000 });
      c.on('connect', () => { c.destroy(); r('connected'); });
      c.on('error', (e) => r(e.code));
      c.on('timeout', () => { c.destroy(); r('timeout'); });
    });
  }
  console.log(JSON.stringify(res));
  srv.close();
});
`;

function probe(ns: Netns, port: number, sources: readonly string[]): Record<string, string> {
  const r = ns.run(process.execPath, ['-e', PROBE, String(port), JSON.stringify(sources)]);
  assert.equal(r.status, 0, `connection probe failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, string>;
}
