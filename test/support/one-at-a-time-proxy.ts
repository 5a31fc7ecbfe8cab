// An HTTP proxy that lets one request at a time through to its target, for DynamoDB on moto.
//
// DynamoDB applies a conditional write atomically: the condition is checked and the item written as one
// step, so of two PutItems that each require the item to be absent exactly one succeeds. moto_server
// checks the condition and then writes, in a thread per request, with no lock between: run
// concurrently, both can succeed (seen here about once in a few hundred rounds of two racing
// acquisitions of the rotation lock). Tests that race conditional writes send DynamoDB's requests
// through this proxy, which restores DynamoDB's guarantee and nothing more: the handlers' requests
// still race to it in whatever order, and each is answered by moto as it is.
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface OneAtATimeProxy {
  /** `http://127.0.0.1:<port>`: use it as AWS_ENDPOINT_URL_DYNAMODB. */
  readonly endpoint: string;
  stop(): Promise<void>;
}

export async function startOneAtATimeProxy(target: string): Promise<OneAtATimeProxy> {
  const upstream = new URL(target);
  let queue: Promise<void> = Promise.resolve();
  const server = createServer((incoming, outgoing) => {
    const body: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => body.push(chunk));
    incoming.on('end', () => {
      const turn = queue.then(
        () =>
          new Promise<void>((done) => {
            const forwarded = request(
              {
                hostname: upstream.hostname,
                port: upstream.port,
                path: incoming.url,
                method: incoming.method,
                headers: incoming.headers,
              },
              (answer) => {
                outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
                answer.pipe(outgoing);
                answer.on('end', () => done());
                answer.on('error', () => done());
              },
            );
            forwarded.on('error', (error) => {
              outgoing.writeHead(502).end(String(error));
              done();
            });
            forwarded.end(Buffer.concat(body));
          }),
      );
      queue = turn;
    });
  });
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((stopped) => {
        server.closeAllConnections();
        server.close(() => stopped());
      }),
  };
}
