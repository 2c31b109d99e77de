import { connect, createServer, type Socket } from 'node:net';

/*
 * A TCP proxy on 127.0.0.1 for fault injection between a client and a database. Its mode applies to
 * connections as they arrive: 'pass' pipes them to the target, 'refuse' resets them at once, 'hold'
 * accepts them and forwards nothing (the client hangs) until the mode is 'pass' again, when they are
 * connected with whatever they sent meanwhile. Connections already piped are never affected by a
 * mode change. A sniffer sees every chunk a client sends, before it is forwarded, so it can switch
 * the mode synchronously (say, to 'hold' when an ALTER ROLE goes by). Socket errors only close the pair.
 */

/** What the proxy does with a new connection. */
export type ProxyMode = 'pass' | 'refuse' | 'hold';

/** A running proxy; `close()` it. */
export interface TcpProxy {
  /** The listening port on 127.0.0.1. */
  readonly port: number;
  /** The current mode. */
  readonly mode: ProxyMode;
  /** Changes the mode for connections arriving from now on; 'pass' also releases the held ones. */
  setMode(m: ProxyMode): void;
  /** Registers a function called with every chunk a client sends (before it is forwarded). */
  onClientData(fn: (chunk: Buffer) => void): void;
  /** Connections accepted so far (refused and held ones included). */
  readonly connections: number;
  /** Destroys every open connection, both sides (held ones too). */
  dropAll(): void;
  /** Stops listening and destroys every connection. */
  close(): Promise<void>;
}

/** One accepted client and, once connected, its upstream socket. */
interface Pair {
  client: Socket;
  upstream?: Socket;
  /** What the client sent while held. */
  pending: Buffer[];
}

/** Starts a proxy to `targetHost:targetPort` on a free port of 127.0.0.1, in 'pass' mode. */
export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  let mode: ProxyMode = 'pass';
  let accepted = 0;
  const pairs = new Set<Pair>();
  const held = new Set<Pair>();
  const sniffers: ((chunk: Buffer) => void)[] = [];

  const destroyPair = (p: Pair) => {
    pairs.delete(p);
    held.delete(p);
    p.client.destroy();
    p.upstream?.destroy();
  };
  // A side that closes ends the other one gracefully (what was written still goes out); the pair is
  // forgotten once both sides are closed. Errors destroy both at once.
  const settle = (p: Pair) => {
    if (p.client.destroyed && (!p.upstream || p.upstream.destroyed)) pairs.delete(p);
  };

  const forward = (p: Pair) => {
    held.delete(p);
    if (p.client.destroyed) return settle(p);
    const up = connect(targetPort, targetHost);
    p.upstream = up;
    up.on('error', () => destroyPair(p));
    up.on('close', () => {
      p.client.end();
      settle(p);
    });
    for (const chunk of p.pending.splice(0)) up.write(chunk); // buffered by the socket until it connects
    up.pipe(p.client);
  };

  const server = createServer((client) => {
    accepted++;
    const p: Pair = { client, pending: [] };
    pairs.add(p);
    client.on('error', () => destroyPair(p));
    client.on('close', () => {
      held.delete(p);
      p.upstream?.end();
      settle(p);
    });
    if (mode === 'refuse') {
      client.resetAndDestroy();
      return;
    }
    client.on('data', (chunk: Buffer) => {
      for (const fn of sniffers) {
        try {
          fn(chunk);
        } catch {
          // a sniffer's bug must not break the connection
        }
      }
      if (p.upstream) p.upstream.write(chunk);
      else p.pending.push(chunk);
    });
    if (mode === 'hold') held.add(p);
    else forward(p);
  });
  server.on('error', () => undefined);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;

  const dropAll = () => {
    for (const p of [...pairs]) destroyPair(p);
  };

  return {
    port,
    get mode() {
      return mode;
    },
    setMode(m) {
      mode = m;
      if (m === 'pass') for (const p of [...held]) forward(p);
    },
    onClientData(fn) {
      sniffers.push(fn);
    },
    get connections() {
      return accepted;
    },
    dropAll,
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        dropAll();
      });
    },
  };
}
