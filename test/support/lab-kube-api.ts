// One lab Kubernetes API server for the tests that speak to it directly (raw HTTPS or client-node): a
// store with istio-system and its cacerts, a static bearer token, everything authorized; and a raw
// JSON request to it that shows what clients hide (status codes, Status bodies).
import { randomBytes } from 'node:crypto';
import { request } from 'node:https';
import {
  type KubeApiServer,
  type KubeApiServerOptions,
  startKubeApiServer,
} from '../../lab/kube/kube-api-server.js';
import { KubeObjectStore } from '../../lab/kube/object-store.js';

export interface TestKubeApi {
  readonly store: KubeObjectStore;
  readonly server: KubeApiServer;
  /** The bearer token the server takes (user `rotator`). */
  readonly token: string;
}

/** Starts the server; istio-system/cacerts holds `root-cert.pem: ROOT-A`. */
export async function startTestKubeApi(options: {
  readonly clusterName: string;
  readonly fault?: KubeApiServerOptions['fault'];
}): Promise<TestKubeApi> {
  const token = randomBytes(24).toString('base64url');
  const store = new KubeObjectStore();
  store.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'istio-system' } });
  store.create({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'cacerts', namespace: 'istio-system' },
    stringData: { 'root-cert.pem': 'ROOT-A' },
  });
  const server = await startKubeApiServer({
    clusterName: options.clusterName,
    store,
    authenticate: async (bearer) => (bearer === token ? { username: 'rotator', groups: [] } : undefined),
    authorize: () => true,
    ...(options.fault === undefined ? {} : { fault: options.fault }),
  });
  return { store, server, token };
}

export interface HttpResult {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

/** One request on a fresh connection, trusting only the server's CA; the answer's status and JSON body. */
export function kubeHttpJson(
  server: KubeApiServer,
  method: string,
  path: string,
  options: { readonly token?: string; readonly body?: unknown; readonly contentType?: string } = {},
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const url = new URL(path, server.url);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (options.body !== undefined) headers['content-type'] = options.contentType ?? 'application/json';
    const req = request(url, { method, ca: server.caPem, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString()) }),
      );
    });
    req.on('error', reject);
    req.end(options.body === undefined ? undefined : JSON.stringify(options.body));
  });
}
