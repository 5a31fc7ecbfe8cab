// The pod network, as kube-apiserver reaches it: an HTTP CONNECT proxy on a Unix socket, named in the
// API server's egress selector configuration (--egress-selector-config-file, selection `cluster`).
// Everything the API server opens towards the cluster goes through it: the pods/proxy and
// services/proxy subresources, admission webhooks, Service ClusterIPs. A pod's network address
// (10.<100+i>.a.b, lab-addresses.ts) is connected to the loopback address the pod serves on; a lab
// loopback address (a ClusterIP, a node) is connected as it is; anything else is refused.

import { rm } from 'node:fs/promises';
import { createServer, type IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import { podLoopbackAddress } from './lab-addresses.js';

export interface PodNetworkProxy {
  readonly socketPath: string;
  stop(): Promise<void>;
}

/** Unix socket paths are limited to 108 bytes on Linux (sun_path), terminator included. */
const MAX_SOCKET_PATH = 107;

export async function startPodNetworkProxy(options: {
  readonly socketPath: string;
  readonly onProblem?: (message: string) => void;
}): Promise<PodNetworkProxy> {
  if (Buffer.byteLength(options.socketPath) > MAX_SOCKET_PATH) {
    throw new RangeError(
      `the pod network proxy's socket path is too long for a Unix socket: ${options.socketPath}`,
    );
  }
  const problem = options.onProblem ?? (() => undefined);
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  };
  const server = createServer((_request, response) => {
    response
      .writeHead(405, { 'content-type': 'text/plain' })
      .end('the pod network proxy takes CONNECT only\n');
  });
  server.on('connect', (request: IncomingMessage, client: Socket, head: Buffer) => {
    track(client);
    const target = routeOf(request.url ?? '');
    if (target === undefined) {
      problem(`pod network proxy: refused CONNECT ${request.url}`);
      client.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    const upstream = connect(target.port, target.host);
    track(upstream);
    let established = false;
    upstream.once('connect', () => {
      established = true;
      client.write('HTTP/1.1 200 Connection established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', (error) => {
      // Before the tunnel is up the API server reads an HTTP answer; after, only a closed stream.
      if (!established && client.writable) client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n');
      else client.destroy();
      problem(`pod network proxy: ${request.url}: ${error.message}`);
    });
    client.on('error', () => upstream.destroy());
  });
  await rm(options.socketPath, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.socketPath, () => resolve());
  });
  return {
    socketPath: options.socketPath,
    stop: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(options.socketPath, { force: true });
    },
  };
}

/** `host:port` of a CONNECT request to where it really goes: pod addresses to their loopback ones. */
export function routeOf(authority: string): { host: string; port: number } | undefined {
  const match = /^(\d+\.\d+\.\d+\.\d+):(\d+)$/.exec(authority);
  if (!match) return undefined;
  const [, host = '', portText = ''] = match;
  const port = Number(portText);
  if (!(port > 0 && port < 65536)) return undefined;
  const loopback = podLoopbackAddress(host) ?? (host.startsWith('127.') ? host : undefined);
  return loopback === undefined ? undefined : { host: loopback, port };
}
