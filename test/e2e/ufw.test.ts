/**
 * ufw for real: Debian's ufw enabled in a private network and mount namespace (its rule files
 * under /etc/ufw, /lib/ufw and /etc/default/ufw are bind mounts of copies: the host's are never
 * read for writing nor changed), with the admin's usual `ufw allow 8022/tcp`; portcullis' server
 * in the same namespaces with Debian's stock jail.conf, sshd filter and `banaction = ufw` (the
 * stock action.d/ufw.conf: `ufw prepend reject from <ip> to any comment …`, a template action).
 *
 * The attacker is not on loopback: ufw's stock before.rules accept everything on `lo` before any
 * user rule, so a ban of 127.0.0.2 could never refuse loopback traffic (on a real ufw host
 * neither). A veth pair links the namespace to a client namespace holding 192.0.2.2 (the
 * attacker) and 192.0.2.3 (a bystander). After maxretry the ban is the first ufw rule, the
 * attacker's connection is refused while the bystander connects; unbanip removes the rule; a ban
 * set by hand is removed by `stop`, leaving only the admin's allow rule.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createNetns, type Netns, type NsServer } from '../helpers/netns.js';
import { tempDir, waitFor } from '../helpers/servers.js';
import { connect, createSandbox, execs, listen, sshdFailures, startServerInSandbox, writeStockTree, type Sandbox } from '../helpers/firewalld.js';

const SERVER = '192.0.2.1';
const ATTACKER = '192.0.2.2';
const BYSTANDER = '192.0.2.3';
const PORT = 8022;

/** Copies of ufw's files for the sandbox's bind mounts. */
function ufwBinds(dir: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const [src, name] of [
    ['/etc/ufw', 'etc-ufw'],
    ['/lib/ufw', 'lib-ufw'],
    ['/etc/default/ufw', 'default-ufw'],
  ] as const) {
    fs.cpSync(src, path.join(dir, name), { recursive: true });
    out.push([path.join(dir, name), src]);
  }
  return out;
}

function must(sb: Sandbox, cmd: string, args: readonly string[]): string {
  const r = sb.run(cmd, args);
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

test('ufw + stock ufw action: ban refuses the attacker, unban and stop remove the rule', { timeout: 300000 }, async (t) => {
  const dir = tempDir('pc-ufw-');
  const live: { sb?: Sandbox; client?: Netns; server?: NsServer } = {};
  t.after(async () => {
    live.server?.client(['stop']);
    if (live.server && !(await live.server.waitExit(20000))) live.server.kill();
    await live.sb?.remove();
    live.client?.remove();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const log = path.join(dir, 'auth.log');
  fs.writeFileSync(log, '');
  writeStockTree(dir, `[DEFAULT]\nbanaction = ufw\n\n[sshd]\nenabled = true\nport = ${PORT}\nmaxretry = 3\nfindtime = 10m\nbantime = 1h\nbackend = auto\nlogpath = ${log}\n`);
  const sb = (live.sb = await createSandbox('ufw', dir, ufwBinds(dir)));
  const client = (live.client = createNetns('ufwc'));
  // (from the client side: the sandbox's /run, where `ip` finds namespaces by name, is private)
  for (const args of [
    ['link', 'add', 'pcufw1', 'type', 'veth', 'peer', 'name', 'pcufw0', 'netns', sb.ns.name],
    ['addr', 'add', `${ATTACKER}/24`, 'dev', 'pcufw1'],
    ['addr', 'add', `${BYSTANDER}/24`, 'dev', 'pcufw1'],
    ['link', 'set', 'pcufw1', 'up'],
  ]) {
    const r = client.run('ip', args);
    assert.equal(r.status, 0, `ip ${args.join(' ')}: ${r.stderr}`);
  }
  must(sb, 'ip', ['addr', 'add', `${SERVER}/24`, 'dev', 'pcufw0']);
  must(sb, 'ip', ['link', 'set', 'pcufw0', 'up']);
  must(sb, 'ufw', ['allow', `${PORT}/tcp`]);
  assert.match(must(sb, 'ufw', ['--force', 'enable']), /Firewall is active/);
  listen(sb, dir, PORT);
  const from = (src: string): string => connect(['ip', 'netns', 'exec', client.name], src, SERVER, PORT);
  await waitFor('the listener', () => from(BYSTANDER) === 'connected');
  assert.equal(from(ATTACKER), 'connected', 'before the ban the attacker connects');
  const rules = (): string => must(sb, 'ufw', ['status', 'numbered']);
  const banRule = new RegExp(`\\[ 1\\] Anywhere +REJECT IN +${ATTACKER.replace(/\./g, '\\.')} +# by Fail2Ban after \\d+ attempts against sshd`);

  const server = (live.server = await startServerInSandbox(sb, dir));
  fs.appendFileSync(log, sshdFailures(ATTACKER, 3));
  await waitFor(`${ATTACKER} in ufw's rules`, () => rules().includes(ATTACKER), 60000);
  assert.match(rules(), banRule, 'the ban is the first rule');
  assert.match(must(sb, 'iptables', ['-S', 'ufw-user-input']), new RegExp(`-A ufw-user-input -s ${ATTACKER}/32 -j REJECT`));
  assert.equal(execs(dir, new RegExp(`ufw prepend reject from ${ATTACKER} to any comment`)).length, 1, 'the stock template command');
  assert.equal(from(ATTACKER), 'refused', 'the banned address is refused');
  assert.equal(from(BYSTANDER), 'connected', 'others still connect');
  assert.match(server.client(['get', 'sshd', 'actioninfo']).stdout, /'template'/);

  assert.equal(server.client(['set', 'sshd', 'unbanip', ATTACKER]).stdout.trim(), '1');
  await waitFor(`${ATTACKER} gone from ufw's rules`, () => !rules().includes(ATTACKER));
  assert.equal(from(ATTACKER), 'connected', 'after unbanip the attacker connects again');

  assert.equal(server.client(['set', 'sshd', 'banip', ATTACKER]).stdout.trim(), '1');
  await waitFor(`${ATTACKER} banned by hand`, () => rules().includes(ATTACKER));
  assert.equal(from(ATTACKER), 'refused');
  server.client(['stop']);
  assert.ok(await server.waitExit(30000), 'the server stops');
  assert.equal(server.exitCode(), 0, fs.readFileSync(path.join(dir, 'server.out'), 'utf8'));
  assert.doesNotMatch(rules(), /Fail2Ban|192\.0\.2\.2/, 'stop removes the ban');
  assert.match(rules(), new RegExp(`${PORT}/tcp +ALLOW IN +Anywhere`), "the admin's rule stays");
  assert.equal(from(ATTACKER), 'connected');
  assert.doesNotMatch(fs.readFileSync(path.join(dir, 'f2b.log'), 'utf8'), /\bERROR\b|CRITICAL/);
});
