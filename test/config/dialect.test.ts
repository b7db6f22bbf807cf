/**
 * One hand-written configuration per dialect rule and per error case. Each is checked three ways:
 * portcullis' `fail2ban-client -d` equals Debian's (stdout, exit code, stderr messages); the
 * output holds the value the rule implies (written here by hand); and for errors,
 * `portcullis config check` locates the problem (file, line, jail).
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { checkConfiguration } from '../../src/config/index.js';
import { NodeFileSystem } from '../../src/system/nodeFs.js';
import { needOracle, removeTree, runOurs, runReal, stripLogPrefix } from '../helpers/oracle.js';
import { tree } from './fixture.js';

interface Located {
  readonly code?: string;
  readonly file: string;
  readonly line?: number;
  readonly jail?: string;
}

interface Case {
  readonly name: string;
  readonly files: Readonly<Record<string, string | Uint8Array | null>>;
  /** Lines (or fragments) the -d output must contain. */
  readonly has?: readonly string[];
  readonly hasNot?: readonly string[];
  readonly status?: number;
  readonly stdout?: string;
  readonly located?: Located;
  /** Why the oracle cannot run this case (then only portcullis' expectations are checked). */
  readonly noOracle?: string;
}

/** jail.conf with jail t1; `body` starts at line 9 (line 8 with its own action). */
const J = (body: string, action = 'a1'): string => `[DEFAULT]\nbackend = polling\nlogpath = @DIR@/t.log\n\n[t1]\nenabled = true\nfilter = f1\naction = ${action}\n${body}`;

const CASES: Case[] = [
  {
    name: 'files merge in order conf < .d/*.conf < local < .d/*.local; known/ holds the value replaced last',
    files: {
      'jail.conf': J('bantime = 22\nfindtime = %(known/bantime)s\n'),
      'jail.d/a.conf': '[t1]\nbantime = 1111\n',
      'jail.local': '[t1]\nbantime = 2222\n',
      'jail.d/a.local': '[t1]\nbantime = 3333\n',
    },
    has: ["['set', 't1', 'bantime', '3333']", "['set', 't1', 'findtime', '2222']"],
  },
  {
    name: '[INCLUDES] before/after resolve against the including file, with .local companions',
    files: {
      'jail.conf': '[INCLUDES]\nbefore = inc/base.conf\nafter = inc/late.conf\n' + J('') ,
      'inc/base.conf': '[DEFAULT]\nmaxretry = 7\nfindtime = 99\n',
      'inc/base.local': '[DEFAULT]\nmaxretry = 8\n',
      'inc/late.conf': '[t1]\nfindtime = 77\n',
    },
    has: ["['set', 't1', 'maxretry', 8]", "['set', 't1', 'findtime', '77']"],
  },
  {
    name: 'fail2ban.conf, fail2ban.d/*.conf and fail2ban.local layer the server options',
    files: { 'fail2ban.d/a.conf': '[Definition]\nloglevel = DEBUG\ndbpurgeage = 2d\n', 'fail2ban.local': '[Definition]\nloglevel = NOTICE\n' },
    has: ["['set', 'loglevel', 'NOTICE']", "['set', 'dbpurgeage', '2d']", "['set', 'logtarget', 'STDERR']"],
  },
  {
    name: 'multi-line values: continuation lines, blank lines kept, comment lines skipped',
    files: { 'filter.d/f1.conf': '[Definition]\nfailregex = ^one <HOST>$\n# a comment inside\n            ^two <HOST>$\n\n            ^three <HOST>$\n' },
    has: ["['multi-set', 't1', 'addfailregex', ['^one <HOST>$', '^two <HOST>$', '^three <HOST>$']]"],
  },
  {
    name: 'comments: "#" and ";" at line start, " ;" inline; "v;x" and "v # x" are kept',
    files: { 'jail.conf': J('; comment\n# comment\nignorecommand = v # x\nlogencoding = utf-8 ; cut here\nlogtimezone = UTC;kept\n') },
    has: ["['set', 't1', 'ignorecommand', 'v # x']", "['set', 't1', 'logencoding', 'utf-8']", "['set', 't1', 'logtimezone', 'UTC;kept']"],
  },
  {
    name: 'keys are lowercased; the first = or : delimits; section names keep their case',
    files: { 'jail.conf': J('MaxRetry = 4\nignorecommand: a = b\n') + '\n[T2]\nenabled = true\nfilter = f1\naction = a1\n' },
    has: ["['set', 't1', 'maxretry', 4]", "['set', 't1', 'ignorecommand', 'a = b']", "['add', 'T2', 'polling']"],
  },
  {
    name: 'a repeated [DEFAULT] header in one file is allowed and merges',
    files: { 'jail.conf': J('') + '\n[DEFAULT]\nmaxretry = 9\n' },
    has: ["['set', 't1', 'maxretry', 9]"],
  },
  {
    name: '%(x)s, %(section/x)s, %(default/x)s, %(__name__)s and %% interpolate',
    files: {
      'jail.conf': '[DEFAULT]\nbackend = polling\nlogpath = @DIR@/t.log\nbase = 5\n\n[other]\nval = 6\n\n[t1]\nenabled = true\nfilter = f1\naction = a1\nbase = 4\nmaxretry = %(base)s\nmaxmatches = %(other/val)s\nfindtime = %(default/base)s\nignorecommand = %(__name__)s 100%%\n',
    },
    has: ["['set', 't1', 'maxretry', 4]", "['set', 't1', 'maxmatches', 6]", "['set', 't1', 'findtime', '5']", "['set', 't1', 'ignorecommand', 't1 100%']"],
  },
  {
    name: '<tag> substitution in a filter, nested, unknown tags kept literal',
    files: { 'filter.d/f1.conf': '[Definition]\n_daemon = sshd\n__pref = <_daemon>\\[\\d+\\]:\nfailregex = ^<__pref> fail <F-USER>\\S+</F-USER> from <HOST>$\n' },
    has: ["['set', 't1', 'addfailregex', '^sshd\\\\[\\\\d+\\\\]: fail <F-USER>\\\\S+</F-USER> from <HOST>$']"],
  },
  {
    name: '[Init] defaults, name[...] arguments override them; name and actname are added',
    files: { 'action.d/a1.conf': '[Definition]\nactionban = ban <ip> <port> <chain>\n[Init]\nport = 22\nchain = INPUT\n', 'jail.conf': J('', 'a1[port="80,443", name=web]') },
    has: ["['set', 't1', 'addaction', 'a1-web']", "['actionban', 'ban <ip> 80,443 INPUT']", "['port', '80,443']", "['name', 'web']", "['actname', 'a1-web']"],
  },
  {
    name: '[Init?family=inet6] values travel with the action and their tags stay for run time',
    files: { 'action.d/a1.conf': '[Definition]\nactionban = <cmd> -I <ip>\n[Init]\ncmd = iptables\n[Init?family=inet6]\ncmd = ip6tables\n' },
    has: ["['actionban', '<cmd> -I <ip>']", "['cmd', 'iptables']", "['cmd?family=inet6', 'ip6tables']"],
  },
  {
    name: 'argument syntax: quoted commas, several [..][..] groups, a trailing comma',
    files: { 'action.d/a1.conf': '[Definition]\nactionban = <x>|<y>|<z>\n', 'jail.conf': J('', 'a1[x="1, 2", y=\'a]b\'][z=3,]') },
    has: ["['actionban', '1, 2|a]b|3']"],
  },
  {
    name: 'multi-line action lists: one action per line or per word outside [...]',
    files: { 'action.d/a2.conf': '[Definition]\nactionban = two <ip>\n', 'jail.conf': J('', 'a1[name=x]\n         a2 a1[name=y,\n  port=1]') },
    has: ["['set', 't1', 'addaction', 'a1-x']", "['set', 't1', 'addaction', 'a2']", "['set', 't1', 'addaction', 'a1-y']"],
  },
  {
    name: 'jail options replace filter options; %(known/failregex)s extends them',
    files: { 'jail.conf': J('failregex = %(known/failregex)s\n            ^extra <HOST>$\nmaxlines = 2\ndatepattern = ^%%Y-%%m-%%d\n') },
    has: ["['multi-set', 't1', 'addfailregex', ['^fail from <HOST>$', '^extra <HOST>$']]", "['set', 't1', 'maxlines', 2]", "['set', 't1', 'datepattern', '^%Y-%m-%d']"],
  },
  {
    name: 'mode reaches the filter through filter = %(__name__)s[mode=%(mode)s]',
    files: {
      'filter.d/t1.conf': '[Definition]\nmode = normal\nnormal = ^n <HOST>$\naggressive = ^a <HOST>$\nfailregex = <<mode>>\n',
      'jail.conf': '[DEFAULT]\nbackend = polling\nlogpath = @DIR@/t.log\nmode = normal\nfilter = %(__name__)s[mode=%(mode)s]\n\n[t1]\nenabled = true\naction = a1\nmode = aggressive\n',
    },
    has: ["['set', 't1', 'addfailregex', '^a <HOST>$']"],
  },
  {
    name: 'an int that does not convert is sent as None with a warning',
    files: { 'jail.conf': J('maxretry = abc\n') },
    has: ["['set', 't1', 'maxretry', None]"],
    located: { code: 'E_BAD_INT', file: 'jail.conf', line: 9, jail: 't1' },
  },
  {
    name: 'enabled: 1/on/true/yes in any case enable; anything else disables',
    files: { 'jail.conf': J('') + '\n[t2]\nenabled = On\nfilter = f1\naction = a1\n\n[t3]\nenabled = enable\nfilter = f1\naction = a1\n' },
    has: ["['start', 't2']"],
    hasNot: ["'t3'"],
  },
  {
    name: 'logpath: several lines, globs, head/tail',
    files: { 'a1.log': '', 'a2.log': '', 'jail.conf': J('logpath = @DIR@/t.log tail\n          @DIR@/a?.log\n').replace('logpath = @DIR@/t.log\n\n', '\n') },
    has: ["'addlogpath', ", "/t.log', 'tail']", "/a1.log', 'head']", "/a2.log', 'head']"],
  },
  {
    name: 'journalmatch lines are split like a shell; systemd backends ignore logpath',
    files: { 'jail.conf': J('backend = systemd\njournalmatch = _SYSTEMD_UNIT=x.service + _COMM="a b"\n') },
    has: ["['add', 't1', 'systemd']", "['set', 't1', 'addjournalmatch', '_SYSTEMD_UNIT=x.service', '+', '_COMM=a b']"],
    hasNot: ['addlogpath'],
  },
  {
    name: 'ignoreip splits on spaces, commas and newlines',
    files: { 'jail.conf': J('ignoreip = 127.0.0.1/8 ::1,192.0.2.1\n           example.com\n') },
    has: ["['set', 't1', 'addignoreip', '127.0.0.1/8', '::1', '192.0.2.1', 'example.com']"],
  },
  {
    name: 'a Python action becomes addaction with its file and JSON arguments',
    files: { 'jail.conf': J('', 'smtp.py[host="h:25", actname=mail]') },
    has: ["['set', 't1', 'addaction', 'mail', '@DIR@/action.d/smtp.py', '{\"host\": \"h:25\"}']"],
    located: { code: 'E_PYTHON_ACTION', file: 'jail.conf', line: 8, jail: 't1' },
  },
  {
    name: 'section names may hold U+2028/U+2029 (Python\'s "." excludes only "\\n")',
    files: { 'jail.d/u.local': '[x\u2028y]\nenabled = false\n[p\u2029q]\nenabled = false\n' },
    has: ["['start', 't1']"],
  },
  // ---- errors ----
  {
    name: 'a duplicate key in one file aborts the load',
    files: { 'jail.conf': J('maxretry = 1\nmaxretry = 2\n') },
    status: 255,
    stdout: 'ERROR: The configuration stream failed because of the invalid syntax.\n',
    located: { code: 'E_INI_DUPLICATE_OPTION', file: 'jail.conf', line: 10 },
  },
  {
    name: 'a duplicate section in one file aborts the load',
    files: { 'jail.conf': J('') + '[t1]\nmaxretry = 1\n' },
    status: 255,
    located: { code: 'E_INI_DUPLICATE_SECTION', file: 'jail.conf', line: 9 },
  },
  {
    name: 'a UTF-8 byte order mark is not stripped: no section header',
    files: { 'jail.conf': '\ufeff' + J('') },
    status: 255,
    located: { code: 'E_INI_NO_SECTION', file: 'jail.conf', line: 1 },
  },
  {
    name: 'a line that is neither option nor section is a parsing error',
    files: { 'jail.conf': J('this is not an option\n') },
    status: 255,
    located: { code: 'E_INI_PARSE', file: 'jail.conf', line: 9 },
  },
  {
    name: 'an undefined %(name)s aborts the whole load',
    files: { 'jail.conf': J('bantime = %(nowhere)s\n') },
    status: 255,
    located: { code: 'E_INTERPOLATION_MISSING', file: 'jail.conf', line: 9, jail: 't1' },
  },
  {
    name: 'a stray % is an interpolation syntax error',
    files: { 'jail.conf': J('datepattern = %Y-%m\n') },
    status: 255,
    located: { code: 'E_INTERPOLATION_SYNTAX', file: 'jail.conf', line: 9, jail: 't1' },
  },
  {
    name: '%(…)s references deeper than 10 (a loop) fail',
    files: { 'jail.conf': J('x = %(y)s\ny = %(x)s\nbantime = %(x)s\n') },
    status: 255,
    located: { code: 'E_INTERPOLATION_DEPTH', jail: 't1', file: 'jail.conf' },
  },
  {
    name: 'a tag that refers to itself fails the load',
    files: { 'filter.d/f1.conf': '[Definition]\nx = <x>\nfailregex = ^<x> <HOST>$\n' },
    status: 255,
    located: { code: 'E_TAG_RECURSION', jail: 't1', file: 'filter.d/f1.conf', line: 3 },
  },
  {
    name: 'tags that multiply each other fail cleanly instead of exhausting memory',
    files: { 'action.d/a1.conf': '[Definition]\nactionstart = <a>\na = xxxxxxxxxxxxxxxx<b><b><b><b>\nb = <a>\n' },
    status: 255,
    stdout: 'ERROR: The configuration stream failed because of the invalid syntax.\n',
    located: { code: 'E_TAG_RECURSION', file: 'action.d/a1.conf', line: 2, jail: 't1' },
    noOracle: 'fail2ban 1.0.2 grows the value until it runs out of memory (24 GB observed), then fails the same way',
  },
  {
    name: 'an include loop written with ../ paths fails the load as Python\'s recursion limit does',
    files: {
      'filter.d/f1.conf': '[INCLUDES]\nbefore = sub/common.conf\n[Definition]\nfailregex = ^x <HOST>$\n',
      'filter.d/sub/common.conf': '[INCLUDES]\nbefore = ../f1.conf\n[Definition]\nv = 1\n',
    },
    status: 255,
    stdout: 'ERROR: The configuration stream failed because of the invalid syntax.\n',
    located: { code: 'E_INCLUDE_DEPTH', file: 'filter.d/f1.conf' },
  },
  {
    name: 'a missing filter skips that jail only; the other jail starts',
    files: { 'jail.conf': J('') + '\n[t2]\nenabled = true\nfilter = nosuch\naction = a1\n' },
    has: ["['config-error', \"Jail 't2' skipped, because of wrong configuration: Unable to read the filter 'nosuch'\"]", "['start', 't1']"],
    hasNot: ["['start', 't2']"],
    located: { code: 'E_JAIL_DEF', file: 'jail.conf', line: 12, jail: 't2' },
  },
  {
    name: 'malformed filter arguments skip the jail',
    files: { 'jail.conf': J('') + '\n[t2]\nenabled = true\nfilter = f1[mode = x]\naction = a1\n' },
    has: ["['config-error', \"Jail 't2' skipped, because of wrong configuration: Invalid filter definition 'f1[mode = x]'"],
    located: { code: 'E_JAIL_DEF', file: 'jail.conf', line: 12, jail: 't2' },
  },
  {
    name: 'a missing action skips the jail',
    files: { 'jail.conf': J('', 'nosuch') },
    status: 255,
    has: ["['config-error', \"Jail 't1' skipped, because of wrong configuration: Unable to read action 'nosuch'\"]"],
    located: { code: 'E_JAIL_DEF', file: 'jail.conf', line: 8, jail: 't1' },
  },
  {
    name: 'an invalid time in findtime is located',
    files: { 'jail.conf': J('findtime = 10 parsecs\n') },
    has: ["['set', 't1', 'findtime', '10 parsecs']"],
    located: { code: 'E_BAD_TIME', file: 'jail.conf', line: 9, jail: 't1' },
  },
];

const fs = new NodeFileSystem();

describe('configuration dialect and errors, side by side with fail2ban 1.0.2', () => {
  for (const c of CASES) {
    test(c.name, (t) => {
      const dir = tree(c.files);
      try {
        const located = c.located;
        if (located) {
          const problems = checkConfiguration(fs, dir).problems;
          const p = problems.find((q) => (located.code === undefined || q.code === located.code) && q.location?.file === path.join(dir, located.file));
          assert.ok(p, `no ${located.code ?? ''} problem located in ${located.file}; got ${JSON.stringify(problems, null, 1)}`);
          if (located.line !== undefined) assert.equal(p.location?.line, located.line, p.message);
          if (located.jail !== undefined) assert.equal(p.location?.jail, located.jail, p.message);
          assert.ok(p.message.length > 10);
        }
        const ours = runOurs('fail2ban-client', ['-c', dir, '-d']);
        if (c.noOracle !== undefined) t.diagnostic(`no side-by-side run: ${c.noOracle}`);
        else {
          if (!needOracle(t)) return;
          const real = runReal('fail2ban-client', ['-c', dir, '-d']);
          assert.equal(ours.stdout, real.stdout);
          assert.equal(ours.status, real.status, ours.stderr);
          assert.equal(stripLogPrefix(ours.stderr), stripLogPrefix(real.stderr));
        }
        assert.equal(ours.status, c.status ?? 0);
        if (c.stdout !== undefined) assert.equal(ours.stdout, c.stdout);
        for (const h of c.has ?? []) assert.ok(ours.stdout.includes(h.replaceAll('@DIR@', dir)), `missing ${h} in\n${ours.stdout}`);
        for (const h of c.hasNot ?? []) assert.ok(!ours.stdout.includes(h), `unexpected ${h} in\n${ours.stdout}`);
      } finally {
        removeTree(dir);
      }
    });
  }
});
