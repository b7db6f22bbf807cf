/**
 * Per-ticket tags in action commands: values from log lines never become shell syntax. Checked
 * by running the commands through a real /bin/sh — ours, and fail2ban's own replaceDynamicTags
 * (Debian's Python package) on the same values: the words the shell sees are the values, intact;
 * identical to fail2ban's wherever fail2ban keeps them intact (it lets whitespace through).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { substituteDynamic } from '../../src/action/dynamicTags.js';
import { ShellRunner } from '../../src/system/exec.js';
import { NO_PYTHON, PYTHON, runPython } from '../helpers/python.js';

const extra = { hostname: (fqdn: boolean): string => (fqdn ? 'host.example.org' : 'host') };

const HOSTILE = [
  '192.0.2.1',
  '2001:db8::1',
  'bob',
  '',
  '$(touch PWNED)',
  '`touch PWNED`',
  '; touch PWNED',
  "'; touch PWNED; '",
  '"; touch PWNED; "',
  'a b  c',
  'tab\there',
  'line1\nline2; touch PWNED',
  'cr\rx',
  '*',
  '~root',
  '${HOME}',
  '\\',
  'ünïcödé',
  '-n',
  'a|b&c>d<e',
  '#comment',
  '%(x)s',
  '$(touch${IFS}PWNED)',
  ';touch${IFS}PWNED',
  '`touch${IFS}PWNED`',
  "'$(touch${IFS}PWNED)'",
  '"$HOME"',
];

function sh(script: string, args: readonly string[], cwd: string): string {
  const r = spawnSync('/bin/sh', ['-c', script, ...args], { cwd, encoding: 'utf8' });
  return r.stdout;
}

test('substituteDynamic: safe words inline, anything else as a positional argument', () => {
  const lookup = (t: string): string | undefined => ({ ip: '192.0.2.1', matches: 'x; y', failures: '3' })[t];
  const r = substituteDynamic('ban <ip> <failures> <matches> <F-USER> <F-ID> <unknown><br><sp><fq-hostname> <sh-hostname>', lookup, new Map([['user', 'a b'], ['fid', 'id1']]), extra);
  assert.equal(r.script, 'f2bV_matches=$0 f2bV_F_user=$1 \nban 192.0.2.1 3 "${f2bV_matches}" "${f2bV_F_user}" id1 <unknown>\n host.example.org host');
  assert.deepEqual(r.args, ['x; y', 'a b']);
  // a missing F- group is empty; no variables, no preamble
  assert.deepEqual(substituteDynamic('x<F-NOPE>y <ip>', lookup, new Map(), extra), { script: 'xy 192.0.2.1', args: [] });
  // no recursion: a value that looks like a tag stays text (and is not a safe word)
  const rec = substituteDynamic('<matches>', () => '<ip>', new Map(), extra);
  assert.deepEqual(rec, { script: 'f2bV_matches=$0 \n"${f2bV_matches}"', args: ['<ip>'] });
  // the reference fits the quotes around the tag: one whole word in every context
  const ctx = substituteDynamic(`a <ip> "b <ip>" 'c <ip>' "$(echo <ip>)" \`echo <ip>\` "d \\" <ip>"`, () => 'x y', new Map(), extra);
  assert.equal(ctx.script, `f2bV_ip=$0 \na "\${f2bV_ip}" "b \${f2bV_ip}" 'c '"\${f2bV_ip}"'' "$(echo "\${f2bV_ip}")" \`echo "\${f2bV_ip}"\` "d \\" \${f2bV_ip}"`);
});

test('hostile values reach the shell as single, intact words and run nothing', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portcullis-tags-'));
  try {
    for (const v of HOSTILE) {
      const lookup = (t: string): string | undefined => (t === 'matches' ? v : t === 'ip' ? v : undefined);
      for (const cmd of [`printf '[%s]\\n' <ip> <F-USER>`, `printf '[%s]\\n' "<matches>"`, `printf '[%s]\\n' "x<F-USER>y"`, `printf '[%s]\\n' 'x<F-USER>y'`, `printf '[%s]\\n' "$(printf %s x<F-USER>y)"`]) {
        const r = substituteDynamic(cmd, lookup, new Map([['user', v]]), extra);
        const got = sh(r.script, r.args, dir);
        // (an empty value unquoted is no word at all, as with fail2ban)
        const want = cmd.includes('x<F-USER>y') ? `[x${cmd.includes('$(') ? v.replace(/\n+$/, '') : v}y]\n` : cmd.includes('<ip>') ? (v === '' ? '[]\n' : `[${v}]\n[${v}]\n`) : `[${v}]\n`;
        assert.equal(got, want, `${cmd} with ${JSON.stringify(v)}`);
      }
    }
    assert.deepEqual(fs.readdirSync(dir), [], 'no command from a value ran');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

const F2B_SCRIPT = `
from fail2ban.server.action import CommandAction
out = []
for c in DATA:
    info = dict(c['info']); info['F-*'] = c['f']
    r = CommandAction.replaceDynamicTags(c['cmd'], info)
    out.append(r if isinstance(r, list) else [r])
print(json.dumps(out))
`;

test('the same words as fail2ban\'s replaceDynamicTags wherever fail2ban keeps the value whole', { skip: PYTHON === undefined && NO_PYTHON }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portcullis-tags-'));
  try {
    const cmds = [`printf '[%s]\\n' <ip> <F-USER> <fid>`, `printf '[%s]\\n' "<matches>" "u=<F-USER>"`];
    const cases = HOSTILE.flatMap((v) => cmds.map((cmd) => ({ cmd, info: { ip: v, matches: v, fid: v }, f: { user: v } })));
    const theirs = runPython<string[][]>(F2B_SCRIPT, cases);
    let compared = 0;
    cases.forEach((c, i) => {
      const mine = substituteDynamic(c.cmd, (t) => (c.info as Record<string, string>)[t], new Map(Object.entries(c.f)), extra);
      const [script = '', ...args] = theirs[i] ?? [];
      const ref = sh(script, args, dir);
      const got = sh(mine.script, mine.args, dir);
      if (!/\s/.test(c.info.ip) && c.info.ip !== '') {
        assert.equal(got, ref, `${c.cmd} with ${JSON.stringify(c.info.ip)}`);
        compared++;
      }
    });
    assert.ok(compared > 30);
    assert.deepEqual(fs.readdirSync(dir), []);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('ShellRunner: exit codes, output, arguments, and a timeout that kills the whole process group', async () => {
  const run = new ShellRunner();
  const ok = await run.run({ script: 'v=$0; printf "%s|" "$v" "$1"; echo err >&2; exit 3', args: ['a b', '$(x)'] }, 5000);
  assert.deepEqual([ok.code, ok.stdout, ok.stderr.trim(), ok.timedOut], [3, 'a b|$(x)|', 'err', false]);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portcullis-exec-'));
  try {
    const pidFile = path.join(dir, 'pid');
    const slow = await run.run({ script: 'sleep 30 & echo $! > "$0"; wait', args: [pidFile] }, 300);
    assert.equal(slow.timedOut, true);
    assert.equal(slow.signal, 'SIGTERM');
    const pid = Number(fs.readFileSync(pidFile, 'utf8'));
    // the background sleep was in the same group: it is gone too (give the kernel a moment to reap it)
    // (a zombie waiting for a parent that does not reap it counts as gone)
    const running = (): boolean => {
      try {
        return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
      } catch {
        return false;
      }
    };
    let alive = true;
    for (let i = 0; i < 50 && alive; i++) {
      alive = running();
      if (alive) await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(alive, false, 'the group was killed');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const big = await run.run({ script: 'head -c 1000000 /dev/zero', args: [] }, 5000);
  assert.equal(big.stdout.length, 64 * 1024, 'captured output is capped');
});
