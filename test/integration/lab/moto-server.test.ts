// moto_server's launcher: a port found free can be taken by another process before moto_server binds
// it (two test lanes starting servers at once did); the launcher then starts it on another, and gives
// up after a few, saying why. Real moto_server, a real listener holding the port.
import { createServer, type Server } from 'node:net';
import { freePort } from '../../../lab/control-plane/free-port.js';
import { MotoServerError, startMotoServer } from '../../support/moto-server.js';

let holder: Server;
let heldPort: number;

beforeEach(async () => {
  // Another program on the port: it takes connections and drops them.
  holder = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  heldPort = (holder.address() as { port: number }).port;
});

afterEach(async () => {
  await new Promise<void>((resolve) => holder.close(() => resolve()));
});

describe('startMotoServer', () => {
  it('starts on another port when the one it chose was taken before moto_server bound it', async () => {
    // Prepare: the first port asked for is held by another listener
    const asked: number[] = [];
    const choosePort = async () => {
      const port = asked.length === 0 ? heldPort : await freePort('127.0.0.1');
      asked.push(port);
      return port;
    };

    // Act
    const moto = await startMotoServer({ choosePort });

    // Assess
    try {
      expect(asked).toHaveLength(2);
      expect(asked[0]).toBe(heldPort);
      expect(moto.endpoint).toBe(`http://127.0.0.1:${asked[1]}`);
      const answer = await fetch(`${moto.endpoint}/moto-api/`, { headers: { connection: 'close' } });
      expect(answer.status).toBe(200);
    } finally {
      await moto.stop();
    }
  }, 60_000);

  it('gives up after three taken ports, with what moto_server said', async () => {
    // Prepare
    let asked = 0;
    const choosePort = async () => {
      asked += 1;
      return heldPort;
    };

    // Act
    const start = startMotoServer({ choosePort });

    // Assess
    await expect(start).rejects.toThrow(MotoServerError);
    await expect(start).rejects.toThrow(/exited before it was ready .*in use/s);
    expect(asked).toBe(3);
  }, 60_000);
});
