/**
 * Scenario 6, mail to the admin on ban: a real sshd (Debian's openssh-server, port 2222) in a
 * private network namespace logs through a real rsyslogd into auth.log; a real Postfix in the
 * same namespace delivers locally into the Maildir of a test user (test/helpers/mta.ts); the
 * fail2ban server runs in the MTA's mount namespace, so the actions' `/usr/sbin/sendmail` hands
 * the notices to that Postfix.
 *
 * 1. Debian's STOCK jail.conf `action_mw` (nftables-multiport + sendmail-whois) and `action_mwl`
 *    (+ sendmail-whois-lines): whois not installed (hidden from the server), the notices arrive
 *    with the ban text, "missing whois program" and, for mwl, the attacker's log lines; no ERROR.
 *    Debian's fail2ban on the same setup delivers the same notices (compared after both ran).
 * 2. whois hangs (a fake `whois` first on PATH sleeping 600 s) and the mail action has
 *    `timeout = 5` (action.d/sendmail-whois.local): the command is killed after its timeout and,
 *    as fail2ban's _processCmd does, tried once more (killed again), then the action reported
 *    failed; no ban notice (sendmail dies with it), the ban stays, the next attacker is banned
 *    too, no whois is left running. Same for Debian's fail2ban (its own namespace).
 * 3. portcullis' BUILT-IN config's sendmail-whois (`timeout -k 2 <whois_timeout>` around whois):
 *    the notice says "(whois is not installed)", or "(no whois answer)" when whois hangs.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { nftBanned } from '../helpers/mailstack.js';
import { delivered, startLocalMta, startMailServer, writeMailTree, type Delivered, type LocalMta } from '../helpers/mta.js';
import { createNetns, type Netns, type NsServer } from '../helpers/netns.js';
import { ROOT, needOracle } from '../helpers/oracle.js';
import { waitFor, type Side } from '../helpers/servers.js';
import { sshLogin, startRsyslogd, startSshd, type Rsyslog, type Sshd, type SshOutcome } from '../helpers/sshd.js';

const HOST = '127.0.0.1';
const who = (side: Side): string => (side === 'ours' ? 'portcullis' : "Debian's fail2ban");
const STOCK = '/etc/fail2ban';
const BUILTIN = path.join(ROOT, 'config');

interface Stage {
  readonly ns: Netns;
  readonly dir: string;
  readonly conf: string;
  readonly rsyslog: Rsyslog;
  readonly sshd: Sshd;
  readonly mta: LocalMta;
  /** Set once started: killed at the end of the test. */
  server?: NsServer;
}

function missing(): string | undefined {
  const need = { postfix: '/usr/lib/postfix/sbin/master', 'openssh-server': '/usr/sbin/sshd', sshpass: '/usr/bin/sshpass', rsyslog: '/usr/sbin/rsyslogd' };
  const absent = Object.entries(need).flatMap(([pkg, file]) => (fs.existsSync(file) ? [] : [pkg]));
  return absent.length > 0 ? `Debian packages missing: ${absent.join(' ')}` : undefined;
}

/** Namespace, rsyslogd, sshd and Postfix, all removed at the end of `t`. */
async function stage(t: TestContext, prefix: string): Promise<Stage> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `pc-${prefix}-`));
  const live: { ns?: Netns; rsyslog?: Rsyslog; sshd?: Sshd; mta?: LocalMta; stage?: Stage } = {};
  t.after(async () => {
    live.stage?.server?.kill();
    // A fake whois that outlived its action (only when the test already failed).
    for (const pid of whoisPids(dir)) {
      try {
        if (fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8') === 'sleep\u0000600\u0000') process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    await live.mta?.stop();
    await live.sshd?.stop();
    await live.rsyslog?.stop();
    live.ns?.remove();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const ns = (live.ns = createNetns(prefix));
  const rsyslog = (live.rsyslog = await startRsyslogd(ns, dir));
  const sshd = (live.sshd = await startSshd(ns, dir, rsyslog));
  const mta = (live.mta = await startLocalMta(ns, path.join(dir, 'mta'), rsyslog.socket));
  return (live.stage = { ns, dir, conf: path.join(dir, 'f2b'), rsyslog, sshd, mta });
}

async function login(st: Stage, src: string, password: string, expect: SshOutcome, why: string): Promise<void> {
  const a = await sshLogin(st.ns, st.sshd, src, password);
  assert.equal(a.outcome, expect, `${why}: ssh from ${src} (exit ${String(a.status)}):\n${a.stderr}`);
}

function stat(server: NsServer, jail: string, field: string): string {
  const r = server.client(['status', jail]);
  assert.equal(r.status, 0, `status ${jail}: ${r.stderr}`);
  return new RegExp(`${field}:\\t([^\\n]*)`).exec(r.stdout)?.[1] ?? `(no "${field}" in ${r.stdout})`;
}

/** `maxretry` (2) failures from `src`, each counted by `jail`, starting from `before` failures. */
async function attack(st: Stage, server: NsServer, jail: string, src: string, before: number): Promise<void> {
  for (let i = 1; i <= 2; i++) {
    await login(st, src, 'wrong', 'denied', `${src}: failure ${i} reaches authentication`);
    await waitFor(`${before + i} failures counted by ${jail}`, () => Number(stat(server, jail, 'Total failed')) >= before + i);
  }
}

function serverLog(st: Stage): string {
  const f = path.join(st.conf, 'f2b.log');
  return fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : '';
}

/** The one delivered message whose Subject matches `subject` (waits for it). */
async function mailWith(st: Stage, subject: RegExp, timeoutMs = 30000): Promise<Delivered> {
  const find = (): Delivered[] => delivered(st.mta).filter((m) => subject.test(m.headers.get('subject') ?? ''));
  await waitFor(`a mail with Subject ${String(subject)} in ${st.mta.maildir}`, () => find().length > 0, timeoutMs);
  const all = find();
  assert.equal(all.length, 1, `one mail with Subject ${String(subject)}:\n${all.map((m) => m.raw).join('\n----\n')}`);
  return all[0] as Delivered;
}

/** jail.conf's [sshd] names its own port, backend and logpath: a jail.local section must override them. */
const sshdSection = (st: Stage): string => `port = ${st.sshd.port}\nbackend = auto\nlogpath = ${st.rsyslog.authLog}`;

const stockJails = (st: Stage): string => `[DEFAULT]
banaction = nftables-multiport
banaction_allports = nftables-allports
destemail = ${st.mta.address}
maxretry = 2
findtime = 10m
bantime = 1h

[sshd]
enabled = true
${sshdSection(st)}
action = %(action_mw)s

[sshd-lines]
enabled = true
filter = sshd
${sshdSection(st)}
action = %(action_mwl)s
`;

/** The stock notices of each side (the first tests), for the comparison after both ran. */
const notices = new Map<Side, string>();

/** A notice without what differs between two runs: Date, queue ids, log lines' times, pids, ports, and sshd's racing "Connection closed" lines. */
const comparable = (m: Delivered): string =>
  ['subject', 'from', 'to', 'return-path', 'delivered-to'].map((h) => `${h}: ${m.headers.get(h) ?? ''}`).join('\n') +
  `\n\n${m.body.replace(/^.* Connection closed by .*\n/gm, '').replace(/^\w{3} [ \d]\d \d\d:\d\d:\d\d (\S+ sshd)\[\d+\]/gm, 'DATE $1[PID]').replace(/ port \d+/g, ' port N')}`;

for (const side of ['ours', 'real'] as const satisfies readonly Side[]) {
  test(`stock action_mw and action_mwl (${who(side)}): the notices reach the admin's mailbox through a real Postfix, whois not installed`, { timeout: 240000 }, async (t) => {
    const why = missing();
    if (why !== undefined) return t.skip(why);
    if (side === 'real' && !needOracle(t, 'fail2ban-server')) return;
    const st = await stage(t, `mailmw-${side}`);
    const attacker = '127.0.0.2';
    writeMailTree(st.conf, STOCK, stockJails(st));
    const server = (st.server = await startMailServer(st.ns, st.mta, st.conf, { side, hideWhois: true }));
    for (const jail of ['sshd', 'sshd-lines']) await mailWith(st, new RegExp(`^\\[Fail2Ban\\] ${jail}: started on \\S+$`));

    const t0 = Date.now();
    await attack(st, server, 'sshd', attacker, 0);
    await waitFor(`${attacker} in both sets`, () => nftBanned(st.ns, 'sshd').includes(attacker) && nftBanned(st.ns, 'sshd-lines').includes(attacker));
    const mw = await mailWith(st, /^\[Fail2Ban\] sshd: banned 127\.0\.0\.2 from \S+$/);
    const mwl = await mailWith(st, /^\[Fail2Ban\] sshd-lines: banned 127\.0\.0\.2 from \S+$/);
    t.diagnostic(`ban notices delivered ${Date.now() - t0} ms after the first failure`);
    t.diagnostic(`${side}: action_mw as delivered:\n${mw.raw}`);
    t.diagnostic(`${side}: action_mwl as delivered:\n${mwl.raw}`);
    notices.set(side, [mw, mwl].map(comparable).join('\n----\n'));
    for (const m of [mw, mwl]) {
      assert.match(m.headers.get('from') ?? '', /^Fail2Ban <root@\S+>$/, m.raw);
      assert.equal(m.headers.get('to'), st.mta.address, m.raw);
      assert.equal(m.headers.get('delivered-to'), st.mta.address, m.raw);
      assert.match(m.headers.get('return-path') ?? '', /^<root@\S+>$/, m.raw);
      assert.match(m.body, /The IP 127\.0\.0\.2 has just been banned by Fail2Ban after\s+2 attempts against sshd(?:-lines)?\./, m.raw);
      assert.match(m.body, /Here is more information about 127\.0\.0\.2 :\s+missing whois program\s/, m.raw);
      assert.match(m.body, /Regards,\s+Fail2Ban\s*$/, m.raw);
    }
    // mwl: the attacker's lines of auth.log (grep -wF), and only theirs.
    const lines = mwl.body.split('Lines containing failures of 127.0.0.2 (max 1000)')[1] ?? '';
    const fails = lines.match(/sshd\[\d+\]: Failed password for \S+ from 127\.0\.0\.2 port \d+ ssh2/g) ?? [];
    assert.equal(fails.length, 2, `the attacker's two failures in the mwl notice:\n${mwl.raw}`);
    assert.doesNotMatch(lines, /127\.0\.0\.1/, mwl.raw);
    assert.doesNotMatch(mw.body, /Lines containing/, mw.raw);

    await login(st, attacker, 'wrong', 'refused', 'the banned attacker is refused by the kernel');
    await login(st, HOST, st.sshd.password, 'accepted', 'the host still logs in');
    const log = serverLog(st);
    assert.match(log, /\[sshd\] Ban 127\.0\.0\.2/, log);
    assert.doesNotMatch(log, /\bERROR\b|CRITICAL|timed out/, log);

    const s = server.client(['stop']);
    assert.equal(s.status, 0, s.stderr);
    assert.ok(await server.waitExit(30000), 'the server did not exit after stop');
    for (const jail of ['sshd', 'sshd-lines']) await mailWith(st, new RegExp(`^\\[Fail2Ban\\] ${jail}: stopped on \\S+$`));
    assert.equal(delivered(st.mta).length, 6, 'start, ban and stop notices of both jails, nothing else');
  });
}

test('the stock notices are the same from portcullis and from Debian\'s fail2ban', (t) => {
  const [ours, real] = [notices.get('ours'), notices.get('real')];
  if (ours === undefined || real === undefined) return t.skip('one of the two runs above did not deliver its notices');
  assert.equal(ours, real);
});

/** A `whois` that never answers (first on the server's PATH); each call appends its pid to `pids`. */
function hangingWhois(st: Stage): { bin: string; pids: () => number[] } {
  const bin = path.join(st.dir, 'fakebin');
  const pids = path.join(st.dir, 'whois.pids');
  fs.mkdirSync(bin);
  fs.writeFileSync(path.join(bin, 'whois'), `#!/bin/sh\necho $$ >> ${pids}\nexec sleep 600\n`, { mode: 0o755 });
  return { bin, pids: () => whoisPids(st.dir) };
}

/** The pids the fake whois of the stage in `dir` recorded (still running or not). */
function whoisPids(dir: string): number[] {
  const file = path.join(dir, 'whois.pids');
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map(Number) : [];
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

for (const side of ['ours', 'real'] as const satisfies readonly Side[]) {
  test(`stock action_mw, whois hangs, timeout = 5 (${who(side)}): killed after its timeout, bans stay and go on`, { timeout: 240000 }, async (t) => {
    const why = missing();
    if (why !== undefined) return t.skip(why);
    if (side === 'real' && !needOracle(t, 'fail2ban-server')) return;
    const st = await stage(t, `mailhang-${side}`);
    const whois = hangingWhois(st);
    const jails = `[DEFAULT]\nbanaction = nftables-multiport\ndestemail = ${st.mta.address}\nmaxretry = 2\nfindtime = 10m\nbantime = 1h\n\n[sshd]\nenabled = true\n${sshdSection(st)}\naction = %(action_mw)s\n`;
    writeMailTree(st.conf, STOCK, jails, { 'sendmail-whois.local': '[Init]\ntimeout = 5\n' });
    const server = (st.server = await startMailServer(st.ns, st.mta, st.conf, { side, pathFirst: whois.bin }));
    await mailWith(st, /^\[Fail2Ban\] sshd: started on \S+$/);
    const timeouts = (): number => serverLog(st).match(/ -- timed out after 5 seconds\./g)?.length ?? 0;
    const gaveUp = (ip: string): boolean => new RegExp(`ERROR +Failed to execute ban jail 'sshd' action 'sendmail-whois' info '.*': Error banning ${ip.replace(/\./g, '\\.')}$`, 'm').test(serverLog(st));

    const timings: string[] = [];
    for (const [i, attacker] of ['127.0.0.2', '127.0.0.3'].entries()) {
      await attack(st, server, 'sshd', attacker, 2 * i);
      const counted = Date.now();
      await waitFor(`${attacker} in addr-set-sshd`, () => nftBanned(st.ns, 'sshd').includes(attacker), 60000);
      const inSet = Date.now();
      // The command is tried twice (fail2ban's _processCmd repeats a failed command once): two timeouts.
      await waitFor(`the mail action of ${attacker}'s ban given up`, () => gaveUp(attacker), 60000).catch((e: unknown) => assert.fail(`${String(e)}:\n${serverLog(st)}`));
      timings.push(`${attacker}: in the set ${inSet - counted} ms, mail action given up ${Date.now() - counted} ms after the ban's last failure was counted`);
    }
    t.diagnostic(timings.join('\n'));
    assert.equal(timeouts(), 4, `two timeouts per ban:\n${serverLog(st)}`);
    assert.equal(whois.pids().length, 4, 'whois was called once per attempt');
    await waitFor('every hanging whois killed with its action', () => whois.pids().every((p) => !alive(p)), 10000);
    assert.deepEqual(nftBanned(st.ns, 'sshd').sort(), ['127.0.0.2', '127.0.0.3'], 'both bans in place after the timeouts');
    assert.equal(stat(server, 'sshd', 'Currently banned'), '2');
    await login(st, '127.0.0.2', 'wrong', 'refused', 'the first attacker stays banned');
    await login(st, HOST, st.sshd.password, 'accepted', 'the host still logs in');
    const log = serverLog(st);
    t.diagnostic(`${side}'s log:\n${log.split('\n').filter((l) => /ERROR|NOTICE/.test(l) && !/-- exec:/.test(l)).join('\n')}`);
    const notices = delivered(st.mta).map((m) => m.headers.get('subject') ?? '');
    t.diagnostic(`${side}: delivered ${JSON.stringify(notices)}`);
    assert.deepEqual(notices.filter((s) => / banned /.test(s)), [], 'the killed action sent no ban notice (sendmail killed with it)');

    const s = server.client(['stop']);
    assert.equal(s.status, 0, s.stderr);
    assert.ok(await server.waitExit(30000), 'the server did not exit after stop');
    await mailWith(st, /^\[Fail2Ban\] sshd: stopped on \S+$/);
    assert.equal(st.ns.run('nft', ['list', 'ruleset']).stdout.trim(), '', 'stop leaves no rule behind');
  });
}

for (const whoisCase of ['not installed', 'hangs'] as const) {
  test(`portcullis' built-in sendmail-whois, whois ${whoisCase}: the notice is delivered with the built-in wording`, { timeout: 240000 }, async (t) => {
    const why = missing();
    if (why !== undefined) return t.skip(why);
    const st = await stage(t, `mailbuiltin-${whoisCase === 'hangs' ? 'hang' : 'none'}`);
    const whois = whoisCase === 'hangs' ? hangingWhois(st) : undefined;
    // The built-in ignoreip is 127.0.0.1/8: the attacker at 127.0.0.2 must not be on it.
    const jails = `[DEFAULT]\nignoreip = 127.0.0.1/32\nsyslog_backend = auto\nsshd_log = ${st.rsyslog.authLog}\ndestemail = ${st.mta.address}\n\n[sshd]\nport = ${st.sshd.port}\nmaxretry = 2\naction = %(action_mw)s\n`;
    writeMailTree(st.conf, BUILTIN, jails);
    const opts = whois === undefined ? { hideWhois: true } : { pathFirst: whois.bin };
    const server = (st.server = await startMailServer(st.ns, st.mta, st.conf, { side: 'ours', ...opts }));
    await mailWith(st, /^\[portcullis\] sshd: started on \S+$/);

    await attack(st, server, 'sshd', '127.0.0.2', 0);
    const counted = Date.now();
    await waitFor('127.0.0.2 in addr-set-sshd', () => nftBanned(st.ns, 'sshd').includes('127.0.0.2'));
    const m = await mailWith(st, /^\[portcullis\] sshd: banned 127\.0\.0\.2$/, 60000);
    t.diagnostic(`delivered ${Date.now() - counted} ms after the last failure was counted:\n${m.raw}`);
    assert.match(m.headers.get('from') ?? '', /^portcullis <root@\S+>$/, m.raw);
    assert.equal(m.headers.get('to'), st.mta.address, m.raw);
    assert.match(m.body, /^portcullis banned 127\.0\.0\.2 on \S+ after 2 failures \(jail sshd\)\.\n\nwhois 127\.0\.0\.2:\n\n/, m.raw);
    assert.match(m.body, whois === undefined ? /^\(whois is not installed\)$/m : /^\(no whois answer\)$/m, m.raw);
    if (whois !== undefined) {
      assert.equal(whois.pids().length, 1, 'whois was called once');
      await waitFor('the hanging whois killed by timeout(1)', () => whois.pids().every((p) => !alive(p)), 10000);
    }
    await login(st, '127.0.0.2', 'wrong', 'refused', 'the banned attacker is refused by the kernel');
    await login(st, HOST, st.sshd.password, 'accepted', 'the host still logs in');
    assert.doesNotMatch(serverLog(st), /\bERROR\b|CRITICAL|timed out/, serverLog(st));

    const s = server.client(['stop']);
    assert.equal(s.status, 0, s.stderr);
    assert.ok(await server.waitExit(30000), 'the server did not exit after stop');
    await mailWith(st, /^\[portcullis\] sshd: stopped on \S+$/);
    assert.equal(delivered(st.mta).length, 3, 'start, ban and stop notices, nothing else');
  });
}
