/**
 * TCP listeners that accept a connection and close it at once (the port trap's I/O): no byte is
 * read or written, the socket is reset, only the peer's address and the ports are reported. The
 * daemon's port trap (daemon/portTrap.ts) gets this through its `TrapListen` port.
 */
import * as net from 'node:net';

/** One connection caught: the peer's address as Node reports it (IPv4-mapped IPv6 unmapped). */
export interface TrapHit {
  readonly address: string;
  readonly remotePort: number;
  readonly localPort: number;
}

export interface TrapHandle {
  close(): Promise<void>;
}

const MAPPED = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i;

/**
 * Listens on `host:port` (host undefined: every address, IPv6 and IPv4 where the system has both).
 * Resolves once listening; rejects with the system's error (EADDRINUSE, EACCES, …).
 */
export function listenTrap(host: string | undefined, port: number, onHit: (hit: TrapHit) => void, onError: (e: Error) => void): Promise<TrapHandle> {
  const server = net.createServer({ pauseOnConnect: true }, (socket) => {
    const address = socket.remoteAddress;
    const remotePort = socket.remotePort ?? 0;
    socket.on('error', () => undefined);
    socket.resetAndDestroy();
    if (address === undefined) return;
    onHit({ address: MAPPED.exec(address)?.[1] ?? address, remotePort, localPort: port });
  });
  server.maxConnections = 1024;
  return new Promise<TrapHandle>((resolve, reject) => {
    const failStart = (e: Error): void => reject(e);
    server.once('error', failStart);
    server.listen({ port, ...(host !== undefined ? { host } : {}), exclusive: true }, () => {
      server.off('error', failStart);
      server.on('error', onError);
      resolve({ close: () => new Promise<void>((done) => server.close(() => done())) });
    });
  });
}
