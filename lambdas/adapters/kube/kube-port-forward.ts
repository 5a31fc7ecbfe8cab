// One port-forward to a pod through the API server (pods/portforward), over a WebSocket with the kubelet's
// subprotocol v4.channel.k8s.io: each message starts with its channel (0: the port's data, 1: its
// errors), the first message of each channel from the server with the port (2 bytes), and what we send is
// channel 0's data. The `ws` package (which client-node used for this too) speaks the WebSocket.
import { PassThrough } from 'node:stream';
import WebSocket from 'ws';
import { MeshTrustError } from '../../core/meshtrust-error.js';
import type { KubeConnection } from './kube-rest.js';

export const PORT_FORWARD_PROTOCOL = 'v4.channel.k8s.io';

/** The API server refused the upgrade (401, 403 by RBAC or admission, 404 for a pod gone). */
export class PortForwardRefused extends MeshTrustError {
  readonly status: number;

  constructor(status: number, path: string) {
    super(`Unexpected server response: ${status} to the port-forward ${path}`);
    this.name = 'PortForwardRefused';
    this.status = status;
  }
}

export interface PortForwardStreams {
  /** What the pod's port sends. Ends when the forward closes. */
  readonly fromPod: PassThrough;
  /** What we send to the pod's port; ending it closes the forward. */
  readonly toPod: PassThrough;
  /** The kubelet's reasons a dial failed (nothing listens on the port). */
  readonly errors: PassThrough;
  close(): void;
}

/** Opens the forward; resolves once the WebSocket is open, or rejects (PortForwardRefused for a refusal). */
export async function openPortForward(
  connection: KubeConnection,
  namespace: string,
  pod: string,
  port: number,
): Promise<PortForwardStreams> {
  const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}/portforward?ports=${port}`;
  const url = `${connection.server.replace(/^https:/, 'wss:')}${path}`;
  const socket = new WebSocket(url, [PORT_FORWARD_PROTOCOL], {
    ca: connection.caPem,
    headers: { authorization: await connection.authorization() },
  });
  const fromPod = new PassThrough();
  const toPod = new PassThrough();
  const errors = new PassThrough();
  // The first message of each channel carries its port before any data.
  const portRead = [false, false];
  socket.on('message', (data: Buffer, isBinary: boolean) => {
    if (!isBinary || data.length === 0) return;
    const channel = data[0] as number;
    let payload = data.subarray(1);
    if (channel > 1) return;
    if (!portRead[channel]) {
      portRead[channel] = true;
      payload = payload.subarray(2);
    }
    if (payload.length > 0) (channel === 0 ? fromPod : errors).write(payload);
  });
  socket.on('close', () => {
    fromPod.end();
    errors.end();
  });
  toPod.on('data', (chunk: Buffer) => {
    if (socket.readyState === WebSocket.OPEN) socket.send(Buffer.concat([Buffer.of(0), chunk]));
  });
  toPod.on('end', () => socket.close());
  await new Promise<void>((resolve, reject) => {
    // Errors after the open end the streams through 'close'; one before it rejects (once is enough).
    socket.on('error', reject);
    socket.once('open', () => resolve());
    socket.once('unexpected-response', (req, response) => {
      reject(new PortForwardRefused(response.statusCode ?? 0, path));
      req.destroy();
    });
  });
  return { fromPod, toPod, errors, close: () => socket.close() };
}
