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

/** The machine's files, with `nft` hidden or not. */
function machine(withNft: boolean): FileSystem {
  const real = new NodeFileSystem();
  return new Proxy(real, {
    get(target, prop, receiver) {
      if (prop === 'stat' && !withNft) return (p: string) => (/\/s?bin\/nft$/.test(p) ? undefined : target.stat(p));
      const v: unknown = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

function actionsOf(dir: string, withNft: boolean, extensions: boolean): { actions: string[]; log: CollectingLog } {
  const log = new CollectingLog();
  const r = readConfigStream(new Configurator(machine(withNft), dir, log), { overrides: new Map(), ignoreWrong: true, allowNoFiles: true, extensions });
  assert.ok(r.stream, String(r.error));
  return { actions: r.stream.filter((c) => c[0] === 'set' && c[2] === 'addaction').map((c) => `${JSON.stringify(c[1])}:${JSON.stringify(c[3])}`.replace(/"/g, "")), log };
}

test('the built-in configuration: nftables with nft installed, iptables without', () => {
  assert.ok(fs.existsSync(path.join(BUILTIN, 'jail.conf')), BUILTIN);
  assert.deepEqual(actionsOf(BUILTIN, true, true).actions, ['sshd:nftables-multiport']);
  const without = actionsOf(BUILTIN, false, true);
  assert.deepEqual(without.actions, ['sshd:iptables-multiport']);
  assert.match(JSON.stringify(without.log), /nft is not installed: using banaction = iptables-multiport, banaction_allports = iptables-allports/);
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
