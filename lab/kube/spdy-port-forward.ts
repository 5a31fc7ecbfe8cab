// pods/portforward as kubectl speaks it: SPDY/3.1 streams (what kubelet's streaming server and
// client-go's portforward package use), carried either over a WebSocket (subprotocol
// SPDY/3.1+portforward.k8s.io, one binary message per write: kubectl's first choice from 1.31,
// client-go tools/portforward/tunneling_connection.go) or over the upgraded connection itself (POST,
// Upgrade: SPDY/3.1, X-Stream-Protocol-Version: portforward.k8s.io: kubectl's fallback). Per local
// connection kubectl opens two streams with headers streamType (error, then data), port and requestID;
// once a pair is complete the pod's port is dialled (k8s.io/cri-streaming portforward/httpstream.go):
// bytes flow on the data stream, a refused dial is written as text on the error stream, and both are
// half-closed (FIN) when the pod's side ends. PINGs are echoed. No flow control (moby/spdystream, the
// client's implementation, sends no WINDOW_UPDATE it waits on).
//
// Only what that exchange needs of SPDY/3 (draft-mbelshe-httpbis-spdy-00): SYN_STREAM, SYN_REPLY,
// DATA, RST_STREAM, PING, GOAWAY; SETTINGS, HEADERS and WINDOW_UPDATE are read and ignored.

import type { Duplex } from 'node:stream';
import { constants, inflateSync } from 'node:zlib';
import type { PodPortDialer } from './pod-port-forward.js';

/** What kubectl asks for over a WebSocket, and the protocol the streams speak once negotiated. */
export const SPDY_PORT_FORWARD_PROTOCOL = 'portforward.k8s.io';
export const SPDY_TUNNEL_WEBSOCKET_PROTOCOL = `SPDY/3.1+${SPDY_PORT_FORWARD_PROTOCOL}`;

const SPDY_VERSION = 3;
const TYPE_SYN_STREAM = 1;
const TYPE_SYN_REPLY = 2;
const TYPE_RST_STREAM = 3;
const TYPE_PING = 6;
const TYPE_GOAWAY = 7;
const FLAG_FIN = 0x01;
const MAX_DATA_LENGTH = 0xff_ffff;

// The SPDY/3 header compression dictionary (spec section 2.6.10.1; moby/spdystream spdy/dictionary.go).
export const SPDY3_HEADER_DICTIONARY = Buffer.from(
  [
    'AAAAB29wdGlvbnMAAAAEaGVhZAAAAARwb3N0AAAAA3B1dAAAAAZkZWxldGUAAAAFdHJhY2UAAAAGYWNjZXB0AAAADmFjY2VwdC1j',
    'aGFyc2V0AAAAD2FjY2VwdC1lbmNvZGluZwAAAA9hY2NlcHQtbGFuZ3VhZ2UAAAANYWNjZXB0LXJhbmdlcwAAAANhZ2UAAAAFYWxs',
    'b3cAAAANYXV0aG9yaXphdGlvbgAAAA1jYWNoZS1jb250cm9sAAAACmNvbm5lY3Rpb24AAAAMY29udGVudC1iYXNlAAAAEGNvbnRl',
    'bnQtZW5jb2RpbmcAAAAQY29udGVudC1sYW5ndWFnZQAAAA5jb250ZW50LWxlbmd0aAAAABBjb250ZW50LWxvY2F0aW9uAAAAC2Nv',
    'bnRlbnQtbWQ1AAAADWNvbnRlbnQtcmFuZ2UAAAAMY29udGVudC10eXBlAAAABGRhdGUAAAAEZXRhZwAAAAZleHBlY3QAAAAHZXhw',
    'aXJlcwAAAARmcm9tAAAABGhvc3QAAAAIaWYtbWF0Y2gAAAARaWYtbW9kaWZpZWQtc2luY2UAAAANaWYtbm9uZS1tYXRjaAAAAAhp',
    'Zi1yYW5nZQAAABNpZi11bm1vZGlmaWVkLXNpbmNlAAAADWxhc3QtbW9kaWZpZWQAAAAIbG9jYXRpb24AAAAMbWF4LWZvcndhcmRz',
    'AAAABnByYWdtYQAAABJwcm94eS1hdXRoZW50aWNhdGUAAAATcHJveHktYXV0aG9yaXphdGlvbgAAAAVyYW5nZQAAAAdyZWZlcmVy',
    'AAAAC3JldHJ5LWFmdGVyAAAABnNlcnZlcgAAAAJ0ZQAAAAd0cmFpbGVyAAAAEXRyYW5zZmVyLWVuY29kaW5nAAAAB3VwZ3JhZGUA',
    'AAAKdXNlci1hZ2VudAAAAAR2YXJ5AAAAA3ZpYQAAAAd3YXJuaW5nAAAAEHd3dy1hdXRoZW50aWNhdGUAAAAGbWV0aG9kAAAAA2dl',
    'dAAAAAZzdGF0dXMAAAAGMjAwIE9LAAAAB3ZlcnNpb24AAAAISFRUUC8xLjEAAAADdXJsAAAABnB1YmxpYwAAAApzZXQtY29va2ll',
    'AAAACmtlZXAtYWxpdmUAAAAGb3JpZ2luMTAwMTAxMjAxMjAyMjA1MjA2MzAwMzAyMzAzMzA0MzA1MzA2MzA3NDAyNDA1NDA2NDA3',
    'NDA4NDA5NDEwNDExNDEyNDEzNDE0NDE1NDE2NDE3NTAyNTA0NTA1MjAzIE5vbi1BdXRob3JpdGF0aXZlIEluZm9ybWF0aW9uMjA0',
    'IE5vIENvbnRlbnQzMDEgTW92ZWQgUGVybWFuZW50bHk0MDAgQmFkIFJlcXVlc3Q0MDEgVW5hdXRob3JpemVkNDAzIEZvcmJpZGRl',
    'bjQwNCBOb3QgRm91bmQ1MDAgSW50ZXJuYWwgU2VydmVyIEVycm9yNTAxIE5vdCBJbXBsZW1lbnRlZDUwMyBTZXJ2aWNlIFVuYXZh',
    'aWxhYmxlSmFuIEZlYiBNYXIgQXByIE1heSBKdW4gSnVsIEF1ZyBTZXB0IE9jdCBOb3YgRGVjIDAwOjAwOjAwIE1vbiwgVHVlLCBX',
    'ZWQsIFRodSwgRnJpLCBTYXQsIFN1biwgR01UY2h1bmtlZCx0ZXh0L2h0bWwsaW1hZ2UvcG5nLGltYWdlL2pwZyxpbWFnZS9naWYs',
    'YXBwbGljYXRpb24veG1sLGFwcGxpY2F0aW9uL3hodG1sK3htbCx0ZXh0L3BsYWluLHRleHQvamF2YXNjcmlwdCxwdWJsaWNwcml2',
    'YXRlbWF4LWFnZT1nemlwLGRlZmxhdGUsc2RjaGNoYXJzZXQ9dXRmLThjaGFyc2V0PWlzby04ODU5LTEsdXRmLSwqLGVucT0wLg==',
  ].join(''),
  'base64',
);
/**
 * One SPDY session serving port-forward streams: feed it the bytes the client sends (`receive`), it
 * writes its frames with `send`; `close` when the carrying connection is gone.
 */
export function servePortForwardSpdy(options: {
  readonly namespace: string;
  readonly pod: string;
  readonly uid: string;
  readonly dial: PodPortDialer;
  readonly send: (bytes: Buffer) => void;
}): { receive(bytes: Buffer): void; close(): void } {
  const { namespace, pod, uid, dial, send } = options;
  let pending: Buffer = Buffer.alloc(0);
  // Header blocks of the client's SYN_STREAMs are one zlib stream (with the dictionary) across frames.
  const compressedHeaders: Buffer[] = [];
  let inflatedLength = 0;
  let compressorStarted = false;
  const pairs = new Map<string, { data?: number; error?: number; port?: number }>();
  const toPod = new Map<number, Duplex>();
  const connections = new Set<Duplex>();
  let closed = false;

  const control = (type: number, flags: number, payload: Buffer) => {
    const header = Buffer.alloc(8);
    header.writeUInt16BE(0x8000 | SPDY_VERSION, 0);
    header.writeUInt16BE(type, 2);
    header.writeUInt32BE(((flags & 0xff) << 24) | payload.length, 4);
    if (!closed) send(Buffer.concat([header, payload]));
  };
  const data = (streamId: number, payload: Buffer, fin: boolean) => {
    for (let offset = 0; offset < payload.length || (fin && offset === 0); offset += MAX_DATA_LENGTH) {
      const part = payload.subarray(offset, offset + MAX_DATA_LENGTH);
      const last = offset + MAX_DATA_LENGTH >= payload.length;
      const header = Buffer.alloc(8);
      header.writeUInt32BE(streamId & 0x7fff_ffff, 0);
      header.writeUInt32BE((((fin && last ? FLAG_FIN : 0) & 0xff) << 24) | part.length, 4);
      if (!closed) send(Buffer.concat([header, part]));
      if (part.length === 0) break;
    }
  };
  // The reply's (empty) header block, as a zlib stream the client's decompressor reads across frames:
  // a stored block with the 4 bytes of "no headers", then an empty stored block, which is what a sync
  // flush ends with and what makes Go's flate reader hand the block over without reading past the frame.
  // Stored blocks reference nothing, so no dictionary is needed to write them.
  const headerBlock = (): Buffer => {
    const noHeaders = Buffer.alloc(4);
    const stored = Buffer.concat([
      Buffer.of(0x00, noHeaders.length, 0x00, ~noHeaders.length & 0xff, 0xff),
      noHeaders,
      Buffer.of(0x00, 0x00, 0x00, 0xff, 0xff),
    ]);
    if (compressorStarted) return stored;
    compressorStarted = true;
    return Buffer.concat([Buffer.of(0x78, 0x01), stored]); // zlib header: deflate, no preset dictionary
  };
  const reply = (streamId: number) => {
    const streamIdBytes = Buffer.alloc(4);
    streamIdBytes.writeUInt32BE(streamId & 0x7fff_ffff);
    control(TYPE_SYN_REPLY, 0, Buffer.concat([streamIdBytes, headerBlock()]));
  };
  const reset = (streamId: number, status: number) => {
    const payload = Buffer.alloc(8);
    payload.writeUInt32BE(streamId & 0x7fff_ffff, 0);
    payload.writeUInt32BE(status, 4);
    control(TYPE_RST_STREAM, 0, payload);
  };
  const headersOf = (block: Buffer): Map<string, string> => {
    compressedHeaders.push(block);
    const inflated = inflateSync(Buffer.concat(compressedHeaders), {
      dictionary: SPDY3_HEADER_DICTIONARY,
      finishFlush: constants.Z_SYNC_FLUSH,
    });
    const raw = inflated.subarray(inflatedLength);
    inflatedLength = inflated.length;
    const headers = new Map<string, string>();
    let offset = 4;
    for (let count = raw.readUInt32BE(0); count > 0; count -= 1) {
      const nameLength = raw.readUInt32BE(offset);
      const name = raw.subarray(offset + 4, offset + 4 + nameLength).toString('utf8');
      offset += 4 + nameLength;
      const valueLength = raw.readUInt32BE(offset);
      headers.set(name.toLowerCase(), raw.subarray(offset + 4, offset + 4 + valueLength).toString('utf8'));
      offset += 4 + valueLength;
    }
    return headers;
  };
  const forward = (pair: { data: number; error: number; port: number }) => {
    const { port } = pair;
    const connection =
      Number.isInteger(port) && port > 0 && port < 65_536 ? dial({ namespace, pod, port }) : undefined;
    if (connection === undefined) {
      data(
        pair.error,
        Buffer.from(
          `error forwarding port ${port} to pod ${pod}, uid ${uid}: failed to connect to localhost:${port} inside namespace "${namespace}": connection refused`,
        ),
        true,
      );
      data(pair.data, Buffer.alloc(0), true);
      return;
    }
    connections.add(connection);
    toPod.set(pair.data, connection);
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      connections.delete(connection);
      toPod.delete(pair.data);
      data(pair.data, Buffer.alloc(0), true);
      data(pair.error, Buffer.alloc(0), true);
    };
    connection.on('data', (chunk: Buffer) => data(pair.data, chunk, false));
    connection.on('end', end);
    connection.on('close', end);
    connection.on('error', end);
  };
  const onSynStream = (streamId: number, headers: Map<string, string>) => {
    const streamType = headers.get('streamtype');
    const requestId = headers.get('requestid') ?? '';
    const port = Number(headers.get('port'));
    if (streamType !== 'data' && streamType !== 'error') {
      reset(streamId, 1); // PROTOCOL_ERROR: kubelet refuses a stream of another type
      return;
    }
    reply(streamId);
    const pair = pairs.get(requestId) ?? {};
    pair[streamType] = streamId;
    pair.port = port;
    pairs.set(requestId, pair);
    if (pair.data !== undefined && pair.error !== undefined) {
      pairs.delete(requestId);
      forward({ data: pair.data, error: pair.error, port });
    }
  };
  const onFrame = (frame: Buffer) => {
    const flags = frame[4] ?? 0;
    if (((frame[0] ?? 0) & 0x80) === 0) {
      const streamId = frame.readUInt32BE(0) & 0x7fff_ffff;
      const connection = toPod.get(streamId);
      const payload = frame.subarray(8);
      if (payload.length > 0) connection?.write(payload);
      if (flags & FLAG_FIN) connection?.end();
      return;
    }
    const type = frame.readUInt16BE(2);
    const payload = frame.subarray(8);
    switch (type) {
      case TYPE_SYN_STREAM:
        onSynStream(payload.readUInt32BE(0) & 0x7fff_ffff, headersOf(payload.subarray(10)));
        return;
      case TYPE_RST_STREAM:
        toPod.get(payload.readUInt32BE(0) & 0x7fff_ffff)?.destroy();
        return;
      case TYPE_PING:
        control(TYPE_PING, 0, payload.subarray(0, 4));
        return;
      case TYPE_GOAWAY:
        close();
        return;
      default:
        return; // SETTINGS, HEADERS, WINDOW_UPDATE
    }
  };
  const close = () => {
    if (closed) return;
    closed = true;
    for (const connection of connections) connection.destroy();
    connections.clear();
    toPod.clear();
  };
  return {
    receive: (bytes) => {
      pending = pending.length === 0 ? bytes : Buffer.concat([pending, bytes]);
      while (pending.length >= 8) {
        const length = pending.readUInt32BE(4) & 0xff_ffff;
        if (pending.length < 8 + length) return;
        const frame = pending.subarray(0, 8 + length);
        pending = pending.subarray(8 + length);
        onFrame(frame);
      }
    },
    close,
  };
}
