/**
 * Which actions portcullis bans natively: the recogniser on its own (simple shell words only,
 * everything else refused), then on Debian's stock actions as this machine installs them — read
 * through portcullis' configuration reader into command actions exactly as the daemon builds
 * them, their ban/unban commands resolved per family.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CommandAction } from '../../src/action/commandAction.js';
import { recogniseBanCommands, simpleWords } from '../../src/action/firewall/recognise.js';
import { CollectingLog, Configurator, readConfigStream } from '../../src/config/index.js';
import { NodeFileSystem } from '../../src/system/nodeFs.js';
import { ShellRunner } from '../../src/system/exec.js';
import { CommandLock } from '../../src/action/commandLock.js';
import { MemoryLog } from '../../src/testing/memoryLog.js';

test('simple words: escapes and quotes; expansions, redirections, several commands and other tags refused', () => {
  assert.deepEqual(simpleWords('nft add element inet t s \\{ <ip> \\}'), ['nft', 'add', 'element', 'inet', 't', 's', '{', '\u0000ip\u0000', '}']);
  assert.deepEqual(simpleWords("ipset  -exist add 'f2b-x' <ip>"), ['ipset', '-exist', 'add', 'f2b-x', '\u0000ip\u0000']);
  for (const bad of [
    'nft add element inet t s { <ip> }; rm -rf /',
    'nft add element inet t s { $(echo <ip>) }',
    'nft add element inet t s { `id` <ip> }',
    'nft add element inet t s { <ip> } > /tmp/x',
    'nft add element inet t s { <ip> } | cat',
    'nft add element inet t s { <ip> } && true',
    'nft add element inet t s { "<ip>" }',
    'nft add element inet t s { <ip> } # c',
    'nft add element inet t s { <ip>, <ip> }',
    'nft add element inet t s { <fid> }',
    'nft add element inet t s\n{ <ip> }',
    "nft add element inet t 's { <ip> }",
  ]) {
    assert.equal(simpleWords(bad), undefined, bad);
  }
});

test('recognised shapes and near misses', () => {
  const nft = recogniseBanCommands('nft add element inet f2b-table addr-set-x \\{ <ip> \\}', 'nft delete element inet f2b-table addr-set-x \\{ <ip> \\}');
  assert.deepEqual(nft, { kind: 'nftables', command: 'nft', tableFamily: 'inet', table: 'f2b-table', set: 'addr-set-x' });
  // unban on another set, a ban that is not an add, a trailing word: all templates
  assert.equal(recogniseBanCommands('nft add element inet t a \\{ <ip> \\}', 'nft delete element inet t b \\{ <ip> \\}'), undefined);
  assert.equal(recogniseBanCommands('nft delete element inet t a \\{ <ip> \\}', 'nft delete element inet t a \\{ <ip> \\}'), undefined);
  assert.equal(recogniseBanCommands('nft add element inet t a \\{ <ip> \\} x', 'nft delete element inet t a \\{ <ip> \\}'), undefined);
  assert.equal(recogniseBanCommands('/usr/sbin/nft add element inet t a \\{ <ip> \\}', 'nft delete element inet t a \\{ <ip> \\}'), undefined);
  assert.deepEqual(recogniseBanCommands('ipset -exist add f2b-x <ip> timeout 600', 'ipset -exist del f2b-x <ip>'), { kind: 'ipset', command: 'ipset', set: 'f2b-x', timeout: 600 });
  assert.equal(recogniseBanCommands('ipset -exist add f2b-x <ip> timeout <bantime>', 'ipset -exist del f2b-x <ip>'), undefined);
  assert.deepEqual(recogniseBanCommands('iptables -w -I f2b-x 1 -s <ip> -j DROP', 'iptables -w -D f2b-x -s <ip> -j DROP'), { kind: 'iptables', command: 'iptables', lockArgs: ['-w'], chain: 'f2b-x', ruleTail: ['DROP'] });
  assert.equal(recogniseBanCommands('iptables -w -I f2b-x 1 -s <ip> -j DROP', 'iptables -w -D f2b-x -s <ip> -j REJECT'), undefined);
  assert.equal(recogniseBanCommands('iptables -w -A f2b-x -s <ip> -j DROP', 'iptables -w -D f2b-x -s <ip> -j DROP'), undefined);
});

test('iptables variants named explicitly (iptables-legacy, iptables-nft): recognised with their own command', () => {
  for (const cmd of ['iptables-legacy', 'ip6tables-legacy', 'iptables-nft', 'ip6tables-nft']) {
    const got = recogniseBanCommands(`${cmd} -w -I f2b-x 1 -s <ip> -j DROP`, `${cmd} -w -D f2b-x -s <ip> -j DROP`);
    assert.deepEqual(got, { kind: 'iptables', command: cmd, lockArgs: ['-w'], chain: 'f2b-x', ruleTail: ['DROP'] }, cmd);
  }
  // ban and unban through different variants, or a tool that is not one of them: templates
  assert.equal(recogniseBanCommands('iptables-legacy -w -I f2b-x 1 -s <ip> -j DROP', 'iptables -w -D f2b-x -s <ip> -j DROP'), undefined);
  for (const cmd of ['iptables-legacyx', 'iptables-legacy-restore', 'iptables-save', 'xtables-legacy-multi', 'iptables-nft-restore']) {
    assert.equal(recogniseBanCommands(`${cmd} -w -I f2b-x 1 -s <ip> -j DROP`, `${cmd} -w -D f2b-x -s <ip> -j DROP`), undefined, cmd);
  }
});

const STOCK = '/etc/fail2ban/action.d';

/** The stock actions and what each must be recognised as (per family), `undefined` = stays a template. */
const EXPECTED: Record<string, { 4: unknown; 6: unknown }> = {
  nftables: { 4: { kind: 'nftables', command: 'nft', tableFamily: 'inet', table: 'f2b-table', set: 'addr-set-j' }, 6: { kind: 'nftables', command: 'nft', tableFamily: 'inet', table: 'f2b-table', set: 'addr6-set-j' } },
  'nftables-multiport': { 4: { kind: 'nftables', command: 'nft', tableFamily: 'inet', table: 'f2b-table', set: 'addr-set-j' }, 6: { kind: 'nftables', command: 'nft', tableFamily: 'inet', table: 'f2b-table', set: 'addr6-set-j' } },
  'nftables-allports': { 4: { kind: 'nftables', command: 'nft', tableFamily: 'inet', table: 'f2b-table', set: 'addr-set-j' }, 6: { kind: 'nftables', command: 'nft', tableFamily: 'inet', table: 'f2b-table', set: 'addr6-set-j' } },
  'iptables-ipset': { 4: { kind: 'ipset', command: 'ipset', set: 'f2b-j', timeout: 0 }, 6: { kind: 'ipset', command: 'ipset', set: 'f2b-j6', timeout: 0 } },
  iptables: {
    4: { kind: 'iptables', command: 'iptables', lockArgs: ['-w'], chain: 'f2b-j', ruleTail: ['REJECT', '--reject-with', 'icmp-port-unreachable'] },
    6: { kind: 'iptables', command: 'ip6tables', lockArgs: ['-w'], chain: 'f2b-j', ruleTail: ['REJECT', '--reject-with', 'icmp6-port-unreachable'] },
  },
  'iptables-multiport': {
    4: { kind: 'iptables', command: 'iptables', lockArgs: ['-w'], chain: 'f2b-j', ruleTail: ['REJECT', '--reject-with', 'icmp-port-unreachable'] },
    6: { kind: 'iptables', command: 'ip6tables', lockArgs: ['-w'], chain: 'f2b-j', ruleTail: ['REJECT', '--reject-with', 'icmp6-port-unreachable'] },
  },
  'iptables-allports': {
    4: { kind: 'iptables', command: 'iptables', lockArgs: ['-w'], chain: 'f2b-j', ruleTail: ['REJECT', '--reject-with', 'icmp-port-unreachable'] },
    6: { kind: 'iptables', command: 'ip6tables', lockArgs: ['-w'], chain: 'f2b-j', ruleTail: ['REJECT', '--reject-with', 'icmp6-port-unreachable'] },
  },
  'firewallcmd-ipset': { 4: { kind: 'ipset', command: 'ipset', set: 'f2b-j', timeout: 0 }, 6: { kind: 'ipset', command: 'ipset', set: 'f2b-j6', timeout: 0 } },
  'iptables-xt_recent-echo': { 4: undefined, 6: undefined },
  'firewallcmd-multiport': { 4: undefined, 6: undefined },
  route: { 4: undefined, 6: undefined },
  'sendmail-whois': { 4: undefined, 6: undefined },
};

test("Debian's stock actions, read as the daemon reads them: which ban natively", { skip: fs.existsSync(STOCK) ? false : `${STOCK} is not installed` }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pc-recog-'));
  try {
    fs.symlinkSync(STOCK, path.join(dir, 'action.d'));
    fs.mkdirSync(path.join(dir, 'filter.d'));
    fs.writeFileSync(path.join(dir, 'filter.d', 't.conf'), '[Definition]\nfailregex = ^fail <HOST>$\n');
    fs.writeFileSync(path.join(dir, 'j.log'), '');
    const jails = Object.keys(EXPECTED).map((a, i) => `[j${i}]\nenabled = true\nfilter = t\nlogpath = ${dir}/j.log\naction = ${a}[name=j]\n`);
    fs.writeFileSync(path.join(dir, 'jail.conf'), jails.join('\n'));
    const r = readConfigStream(new Configurator(new NodeFileSystem(), dir, new CollectingLog()), { overrides: new Map(), ignoreWrong: false, allowNoFiles: true });
    assert.ok(r.stream, String(r.error));
    const env = { runner: new ShellRunner(), lock: new CommandLock(), log: new MemoryLog(), hostname: () => 'h', allowIpv6: () => true, now: () => 0 };
    Object.keys(EXPECTED).forEach((name, i) => {
      const props: Array<[string, string]> = [];
      for (const c of r.stream ?? []) {
        const [verb, jail, what, act, key, value] = c as unknown[];
        if (jail !== `j${i}` || what !== 'action' || typeof act !== 'string') continue; // one action per jail (named `<file>-j`)
        if (verb === 'set' && typeof key === 'string') props.push([key, String(value)]);
        if (verb === 'multi-set') for (const kv of key as Array<[string, string]>) props.push([kv[0], kv[1]]);
      }
      assert.ok(props.length > 0, `${name}: no properties in the stream`);
      const action = new CommandAction(name, { name: 'j', banTime: () => 600, banned: () => 0, bannedTotal: () => 0, found: () => 0, foundTotal: () => 0 }, props, env);
      for (const fam of [4, 6] as const) {
        const family = fam === 4 ? 'inet4' : 'inet6';
        const got = recogniseBanCommands(action.staticCommand('<actionban>', family), action.staticCommand('<actionunban>', family));
        assert.deepEqual(got, EXPECTED[name]?.[fam], `${name} ${family}: ${action.staticCommand('<actionban>', family)}`);
      }
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
