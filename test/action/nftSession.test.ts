/**
 * NftSession against the real `nft -i` in a private network namespace: batches succeed, errors are
 * attributed to the right batch among several in flight, a killed nft is restarted for the next
 * batch, a batch of 5,000 elements works (in one line, and split into lines); plus the death and
 * start-failure paths with a scripted process.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FirewallError } from '../../src/action/firewall/firewall.js';
import { NftSession, handlesInChain, packLines, setsInTable } from '../../src/action/firewall/nftSession.js';
import { NodeProcessSpawner, type InteractiveProcess, type ProcessHandlers, type ProcessSpawner } from '../../src/system/interactive.js';
import { createNetns, type Netns } from '../helpers/netns.js';
import { sleep } from '../helpers/servers.js';

const spawner = new NodeProcessSpawner();
const T = 'inet pcs';

function sessionIn(ns: Netns, maxLineBytes?: number): NftSession {
  return new NftSession(spawner, { command: ['ip', 'netns', 'exec', ns.name, 'nft'], ...(maxLineBytes === undefined ? {} : { maxLineBytes }) });
}

function elements(ns: Netns, set: string): string[] {
  const r = ns.run('nft', ['-j', 'list', 'set', 'inet', 'pcs', set]);
  assert.equal(r.status, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as { nftables: { set?: { elem?: string[] } }[] };
  return doc.nftables.flatMap((i) => i.set?.elem ?? []);
}

const addrs = (n: number): string[] => Array.from({ length: n }, (_, i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);

test('nft -i session in a namespace: success, error attribution, restart, 5,000 elements', { timeout: 120000 }, async (t) => {
  const ns = createNetns('hses');
  t.after(() => ns.remove());
  const s = sessionIn(ns);
  t.after(() => s.close());

  await s.run([`add table ${T}`, `add set ${T} a { type ipv4_addr; }`]);
  assert.match(ns.run('nft', ['list', 'ruleset']).stdout, /set a \{/);

  // Five batches in flight at once; the 2nd and 4th fail, each with its own text, atomically.
  const results = await Promise.allSettled([
    s.run([`add element ${T} a { 192.0.2.1 }`]),
    s.run([`add element ${T} a { 192.0.2.2 }`, `add element ${T} nosuch2 { 192.0.2.3 }`]),
    s.run([`add element ${T} a { 192.0.2.4 }`]),
    s.run([`add element ${T} a { 192.0.2.5 }`, 'bogus4 syntax']),
    s.run([`add element ${T} a { 192.0.2.6 }`]),
  ]);
  assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled']);
  const reason = (i: number): FirewallError => {
    const r = results[i];
    assert.ok(r?.status === 'rejected' && r.reason instanceof FirewallError, String(r?.status));
    return r.reason;
  };
  assert.match(reason(1).output, /^Error: No such file or directory\n.*nosuch2 \{ 192\.0\.2\.3 \}\n\s+\^+$/, reason(1).output);
  assert.doesNotMatch(reason(1).output, /bogus4|pc-sync/, reason(1).output);
  assert.match(reason(3).output, /^Error: syntax error.*\n.*bogus4 syntax/, reason(3).output);
  assert.doesNotMatch(reason(3).output, /nosuch2|pc-sync/, reason(3).output);
  assert.match(reason(1).input, /nosuch2/);
  assert.deepEqual(elements(ns, 'a').sort(), ['192.0.2.1', '192.0.2.4', '192.0.2.6']);

  // Kill nft: the next batch starts a new one.
  const pid = s.pid;
  assert.ok(pid !== undefined);
  process.kill(pid, 'SIGKILL');
  const until = Date.now() + 30000;
  while (s.pid === pid && Date.now() < until) await sleep(20);
  assert.equal(s.pid, undefined, 'the session noticed the death of nft');
  await s.run([`add element ${T} a { 192.0.2.7 }`]);
  assert.notEqual(s.pid, pid);
  assert.ok(elements(ns, 'a').includes('192.0.2.7'));

  // 5,000 elements in one batch (one line of ~70 KB).
  await s.run([`add set ${T} big { type ipv4_addr; }`, `add element ${T} big { ${addrs(5000).join(', ')} }`]);
  assert.equal(elements(ns, 'big').length, 5000);
});

test('a batch longer than maxLineBytes is split into several lines, all applied', { timeout: 60000 }, async (t) => {
  const ns = createNetns('hspl');
  t.after(() => ns.remove());
  const s = sessionIn(ns, 8192);
  t.after(() => s.close());
  const all = addrs(5000);
  const cmds = [`add table ${T}`, `add set ${T} big { type ipv4_addr; }`];
  for (let i = 0; i < all.length; i += 250) cmds.push(`add element ${T} big { ${all.slice(i, i + 250).join(', ')} }`);
  assert.ok(packLines(cmds, 8192).length > 5);
  await s.run(cmds);
  assert.equal(elements(ns, 'big').length, 5000);
});

test('packLines joins commands up to the limit and keeps an over-long command whole', () => {
  assert.deepEqual(packLines(['a', 'b', 'c'], 100), ['a; b; c']);
  assert.deepEqual(packLines(['aaaa', 'bbbb', 'cccc'], 10), ['aaaa; bbbb', 'cccc']);
  assert.deepEqual(packLines(['x'.repeat(20), 'y'], 10), ['x'.repeat(20), 'y']);
  assert.deepEqual(packLines([], 10), []);
});

test('nft listing helpers: rule handles of one chain referencing one set, set names', () => {
  const listing = [
    'table inet f2b-table { # handle 3',
    '\tset addr-set-a { # handle 1',
    '\t\ttype ipv4_addr',
    '\t}',
    '\tset addr-set-ab { # handle 2',
    '\t\ttype ipv4_addr',
    '\t}',
    '\tchain f2b-chain { # handle 4',
    '\t\ttype filter hook input priority filter - 1; policy accept;',
    '\t\ttcp dport 22 ip saddr @addr-set-a reject # handle 5',
    '\t\ttcp dport 22 ip saddr @addr-set-ab reject # handle 6',
    '\t\tudp dport 22 ip saddr @addr-set-a reject # handle 7',
    '\t}',
    '\tchain other { # handle 8',
    '\t\ttcp dport 22 ip saddr @addr-set-a reject # handle 9',
    '\t}',
    '}',
  ].join('\n');
  assert.deepEqual(handlesInChain(listing, 'f2b-chain', 'addr-set-a'), [5, 7]);
  assert.deepEqual(setsInTable(listing), ['addr-set-a', 'addr-set-ab']);
});

/** A scripted process: records writes, exits when told. */
class FakeSpawner implements ProcessSpawner {
  readonly procs: { handlers: ProcessHandlers; written: string[] }[] = [];
  spawn(_cmd: string, _args: readonly string[], handlers: ProcessHandlers): InteractiveProcess {
    const rec = { handlers, written: [] as string[] };
    this.procs.push(rec);
    return { pid: this.procs.length, write: (t) => rec.written.push(t), end: () => undefined, kill: () => undefined };
  }
}

test('when nft dies, every batch in flight fails with FirewallError and the next one restarts it', async () => {
  const fake = new FakeSpawner();
  const s = new NftSession(fake);
  const a = s.run(['add table inet x']);
  const b = s.run(['add table inet y']);
  assert.equal(fake.procs.length, 1);
  fake.procs[0]?.handlers.onStderr('Error: partial');
  fake.procs[0]?.handlers.onExit(null, 'SIGKILL');
  await assert.rejects(a, (e: unknown) => e instanceof FirewallError && /killed by SIGKILL: Error: partial/.test(e.output));
  await assert.rejects(b, (e: unknown) => e instanceof FirewallError && /killed by SIGKILL/.test(e.output));
  const c = s.run(['add table inet z']);
  assert.equal(fake.procs.length, 2);
  const line = fake.procs[1]?.written.join('') ?? '';
  const sentinel = /\n(list table inet pc-sync-\S+)\n$/.exec(line)?.[1] ?? '';
  fake.procs[1]?.handlers.onStderr(`Error: No such file or directory\n${sentinel}\n     ^^^^\n`);
  await c;
});

test('an nft that cannot be started fails the batch with FirewallError', async () => {
  const s = new NftSession(spawner, { command: ['/nonexistent/nft'] });
  await assert.rejects(s.run(['add table inet x']), (e: unknown) => e instanceof FirewallError && /ENOENT/.test(e.output));
});
