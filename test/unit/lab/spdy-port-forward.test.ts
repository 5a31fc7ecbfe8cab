// The model API server's SPDY/3.1 port-forward session, frame by frame, with a client written here the
// way client-go's (moby/spdystream) writes: header blocks compressed as one zlib stream with the SPDY/3
// dictionary, sync-flushed per frame. The real kubectl against it is
// test/integration/lab/model-port-forward.test.ts; this pins what each frame must be.
import { Duplex, PassThrough } from 'node:stream';
import { constants, createDeflate, type Deflate, inflateSync } from 'node:zlib';
import { portsOfQuery } from '../../../lab/kube/pod-port-forward.js';
import { SPDY3_HEADER_DICTIONARY, servePortForwardSpdy } from '../../../lab/kube/spdy-port-forward.js';

/** The client's side of the header compression: one deflate stream across frames, with the dictionary. */
class HeaderCompressor {
  private readonly deflate: Deflate;

  constructor(dictionary: Buffer) {
    this.deflate = createDeflate({ dictionary, level: 9 });
  }

  async block(headers: Record<string, string>): Promise<Buffer> {
    const parts: Buffer[] = [Buffer.alloc(4)];
    parts[0]?.writeUInt32BE(Object.keys(headers).length);
    for (const [name, value] of Object.entries(headers)) {
      for (const text of [name, value]) {
        const length = Buffer.alloc(4);
        length.writeUInt32BE(Buffer.byteLength(text));
        parts.push(length, Buffer.from(text));
      }
    }
    const out: Buffer[] = [];
    const collect = (chunk: Buffer) => out.push(chunk);
    this.deflate.on('data', collect);
    this.deflate.write(Buffer.concat(parts));
    await new Promise<void>((resolve) => this.deflate.flush(constants.Z_SYNC_FLUSH, () => resolve()));
    this.deflate.off('data', collect);
    return Buffer.concat(out);
  }
}

function synStream(streamId: number, block: Buffer): Buffer {
  const frame = Buffer.alloc(18);
  frame.writeUInt16BE(0x8003, 0);
  frame.writeUInt16BE(1, 2);
  frame.writeUInt32BE(10 + block.length, 4);
  frame.writeUInt32BE(streamId, 8);
  return Buffer.concat([frame, block]);
}

function dataFrame(streamId: number, payload: Buffer, fin = false): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt32BE(streamId, 0);
  header.writeUInt32BE(((fin ? 1 : 0) << 24) | payload.length, 4);
  return Buffer.concat([header, payload]);
}

interface Frame {
  readonly control: boolean;
  readonly type?: number;
  readonly streamId: number;
  readonly flags: number;
  readonly payload: Buffer;
}

function parseFrames(bytes: Buffer): Frame[] {
  const frames: Frame[] = [];
  for (let offset = 0; offset < bytes.length; ) {
    const length = bytes.readUInt32BE(offset + 4) & 0xff_ffff;
    const control = ((bytes[offset] ?? 0) & 0x80) !== 0;
    const payload = bytes.subarray(offset + 8, offset + 8 + length);
    frames.push({
      control,
      ...(control ? { type: bytes.readUInt16BE(offset + 2) } : {}),
      streamId: control
        ? payload.length >= 4
          ? payload.readUInt32BE(0) & 0x7fff_ffff
          : 0
        : bytes.readUInt32BE(offset) & 0x7fff_ffff,
      flags: bytes[offset + 4] ?? 0,
      payload,
    });
    offset += 8 + length;
  }
  return frames;
}

function session(dial: Parameters<typeof servePortForwardSpdy>[0]['dial']) {
  const sent: Buffer[] = [];
  const served = servePortForwardSpdy({
    namespace: 'shop',
    pod: 'app-01-x',
    uid: 'uid-1',
    dial,
    send: (bytes) => sent.push(bytes),
  });
  return { served, frames: () => parseFrames(Buffer.concat(sent)) };
}

describe('servePortForwardSpdy', () => {
  it('replies to each stream with a header block the client inflates to zero headers, across frames', async () => {
    // Prepare
    const compressor = new HeaderCompressor(SPDY3_HEADER_DICTIONARY);
    const { served, frames } = session(() => undefined);

    // Act
    served.receive(
      synStream(1, await compressor.block({ streamtype: 'error', port: '15000', requestid: '0' })),
    );
    served.receive(
      synStream(3, await compressor.block({ streamtype: 'data', port: '15000', requestid: '0' })),
    );

    // Assess
    const replies = frames().filter((frame) => frame.type === 2);
    expect(replies.map((reply) => reply.streamId)).toEqual([1, 3]);
    const blocks = replies.map((reply) => reply.payload.subarray(4));
    // each block, inflated after the ones before it, is exactly "0 headers"; the stream ends on a flush
    const first = inflateSync(blocks[0] as Buffer, { finishFlush: constants.Z_SYNC_FLUSH });
    const both = inflateSync(Buffer.concat(blocks), { finishFlush: constants.Z_SYNC_FLUSH });
    expect(first).toEqual(Buffer.alloc(4));
    expect(both).toEqual(Buffer.alloc(8));
    expect(blocks.every((block) => block.subarray(-5).equals(Buffer.of(0, 0, 0, 0xff, 0xff)))).toBe(true);
  });

  it("writes the kubelet's text on the error stream and closes both streams when nothing listens", async () => {
    // Prepare
    const compressor = new HeaderCompressor(SPDY3_HEADER_DICTIONARY);
    const { served, frames } = session(() => undefined);

    // Act
    served.receive(
      synStream(1, await compressor.block({ streamtype: 'error', port: '15020', requestid: '7' })),
    );
    served.receive(
      synStream(3, await compressor.block({ streamtype: 'data', port: '15020', requestid: '7' })),
    );

    // Assess
    const data = frames().filter((frame) => !frame.control);
    expect(data.map((frame) => [frame.streamId, frame.flags, frame.payload.toString()])).toEqual([
      [
        1,
        1,
        'error forwarding port 15020 to pod app-01-x, uid uid-1: failed to connect to localhost:15020 inside namespace "shop": connection refused',
      ],
      [3, 1, ''],
    ]);
  });

  it("carries bytes both ways on the data stream and half-closes it when the pod's side ends", async () => {
    // Prepare
    const compressor = new HeaderCompressor(SPDY3_HEADER_DICTIONARY);
    const toPod = new PassThrough();
    const fromPod = new PassThrough();
    const dialled: number[] = [];
    const { served, frames } = session(({ port }) => {
      dialled.push(port);
      return Duplex.from({ readable: fromPod, writable: toPod });
    });
    const received: Buffer[] = [];
    toPod.on('data', (chunk: Buffer) => received.push(chunk));

    // Act
    served.receive(
      synStream(1, await compressor.block({ streamtype: 'error', port: '15000', requestid: '1' })),
    );
    const data = synStream(3, await compressor.block({ streamtype: 'data', port: '15000', requestid: '1' }));
    served.receive(data.subarray(0, 5)); // frames may arrive split
    served.receive(
      Buffer.concat([data.subarray(5), dataFrame(3, Buffer.from('GET / HTTP/1.0\r\n\r\n'), true)]),
    );
    fromPod.end('HTTP/1.0 200 OK\r\n\r\nok');
    await new Promise((resolve) => setImmediate(resolve));

    // Assess
    expect(dialled).toEqual([15000]);
    expect(Buffer.concat(received).toString()).toBe('GET / HTTP/1.0\r\n\r\n');
    const back = frames().filter((frame) => !frame.control);
    expect(back.map((frame) => [frame.streamId, frame.flags, frame.payload.toString()])).toEqual([
      [3, 0, 'HTTP/1.0 200 OK\r\n\r\nok'],
      [3, 1, ''],
      [1, 1, ''],
    ]);
  });

  it('echoes a PING with its id', () => {
    // Prepare
    const { served, frames } = session(() => undefined);
    const ping = Buffer.from('8003000600000004000000a1', 'hex');

    // Act
    served.receive(ping);

    // Assess
    expect(frames().map((frame) => [frame.type, frame.payload.toString('hex')])).toEqual([[6, '000000a1']]);
  });
});

describe('portsOfQuery', () => {
  it('reads repeated and comma-separated ports, in order', () => {
    expect(portsOfQuery(new URLSearchParams('ports=15000&ports=15020,8080'))).toEqual([15000, 15020, 8080]);
  });

  it.each(['', 'ports=', 'ports=0', 'ports=65536', 'ports=15000x', 'ports=-1'])(
    'refuses %j with 400',
    (query) => {
      expect(() => portsOfQuery(new URLSearchParams(query))).toThrow(
        expect.objectContaining({ code: 400 }) as unknown as Error,
      );
    },
  );
});
