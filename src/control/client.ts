/**
 * The control socket client: what fail2ban's `CSocket` does, for portcullis' `fail2ban-client`.
 * A request is `pickle([args…]) + END`; the reply `(code, value)` is read up to END and decoded.
 * Connection problems are `ControlSocketError`s whose `kind` tells the CLI which of fail2ban's
 * texts to print and whose `pythonText` is Python's `str(socket.error)` for the same failure.
 */
import { createConnection, type Socket } from 'node:net';

import { PortcullisError } from '../shared/errors.js';
import { PyTuple, type PyValue } from '../shared/pyvalue.js';
import { CLOSE, DEFAULT_MAX_MESSAGE, END, frame } from './frame.js';
import { PickleError, decodePickle, encodePickle } from './pickle.js';

/** `(0, value)` for success, `(1, exception)` for an error the server raised. */
export interface ControlReply {
  readonly code: number;
  readonly value: PyValue;
}

export interface ControlClientOptions {
  /** Deadline for connecting plus each request and its reply (default: none, like fail2ban). */
  readonly timeoutMs?: number;
  /** Largest reply accepted (default 16 MiB). */
  readonly maxMessage?: number;
}

/**
 * - `missing`: no socket file (ENOENT) · `permission`: EACCES/EPERM · `refused`: nobody listens
 *   (ECONNREFUSED, a stale socket file or not a socket) · `reset`: the connection ended before a
 *   reply's END · `timeout` · `protocol`: a reply that is not `(code, value)` (`reply` holds it;
 *   fail2ban sends `"ERROR: …"` for a request it could not decode) · `other`.
 */
export type ControlSocketErrorKind = 'missing' | 'permission' | 'refused' | 'reset' | 'timeout' | 'protocol' | 'other';

/** glibc's texts as Python shows them (`[Errno 111] Connection refused`); Node's own texts differ. */
const PY_ERRNO: Readonly<Record<string, readonly [number, string]>> = {
  ENOENT: [2, 'No such file or directory'],
  EACCES: [13, 'Permission denied'],
  EPERM: [1, 'Operation not permitted'],
  ECONNREFUSED: [111, 'Connection refused'],
  ECONNRESET: [104, 'Connection reset by peer'],
  EPIPE: [32, 'Broken pipe'],
  ENOTSOCK: [88, 'Socket operation on non-socket'],
  ENOTDIR: [20, 'Not a directory'],
  ENAMETOOLONG: [36, 'File name too long'],
  EAGAIN: [11, 'Resource temporarily unavailable'],
};

export class ControlSocketError extends PortcullisError {
  constructor(
    readonly kind: ControlSocketErrorKind,
    message: string,
    /** Python's `str()` of the same socket error, e.g. `[Errno 111] Connection refused`, `timed out`. */
    readonly pythonText: string,
    options?: { cause?: unknown; reply?: PyValue },
  ) {
    super(`control-${kind}`, message, options);
    this.reply = options?.reply;
  }

  readonly reply: PyValue | undefined;
}

function fromErrno(err: NodeJS.ErrnoException, socketPath: string): ControlSocketError {
  const code = err.code ?? '';
  const py = PY_ERRNO[code];
  const pythonText = py ? `[Errno ${py[0]}] ${py[1]}` : err.message;
  const kind: ControlSocketErrorKind =
    code === 'ENOENT' ? 'missing' : code === 'EACCES' || code === 'EPERM' ? 'permission' : code === 'ECONNREFUSED' || code === 'ENOTSOCK' ? 'refused' : code === 'ECONNRESET' || code === 'EPIPE' ? 'reset' : 'other';
  return new ControlSocketError(kind, `${socketPath}: ${pythonText}`, pythonText, { cause: err });
}

function resetError(socketPath: string): ControlSocketError {
  return new ControlSocketError('reset', `${socketPath}: connection closed before the reply was complete`, '[Errno 104] Connection reset by peer');
}

function timeoutError(socketPath: string, ms: number): ControlSocketError {
  return new ControlSocketError('timeout', `${socketPath}: no reply within ${ms} ms`, 'timed out');
}

/** A reply as `{code, value}`; anything but a `(int, value)` pair is a `protocol` error. */
function toReply(value: PyValue, socketPath: string): ControlReply {
  if (value instanceof PyTuple && value.items.length === 2 && typeof value.items[0] === 'number') return { code: value.items[0], value: value.items[1] ?? null };
  const text = typeof value === 'string' ? value : 'an unexpected reply';
  return fail(new ControlSocketError('protocol', `${socketPath}: ${text}`, text, { reply: value }));
}

function fail(err: Error): never {
  throw err;
}

/** A growable receive buffer that finds END markers without rescanning old bytes. */
class ReplyBuffer {
  private buf = Buffer.allocUnsafe(4096);
  private len = 0;
  private searchFrom = 0;

  get size(): number {
    return this.len;
  }

  append(chunk: Buffer): void {
    if (this.len + chunk.length > this.buf.length) {
      const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + chunk.length));
      this.buf.copy(next, 0, 0, this.len);
      this.buf = next;
    }
    chunk.copy(this.buf, this.len);
    this.len += chunk.length;
  }

  /**
   * The first complete reply: the bytes before an END marker that decode as a pickle. An END that
   * cuts a pickle short was part of the data (a string holding the marker), so the search goes on.
   */
  take(): PyValue | undefined {
    for (;;) {
      const at = this.buf.subarray(0, this.len).indexOf(END, this.searchFrom);
      if (at === -1) {
        this.searchFrom = Math.max(0, this.len - END.length + 1);
        return undefined;
      }
      try {
        const value = decodePickle(this.buf.subarray(0, at));
        const rest = this.buf.subarray(at + END.length, this.len);
        this.buf = Buffer.from(rest.length > 0 ? rest : Buffer.allocUnsafe(4096));
        this.len = rest.length;
        this.searchFrom = 0;
        return value;
      } catch (err) {
        if (!(err instanceof PickleError && err.truncated)) throw err;
        this.searchFrom = at + 1;
      }
    }
  }
}

/** A connection that carries several requests (fail2ban-client's `-i`, `start`'s stream). */
export class ControlClient {
  private readonly received = new ReplyBuffer();
  private waiter: { resolve: (v: PyValue) => void; reject: (e: Error) => void } | undefined;
  private failure: Error | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(
    private readonly sock: Socket,
    readonly socketPath: string,
    private readonly options: ControlClientOptions,
  ) {
    sock.on('data', (chunk: Buffer) => this.onData(chunk));
    sock.on('error', (err: NodeJS.ErrnoException) => this.fail(fromErrno(err, socketPath)));
    sock.on('close', () => this.fail(resetError(socketPath)));
  }

  /**
   * Connects to the server's socket. A full listen backlog (EAGAIN: Node connects without blocking,
   * where Python's client would wait) is retried until the timeout, or for 10 s without one.
   */
  static async connect(socketPath: string, options: ControlClientOptions = {}): Promise<ControlClient> {
    const deadline = Date.now() + (options.timeoutMs ?? 10_000);
    for (let delay = 5; ; delay = Math.min(delay * 2, 100)) {
      try {
        return await ControlClient.connectOnce(socketPath, options, Math.max(1, deadline - Date.now()));
      } catch (err) {
        if (!(err instanceof ControlSocketError && (err.cause as NodeJS.ErrnoException | undefined)?.code === 'EAGAIN') || Date.now() + delay >= deadline) throw err;
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  private static connectOnce(socketPath: string, options: ControlClientOptions, timeoutMs: number): Promise<ControlClient> {
    return new Promise((resolve, reject) => {
      const sock = createConnection(socketPath);
      const timer = setTimeout(() => {
        sock.destroy();
        reject(timeoutError(socketPath, options.timeoutMs ?? timeoutMs));
      }, timeoutMs);
      sock.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(fromErrno(err, socketPath));
      });
      sock.once('connect', () => {
        clearTimeout(timer);
        sock.removeAllListeners('error');
        resolve(new ControlClient(sock, socketPath, options));
      });
    });
  }

  private onData(chunk: Buffer): void {
    this.received.append(chunk);
    const max = this.options.maxMessage ?? DEFAULT_MAX_MESSAGE;
    try {
      const value = this.received.take();
      if (value !== undefined) {
        const w = this.waiter;
        this.waiter = undefined;
        w?.resolve(value);
      } else if (this.received.size > max + END.length) {
        this.fail(new ControlSocketError('protocol', `${this.socketPath}: reply exceeds ${max} bytes`, 'reply too large'));
        this.sock.destroy();
      }
    } catch (err) {
      const text = err instanceof Error ? err.message : String(err);
      this.fail(new ControlSocketError('protocol', `${this.socketPath}: undecodable reply: ${text}`, text, { cause: err }));
      this.sock.destroy();
    }
  }

  private fail(err: Error): void {
    this.failure ??= err;
    const w = this.waiter;
    this.waiter = undefined;
    w?.reject(this.failure);
  }

  /** Sends one request and waits for its reply; requests on one client are sent one after the other. */
  send(args: readonly PyValue[], options: { timeoutMs?: number } = {}): Promise<ControlReply> {
    const run = (): Promise<ControlReply> => this.exchange(args, options.timeoutMs ?? this.options.timeoutMs);
    const next = this.chain.then(run, run);
    this.chain = next.catch(() => undefined);
    return next;
  }

  private exchange(args: readonly PyValue[], timeoutMs: number | undefined): Promise<ControlReply> {
    if (this.closed) return Promise.reject(resetError(this.socketPath));
    if (this.failure !== undefined) return Promise.reject(this.failure);
    const message = frame(encodePickle([...args]));
    return new Promise<ControlReply>((resolve, reject) => {
      const timer = timeoutMs === undefined ? undefined : setTimeout(() => {
        this.waiter = undefined;
        // The reply may still come; the connection is out of step now and is closed.
        this.fail(timeoutError(this.socketPath, timeoutMs));
        this.sock.destroy();
        reject(timeoutError(this.socketPath, timeoutMs));
      }, timeoutMs);
      this.waiter = {
        resolve: (v) => {
          clearTimeout(timer);
          try {
            resolve(toReply(v, this.socketPath));
          } catch (err) {
            reject(err instanceof Error ? err : new Error(String(err)));
          }
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.sock.write(message);
    });
  }

  /** Sends `<F2B_CLOSE_COMMAND>` and closes the connection (as `CSocket.close`). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.chain;
    if (this.sock.destroyed) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => this.sock.destroy(), 2000);
      this.sock.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      this.sock.end(frame(CLOSE));
    });
  }
}

/** One request on its own connection: connect, send, read the reply, close. */
export async function sendCommand(socketPath: string, args: readonly PyValue[], options: ControlClientOptions = {}): Promise<ControlReply> {
  const client = await ControlClient.connect(socketPath, options);
  try {
    return await client.send(args);
  } finally {
    await client.close();
  }
}

/** What `os.access` says about the socket path, for `socketErrorText`. */
export interface SocketAccess {
  readonly exists: boolean;
  readonly writable: boolean;
}

/**
 * The line fail2ban-client logs (at ERROR) for a failed connection (`__logSocketError`): it looks
 * at the path, not at the error. `errorOnly` is fail2ban's ping case, which logs the bare error.
 */
export function socketErrorText(err: ControlSocketError, socketPath: string, access: SocketAccess, errorOnly = false): string {
  if (!access.exists) return `Failed to access socket path: ${socketPath}. Is fail2ban running?`;
  if (!access.writable) return `Permission denied to socket: ${socketPath}, (you must be root)`;
  if (errorOnly) return err.pythonText;
  return `${err.pythonText ? `[${err.pythonText}] ` : ''}Unable to contact server. Is it running?`;
}
