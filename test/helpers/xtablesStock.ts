/**
 * The oracle for the iptables and ipset backends: Debian's stock `iptables*` actions resolved as
 * fail2ban resolves them (`fail2ban-client -d` on a temp config with the stock action files copied
 * in, then fail2ban's own `CommandAction.replaceTag` per family), run with `/bin/sh -c` inside a
 * namespace; and the firewall state of a namespace (`iptables-save`, `ip6tables-save`, `ipset
 * list`) normalised so that two namespaces can be compared: no comments, counters, hash seeds,
 * memory sizes or running timeouts.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeTree, removeTree } from './oracle.js';
import { runPython } from './python.js';
import type { Netns } from './netns.js';

export type StockFamily = 'inet4' | 'inet6';

export interface StockCommands {
  actionstart: string;
  actionstop: string;
  actionflush: string;
  actioncheck: string;
  ban: Record<string, string>;
  unban: Record<string, string>;
}

/** The stock action's commands per family, with `ip` filled in for each address of `addrs`. */
export function stockCommands(action: string, addrs: Record<StockFamily, string[]>): Record<StockFamily, StockCommands> {
  const files: Record<string, string> = {
    'fail2ban.conf': '[Definition]\nloglevel = INFO\n',
    'jail.conf': `[sshd]\nenabled = true\nfilter = t\nlogpath = HERE/x.log\nbantime = 600\naction = ${action}\n`,
    'filter.d/t.conf': '[Definition]\nfailregex = ^x <HOST>$\n',
    'x.log': '',
  };
  for (const f of fs.readdirSync('/etc/fail2ban/action.d').filter((n) => n.startsWith('iptables'))) {
    files[`action.d/${f}`] = fs.readFileSync(path.join('/etc/fail2ban/action.d', f), 'utf8');
  }
  const dir = makeTree(files, 'pc-hipt-');
  try {
    fs.writeFileSync(path.join(dir, 'jail.conf'), files['jail.conf']!.replace('HERE', dir));
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
    res[fam] = {k: CommandAction.replaceTag(opts[k], opts, conditional=cond) for k in ('actionstart', 'actionstop', 'actionflush', 'actioncheck')}
    for k in ('ban', 'unban'):
        res[fam][k] = {ip: CommandAction.replaceTag(opts['action' + k], dict(opts, ip=ip), conditional=cond) for ip in ips}
print(json.dumps(res))
`,
      { dir, addrs },
    );
  } finally {
    removeTree(dir);
  }
}

/** Runs a script with `/bin/sh -c` in the namespace; it must succeed. */
export function sh(ns: Netns, script: string): void {
  const r = ns.run('/bin/sh', ['-c', script]);
  assert.equal(r.status, 0, `${script}\n${r.stderr}`);
}

function must(ns: Netns, cmd: string, args: string[]): string {
  const r = ns.run(cmd, args);
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** `iptables-save` and `ip6tables-save` without comments and counters. */
export function xtablesState(ns: Netns): string {
  return ['iptables-save', 'ip6tables-save']
    .map((tool) =>
      must(ns, tool, [])
        .split('\n')
        .filter((l) => !l.startsWith('#'))
        .map((l) => l.replace(/\[\d+:\d+\]/g, '[0:0]'))
        .join('\n'),
    )
    .join('--\n');
}

/** `ipset list` without hash seeds, memory sizes and remaining timeouts; members sorted. */
export function ipsetState(ns: Netns): string {
  const sets = must(ns, 'ipset', ['list']).split(/\n(?=Name: )/);
  return sets
    .map((set) => {
      const [head = '', members = ''] = set.split('Members:\n');
      const h = head.replace(/ initval 0x[0-9a-f]+/, '').replace(/Size in memory: \d+\n/, '');
      const m = members.split('\n').filter((l) => l !== '').map((l) => l.replace(/ timeout [1-9]\d*$/, ' timeout N'));
      return `${h}Members:\n${m.sort().join('\n')}`;
    })
    .sort()
    .join('\n--\n');
}
