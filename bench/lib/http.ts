// A minimal keep-alive HTTP client for signed requests: used to check responses, seed and walk lists.
import { Agent, request } from 'node:http';
import type { SignedRequest } from './sign.js';

/** What came back. */
export interface Reply {
  status: number;
  body: string;
  ms: number;
}

/** Sends signed requests to one server over a pool of keep-alive connections. */
export class RawClient {
  private readonly agent: Agent;
  private readonly url: URL;

  constructor(endpoint: string, maxSockets = 64) {
    this.url = new URL(endpoint);
    this.agent = new Agent({ keepAlive: true, maxSockets });
  }

  /** Sends one request; `ms` runs from the write to the last byte of the response. */
  send(req: SignedRequest): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const start = process.hrtime.bigint();
      const r = request(
        { agent: this.agent, host: this.url.hostname, port: this.url.port, method: req.method, path: req.path, headers: req.headers },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              body: Buffer.concat(chunks).toString('utf8'),
              ms: Number(process.hrtime.bigint() - start) / 1e6,
            }),
          );
          res.on('error', reject);
        },
      );
      r.on('error', reject);
      r.end(req.body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
