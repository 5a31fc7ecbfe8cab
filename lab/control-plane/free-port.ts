// A free TCP port on one loopback address, for a component that takes its port as a flag. The port
// is released before the component binds it; on a busy machine another process could take it in
// between, and the component then fails to start with "address already in use" (said in its log).
import { createServer } from 'node:net';

export function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host, port: 0, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
