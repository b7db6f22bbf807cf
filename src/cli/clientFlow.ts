/**
 * fail2ban 1.0.2's client command flows after the options (`Fail2banClient.__processCommand` and
 * friends): `start` (background or foreground), `stop`, `restart`, `reload`, `ping N`, `-i`, and
 * every other command sent as it is with its reply beautified. The socket, the server launch, the
 * interactive input and sleeping are ports, so the flows are plain logic.
 */
import type { StreamCommand } from '../config/readers/filter.js';
import { PortcullisError } from '../shared/errors.js';
import { PyException, PyFloat, PyTuple, pyRepr, type PyValue } from '../shared/pyvalue.js';
import { FAIL2BAN_VERSION } from '../shared/version.js';
import { beautifyError, beautifyOutcome, BeautifyErrorFailed, pyTypeName } from './beautifier.js';
import type { ClientLog } from './clientLog.js';
import type { CliIo } from './io.js';

/** One reply of the server: code 0 with the value, or code 1 with the exception. */
export interface ClientReply {
  readonly code: number;
  readonly value: PyValue;
}

/** How a connection to the server failed: ENOENT, EACCES, ECONNREFUSED, EOF/ECONNRESET, timeout. */
export type ConnectionFailure = 'missing' | 'denied' | 'refused' | 'reset' | 'timeout';

/** Python's `str(socket.error)` for each failure. */
const SOCKET_ERROR_TEXT: Readonly<Record<ConnectionFailure, string>> = {
  missing: '[Errno 2] No such file or directory',
  denied: '[Errno 13] Permission denied',
  refused: '[Errno 111] Connection refused',
  reset: '[Errno 104] Connection reset by peer',
  timeout: 'timed out',
};

/** What a transport rejects with when the server cannot be reached or the connection breaks. */
export class ClientConnectionError extends PortcullisError {
  constructor(
    readonly kind: ConnectionFailure,
    message = SOCKET_ERROR_TEXT[kind],
  ) {
    super('E_CLIENT_CONNECTION', message);
  }
}

/** The socket client: one connection for the whole batch, one reply per command, in order. */
export interface ClientTransport {
  /** `timeoutMs` undefined: wait as long as the server takes (fail2ban's default). */
  send(socket: string, commands: readonly (readonly PyValue[])[], timeoutMs: number | undefined): Promise<ClientReply[]>;
}

/**
 * Starts the server with fail2ban-server's arguments. Background: resolves once it is launched.
 * Foreground (`-f`): the server runs in this process and the promise resolves when it has stopped.
 */
export interface ServerLauncher {
  launch(argv: readonly string[], foreground: boolean): Promise<void>;
}

/** `-i`'s input: the next line without its newline, or undefined at the end of the input. */
export interface LineReader {
  readLine(): Promise<string | undefined>;
}

/** The ports a client run needs besides `CliIo`. */
export interface ClientEnv {
  readonly transport: ClientTransport;
  readonly launcher: ServerLauncher;
  readonly input?: LineReader;
  readonly sleep: (ms: number) => Promise<void>;
}

/** The client's settings after the options and fail2ban.conf. */
export interface ClientSettings {
  readonly socket: string;
  readonly pidfile: string;
  readonly loglevel: string;
  readonly logtarget: string;
  readonly syslogsocket: string;
  readonly verbose: number;
  readonly force: boolean;
  readonly background: boolean;
  readonly interactive: boolean;
  readonly timeoutSec: number;
}

/** Everything `runClientCommand` works with. */
export interface ClientContext {
  readonly settings: ClientSettings;
  readonly io: CliIo;
  readonly log: ClientLog;
  readonly env: ClientEnv;
  /** fail2ban's `readConfig(jail)`: logs its own failures. */
  readConfig(jail?: string): { readonly ok: boolean; readonly stream: readonly StreamCommand[] | undefined };
  /** The usage text (`help` in `-i`). */
  usage(): string;
}

/** An exception fail2ban's client logs as `ERROR   <message>` before exiting with 255. */
export class ClientRunError extends PortcullisError {
  constructor(message: string) {
    super('E_CLIENT_RUN', message);
  }
}

const PROMPT = 'fail2ban> ';

/** Python's `float(text)` for `ping N`. */
function pythonFloat(text: string): number {
  const t = text.trim().toLowerCase();
  if (/^[+-]?(inf|infinity|nan)$/.test(t)) return Number(t.replace('infinity', 'inf').replace('inf', 'Infinity'));
  if (/^[+-]?(\d(_?\d)*)?(\.(\d(_?\d)*)?)?(e[+-]?\d(_?\d)*)?$/.test(t) && /\d/.test(t.split('e')[0] ?? '')) return Number(t.replaceAll('_', ''));
  throw new ClientRunError(`could not convert string to float: ${pyRepr(text)}`);
}

/** `shlex.split(line)` (POSIX mode, no comments). */
export function shlexSplit(line: string): string[] {
  const out: string[] = [];
  let token: string | undefined;
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i] ?? '';
    if (quote === "'") {
      if (ch === "'") quote = undefined;
      else token += ch;
    } else if (ch === '\\') {
      if (i + 1 >= line.length) throw new ClientRunError('No escaped character');
      const next = line[++i] ?? '';
      // Inside double quotes a backslash only escapes `"` and itself.
      token = (token ?? '') + (quote === '"' && next !== '"' && next !== '\\' ? '\\' : '') + next;
    } else if (quote === '"') {
      if (ch === '"') quote = undefined;
      else token += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      token ??= '';
    } else if (' \t\r\n'.includes(ch)) {
      if (token !== undefined) out.push(token);
      token = undefined;
    } else token = (token ?? '') + ch;
  }
  if (quote !== undefined) throw new ClientRunError('No closing quotation');
  if (token !== undefined) out.push(token);
  return out;
}

/** The "wonderful visual" progress fail2ban shows on stdout with -v while waiting for the server. */
class VisualWait {
  private pos = 0;
  private delta = 1;
  private readonly maxpos = 10;

  constructor(private readonly write: ((text: string) => void) | undefined) {}

  heartbeat(): void {
    if (!this.write) return;
    if (this.pos === 0) this.write('\nINFO   [#' + ' '.repeat(this.maxpos) + '] Waiting on the server...\r\x1b[8C');
    this.pos += this.delta;
    this.write(this.delta > 0 ? (this.pos > 1 ? ' #\x1b[1D' : '# \x1b[2D') : '\x1b[1D# \x1b[2D');
    if (this.pos > this.maxpos) this.delta = -1;
    else if (this.pos < 2) this.delta = 1;
  }

  end(): void {
    if (this.write && this.pos !== 0) this.write('\r' + ' '.repeat(35 + this.maxpos) + '\r');
  }
}

/** A `ClientConnectionError`, or any error carrying one of its kinds (the transport's own class). */
function isConnectionError(e: unknown): e is Error & { kind: ConnectionFailure } {
  if (!(e instanceof Error) || !('kind' in e)) return false;
  return typeof e.kind === 'string' && Object.hasOwn(SOCKET_ERROR_TEXT, e.kind);
}

class ClientFlow {
  /** False once the run is over (a foreground server stopped): waits end. */
  private alive = true;
  private foregroundServer = false;

  constructor(private readonly ctx: ClientContext) {}

  private get conf(): ClientSettings {
    return this.ctx.settings;
  }

  private output(text: string): void {
    this.ctx.io.stdout(text + '\n');
  }

  private error(message: string): void {
    this.ctx.log.error(message);
  }

  /** `__processCmd`: one connection for the batch; replies printed when `showRet` (always for echo, server-status). */
  private async processCmd(cmds: readonly (readonly PyValue[])[], showRet = true, timeoutSec = -1): Promise<boolean> {
    let replies: ClientReply[];
    try {
      replies = await this.ctx.env.transport.send(this.conf.socket, cmds, timeoutSec === -1 ? undefined : timeoutSec * 1000);
    } catch (e) {
      if (!isConnectionError(e)) throw e;
      const first = cmds[0]?.[0];
      if (showRet || (this.conf.verbose > 1 && first !== 'ping')) this.logSocketError(SOCKET_ERROR_TEXT[e.kind], e.kind, first === 'ping');
      return false;
    }
    let streamRet = true;
    for (const [i, c] of cmds.entries()) {
      const reply = replies[i];
      if (reply === undefined) return this.processCmdFailed(showRet, SOCKET_ERROR_TEXT.reset, c[0] === 'ping');
      const outcome = this.processReply(c, reply, showRet);
      if (outcome === 'abort') return false;
      if (outcome === 'nok') streamRet = false;
    }
    return streamRet;
  }

  private processCmdFailed(showRet: boolean, text: string, errorOnly: boolean): boolean {
    if (showRet || this.conf.verbose > 1) this.logSocketError(text, 'reset', errorOnly);
    return false;
  }

  private processReply(c: readonly PyValue[], reply: ClientReply, showRet: boolean): 'ok' | 'nok' | 'abort' {
    if (reply.code === 0) {
      if (showRet || c[0] === 'echo' || c[0] === 'server-status') {
        const { text, failed } = beautifyOutcome(c, reply.value);
        if (failed) {
          this.ctx.log.log('warning', 'fail2ban.beautifier', 'Beautifier error. Please report the error');
          this.ctx.log.log('error', 'fail2ban.beautifier', `Beautify ${pyRepr(reply.value)} with ${pyRepr(c)} failed`);
        }
        this.output(text);
      }
      return 'ok';
    }
    const exc = reply.value;
    try {
      if (!(exc instanceof PyException)) throw new BeautifyErrorFailed(`'${pyTypeName(exc)}' object has no attribute 'args'`);
      this.error(`NOK: ${pyRepr(new PyTuple(exc.args))}`);
      if (showRet) this.output(beautifyError(exc));
    } catch (e) {
      if (!(e instanceof BeautifyErrorFailed)) throw e;
      if (showRet || this.conf.verbose > 1) this.error(e.message);
      return 'abort';
    }
    return 'nok';
  }

  /** `__logSocketError`: the text depends on whether the socket file exists. */
  private logSocketError(text: string, kind: ConnectionFailure, errorOnly: boolean): void {
    const sock = this.conf.socket;
    if (this.ctx.io.fs.stat(sock) === undefined) this.error(`Failed to access socket path: ${sock}. Is fail2ban running?`);
    else if (kind === 'denied') this.error(`Permission denied to socket: ${sock}, (you must be root)`);
    else this.error(errorOnly ? text : `[${text}] Unable to contact server. Is it running?`);
  }

  private ping(timeoutSec = 0.1): Promise<boolean> {
    return this.processCmd([timeoutSec === -1 ? ['ping'] : ['ping', new PyFloat(timeoutSec)]], false, timeoutSec);
  }

  /** `__waitOnServer`: polls until the server is up (or down); throws when `timeoutSec` passes. */
  private async waitOnServer(alive = true): Promise<boolean> {
    const { io, env } = this.ctx;
    const start = io.clock.nowMs();
    let sleepSec = 0.0125 / 2;
    const visual = new VisualWait(this.conf.verbose > 1 ? io.stdout : undefined);
    try {
      while (this.alive) {
        const running = io.fs.stat(this.conf.socket) !== undefined && (await this.ping(sleepSec));
        if (running === alive) return true;
        const waited = (io.clock.nowMs() - start) / 1000;
        if (waited > 1) visual.heartbeat();
        if (waited >= this.conf.timeoutSec) throw new ClientRunError('Failed to start server');
        sleepSec = Math.min(sleepSec * 2, waited > 0.2 ? 0.5 : 0.1);
        await env.sleep(sleepSec * 1000);
      }
      return false;
    } finally {
      visual.end();
    }
  }

  /** `__prepareStartServer`: the start batch, or undefined (already running, bad config, stale socket). */
  private async prepareStartServer(): Promise<Array<readonly PyValue[]> | undefined> {
    if (await this.ping()) {
      this.error('Server already running');
      return undefined;
    }
    const { ok, stream } = this.ctx.readConfig();
    if (!ok || stream === undefined) return undefined;
    if (!this.conf.force && this.ctx.io.fs.stat(this.conf.socket) !== undefined) {
      this.error('Fail2ban seems to be in unexpected state (not running but the socket exists)');
      return undefined;
    }
    return [['server-stream', stream], ['server-status']];
  }

  /** The arguments fail2ban's client starts fail2ban-server with (`-f` instead of `-b` in the foreground). */
  serverArgv(foreground: boolean): string[] {
    const c = this.conf;
    const argv = ['fail2ban-server', '--async', foreground ? '-f' : '-b', '-s', c.socket, '-p', c.pidfile];
    if (c.force) argv.push('-x');
    if (c.verbose > 1) argv.push('-' + 'v'.repeat(c.verbose - 1));
    argv.push('--loglevel', c.loglevel, '--logtarget', c.logtarget, '--syslogsocket', c.syslogsocket);
    return argv;
  }

  /** `__processStartStreamAfterWait`. */
  private async startStreamAfterWait(batch: readonly (readonly PyValue[])[]): Promise<boolean> {
    let ret = false;
    try {
      if (!(await this.waitOnServer())) {
        this.error('Could not find server, waiting failed');
        return false;
      }
      ret = await this.processCmd(batch, false);
    } catch (e) {
      if (!(e instanceof ClientRunError)) throw e;
      const sock = this.conf.socket;
      this.error(`Could not start server. Maybe an old socket file is still present. Try to remove ${sock}. If you used fail2ban-client to start the server, adding the -x option will do it`);
    }
    if (!ret && this.foregroundServer) {
      // fail2ban quits its in-process server here; ours is reached through the socket.
      await this.ctx.env.transport.send(this.conf.socket, [['stop']], 1000).catch(() => undefined);
    }
    return ret;
  }

  /** `__startServer`. */
  private async startServer(background: boolean): Promise<boolean> {
    const batch = await this.prepareStartServer();
    this.alive = true;
    if (!batch) return false;
    try {
      if (background) {
        await this.ctx.env.launcher.launch(this.serverArgv(false), false);
        return await this.startStreamAfterWait(batch);
      }
      this.foregroundServer = true;
      let done = false;
      const configured = this.startStreamAfterWait(batch).then((ok) => (done = ok));
      await this.ctx.env.launcher.launch(this.serverArgv(true), true);
      this.alive = false;
      void configured.catch(() => undefined);
      return done;
    } catch (e) {
      if (!(e instanceof Error)) throw e;
      this.alive = false;
      this.output('');
      this.error(`Exception while starting server ${background ? 'background' : 'foreground'}`);
      this.error(e.message);
      return false;
    }
  }

  private async restart(cmd: readonly string[]): Promise<boolean> {
    if (cmd.length > 1) return this.processCommand(['reload', '--restart', ...cmd.slice(1)]);
    const interactive = this.conf.interactive;
    if (interactive) this.output('  ## stop ... ');
    await this.processCommand(['stop']);
    if (!(await this.waitOnServer(false))) {
      this.error('Could not stop server');
      return false;
    }
    // fail2ban re-reads its command line here in -i; the configuration is re-read by start anyway.
    if (interactive) this.output('  ## load configuration ... ');
    if (interactive) this.output('  ## start ... ');
    return this.processCommand(['start']);
  }

  private async reload(args: readonly string[]): Promise<boolean> {
    const cmd = [...args];
    const opts: string[] = [];
    while (cmd.length >= 2) {
      const a = cmd[1] ?? '';
      if (a !== '--restart' && a !== '--unban' && a !== '--if-exists') {
        if (cmd.length > 2) {
          this.error(`Unexpected argument(s) for reload: ${pyRepr(cmd.slice(1))}`);
          return false;
        }
        break;
      }
      opts.push(a);
      cmd.splice(1, 1);
    }
    if (!(await this.ping(-1))) {
      this.error('Could not find server');
      return false;
    }
    const jail = cmd.length === 1 || cmd[1] === '--all' ? '--all' : (cmd[1] ?? '--all');
    const { ok, stream } = this.ctx.readConfig(jail === '--all' ? undefined : jail);
    if (!ok || stream === undefined) return false;
    if (this.conf.interactive) this.output('  ## reload ... ');
    return this.processCmd([['reload', jail, opts, stream]], true);
  }

  /** `__processCommand`. */
  async processCommand(cmd: readonly string[]): Promise<boolean> {
    if (cmd.length === 1 && cmd[0] === 'start') return this.startServer(this.conf.background);
    if (cmd[0] === 'restart') return this.restart(cmd);
    if (cmd[0] === 'reload') return this.reload(cmd);
    if (cmd.length > 1 && cmd[0] === 'ping') return this.processCmd([cmd], true, pythonFloat(cmd[1] ?? ''));
    return this.processCmd([cmd]);
  }

  /** The `-i` loop: true on exit/quit, false at the end of the input. */
  async interactive(args: readonly string[]): Promise<boolean> {
    const input = this.ctx.env.input;
    if (!input) throw new ClientRunError('Readline not available');
    if (args.length > 0 && !(await this.processCommand(args))) return false;
    this.output(`Fail2Ban v${FAIL2BAN_VERSION} reads log file that contains password failure report\nand bans the corresponding IP addresses using firewall rules.\n`);
    for (;;) {
      this.ctx.io.stdout(PROMPT);
      const line = await input.readLine();
      if (line === undefined) {
        this.output('');
        throw new ClientRunError('EOF when reading a line');
      }
      if (line === 'exit' || line === 'quit') return true;
      if (line === 'help') this.ctx.io.stdout(this.ctx.usage());
      else if (line !== '') await this.interactiveCommand(line);
    }
  }

  private async interactiveCommand(line: string): Promise<void> {
    try {
      await this.processCommand(shlexSplit(line));
    } catch (e) {
      if (!(e instanceof ClientRunError)) throw e;
      this.error(e.message);
    }
  }

  end(): void {
    this.alive = false;
  }
}

/**
 * Runs the command words `args` (after the options) as fail2ban's client does, or the `-i` loop;
 * returns the exit code (0, or 255 for every failure).
 */
export async function runClientCommand(args: readonly string[], ctx: ClientContext): Promise<number> {
  const flow = new ClientFlow(ctx);
  try {
    const ok = ctx.settings.interactive ? await flow.interactive(args) : await flow.processCommand(args);
    return ok ? 0 : 255;
  } catch (e) {
    if (!(e instanceof ClientRunError)) throw e;
    ctx.log.error(e.message);
    return 255;
  } finally {
    flow.end();
  }
}
