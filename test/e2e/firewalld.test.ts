/**
 * firewalld for real: Debian's firewalld (nftables backend) on a private D-Bus system bus, in a
 * private network and mount namespace (test/helpers/firewalld.ts), and portcullis' server in the
 * same namespaces with Debian's stock jail.conf, sshd filter and `banaction = firewallcmd-ipset`,
 * `blocktype = DROP` set the way admins do it (action.d/firewallcmd-common.local). A log file
 * feeds sshd failures from 127.0.0.2: after maxretry the address is in ipset `f2b-sshd`, the
 * stock direct rule is in firewalld (`firewall-cmd --direct --get-all-rules`), and the kernel
 * drops 127.0.0.2's connections to the listening port while 127.0.0.1 still connects; unbanip
 * lets it in again; `stop` removes the rule and the set. Run twice: natively (the ban goes
 * through portcullis' ipset session, no `ipset add` shell command in the server's log, status
 * says native ipset) and with `native = false` (the stock commands, same outcome).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { NsServer } from '../helpers/netns.js';
import { tempDir, waitFor } from '../helpers/servers.js';
import {
  connect,
  createSandbox,
  execs,
  firewalldBinds,
  listen,
  portcullis,
  sshdFailures,
  startFirewalld,
  startServerInSandbox,
  writeStockTree,
  type Sandbox,
} from '../helpers/firewalld.js';

const ATTACKER = '127.0.0.2';
const HOST = '127.0.0.1';
const PORT = 8022;
const RULE = `ipv4 filter INPUT_direct 0 -p tcp -m multiport --dports ${PORT} -m set --match-set f2b-sshd src -j DROP`;

for (const native of [true, false]) {
  const how = native ? 'native ipset' : 'native = false: the stock commands';
  test(`firewalld + stock firewallcmd-ipset (blocktype DROP), ${how}: ban, drop, unban, clean stop`, { timeout: 300000 }, async (t) => {
    const dir = tempDir('pc-fwd-');
    const live: { sb?: Sandbox; server?: NsServer } = {};
    t.after(async () => {
      live.server?.client(['stop']);
      if (live.server && !(await live.server.waitExit(20000))) live.server.kill();
      await live.sb?.remove();
      fs.rmSync(dir, { recursive: true, force: true });
    });
    const log = path.join(dir, 'auth.log');
    fs.writeFileSync(log, '');
    const locals: Record<string, string> = { 'firewallcmd-common.local': '[Init]\nblocktype = DROP\n' };
    if (!native) locals['firewallcmd-ipset.local'] = '[Init]\nnative = false\n';
    writeStockTree(
      dir,
      `[DEFAULT]\nbanaction = firewallcmd-ipset\n\n[sshd]\nenabled = true\nport = ${PORT}\nmaxretry = 3\nfindtime = 10m\nbantime = 1h\nbackend = auto\nlogpath = ${log}\n`,
      locals,
    );
    const sb = (live.sb = await createSandbox('fwd', dir, firewalldBinds(dir)));
    const fwd = await startFirewalld(sb, dir);
    listen(sb, dir, PORT);
    const from = (src: string): string => connect(sb.enter, src, HOST, PORT);
    await waitFor('the listener', () => from(HOST) === 'connected');
    assert.equal(from(ATTACKER), 'connected', 'before the ban the attacker connects');
    const rules = (): string => fwd.cmd(['--direct', '--get-all-rules']).stdout.trim();
    const set = (): string => sb.run('ipset', ['list', 'f2b-sshd']).stdout;
    assert.equal(rules(), '');

    const server = (live.server = await startServerInSandbox(sb, dir, fwd.env));
    fs.appendFileSync(log, sshdFailures(ATTACKER, 3));
    await waitFor(`${ATTACKER} in ipset f2b-sshd`, () => set().includes(`\n${ATTACKER}`), 60000);
    assert.equal(rules(), RULE, 'the stock rule, made by the action through firewall-cmd');
    assert.match(server.client(['status', 'sshd']).stdout, /Banned IP list:\t127\.0\.0\.2\n/);
    assert.equal(from(ATTACKER), 'timeout', 'the banned address is dropped');
    assert.equal(from(HOST), 'connected', 'the host still connects');

    const shellBans = execs(dir, /ipset -exist add f2b-sshd 127\.0\.0\.2 timeout 0/);
    assert.equal(shellBans.length, native ? 0 : 1, shellBans.join('\n'));
    assert.equal(execs(dir, /firewall-cmd --direct --add-rule ipv4 filter INPUT_direct 0 .* -j DROP/).length, 1, "the action's own actionstart");
    const status = portcullis(dir, ['status', 'sshd']);
    assert.match(status, native ? /firewallcmd-ipset {2}native ipset, batched\n$/ : /firewallcmd-ipset {2}the action's own commands\n$/, status);
    assert.match(server.client(['get', 'sshd', 'actioninfo']).stdout, native ? /'ipset'/ : /'template'/);

    assert.equal(server.client(['set', 'sshd', 'unbanip', ATTACKER]).stdout.trim(), '1');
    await waitFor(`${ATTACKER} gone from f2b-sshd`, () => !set().includes(`\n${ATTACKER}`));
    assert.equal(execs(dir, /ipset -exist del f2b-sshd 127\.0\.0\.2/).length, native ? 0 : 1);
    assert.equal(from(ATTACKER), 'connected', 'after unbanip the attacker connects again');

    server.client(['stop']);
    assert.ok(await server.waitExit(30000), 'the server stops');
    assert.equal(server.exitCode(), 0, fs.readFileSync(path.join(dir, 'server.out'), 'utf8'));
    assert.equal(rules(), '', 'stop removes the direct rule');
    assert.doesNotMatch(sb.run('ipset', ['list', '-n']).stdout, /f2b-sshd/, 'stop destroys the set');
    assert.doesNotMatch(fs.readFileSync(path.join(dir, 'f2b.log'), 'utf8'), /\bERROR\b|CRITICAL/);
  });
}
