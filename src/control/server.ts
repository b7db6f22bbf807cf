/**
 * The control socket server: fail2ban's `AsyncServer`/`RequestHandler` wire behaviour on an
 * AF_UNIX stream socket, so Debian's `fail2ban-client` can talk to portcullis.
 *
 * Per connection, requests are answered strictly in order: a request is `pickle([args…]) + END`,
 * the reply `pickle((0, value)) + END`, or `pickle((1, exception)) + END` when the handler throws.
 * An undecodable request gets the pickled string `"ERROR: <message>"` as fail2ban sends it, and
 * the connection stays usable; a request over the size limit gets that error and the connection
 * is closed. While a request is handled or its reply is not yet written out, the connection is
 * not read (a client that does not read its replies cannot make the server buffer without end);
 * other connections are never blocked.
 */
import { lstatSync, chmodSync, unlinkSync, statSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';

import { PortcullisError, errorMessage } from '../shared/errors.js';
import { PyException, PyTuple, type PyValue } from '../shared/pyvalue.js';
import { LEVEL, NULL_LOG, type ServerLog } from '../system/log.js';
import { CLOSE, DEFAULT_MAX_MESSAGE, FrameReader, frame } from './frame.js';
import { PickleError, decodePickle, encodePickle } from './pickle.js';

/** Answers one request (the argument list); throws a `PyException` (or any Error) for an error reply. */
export type ControlHandler = (args: PyValue[]) => PyValue | Promise<PyValue>;

export interface ControlServerOptions {
  readonly socketPath: string;
  readonly handler: ControlHandler;
  /** fail2ban's `-x`: a stale socket file at the path is removed instead of refused. */
  readonly force?: boolean;
  readonly log?: ServerLog;
  /** Largest request in bytes (default 16 MiB). */
  readonly maxMessage?: number;
}

/** Why the server could not start (`already-running`, `stale-socket`, `not-a-socket`, `listen`). */
export class ControlServerError extends PortcullisError {}

/** Counters for metrics. */
export interface ControlServerStats {
  requests: number;
  malformed: number;
  oversized: number;
  connections: number;
  openConnections: number;
}

const LOGGER = 'fail2ban.asyncserver';
const OWNER_ONLY_UMASK = 0o177;

/** True when something accepts a connection on `path` within `timeoutMs`. */
function answers(path: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createConnection(path);
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      sock.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(true), timeoutMs); // a connect that hangs means a listener with a full backlog
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

export class ControlServer {
  readonly stats: ControlServerStats = { requests: 0, malformed: 0, oversized: 0, connections: 0, openConnections: 0 };
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private created: { dev: number; ino: number } | undefined;
  private readonly log: ServerLog;
  private readonly maxMessage: number;

  constructor(private readonly options: ControlServerOptions) {
    this.log = options.log ?? NULL_LOG;
    this.maxMessage = options.maxMessage ?? DEFAULT_MAX_MESSAGE;
  }

  get socketPath(): string {
    return this.options.socketPath;
  }

  /** Creates the socket (mode 0600) and starts accepting connections. */
  async listen(): Promise<void> {
    const path = this.options.socketPath;
    await this.clearPath(path);
    const server = createServer({ allowHalfOpen: false }, (sock) => this.accept(sock));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) => reject(new ControlServerError('listen', `Unable to bind socket ${path}: ${errorMessage(err)}`, { cause: err })));
      // The bind happens inside listen(): the socket file never exists with group or world access.
      const old = process.umask(OWNER_ONLY_UMASK);
      try {
        // fail2ban listens with a backlog of 1, which its blocking clients wait out; Node's
        // non-blocking connects would fail with EAGAIN instead, so the default backlog is kept.
        server.listen(path, () => resolve());
      } finally {
        process.umask(old);
      }
    });
    chmodSync(path, 0o600);
    const st = statSync(path);
    this.created = { dev: st.dev, ino: st.ino };
    server.on('error', (err) => this.log.log(LOGGER, LEVEL.ERROR, `Server connection was closed: ${errorMessage(err)}`));
  }

  private async clearPath(path: string): Promise<void> {
    let isSocket: boolean;
    try {
      isSocket = lstatSync(path).isSocket();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw new ControlServerError('listen', `Unable to check socket ${path}: ${errorMessage(err)}`, { cause: err });
    }
    if (!isSocket) throw new ControlServerError('not-a-socket', `${path} exists and is not a socket; refusing to replace it`);
    this.log.log(LOGGER, LEVEL.ERROR, 'Fail2ban seems to be already running');
    // Unlike fail2ban, a socket somebody answers on is never taken over, not even with force.
    if (await answers(path, 2000)) throw new ControlServerError('already-running', 'Server already running');
    if (!this.options.force) {
      throw new ControlServerError('stale-socket', `Server already running (socket file ${path} exists; use -x to remove it)`);
    }
    this.log.log(LOGGER, LEVEL.WARNING, 'Forcing execution of the server');
    try {
      unlinkSync(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new ControlServerError('listen', `Unable to remove ${path}: ${errorMessage(err)}`, { cause: err });
    }
  }

  private accept(sock: Socket): void {
    this.stats.connections++;
    this.stats.openConnections++;
    this.sockets.add(sock);
    const reader = new FrameReader(this.maxMessage);
    const queue: Array<Buffer | 'close' | 'oversized'> = [];
    let busy = false;
    let ended = false; // a CLOSE or an oversized request was read: no more input is taken

    const pump = async (): Promise<void> => {
      if (busy) return;
      busy = true;
      sock.pause();
      while (queue.length > 0 && !sock.destroyed) {
        const job = queue.shift() as Buffer | 'close' | 'oversized';
        if (job === 'close') {
          sock.end();
          break;
        }
        if (job === 'oversized') {
          sock.end(frame(encodePickle(`ERROR: request exceeds ${this.maxMessage} bytes`)));
          break;
        }
        const reply = await this.answer(job);
        if (sock.destroyed) break;
        if (!sock.write(reply)) await drainedOrClosed(sock);
      }
      busy = false;
      if (!sock.destroyed && !ended) sock.resume();
    };
    sock.on('data', (chunk: Buffer) => {
      if (ended) return;
      for (const ev of reader.push(chunk)) {
        if (ev.type === 'oversized') {
          this.stats.oversized++;
          this.log.log(LOGGER, LEVEL.ERROR, `PROTO-error: request of more than ${this.maxMessage} bytes refused`);
          queue.push('oversized');
          ended = true;
          break;
        }
        if (ev.data.equals(CLOSE)) {
          queue.push('close');
          ended = true;
          break;
        }
        queue.push(ev.data);
      }
      void pump().catch(() => sock.destroy());
    });
    sock.on('error', () => sock.destroy());
    sock.on('close', () => {
      this.sockets.delete(sock);
      this.stats.openConnections--;
    });
  }

  /** The reply bytes for one request message. */
  private async answer(message: Buffer): Promise<Buffer> {
    let args: PyValue;
    try {
      args = decodePickle(message, { maxBytes: this.maxMessage });
    } catch (err) {
      this.stats.malformed++;
      this.log.log(LOGGER, LEVEL.ERROR, `PROTO-error: load message failed: ${errorMessage(err)}`);
      return frame(encodePickle(`ERROR: ${errorMessage(err)}`));
    }
    this.stats.requests++;
    let reply: PyValue;
    if (Array.isArray(args) || args instanceof PyTuple) {
      const list = args instanceof PyTuple ? [...args.items] : [...(args as readonly PyValue[])];
      try {
        reply = new PyTuple([0, await this.options.handler(list)]);
      } catch (err) {
        reply = new PyTuple([1, toPyException(err)]);
      }
    } else {
      reply = new PyTuple([1, new PyException('builtins', 'TypeError', ['a request must be a list of arguments'])]);
    }
    try {
      return frame(encodePickle(reply));
    } catch (err) {
      // fail2ban answers a reply it cannot pickle with the error text, like an undecodable request.
      this.log.log(LOGGER, LEVEL.ERROR, `Caught unhandled exception: ${errorMessage(err)}`);
      return frame(encodePickle(`ERROR: ${err instanceof PickleError ? err.message : errorMessage(err)}`));
    }
  }

  /** Stops listening, ends every connection and removes the socket file (if it is still the one created). */
  async close(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const sock of this.sockets) sock.destroy();
    await closed;
    const created = this.created;
    this.created = undefined;
    if (created === undefined) return;
    try {
      const st = statSync(this.options.socketPath);
      if (st.dev === created.dev && st.ino === created.ino) unlinkSync(this.options.socketPath);
    } catch {
      // already gone
    }
  }
}

function drainedOrClosed(sock: Socket): Promise<void> {
  return new Promise((resolve) => {
    const go = (): void => {
      sock.off('drain', go);
      sock.off('close', go);
      resolve();
    };
    sock.on('drain', go);
    sock.on('close', go);
  });
}

/** What a handler throws to reply `(1, exception)` with a given Python exception (a `PyException` itself may be thrown too). */
export class PyExceptionError extends PortcullisError {
  constructor(readonly exception: PyException) {
    super('py-exception', `${exception.name}: ${exception.toString()}`);
  }
}

/** A thrown value as the exception fail2ban would reply with: other Errors become `builtins.Exception(message)`. */
export function toPyException(err: unknown): PyException {
  if (err instanceof PyException) return err;
  if (err instanceof PyExceptionError) return err.exception;
  return new PyException('builtins', 'Exception', [errorMessage(err)]);
}
