// A TLS proxy in front of a real kube-apiserver (the istio engine) that plays the rehearsal's
// `--fault kube:...` as the model's API server plays them itself (kube/kube-api-server.ts's fault hook):
// the same question per request (kubeFaultRequest), the same answers (a Status, a late answer, a reset).
// It listens on the API server's own loopback address, at a port the kernel picks, with the API server's
// own serving certificate and key, whose IP SAN names that address: a client that trusts the cluster's CA
// (EKS DescribeCluster's certificateAuthority) verifies it as it verifies the API server. Whatever no
// fault answers goes on as it came, bearer token included, over TLS verified against the same CA;
// an upgrade (a port-forward) is tunnelled once the API server has switched protocols. The lab's own
// components keep their kubeconfigs on the API server itself: only a client handed this address (the
// functions, through the lab's EKS API) ever meets a fault.
import { readFile } from 'node:fs/promises';
import { type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http';
import { Agent, createServer, request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { API_SERVER_SERVING_FILES } from './control-plane/kube-apiserver-process.js';
import type { ControlPlaneCluster } from './control-plane/start-control-plane.js';
import type { KubeApiError } from './kube/errors.js';
import { type KubeFaultRequest, type KubeRequestFault, kubeFaultRequest } from './kube/kube-api-server.js';
import { LabError } from './lab-errors.js';

export interface KubeFaultProxyOptions {
  /** The API server, `https://127.x.y.z:<port>`; the proxy listens on the same address. */
  readonly target: string;
  /** The CA of the API server's serving certificate: the only one the proxy trusts for it. */
  readonly caPem: string;
  /** The API server's own serving certificate and key (in memory only). */
  readonly certPem: string;
  readonly keyPem: string;
  /** Asked before each request is passed on; undefined passes it on as it came. */
  readonly fault: (request: KubeFaultRequest) => KubeRequestFault | undefined;
}

export interface KubeFaultProxy {
  /** `https://<the API server's address>:<port>`: what the lab's EKS API hands the functions. */
  readonly endpoint: string;
  /** Closes the proxy, its connections and tunnels; the API server keeps running. */
  stop(): Promise<void>;
}

export async function startKubeFaultProxy(options: KubeFaultProxyOptions): Promise<KubeFaultProxy> {
  const target = new URL(options.target);
  if (target.protocol !== 'https:' || !target.hostname.startsWith('127.')) {
    throw new LabError(
      `the Kubernetes API fault proxy fronts a loopback https API server, not ${options.target}`,
    );
  }
  const agent = new Agent({ keepAlive: true, ca: options.caPem });
  const tunnels = new Set<Duplex>();
  const upstream = (req: IncomingMessage) =>
    request({
      hostname: target.hostname,
      port: target.port,
      method: req.method,
      path: req.url,
      headers: req.headers,
      agent,
    });
  const server = createServer({ cert: options.certPem, key: options.keyPem }, (req, res) => {
    const fault = options.fault(kubeFaultRequest(req.method ?? 'GET', req.url));
    if (fault?.kind === 'reset') {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'error') {
      // The body is read and dropped: the client sees a whole exchange, as from the API server.
      req.resume();
      req.once('end', () => sendStatus(res, fault.error));
      return;
    }
    void delayed(fault, () => forward(upstream(req), req, res));
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const fault = options.fault(kubeFaultRequest(req.method ?? 'GET', req.url, 'upgrade'));
    if (fault?.kind === 'reset') {
      socket.destroy();
      return;
    }
    if (fault?.kind === 'error') {
      socket.end(
        rawAnswer(fault.error.code, { 'content-type': 'application/json' }, statusBody(fault.error)),
      );
      return;
    }
    void delayed(fault, () => tunnel(upstream(req), socket, head, tunnels));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, target.hostname, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { address, port } = server.address() as AddressInfo;
  return {
    endpoint: `https://${address}:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        // Upgraded connections are no longer the server's to close.
        for (const socket of tunnels) socket.destroy();
        agent.destroy();
      }),
  };
}

/**
 * The fault proxy of one of the istio engine's clusters (start-istio-lab.ts): in front of its API server,
 * with the serving certificate and key kube-apiserver-process.ts wrote for it, asking `fault` with the
 * cluster's name.
 */
export async function startClusterKubeFaultProxy(
  cluster: Pick<ControlPlaneCluster, 'name' | 'endpoint' | 'caPem' | 'dir'>,
  fault: (cluster: string, request: KubeFaultRequest) => KubeRequestFault | undefined,
): Promise<KubeFaultProxy> {
  const [certPem = '', keyPem = ''] = await Promise.all(
    [API_SERVER_SERVING_FILES.cert, API_SERVER_SERVING_FILES.key].map((file) =>
      readFile(join(cluster.dir, file), 'utf8'),
    ),
  );
  return startKubeFaultProxy({
    target: cluster.endpoint,
    caPem: cluster.caPem,
    certPem,
    keyPem,
    fault: (request) => fault(cluster.name, request),
  });
}

/** Runs `then` now, or `slow`'s delay later. */
async function delayed(fault: KubeRequestFault | undefined, then: () => void): Promise<void> {
  if (fault?.kind === 'delay') await sleep(fault.ms);
  then();
}

/**
 * The request on to the API server and its answer back, streamed (a watch stays open as long as both
 * ends do). The API server gone (the lab is stopping): the client sees a reset, as when it is unreachable.
 */
function forward(
  upstreamRequest: ReturnType<typeof request>,
  req: IncomingMessage,
  res: ServerResponse,
): void {
  upstreamRequest.once('response', (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(res);
  });
  upstreamRequest.once('error', () => res.destroy());
  // A client that goes away (a watch stopped) ends the API server's side too.
  res.once('close', () => {
    if (!res.writableFinished) upstreamRequest.destroy();
  });
  req.pipe(upstreamRequest);
}

/**
 * An upgrade passed on: once the API server switches protocols, its answer goes back and the two
 * connections are joined; an answer without a switch (a refusal: 403, 404) goes back as it is, and the
 * connection closes.
 */
function tunnel(
  upstreamRequest: ReturnType<typeof request>,
  socket: Duplex,
  head: Buffer,
  tunnels: Set<Duplex>,
): void {
  upstreamRequest.once('upgrade', (answer, upstreamSocket, upstreamHead) => {
    socket.write(rawHead(answer));
    if (upstreamHead.length > 0) socket.write(upstreamHead);
    if (head.length > 0) upstreamSocket.write(head);
    for (const [from, to] of [
      [socket, upstreamSocket],
      [upstreamSocket, socket],
    ] as const) {
      tunnels.add(from);
      from.pipe(to);
      from.once('close', () => {
        tunnels.delete(from);
        to.destroy();
      });
      from.on('error', () => from.destroy());
    }
  });
  upstreamRequest.once('response', (answer) => {
    const chunks: Buffer[] = [];
    answer.on('data', (chunk: Buffer) => chunks.push(chunk));
    answer.once('end', () => {
      const headers = { 'content-type': String(answer.headers['content-type'] ?? 'text/plain') };
      socket.end(rawAnswer(answer.statusCode ?? 502, headers, Buffer.concat(chunks)));
    });
  });
  upstreamRequest.once('error', () => socket.destroy());
  upstreamRequest.end();
}

/** The API server's switching-protocols answer, status line and headers as it wrote them. */
function rawHead(answer: IncomingMessage): string {
  const lines = [`HTTP/1.1 ${answer.statusCode} ${answer.statusMessage ?? ''}`];
  for (let i = 0; i + 1 < answer.rawHeaders.length; i += 2) {
    lines.push(`${answer.rawHeaders[i]}: ${answer.rawHeaders[i + 1]}`);
  }
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** A whole HTTP/1.1 answer on a connection that closes after it. */
function rawAnswer(status: number, headers: Record<string, string>, body: Buffer | string): Buffer {
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body);
  const lines = [`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}`];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  lines.push(`content-length: ${bytes.length}`, 'connection: close');
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`), bytes]);
}

function statusBody(error: KubeApiError): string {
  return JSON.stringify(error.toStatus());
}

/** The fault's Status, as the API server writes one (kube-api-server.ts's sendJson). */
function sendStatus(res: ServerResponse, error: KubeApiError): void {
  const body = statusBody(error);
  res
    .writeHead(error.code, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
    })
    .end(body);
}
