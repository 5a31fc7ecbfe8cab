// The pods/portforward subresource over a WebSocket, as the kubelet serves it behind the API server
// (k8s.io/cri-streaming portforward/websocket.go, what client-node's PortForward speaks): subprotocol
// v4.channel.k8s.io (or none), ports named in the query (?ports=15000, repeated or comma-separated),
// two channels per port in the query's order, data (2i) and error (2i+1). Every message starts with its
// channel's byte; the first message of each channel is the port, 2 bytes little endian. What the
// client sends on a data channel goes to the pod's port; what the port answers comes back on it; a dial
// that fails is reported as text on the error channel. When every port's connection has ended the
// WebSocket closes, as the kubelet's handler returns.
//
// The lab has no pod network: a port is "dialled" in-process (PodPortDialer), so a model pod's
// listener is a handler, not a socket.
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { BadRequestError } from './errors.js';

/** The subprotocols the kubelet's WebSocket port-forward speaks; the base64 one is not served. */
export const PORT_FORWARD_WEBSOCKET_PROTOCOL = 'v4.channel.k8s.io';

export interface PodPortTarget {
  readonly namespace: string;
  readonly pod: string;
  readonly port: number;
}

/**
 * Connects to what listens on a pod's port, in-process: one end of a byte stream whose other end the
 * pod's handler holds. Undefined when nothing listens there (a refused dial).
 */
export type PodPortDialer = (target: PodPortTarget) => Duplex | undefined;

/** The ports of ?ports=..., as the API server reads PodPortForwardOptions and the kubelet NewV4Options. */
export function portsOfQuery(query: URLSearchParams): number[] {
  const values = query.getAll('ports');
  if (values.length === 0) {
    throw new BadRequestError('query parameter "ports" is required for a WebSocket port-forward');
  }
  return values.flatMap((value) =>
    value.split(',').map((text) => {
      const port = /^\d{1,5}$/.test(text) ? Number(text) : Number.NaN;
      if (!(port >= 1 && port <= 65_535)) {
        throw new BadRequestError(`unable to parse "${value}" as a port: ports are 1 to 65535`);
      }
      return port;
    }),
  );
}

/**
 * The subprotocol to answer a client offering `offered`: the first of `supported` it offers (the
 * kubelet's and API server's order), false for a client that offers none (the kubelet then speaks
 * binary v4), undefined when none fits.
 */
export function chooseWebSocketProtocol(
  offered: ReadonlySet<string>,
  supported: readonly string[],
): string | false | undefined {
  if (offered.size === 0) return false;
  return supported.find((protocol) => offered.has(protocol));
}

/** Forwards `ports` of the pod over `ws` until every port's connection has ended. */
export function servePortForwardWebSocket(
  ws: WebSocket,
  options: {
    readonly namespace: string;
    readonly pod: string;
    readonly uid: string;
    readonly ports: readonly number[];
    readonly dial: PodPortDialer;
  },
): void {
  const { namespace, pod, uid, ports } = options;
  const connections = new Map<number, Duplex>();
  let open = ports.length;
  const portEnded = () => {
    open -= 1;
    if (open === 0 && ws.readyState === ws.OPEN) ws.close(1000);
  };
  const send = (channel: number, payload: Buffer) => {
    if (ws.readyState === ws.OPEN) ws.send(Buffer.concat([Buffer.of(channel), payload]));
  };
  for (const [index, port] of ports.entries()) {
    const portBytes = Buffer.alloc(2);
    portBytes.writeUInt16LE(port);
    send(2 * index, portBytes);
    send(2 * index + 1, portBytes);
  }
  for (const [index, port] of ports.entries()) {
    const connection = options.dial({ namespace, pod, port });
    if (connection === undefined) {
      send(
        2 * index + 1,
        Buffer.from(
          `error forwarding port ${port} to pod ${pod}, uid ${uid}: failed to connect to localhost:${port} inside namespace "${namespace}": connection refused`,
        ),
      );
      portEnded();
      continue;
    }
    connections.set(2 * index, connection);
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      connections.delete(2 * index);
      portEnded();
    };
    connection.on('data', (chunk: Buffer) => send(2 * index, chunk));
    connection.on('end', end);
    connection.on('close', end);
    connection.on('error', (error: Error) => {
      send(
        2 * index + 1,
        Buffer.from(`error forwarding port ${port} to pod ${pod}, uid ${uid}: ${error.message}`),
      );
      end();
    });
  }
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (!isBinary || data.length === 0) return;
    // Data channels carry bytes for the pod; the error channels are the server's to write.
    connections.get(data[0] as number)?.write(data.subarray(1));
  });
  ws.on('close', () => {
    for (const connection of connections.values()) connection.destroy();
    connections.clear();
  });
}
