// The istio engine's pod network proxy, as kube-apiserver's egress dialer uses it: HTTP CONNECT over a
// Unix socket, a tunnel to what the pod address stands for, and a refusal for anything else.
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, connect as netConnect, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type PodNetworkProxy, startPodNetworkProxy } from '../../../lab/control-plane/pod-network-proxy.js';

let dir: string;
let proxy: PodNetworkProxy;
let echo: Server;
let echoPort: number;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mt-podnet-'));
  proxy = await startPodNetworkProxy({ socketPath: join(dir, 'pod-network.sock') });
  echo = createServer((socket) => socket.pipe(socket));
  await new Promise<void>((resolve) => echo.listen(0, '127.101.0.9', resolve));
  echoPort = (echo.address() as { port: number }).port;
});

afterAll(async () => {
  await proxy?.stop();
  await new Promise((resolve) => echo?.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

/** Sends CONNECT target, then `payload` once the tunnel is up; resolves with everything read back. */
function tunnel(target: string, payload: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = netConnect(proxy.socketPath);
    let text = '';
    socket.on('data', (chunk) => {
      text += chunk.toString();
      if (text.startsWith('HTTP/1.1 200') && text.endsWith('\r\n\r\n')) socket.write(payload);
      if (text.endsWith(payload)) socket.end();
    });
    socket.on('end', () => resolve(text));
    socket.on('error', reject);
    socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`);
  });
}

describe('the pod network proxy', () => {
  it("tunnels a pod network address to the pod's loopback address", async () => {
    const answer = await tunnel(`10.101.0.9:${echoPort}`, 'ping');
    expect(answer).toBe('HTTP/1.1 200 Connection established\r\n\r\nping');
  });

  it('refuses an address outside the lab with 403 and one where nothing listens with 502', async () => {
    expect(await tunnel('192.0.2.1:443', 'x')).toMatch(/^HTTP\/1\.1 403/);
    expect(await tunnel('10.101.0.10:1', 'x')).toMatch(/^HTTP\/1\.1 502/);
  });
});
