// The control endpoint of a running `meshtrust lab`: the prober lives in the lab's process, so other
// processes (`meshtrust lab probe`) ask it over HTTP on 127.0.0.1 with a random bearer secret that
// only DIR/control.json (mode 0600) holds. Both ends of the small protocol are here.
//
//   GET  /v1/status                  -> { meshId, clusters, prober: stats }
//   POST /v1/probe  {"rounds": N}    -> LabProbeReport
// and for `meshtrust rehearse --lab DIR` (rehearsal/fleet/attached-fleet.ts), which rotates the lab
// from another process and needs what only the lab's process knows:
//   GET  /v1/fleet                   -> the fleet's facts (engine, clusters, certificate lifetime, settle time)
//   GET  /v1/workload-certificates   -> every ready workload's certificate issuer, pod UID and owner
//   GET  /v1/refused-cacerts         -> the cacerts changes istiod dropped so far
//   POST /v1/identities {sessions, trust} -> the rehearsal's function role sessions and trust policies
//        join the lab's identities, as STS would know them (credentials in, never keys)
// No route answers with a private key: `cacerts` itself is read through the Kubernetes API.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const MAX_PROBE_ROUNDS = 100;

export interface LabProbeFailure {
  readonly at: string;
  readonly phase: string;
  readonly from: string;
  readonly to: string;
  /** Which side refused the handshake (client or server). */
  readonly side: string;
  readonly error: string;
}

export interface LabProbeReport {
  readonly rounds: number;
  readonly attempted: number;
  readonly failed: number;
  readonly failures: readonly LabProbeFailure[];
}

export interface LabControlHandlers {
  probe(rounds: number): Promise<LabProbeReport>;
  status(): unknown;
  /** What `rehearse --lab` needs of the fleet (routes answer 404 without them). */
  readonly attach?: LabAttachHandlers;
}

/** The routes an attached rehearsal uses; their shapes are checked by the caller (attached-fleet.ts). */
export interface LabAttachHandlers {
  fleet(): unknown;
  workloadCertificates(): Promise<unknown>;
  refusedCacerts(): Promise<unknown>;
  /** Adds role sessions and trust policies; throws LabControlError (status 400) on a bad body. */
  addIdentities(body: unknown): void;
}

export interface LabControlServer {
  /** http://127.0.0.1:<port> */
  readonly url: string;
  /** The bearer secret callers must send. */
  readonly token: string;
  stop(): Promise<void>;
}

export class LabControlError extends Error {
  /** HTTP status of the answer, when there was one. */
  readonly status?: number;
  constructor(message: string, options?: ErrorOptions & { status?: number }) {
    super(message, options);
    this.name = 'LabControlError';
    if (options?.status !== undefined) this.status = options.status;
  }
}

/** Starts the control endpoint on a free loopback port. */
export async function startLabControlServer(handlers: LabControlHandlers): Promise<LabControlServer> {
  const token = randomBytes(32).toString('base64url');
  const expected = Buffer.from(`Bearer ${token}`);
  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      const status = error instanceof LabControlError && error.status !== undefined ? error.status : 500;
      send(response, status, { message: `the lab could not answer: ${(error as Error).message}` });
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const presented = Buffer.from(request.headers.authorization ?? '');
    if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) {
      send(response, 401, {
        message: 'missing or wrong bearer token; read it from the lab directory control.json',
      });
      return;
    }
    if (request.method === 'GET' && request.url === '/v1/status') {
      send(response, 200, handlers.status());
      return;
    }
    if (request.method === 'POST' && request.url === '/v1/probe') {
      const body = (await readJsonBody(request)) as { rounds?: unknown };
      const rounds = body.rounds ?? 1;
      if (
        typeof rounds !== 'number' ||
        !Number.isInteger(rounds) ||
        rounds < 1 ||
        rounds > MAX_PROBE_ROUNDS
      ) {
        send(response, 400, {
          message: `rounds must be an integer from 1 to ${MAX_PROBE_ROUNDS}, got ${JSON.stringify(rounds)}`,
        });
        return;
      }
      send(response, 200, await handlers.probe(rounds));
      return;
    }
    const attach = handlers.attach;
    if (attach !== undefined && request.method === 'GET' && request.url === '/v1/fleet') {
      send(response, 200, attach.fleet());
      return;
    }
    if (attach !== undefined && request.method === 'GET' && request.url === '/v1/workload-certificates') {
      send(response, 200, await attach.workloadCertificates());
      return;
    }
    if (attach !== undefined && request.method === 'GET' && request.url === '/v1/refused-cacerts') {
      send(response, 200, await attach.refusedCacerts());
      return;
    }
    if (attach !== undefined && request.method === 'POST' && request.url === '/v1/identities') {
      attach.addIdentities(await readJsonBody(request));
      send(response, 200, {});
      return;
    }
    send(response, 404, {
      message: `no route ${request.method} ${request.url}; use GET /v1/status or POST /v1/probe`,
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    token,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Calls the control endpoint of a running lab; rejects with LabControlError when it cannot. */
export function callLabControl(
  access: { readonly url: string; readonly token: string },
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
  timeoutMs = 120_000,
): Promise<unknown> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      `${access.url}${path}`,
      {
        method,
        agent: false,
        timeout: timeoutMs,
        headers: {
          authorization: `Bearer ${access.token}`,
          ...(payload
            ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }
            : {}),
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          let parsed: unknown;
          try {
            parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          } catch (error) {
            reject(
              new LabControlError(`the lab at ${access.url} answered something that is not JSON`, {
                cause: error,
              }),
            );
            return;
          }
          const status = response.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve(parsed);
          else {
            const message = (parsed as { message?: string }).message ?? `HTTP ${status}`;
            reject(new LabControlError(`the lab refused the request: ${message}`, { status }));
          }
        });
      },
    );
    request.once('timeout', () =>
      request.destroy(
        new LabControlError(`the lab at ${access.url} did not answer within ${timeoutMs / 1000} s`),
      ),
    );
    request.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        error instanceof LabControlError
          ? error
          : new LabControlError(
              error.code === 'ECONNREFUSED'
                ? `nothing answers at ${access.url}: the lab process has stopped; start it again with \`meshtrust lab\``
                : `cannot reach the lab at ${access.url}: ${error.message}`,
              { cause: error },
            ),
      );
    });
    request.end(payload);
  });
}

function send(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
}

async function readJsonBody(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > 64 * 1024) throw new LabControlError('request body too large', { status: 413 });
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return {};
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (error) {
    throw new LabControlError('request body is not JSON', { cause: error, status: 400 });
  }
}
