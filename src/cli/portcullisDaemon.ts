/**
 * `portcullis server|status|bans|ban|unban|start|stop|reload`: the running server driven for
 * people. Everything goes through the injected client transport (fail2ban's socket protocol);
 * `server`, `start` and `reload` delegate to the fail2ban-server / fail2ban-client work-alikes so
 * that their flows exist once. Output: results on stdout, errors as sentences on stderr; sysexits
 * codes (64 usage, 69 server unavailable, 70 internal, 77 no permission, 78 configuration).
 */
import { Configurator, defaultConfigDir, pythonText } from '../config/configurator.js';
import { CollectingLog } from '../config/log.js';
import { PortcullisError } from '../shared/errors.js';
import { parseIp } from '../shared/ip.js';
import { PyException, PyFloat, pyNumber, pyStr, PyTuple, type PyValue } from '../shared/pyvalue.js';
import { time2str } from '../shared/timefmt.js';
import { ClientConnectionError, type ClientEnv, type ClientReply, type ServerLauncher } from './clientFlow.js';
import { runFail2banClient } from './fail2banClient.js';
import { runFail2banServerCli, type ServerCliEnv } from './fail2banServer.js';
import type { CliIo } from './io.js';
import { collectSummary, formatSummary } from './startSummary.js';
import { resolve as resolvePath } from 'node:path';

export const EX_USAGE = 64;
export const EX_UNAVAILABLE = 69;
export const EX_SOFTWARE = 70;
export const EX_NOPERM = 77;
export const EX_CONFIG = 78;

/** fail2ban's default socket, used when neither `-s` nor fail2ban.conf names one. */
const DEFAULT_SOCKET = '/var/run/fail2ban/fail2ban.sock';
/** How long one exchange with the server may take. */
const REPLY_TIMEOUT_MS = 60_000;
/** How long `stop` waits for the socket to go quiet. */
const STOP_WAIT_MS = 30_000;

/** What the server commands need from the composition root. */
export interface DaemonEnv {
  /** The socket transport, the server launcher (`start`) and sleeping. */
  readonly client: ClientEnv;
  /** `portcullis server` = fail2ban-server; its `selfArgv` must re-enter `portcullis server`. */
  readonly server: ServerCliEnv;
}

export const DAEMON_COMMANDS: ReadonlySet<string> = new Set(['server', 'status', 'bans', 'ban', 'unban', 'start', 'stop', 'reload']);

/** An expected failure: the sentence for stderr and the exit code. */
class CommandFailure extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

const usage = (text: string): CommandFailure => new CommandFailure(EX_USAGE, text);

interface Options {
  conf?: string;
  socket?: string;
  jail?: string;
  json: boolean;
  all: boolean;
  force: boolean;
  foreground: boolean;
  positional: string[];
}

/** Options each command accepts besides -c/-s. */
const FLAGS: Readonly<Record<string, readonly string[]>> = {
  status: ['--json'],
  bans: ['--json'],
  ban: ['--jail'],
  unban: ['--jail', '--all'],
  start: ['-x', '-f'],
  stop: [],
  reload: [],
};
const MAX_POSITIONAL: Readonly<Record<string, number>> = { status: 1, bans: 0, ban: 1, unban: 1, start: 0, stop: 0, reload: 1 };

function takeValue(cmd: string, args: readonly string[], i: number, name: string): string {
  const v = args[i];
  if (v === undefined) throw usage(`${cmd}: ${name} needs a value`);
  return v;
}

function parseOptions(cmd: string, args: readonly string[]): Options {
  const o: Options = { json: false, all: false, force: false, foreground: false, positional: [] };
  const allowed = FLAGS[cmd] ?? [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    const [name, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = (): string => inline ?? takeValue(cmd, args, ++i, name);
    if (name === '-c' || name === '--conf') o.conf = value();
    else if (name === '-s' || name === '--socket') o.socket = value();
    else if (!allowed.includes(name) && a.startsWith('-') && a !== '-') throw usage(`${cmd}: unknown option "${a}"; see portcullis --help`);
    else if (name === '--jail') o.jail = value();
    else if (name === '--json') o.json = true;
    else if (name === '--all') o.all = true;
    else if (name === '-x') o.force = true;
    else if (name === '-f') o.foreground = true;
    else o.positional.push(a);
  }
  if (o.positional.length > (MAX_POSITIONAL[cmd] ?? 0)) throw usage(`${cmd}: unexpected argument "${o.positional[MAX_POSITIONAL[cmd] ?? 0] ?? ''}"; see portcullis --help`);
  return o;
}

/** The socket: `-s`, else `socket` of fail2ban.conf in the configuration directory, else fail2ban's default. */
function resolveSocket(o: Options, confDir: string, io: CliIo): string {
  if (o.socket !== undefined) return o.socket;
  const configurator = new Configurator(io.fs, confDir, new CollectingLog());
  try {
    configurator.readEarly();
    const v = configurator.getEarlyOptions().get('socket');
    return typeof v === 'string' ? v : DEFAULT_SOCKET;
  } catch (e) {
    if (!(e instanceof PortcullisError)) throw e;
    throw new CommandFailure(EX_CONFIG, `cannot read the socket path from ${confDir}: ${pythonText(e)}`);
  }
}

/** The connection failure as a sentence. */
function connectionFailure(e: ClientConnectionError, socket: string): CommandFailure {
  switch (e.kind) {
    case 'missing':
      return new CommandFailure(EX_UNAVAILABLE, `the server is not running (no socket at ${socket})`);
    case 'refused':
      return new CommandFailure(EX_UNAVAILABLE, `the server is not running (${socket} refuses connections; a stale socket?)`);
    case 'denied':
      return new CommandFailure(EX_NOPERM, `permission denied on ${socket} (the server's socket usually needs root)`);
    case 'timeout':
      return new CommandFailure(EX_UNAVAILABLE, `the server did not answer on ${socket} in time`);
    case 'reset':
      return new CommandFailure(EX_UNAVAILABLE, `the server closed the connection on ${socket}`);
  }
}

/** One jail's `status JAIL`, typed. */
export interface JailStatus {
  readonly name: string;
  readonly failed: { readonly current: number; readonly total: number };
  readonly banned: { readonly current: number; readonly total: number; readonly addresses: readonly string[] };
  readonly files: readonly string[];
  readonly journal: string | null;
  /** The jail's actions and what their bans go through (absent from fail2ban's own server). */
  readonly actions?: readonly ActionStatus[];
}

export interface ActionStatus {
  readonly name: string;
  /** `nftables`, `ipset`, `iptables` (native, batched) or `template` (the action's own commands). */
  readonly backend: string;
  /** The last native failure, if the last native change failed (the bans were then made by the template). */
  readonly error: string | null;
}

/** One row of `bans`. */
export interface BanRow {
  readonly ip: string;
  readonly jail: string;
  readonly since: string;
  /** Null for a permanent ban. */
  readonly until: string | null;
  readonly bantimeSec: number;
  /** How many times the address has been banned (bantime.increment's `<bancount>`); null from fail2ban's own server. */
  readonly count: number | null;
}

/** A conversation with the server on one socket. */
class Session {
  constructor(
    readonly socket: string,
    private readonly env: ClientEnv,
  ) {}

  /** Sends the batch; a refused command becomes a sentence (unknown jail: 64, else 70). */
  async ask(cmds: readonly (readonly PyValue[])[]): Promise<PyValue[]> {
    return this.check(cmds, await this.send(cmds));
  }

  /**
   * As `ask`, but undefined when the server does not know the command (fail2ban's own server
   * answers portcullis' extensions with "Invalid command").
   */
  async askExtension(cmds: readonly (readonly PyValue[])[]): Promise<PyValue[] | undefined> {
    const replies = await this.send(cmds);
    const unknown = replies.some((r) => r.code !== 0 && r.value instanceof PyException && r.value.name === 'Exception' && String(r.value).startsWith('Invalid command'));
    return unknown ? undefined : this.check(cmds, replies);
  }

  private async send(cmds: readonly (readonly PyValue[])[]): Promise<ClientReply[]> {
    try {
      return await this.env.transport.send(this.socket, cmds, REPLY_TIMEOUT_MS);
    } catch (e) {
      if (e instanceof ClientConnectionError) throw connectionFailure(e, this.socket);
      throw e;
    }
  }

  private check(cmds: readonly (readonly PyValue[])[], replies: readonly ClientReply[]): PyValue[] {
    return cmds.map((c, i) => {
      const r = replies[i];
      if (r === undefined) throw new CommandFailure(EX_UNAVAILABLE, `the server closed the connection on ${this.socket}`);
      if (r.code === 0) return r.value;
      const exc = r.value;
      if (exc instanceof PyException && exc.name === 'UnknownJailException') throw new CommandFailure(EX_USAGE, `no jail named "${String(exc)}"`);
      const what = exc instanceof PyException ? `${exc.name}: ${String(exc)}` : pyStr(exc);
      throw new CommandFailure(EX_SOFTWARE, `the server refused "${c.map((w) => pyStr(w)).join(' ')}": ${what}`);
    });
  }

  async one(cmd: readonly PyValue[]): Promise<PyValue> {
    const [v] = await this.ask([cmd]);
    return v ?? null;
  }

  async running(): Promise<boolean> {
    try {
      const r = await this.env.transport.send(this.socket, [['ping']], 2000);
      return r[0]?.code === 0;
    } catch (e) {
      if (e instanceof ClientConnectionError) return false;
      throw e;
    }
  }

  /** The jail names, from `status`. */
  async jails(): Promise<string[]> {
    const list = pairs(await this.one(['status'])).get('Jail list');
    const text = list === undefined ? '' : pyStr(list);
    return text === '' ? [] : text.split(', ');
  }

  /** `jail` if the server has it; else the readable error with the jails it has. */
  async knownJail(jail: string, jails?: readonly string[]): Promise<string> {
    const names = jails ?? (await this.jails());
    if (names.includes(jail)) return jail;
    throw usage(`no jail named "${jail}" (${names.length > 0 ? `jails: ${names.join(', ')}` : 'the server has no jails'})`);
  }

  async status(names: readonly string[]): Promise<JailStatus[]> {
    if (names.length === 0) return [];
    const replies = await this.ask(names.map((n) => ['status', n]));
    const actions = await this.askExtension(names.map((n) => ['get', n, 'actioninfo']));
    return names.map((n, i) => {
      const st = parseJailStatus(n, replies[i] ?? null);
      return actions ? { ...st, actions: parseActionInfo(actions[i] ?? null) } : st;
    });
  }
}

function unexpected(what: string): CommandFailure {
  return new CommandFailure(EX_SOFTWARE, `unexpected reply from the server (${what})`);
}

/** fail2ban's list of (name, value) tuples as a map. */
function pairs(v: PyValue): Map<string, PyValue> {
  if (!Array.isArray(v)) throw unexpected('expected a list of pairs');
  const out = new Map<string, PyValue>();
  for (const item of v as readonly PyValue[]) {
    const p = item instanceof PyTuple ? item.items : Array.isArray(item) ? (item as readonly PyValue[]) : undefined;
    if (p?.length !== 2) throw unexpected('expected a pair');
    out.set(pyStr(p[0] ?? null), p[1] ?? null);
  }
  return out;
}

function num(v: PyValue | undefined): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  throw unexpected('expected a number');
}

function strings(v: PyValue | undefined): string[] {
  if (v === undefined || v === null) return [];
  if (Array.isArray(v)) return (v as readonly PyValue[]).map((x) => pyStr(x));
  if (v instanceof PyTuple) return v.items.map((x) => pyStr(x));
  throw unexpected('expected a list');
}

export function parseJailStatus(name: string, reply: PyValue): JailStatus {
  const top = pairs(reply);
  const filter = pairs(top.get('Filter') ?? []);
  const actions = pairs(top.get('Actions') ?? []);
  const journal = filter.get('Journal matches');
  return {
    name,
    failed: { current: num(filter.get('Currently failed')), total: num(filter.get('Total failed')) },
    banned: { current: num(actions.get('Currently banned')), total: num(actions.get('Total banned')), addresses: strings(actions.get('Banned IP list')) },
    files: strings(filter.get('File list')),
    journal: journal === undefined ? null : strings(journal).join(' + '),
  };
}

/** portcullis' `get JAIL actioninfo`: `[[name, backend, error|None], …]`. */
export function parseActionInfo(reply: PyValue): ActionStatus[] {
  if (!Array.isArray(reply)) throw unexpected('expected a list of actions');
  return (reply as readonly PyValue[]).map((item) => {
    const v = item instanceof PyTuple ? item.items : Array.isArray(item) ? (item as readonly PyValue[]) : [];
    const [name, backend, error] = v;
    if (typeof name !== 'string' || typeof backend !== 'string') throw unexpected(`action entry ${pyStr(item)}`);
    return { name, backend, error: typeof error === 'string' ? error : null };
  });
}

/** One line of `get JAIL banip --with-time`: `ip \t<start> + <bantime> = <end>`. */
export function parseBanLine(jail: string, line: string): BanRow {
  const cut = line.lastIndexOf(' \t');
  const m = /^(.+) \+ (-?\d+) = (.+)$/.exec(line.slice(cut + 2));
  if (cut < 0 || !m) throw unexpected(`ban line ${JSON.stringify(line)}`);
  const bantimeSec = Number(m[2]);
  return { ip: line.slice(0, cut), jail, since: m[1] ?? '', until: bantimeSec < 0 ? null : (m[3] ?? ''), bantimeSec, count: null };
}

/** One entry of portcullis' `get JAIL baninfo`: `[ip, time of ban, ban time, ban count, failures]`. */
export function parseBanInfo(jail: string, entry: PyValue): BanRow {
  const v = Array.isArray(entry) ? (entry as readonly PyValue[]) : entry instanceof PyTuple ? entry.items : [];
  const [ip, time, bantime, count] = v;
  if (typeof ip !== 'string' || !isNumber(time) || !isNumber(bantime) || !isNumber(count)) throw unexpected(`ban entry ${pyStr(entry)}`);
  const since = pyNumber(time);
  const bantimeSec = pyNumber(bantime);
  return { ip, jail, since: time2str(since), until: bantimeSec < 0 ? null : time2str(since + bantimeSec), bantimeSec, count: pyNumber(count) };
}

function isNumber(v: PyValue | undefined): v is number | bigint | PyFloat {
  return typeof v === 'number' || typeof v === 'bigint' || v instanceof PyFloat;
}

/** Columns padded to the widest cell; `right` marks right-aligned columns; the last column is not padded. */
export function table(header: readonly string[], rows: readonly (readonly string[])[], right: readonly boolean[] = []): string {
  const all = [header, ...rows];
  const widths = header.map((_, c) => Math.max(...all.map((r) => (r[c] ?? '').length)));
  const line = (r: readonly string[]): string =>
    r
      .map((cell, c) => (c === r.length - 1 && right[c] !== true ? cell : right[c] === true ? cell.padStart(widths[c] ?? 0) : cell.padEnd(widths[c] ?? 0)))
      .join('  ');
  return all.map(line).join('\n') + '\n';
}

function logsText(j: JailStatus): string {
  if (j.journal !== null) return j.journal === '' ? 'journal' : `journal: ${j.journal}`;
  return j.files.length > 0 ? j.files.join(', ') : '-';
}

export function formatStatusTable(jails: readonly JailStatus[]): string {
  if (jails.length === 0) return 'No jails are running.\n';
  const rows = jails.map((j) => [j.name, String(j.failed.current), String(j.failed.total), String(j.banned.current), String(j.banned.total), logsText(j)]);
  return table(['Jail', 'Failed now', 'Failed total', 'Banned now', 'Banned total', 'Logs'], rows, [false, true, true, true, true, false]);
}

export function formatJailStatus(j: JailStatus): string {
  const rows: Array<[string, string]> = [
    ['Currently failed', String(j.failed.current)],
    ['Total failed', String(j.failed.total)],
    [j.journal !== null ? 'Journal matches' : 'Log files', j.journal ?? (j.files.join(', ') || '-')],
    ['Currently banned', String(j.banned.current)],
    ['Total banned', String(j.banned.total)],
    ['Banned addresses', j.banned.addresses.join(' ') || '-'],
  ];
  const actions = j.actions ?? [];
  const width = Math.max(0, ...actions.map((a) => a.name.length));
  const how = (a: ActionStatus): string =>
    a.backend === 'template' ? "the action's own commands" : `native ${a.backend}, batched${a.error !== null ? ` (last change failed, the action's own commands took over: ${a.error})` : ''}`;
  const actionLines = actions.length === 0 ? '' : '  Actions:\n' + actions.map((a) => `    ${a.name.padEnd(width)}  ${how(a)}\n`).join('');
  return `Jail ${j.name}\n` + rows.map(([k, v]) => `  ${(k + ':').padEnd(18)}${v}\n`).join('') + actionLines;
}

export function formatBans(rows: readonly BanRow[]): string {
  if (rows.length === 0) return 'No addresses are banned.\n';
  return table(
    ['Address', 'Jail', 'Since', 'Until', 'Count'],
    rows.map((r) => [r.ip, r.jail, r.since, r.until ?? 'permanent', r.count === null ? '-' : String(r.count)]),
    [false, false, false, false, true],
  );
}

const json = (v: unknown): string => JSON.stringify(v, null, 2) + '\n';

/** The address as fail2ban writes it, or the usage error. */
function validIp(text: string | undefined, cmd: string): string {
  if (text === undefined) throw usage(`${cmd}: which address? (portcullis ${cmd} IP${cmd === 'unban' ? ' | --all' : ''} [--jail JAIL])`);
  let addr;
  try {
    addr = parseIp(text);
  } catch (e) {
    if (!(e instanceof PortcullisError)) throw e;
  }
  if (addr?.family === undefined) throw usage(`not an IP address: ${text}`);
  return addr.text;
}

async function statusCommand(s: Session, o: Options, io: CliIo): Promise<number> {
  const names = await s.jails();
  const only = o.positional[0];
  if (only !== undefined) {
    const [j] = await s.status([await s.knownJail(only, names)]);
    io.stdout(o.json ? json(j) : formatJailStatus(j as JailStatus));
    return 0;
  }
  const jails = await s.status(names);
  io.stdout(o.json ? json({ jails }) : formatStatusTable(jails));
  return 0;
}

/** The bans of every jail: `get JAIL baninfo` from portcullis' server, `banip --with-time` (no counts) from fail2ban's. */
async function banRows(s: Session, names: readonly string[]): Promise<BanRow[]> {
  if (names.length === 0) return [];
  const info = await s.askExtension(names.map((n) => ['get', n, 'baninfo']));
  if (info) return names.flatMap((n, i) => list(info[i]).map((e) => parseBanInfo(n, e)));
  const replies = await s.ask(names.map((n) => ['get', n, 'banip', '--with-time']));
  return names.flatMap((n, i) => strings(replies[i]).map((line) => parseBanLine(n, line)));
}

function list(v: PyValue | undefined): readonly PyValue[] {
  if (Array.isArray(v)) return v as readonly PyValue[];
  throw unexpected('expected a list');
}

async function bansCommand(s: Session, o: Options, io: CliIo): Promise<number> {
  const rows = await banRows(s, await s.jails());
  io.stdout(o.json ? json({ bans: rows }) : formatBans(rows));
  return 0;
}

async function banCommand(s: Session, o: Options, io: CliIo): Promise<number> {
  const ip = validIp(o.positional[0], 'ban');
  const names = await s.jails();
  const [only, ...more] = names;
  if (o.jail === undefined && only === undefined) throw new CommandFailure(EX_UNAVAILABLE, 'the server has no jails to ban in');
  if (o.jail === undefined && more.length > 0) throw usage(`more than one jail (${names.join(', ')}): say which with --jail`);
  const jail = o.jail !== undefined ? await s.knownJail(o.jail, names) : (only ?? '');
  const count = num(await s.one(['set', jail, 'banip', ip]));
  io.stdout(count > 0 ? `${ip} banned in ${jail}\n` : `${ip} was already banned in ${jail}\n`);
  return 0;
}

async function unbanCommand(s: Session, o: Options, io: CliIo): Promise<number> {
  if (o.all) {
    if (o.positional.length > 0 || o.jail !== undefined) throw usage('unban: --all goes alone');
    const count = num(await s.one(['unban', '--all']));
    io.stdout(`${count} ban${count === 1 ? '' : 's'} lifted\n`);
    return 0;
  }
  const ip = validIp(o.positional[0], 'unban');
  if (o.jail !== undefined) {
    const jail = await s.knownJail(o.jail);
    const count = num(await s.one(['set', jail, 'unbanip', ip]));
    io.stdout(count > 0 ? `${ip} unbanned in ${jail}\n` : `${ip} was not banned in ${jail}\n`);
    return 0;
  }
  const banned = await s.one(['banned', ip]);
  const jails = Array.isArray(banned) ? strings((banned as readonly PyValue[])[0]) : [];
  await s.one(['unban', ip]);
  io.stdout(jails.length > 0 ? `${ip} unbanned in ${jails.join(', ')}\n` : `${ip} was not banned\n`);
  return 0;
}

async function stopCommand(s: Session, io: CliIo, env: ClientEnv): Promise<number> {
  await s.one(['stop']);
  const start = io.clock.nowMs();
  while (await s.running()) {
    if (io.clock.nowMs() - start > STOP_WAIT_MS) throw new CommandFailure(EX_SOFTWARE, `the server did not stop within ${STOP_WAIT_MS / 1000} s`);
    await env.sleep(50);
  }
  io.stdout('the server stopped\n');
  return 0;
}

/**
 * The server launcher of `start`: `portcullis server` with the arguments the client flow chose
 * (their first word, the program name as Python's `sys.argv` has it, dropped).
 */
function serverLauncher(io: CliIo, server: ServerCliEnv): ServerLauncher {
  return {
    async launch(argv, foreground) {
      const args = argv[0] !== undefined && !argv[0].startsWith('-') ? argv.slice(1) : argv;
      const code = await runFail2banServerCli('portcullis server', args, io, server);
      if (code !== 0 && !foreground) throw new Error(`portcullis server exited with ${code}`);
    },
  };
}

/** `start`: fail2ban-client's start flow (configuration sent over the socket), with our messages. */
async function startCommand(s: Session, o: Options, dir: string, io: CliIo, env: DaemonEnv): Promise<number> {
  if (await s.running()) {
    io.stdout(`the server is already running (socket ${s.socket})\n`);
    io.stdout(formatSummary(await collectSummary(s), resolvePath(dir), s.socket));
    return 0;
  }
  const argv = ['-c', dir, '-s', s.socket, ...(o.force ? ['-x'] : []), ...(o.foreground ? ['-f'] : []), 'start'];
  const client = { ...env.client, launcher: serverLauncher(io, env.server) };
  if ((await runFail2banClient('portcullis start', argv, io, client)) !== 0) throw new CommandFailure(EX_UNAVAILABLE, 'the server did not start (see the messages above)');
  if (!o.foreground) io.stdout(formatSummary(await collectSummary(s), resolvePath(dir), s.socket));
  return 0;
}

/** `reload [JAIL]`: fail2ban-client's reload flow; what fails after the server answered is the configuration. */
async function reloadCommand(s: Session, o: Options, dir: string, io: CliIo, env: ClientEnv): Promise<number> {
  if (!(await s.running())) throw new CommandFailure(EX_UNAVAILABLE, `the server is not running (no answer on ${s.socket})`);
  const argv = ['-c', dir, '-s', s.socket, 'reload', ...o.positional];
  if ((await runFail2banClient('portcullis reload', argv, io, env)) !== 0) throw new CommandFailure(EX_CONFIG, 'the reload failed (see the messages above)');
  return 0;
}

/** `server ARGS`: fail2ban-server's options; `-c` defaults as for every portcullis command. */
async function serverCommand(args: readonly string[], builtinConfigDir: string, io: CliIo, env: ServerCliEnv): Promise<number> {
  const hasConf = args.some((a) => a === '--conf' || a.startsWith('--conf=') || /^-[^-]*c/.test(a));
  const argv = hasConf ? args : ['-c', defaultConfigDir(io.fs, builtinConfigDir), ...args];
  const code = await runFail2banServerCli('portcullis server', argv, io, env);
  if (code !== 0) throw new CommandFailure(EX_UNAVAILABLE, 'the server did not run (see the messages above)');
  return 0;
}

async function dispatch(cmd: string, args: readonly string[], io: CliIo, builtinConfigDir: string, env: DaemonEnv): Promise<number> {
  if (cmd === 'server') return serverCommand(args, builtinConfigDir, io, env.server);
  const o = parseOptions(cmd, args);
  const dir = o.conf ?? defaultConfigDir(io.fs, builtinConfigDir);
  const s = new Session(resolveSocket(o, dir, io), env.client);
  switch (cmd) {
    case 'status':
      return statusCommand(s, o, io);
    case 'bans':
      return bansCommand(s, o, io);
    case 'ban':
      return banCommand(s, o, io);
    case 'unban':
      return unbanCommand(s, o, io);
    case 'start':
      return startCommand(s, o, dir, io, env);
    case 'stop':
      return stopCommand(s, io, env.client);
    default:
      return reloadCommand(s, o, dir, io, env.client);
  }
}

/** Runs `portcullis CMD ARGS` for one of {@link DAEMON_COMMANDS}; returns the exit code. */
export async function runDaemonCommand(cmd: string, args: readonly string[], io: CliIo, builtinConfigDir: string, env: DaemonEnv): Promise<number> {
  try {
    return await dispatch(cmd, args, io, builtinConfigDir, env);
  } catch (e) {
    if (!(e instanceof CommandFailure)) throw e;
    io.stderr(`portcullis: ${e.message}\n`);
    return e.code;
  }
}
