/**
 * A new machine's default firewall: the built-in configuration bans through nftables where `nft`
 * is installed and through iptables where it is not (portcullis' server-bound stream only; `-d`
 * stays what the files say). An admin's explicit banaction is never replaced.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Configurator, readConfigStream } from '../../src/config/configurator.js';
import { CollectingLog } from '../../src/config/log.js';
import type { FileSystem } from '../../src/system/fs.js';
import { NodeFileSystem } from '../../src/system/nodeFs.js';
import { ROOT } from '../helpers/oracle.js';

const BUILTIN = path.join(ROOT, 'config');

/** The machine's files, with `nft` (and the journal) hidden or not. */
function machine(withNft: boolean, withJournal = true): FileSystem {
  const real = new NodeFileSystem();
  const hidden = (p: string): boolean => (!withNft && /\/s?bin\/nft$/.test(p)) || (!withJournal && /journalctl$|\/log\/journal$/.test(p));
  return new Proxy(real, {
    get(target, prop, receiver) {
      if (prop === 'stat') return (p: string) => (hidden(p) ? undefined : target.stat(p));
      const v: unknown = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

function actionsOf(dir: string, withNft: boolean, extensions: boolean, withJournal = true): { actions: string[]; log: CollectingLog; adds: string[] } {
  const log = new CollectingLog();
  const r = readConfigStream(new Configurator(machine(withNft, withJournal), dir, log), { overrides: new Map(), ignoreWrong: true, allowNoFiles: true, extensions });
  assert.ok(r.stream, String(r.error));
  return {
    adds: r.stream.filter((c) => c[0] === "add").map((c) => c.map((w) => (typeof w === "string" ? w : JSON.stringify(w))).join(" ")),
    actions: r.stream.filter((c) => c[0] === 'set' && c[2] === 'addaction').map((c) => `${JSON.stringify(c[1])}:${JSON.stringify(c[3])}`.replace(/"/g, "")), log };
}

test('the built-in configuration: nftables with nft installed, iptables without', () => {
  assert.ok(fs.existsSync(path.join(BUILTIN, 'jail.conf')), BUILTIN);
  assert.deepEqual(actionsOf(BUILTIN, true, true).actions, ['sshd:nftables-multiport']);
  const without = actionsOf(BUILTIN, false, true);
  assert.deepEqual(without.actions, ['sshd:iptables-multiport']);
  assert.match(JSON.stringify(without.log), /nft is not installed: using banaction = iptables-multiport, banaction_allports = iptables-allports/);
  assert.doesNotMatch(JSON.stringify(without.log), /syslog_backend/, 'this machine has a journal');
  assert.deepEqual(actionsOf(BUILTIN, false, false).actions, ['sshd:nftables-multiport'], '-d shows the files as they are');
});

test('an explicit choice is kept, and allports jails follow banaction_allports', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pc-fwdef-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  for (const name of fs.readdirSync(BUILTIN)) fs.symlinkSync(path.join(BUILTIN, name), path.join(dir, name));
  fs.writeFileSync(path.join(dir, 'jail.local'), '[recidive]\nenabled = true\nbackend = systemd\n');
  assert.deepEqual(actionsOf(dir, false, true).actions, ['sshd:iptables-multiport', 'recidive:iptables-allports']);
  fs.writeFileSync(path.join(dir, 'jail.local'), '[DEFAULT]\nbanaction = iptables-ipset\n[recidive]\nenabled = true\nbackend = systemd\n');
  assert.deepEqual(actionsOf(dir, true, true).actions, ['sshd:iptables-ipset', 'recidive:nftables-allports']);
  assert.deepEqual(actionsOf(dir, false, true).actions, ['sshd:iptables-ipset', 'recidive:iptables-allports']);
});

test('the built-in service jails read the journal where there is one, the log files otherwise', () => {
  assert.deepEqual(actionsOf(BUILTIN, true, true).adds, ['add sshd systemd']);
  const files = actionsOf(BUILTIN, true, true, false);
  assert.deepEqual(files.adds, ['add sshd auto']);
  assert.match(JSON.stringify(files.log), /there is no journal: using syslog_backend = auto/);
  assert.deepEqual(actionsOf(BUILTIN, false, true, false).actions, ['sshd:iptables-multiport']);
  assert.match(JSON.stringify(actionsOf(BUILTIN, false, true, false).log), /nft is not installed and there is no journal: using banaction = iptables-multiport, banaction_allports = iptables-allports, syslog_backend = auto/);
});
