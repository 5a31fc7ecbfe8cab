// What the lab's proxies in front of moto share (aws-fault-proxy.ts, rehearsal/execution-history-proxy.ts):
// an HTTP server on a free loopback port with its endpoint and stop, and the plain forwarding of one
// request to moto.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface LoopbackServer {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  /** Closes the server and every connection still open. */
  stop(): Promise<void>;
}

/** Listens on a free port of 127.0.0.1. */
export async function listenOnLoopback(server: Server): Promise<LoopbackServer> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * Sends `req` on to `target` and its answer back. Headers, host included, go as they came: the SDK
 * signed them, and moto checks nothing of the host. `body`: the request body when it was read already.
 * `onAnswer`: what to do with the answer instead of passing it back (a fault that loses it). moto gone
 * (the lab is stopping): the client sees a reset, as with AWS unreachable.
 */
export function forwardRequest(
  target: URL,
  req: IncomingMessage,
  res: ServerResponse,
  body?: Buffer,
  onAnswer: (answer: IncomingMessage) => void = (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(res);
  },
): void {
  const upstream = request(
    {
      hostname: target.hostname,
      port: target.port,
      method: req.method,
      path: req.url,
      headers: req.headers,
      agent: false,
    },
    onAnswer,
  );
  upstream.once('error', () => res.destroy());
  if (body === undefined) req.pipe(upstream);
  else upstream.end(body);
}
