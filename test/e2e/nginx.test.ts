/**
 * Scenario 5, nginx basic auth: a real nginx (Debian's) with `auth_basic` on 127.0.0.1:80 and
 * :443 in a private network namespace writes its error log into the test's directory; portcullis'
 * server in the same namespace runs Debian's own jail.conf with the STOCK `nginx-http-auth` jail
 * (filter and `port = http,https` as shipped) and the STOCK `nftables-multiport` action.
 *
 * 1. Wrong passwords and an unknown user from 127.0.0.2, over HTTP and HTTPS, are banned after
 *    maxretry; then both ports refuse 127.0.0.2 while 127.0.0.1 (ignoreself) still gets 200;
 *    `unbanip` restores access; `stop` leaves no ruleset; Debian's `fail2ban-regex` and ours count
 *    the same failures in the error log nginx produced.
 * 2. A container-style log directory outside /var/log (`logpath = DIR/containers/*\/logs/error.log`)
 *    whose files appear after the server started. Found with Debian's fail2ban 1.0.2 side by side
 *    (its own server in its own namespace, its own configuration directory, the same log files):
 *    the client expands the glob ONCE, when it reads the configuration. A glob matching nothing
 *    is an error of the whole start ("Have not found any log file for nginx-http-auth jail", exit
 *    255, no server); a file matching the glob that appears later is not watched (not in `File
 *    list`, its failures not counted) until `reload`, which expands the glob again and reads the
 *    new file from its beginning, so failures logged before the reload still ban. portcullis
 *    does the same, checked step by step against Debian's server here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createNetns, startServerInNetns, type Netns, type NsServer } from '../helpers/netns.js';
import { httpGet, startNginx, type HttpOutcome, type HttpRequest, type Nginx } from '../helpers/nginx.js';
import { ROOT, type RunResult } from '../helpers/oracle.js';
import { clientCommand, runClient, sleep, waitFor, type Side } from '../helpers/servers.js';

const STOCK = '/etc/fail2ban';
const JAIL = 'nginx-http-auth';
const ATTACKER = '127.0.0.2';
const HOST = '127.0.0.1';
const ENV = { ...process.env, LANG: 'C.UTF-8', PYTHONDONTWRITEBYTECODE: '1' };

/** `-c TREE`: Debian's files by symlink (jail.d left out), our fail2ban.local and jail.local. */
function writeTree(tree: string, logpath: string): void {
  fs.mkdirSync(tree, { recursive: true });
  for (const name of fs.readdirSync(STOCK)) {
    if (name === 'fail2ban.conf' || name === 'jail.conf' || name === 'filter.d' || name === 'action.d' || /^paths-.*\.conf$/.test(name)) {
      fs.symlinkSync(path.join(STOCK, name), path.join(tree, name));
    }
  }
  assert.ok(fs.existsSync(path.join(tree, 'filter.d', `${JAIL}.conf`)), `${STOCK}/filter.d/${JAIL}.conf is missing: install Debian's fail2ban package`);
  fs.writeFileSync(path.join(tree, 'fail2ban.local'), `[Definition]\nloglevel = INFO\nlogtarget = ${tree}/f2b.log\ndbfile = ${tree}/f2b.sqlite3\n`);
  // The stock jail as shipped (filter, port = http,https); only what an admin sets locally.
  fs.writeFileSync(
    path.join(tree, 'jail.local'),
    `[DEFAULT]\nbanaction = nftables-multiport\nbanaction_allports = nftables-allports\n\n` +
      `[${JAIL}]\nenabled = true\nmaxretry = 3\nfindtime = 10m\nbantime = 1h\nbackend = auto\nlogpath = ${logpath}\n`,
  );
}

/** The elements of `inet f2b-table addr-set-nginx-http-auth` (empty when the set does not exist). */
function banned(ns: Netns): string[] {
  const r = ns.run('nft', ['-j', 'list', 'set', 'inet', 'f2b-table', `addr-set-${JAIL}`]);
  if (r.status !== 0) return [];
  const doc = JSON.parse(r.stdout) as { nftables?: { set?: { elem?: unknown[] } }[] };
  return doc.nftables?.flatMap((i) => i.set?.elem ?? []).map((e) => (typeof e === 'string' ? e : JSON.stringify(e))) ?? [];
}

const ruleset = (ns: Netns): string => ns.run('nft', ['list', 'ruleset']).stdout.trim();

function stat(client: (args: readonly string[]) => RunResult, field: string): string {
  const r = client(['status', JAIL]);
  assert.equal(r.status, 0, `status ${JAIL}: ${r.stderr}`);
  return new RegExp(`${field}:\\t([^\\n]*)`).exec(r.stdout)?.[1] ?? `(no "${field}" in ${r.stdout})`;
}

async function expectHttp(ns: Netns, nginx: Nginx, req: HttpRequest, expect: HttpOutcome, why: string): Promise<void> {
  const a = await httpGet(ns, nginx, req);
  assert.equal(a.outcome, expect, `${why}: ${req.scheme} from ${req.source} as ${req.user ?? nginx.user} (curl exit ${String(a.status)}, code ${a.code}): ${a.stderr}`);
}

/** `Lines: N lines, I ignored, M matched, K missed` of a fail2ban-regex run (Debian's or ours). */
function regexCounts(side: Side, log: string): string {
  const [cmd, pre] = side === 'real' ? ['/usr/bin/fail2ban-regex', [] as string[]] : [process.execPath, [path.join(ROOT, 'bin', 'fail2ban-regex')]];
  const r = spawnSync(cmd, [...pre, log, path.join(STOCK, 'filter.d', `${JAIL}.conf`)], { encoding: 'utf8', env: ENV, timeout: 60000 });
  assert.equal(r.status, 0, `${side} fail2ban-regex: ${r.stderr}`);
  return /^Lines: .*$/m.exec(r.stdout)?.[0] ?? `(no "Lines:" in ${r.stdout})`;
}

test('nginx auth_basic + stock nginx-http-auth jail + stock nftables-multiport on http,https: ban, refuse both, unban, clean stop', { timeout: 300000 }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pc-nginx-'));
  const live: { ns?: Netns; nginx?: Nginx; server?: NsServer } = {};
  t.after(async () => {
    live.server?.kill();
    await live.nginx?.stop();
    live.ns?.remove();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const ns = (live.ns = createNetns('nginx'));
  const errorLog = path.join(dir, 'log', 'nginx', 'error.log');
  const nginx = (live.nginx = await startNginx(ns, dir, { errorLog }));
  assert.equal(ruleset(ns), '', 'a fresh namespace has an empty ruleset');
  const http = (scheme: 'http' | 'https', source: string, password: string, user?: string): HttpRequest => ({ scheme, source, password, ...(user === undefined ? {} : { user }) });

  writeTree(path.join(dir, 'f2b'), errorLog);
  const server = (live.server = await startServerInNetns(ns, path.join(dir, 'f2b')));
  const client = (args: readonly string[]): RunResult => server.client(args);
  assert.equal(stat(client, 'Currently banned'), '0');
  assert.equal(stat(client, 'File list'), errorLog);

  // The host itself fails more often than maxretry: ignored (ignoreself), never banned.
  for (let i = 0; i < 4; i++) await expectHttp(ns, nginx, http(i % 2 === 0 ? 'http' : 'https', HOST, 'wrong'), 'unauthorized', `host failure ${i + 1}`);
  // The attacker: a wrong password over HTTP, an unknown user over HTTPS, a wrong password again.
  const attacks = [http('http', ATTACKER, 'wrong'), http('https', ATTACKER, 'whatever', 'mallory'), http('https', ATTACKER, 'wrong')];
  for (const [i, req] of attacks.entries()) {
    await expectHttp(ns, nginx, req, 'unauthorized', `attacker failure ${i + 1} reaches auth_basic`);
    await waitFor(`${i + 1} failures counted`, () => Number(stat(client, 'Total failed')) >= i + 1);
    if (i < 2) assert.equal(stat(client, 'Currently banned'), '0', `no ban after ${i + 1} failures`);
  }
  await waitFor(`${ATTACKER} in addr-set-${JAIL}`, () => banned(ns).includes(ATTACKER));
  assert.deepEqual(banned(ns), [ATTACKER]);
  assert.equal(stat(client, 'Total failed'), '3', "the host's failures were not counted");
  assert.equal(stat(client, 'Banned IP list'), ATTACKER);
  const chain = ns.run('nft', ['list', 'chain', 'inet', 'f2b-table', 'f2b-chain']).stdout;
  assert.match(chain, new RegExp(`tcp dport \\{ 80, 443 \\} ip saddr @addr-set-${JAIL} reject`), chain);
  const log = fs.readFileSync(path.join(dir, 'f2b', 'f2b.log'), 'utf8');
  assert.equal(log.match(new RegExp(`\\[${JAIL}\\] Ignore 127\\.0\\.0\\.1 by ignoreself rule`, 'g'))?.length, 4, `the host's failures were seen and ignored:\n${log}`);
  assert.match(log, new RegExp(`\\[${JAIL}\\] Found 127\\.0\\.0\\.2`), log);
  assert.match(log, new RegExp(`\\[${JAIL}\\] Ban 127\\.0\\.0\\.2`), log);

  for (const scheme of ['http', 'https'] as const) {
    await expectHttp(ns, nginx, http(scheme, ATTACKER, nginx.password), 'refused', `the banned attacker is refused over ${scheme} even with the right password`);
    await expectHttp(ns, nginx, http(scheme, HOST, nginx.password), 'ok', `the host still gets the page over ${scheme}`);
  }

  const r = client(['set', JAIL, 'unbanip', ATTACKER]);
  assert.equal(r.status, 0, r.stderr);
  await waitFor(`${ATTACKER} gone from addr-set-${JAIL}`, () => !banned(ns).includes(ATTACKER));
  assert.equal(stat(client, 'Currently banned'), '0');
  await expectHttp(ns, nginx, http('http', ATTACKER, nginx.password), 'ok', 'after unbanip the attacker gets the page with the right password');
  await expectHttp(ns, nginx, http('https', ATTACKER, 'wrong'), 'unauthorized', 'after unbanip a wrong password reaches auth_basic again');

  const s = client(['stop']);
  assert.equal(s.status, 0, s.stderr);
  assert.ok(await server.waitExit(30000), 'the server did not exit after stop');
  assert.equal(server.exitCode(), 0, `server exit code; log:\n${fs.readFileSync(path.join(dir, 'f2b', 'f2b.log'), 'utf8')}`);
  assert.equal(ruleset(ns), '', 'stop leaves no rule behind');
  assert.doesNotMatch(fs.readFileSync(path.join(dir, 'f2b', 'f2b.log'), 'utf8'), /\bERROR\b|CRITICAL/);

  // The error log nginx wrote: 4 + 3 + 1 auth failures, each counted by Debian's fail2ban-regex and ours.
  const text = fs.readFileSync(errorLog, 'utf8');
  assert.equal(text.match(/: password mismatch, client: /g)?.length, 7, text);
  assert.equal(text.match(/ was not found in "/g)?.length, 1, text);
  const real = regexCounts('real', errorLog);
  assert.match(real, /, 8 matched, /, `Debian's fail2ban-regex on nginx's error log:\n${real}\n${text}`);
  assert.equal(regexCounts('ours', errorLog), real, "our fail2ban-regex counts as Debian's does");
});

/** Debian's `fail2ban-server -f -x -c TREE` inside `ns` (its actions change only that namespace). */
async function startDebianInNetns(ns: Netns, tree: string): Promise<{ child: ChildProcess; exited: () => boolean }> {
  const socket = path.join(tree, 'f2b.sock');
  const out = fs.openSync(path.join(tree, 'server.out'), 'a');
  const args = ['netns', 'exec', ns.name, '/usr/bin/fail2ban-server', '-f', '-x', '-c', tree, '-s', socket, '-p', path.join(tree, 'f2b.pid')];
  const child = spawn('ip', args, { stdio: ['ignore', out, out], env: ENV });
  fs.closeSync(out);
  let done = false;
  child.on('exit', () => (done = true));
  await waitFor("Debian's fail2ban-server answering ping", () => done || runClient(socket, ['ping'], 'real').status === 0);
  if (done) throw new Error(`Debian's fail2ban-server exited:\n${fs.readFileSync(path.join(tree, 'server.out'), 'utf8')}`);
  return { child, exited: () => done };
}

/** `fail2ban-client -c TREE -s TREE/f2b.sock ARGS` (the client reads TREE, never /etc/fail2ban). */
function treeClient(side: Side, tree: string): (args: readonly string[]) => RunResult {
  return (args) => {
    const [cmd, pre] = clientCommand(side);
    const r = spawnSync(cmd, [...pre, '-c', tree, '-s', path.join(tree, 'f2b.sock'), ...args], { encoding: 'utf8', env: ENV, timeout: 60000 });
    return { stdout: r.stdout, stderr: r.stderr, status: r.status };
  };
}

/** Runs `SERVER -f -x -c TREE` to its end (a start that must fail); the server is killed after 30 s. */
function failedStart(ns: Netns, side: Side, tree: string): RunResult {
  const server = side === 'real' ? ['/usr/bin/fail2ban-server'] : [process.execPath, path.join(ROOT, 'bin', 'fail2ban-server')];
  const sock = path.join(tree, 'f2b.sock');
  return ns.run(server[0] ?? '', [...server.slice(1), '-f', '-x', '-c', tree, '-s', sock, '-p', path.join(tree, 'f2b.pid')]);
}

test('nginx-http-auth on a container-style glob outside /var/log: files appearing after the start, as Debian fail2ban 1.0.2 does', { timeout: 300000 }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pc-nginxc-'));
  const live: { ns?: Netns; nsReal?: Netns; nginx: Nginx[]; server?: NsServer; real?: ChildProcess } = { nginx: [] };
  t.after(async () => {
    live.server?.kill();
    live.real?.kill('SIGKILL');
    for (const n of live.nginx) await n.stop();
    live.ns?.remove();
    live.nsReal?.remove();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const ns = (live.ns = createNetns('nginxc'));
  const nsReal = (live.nsReal = createNetns('nginxd'));
  const glob = path.join(dir, 'containers', '*', 'logs', 'error.log');
  const logOf = (name: string): string => path.join(dir, 'containers', name, 'logs', 'error.log');
  const trees = { ours: path.join(dir, 'ours'), real: path.join(dir, 'real') };
  writeTree(trees.ours, glob);
  writeTree(trees.real, glob);
  const ours = treeClient('ours', trees.ours);
  const real = treeClient('real', trees.real);
  const both = (what: (c: (args: readonly string[]) => RunResult) => string, expect: string, why: string): void => {
    assert.equal(what(real), expect, `Debian: ${why}`);
    assert.equal(what(ours), expect, `portcullis: ${why}`);
  };

  // No container yet: the glob matches nothing, and the whole start fails, in both.
  for (const side of ['real', 'ours'] as const) {
    const r = failedStart(side === 'real' ? nsReal : ns, side, trees[side]);
    assert.equal(r.status, 255, `${side}: a start with no file for the glob fails (exit ${String(r.status)}):\n${r.stderr}`);
    assert.match(r.stderr, new RegExp(`ERROR\\s+Failed during configuration: Have not found any log file for ${JAIL} jail`), `${side}:\n${r.stderr}`);
  }

  // The first container runs; both servers start and watch its log.
  const web = await startNginx(ns, dir, { name: 'web', errorLog: logOf('web') });
  live.nginx.push(web);
  live.server = await startServerInNetns(ns, trees.ours);
  live.real = (await startDebianInNetns(nsReal, trees.real)).child;
  both((c) => stat(c, 'File list'), logOf('web'), 'the file the glob matched at the start');

  // A second container starts later; the attacker fails on it maxretry times: not watched, not counted.
  const api = await startNginx(ns, dir, { name: 'api', errorLog: logOf('api'), address: '127.0.0.3' });
  live.nginx.push(api);
  for (let i = 0; i < 3; i++) await expectHttp(ns, api, { scheme: i === 1 ? 'https' : 'http', source: ATTACKER, password: 'wrong' }, 'unauthorized', `failure ${i + 1} on the new container`);
  await waitFor('3 failures in the new container log', () => (fs.readFileSync(logOf('api'), 'utf8').match(/password mismatch/g)?.length ?? 0) === 3);
  await sleep(1000); // a chance for a (wrongly) watching server to read them; the assertions below hold either way
  both((c) => stat(c, 'File list'), logOf('web'), 'a file appearing after the start is not added');
  both((c) => stat(c, 'Total failed'), '0', 'failures in the new file are not counted');
  await expectHttp(ns, api, { scheme: 'http', source: ATTACKER, password: 'wrong' }, 'unauthorized', 'not banned: still reaches auth_basic');

  // reload expands the glob again: the new file is read from its beginning and the attacker banned.
  for (const [side, c] of [['real', real], ['ours', ours]] as const) {
    const r = c(['reload']);
    assert.equal(r.status, 0, `${side} reload: ${r.stderr}`);
  }
  const files = (c: (args: readonly string[]) => RunResult): string => stat(c, 'File list').split(' ').sort().join(' ');
  both(files, [logOf('api'), logOf('web')].sort().join(' '), 'after reload both files are watched');
  await waitFor(`${ATTACKER} banned by both servers`, () => banned(nsReal).includes(ATTACKER) && banned(ns).includes(ATTACKER));
  both((c) => stat(c, 'Total failed'), '4', 'the 4 failures logged before the reload');
  both((c) => stat(c, 'Banned IP list'), ATTACKER, 'the attacker');
  for (const n of [api, web]) {
    await expectHttp(ns, n, { scheme: 'https', source: ATTACKER, password: n.password }, 'refused', `banned: ${n.address} refuses the attacker`);
    await expectHttp(ns, n, { scheme: 'https', source: HOST, password: n.password }, 'ok', `${n.address} still serves the host`);
  }

  for (const [side, c] of [['real', real], ['ours', ours]] as const) assert.equal(c(['stop']).status, 0, `${side} stop`);
  assert.ok(await live.server.waitExit(30000), 'our server did not exit after stop');
  await waitFor("Debian's server exits after stop", () => live.real?.exitCode !== null);
  assert.equal(ruleset(ns), '', 'our stop leaves no rule behind');
  assert.equal(ruleset(nsReal), '', "Debian's stop leaves no rule behind");
});
