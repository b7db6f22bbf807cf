/**
 * The port trap (a portcullis extension, jail option `porttrap`): the jail opens TCP ports where
 * nothing legitimate listens — 22 after sshd moved, 23, 3389 — and every connection to them is a
 * line for the jail, `SRC=<ip> SPT=<port> DPT=<port> PROTO=TCP` (the capture format of
 * tinyhoneypot-style filters: `failregex = SRC=<HOST>`), dated now. The connection is reset at once,
 * nothing is read or written. A scanner touching the trap `maxretry` times is banned like any
 * failure. It replaces xinetd + tinyhoneypot.
 *
 * `porttrap = 22, 2323, 127.0.0.1:23, [::1]:24` — a port alone listens on every address.
 */
import { LEVEL, type ServerLog } from '../system/log.js';

export interface TrapAddress {
  readonly host: string | undefined;
  readonly port: number;
}

/** A `porttrap` value that cannot be used (the message names the part). */
export class PortTrapSpecError extends Error {}

/** Parses `porttrap`: ports separated by commas or blanks, each `PORT`, `HOST:PORT` or `[V6]:PORT`. */
export function parsePortTrap(value: string): TrapAddress[] {
  const out: TrapAddress[] = [];
  for (const part of value.split(/[\s,]+/).filter((p) => p !== '')) {
    const m = /^(?:\[([0-9A-Fa-f:.]+)\]:|([0-9.]+):)?(\d{1,5})$/.exec(part);
    const port = m ? Number(m[3]) : NaN;
    if (!m || port < 1 || port > 65535) throw new PortTrapSpecError(`porttrap: "${part}" is not a TCP port (1-65535), HOST:PORT or [IPv6]:PORT`);
    out.push({ host: m[1] ?? m[2], port });
  }
  return out;
}

/** An address as written in `porttrap` (`22`, `127.0.0.1:23`, `[::1]:24`). */
export function trapAddressText(a: TrapAddress): string {
  if (a.host === undefined) return String(a.port);
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

/** How the trap listens (system/tcpTrap.ts in the daemon). */
export type TrapListen = (
  host: string | undefined,
  port: number,
  onHit: (hit: { readonly address: string; readonly remotePort: number; readonly localPort: number }) => void,
  onError: (e: Error) => void,
) => Promise<{ close(): Promise<void> }>;

export interface PortTrapEnv {
  readonly listen: TrapListen;
  readonly log: ServerLog;
  /** Seconds (the failure's time). */
  readonly now: () => number;
}

/** The line a connection becomes: what the jail's filter reads. */
export function trapLine(address: string, remotePort: number, localPort: number): string {
  return `SRC=${address} SPT=${remotePort} DPT=${localPort} PROTO=TCP`;
}

export class PortTrap {
  private handles: { close(): Promise<void> }[] = [];
  /** Connections caught since start (status). */
  caught = 0;

  constructor(
    private readonly jail: string,
    readonly addresses: readonly TrapAddress[],
    private readonly env: PortTrapEnv,
    private readonly onLine: (line: string, time: number) => void,
  ) {}

  /** Opens every port; a port that cannot be opened is logged, the others still trap. */
  async start(): Promise<void> {
    for (const a of this.addresses) {
      const where = trapAddressText(a);
      try {
        const h = await this.env.listen(
          a.host,
          a.port,
          (hit) => {
            this.caught++;
            this.onLine(trapLine(hit.address, hit.remotePort, hit.localPort), this.env.now());
          },
          (e) => this.env.log.log('fail2ban.jail', LEVEL.ERROR, `[${this.jail}] port trap ${where}: ${e.message}`),
        );
        this.handles.push(h);
        this.env.log.log('fail2ban.jail', LEVEL.INFO, `[${this.jail}] port trap listening on ${where}`);
      } catch (e) {
        this.env.log.log('fail2ban.jail', LEVEL.ERROR, `[${this.jail}] port trap cannot listen on ${where}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }

  get listening(): number {
    return this.handles.length;
  }

  async stop(): Promise<void> {
    const hs = this.handles.splice(0);
    await Promise.all(hs.map((h) => h.close().catch(() => undefined)));
  }
}
