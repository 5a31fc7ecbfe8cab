// The Kubernetes API of one cluster over node:https, JSON in and out: only what meshtrust's adapters call
// (read, list, create, replace, patch, a pod's proxy, a watch, a port-forward). It replaces
// @kubernetes/client-node in the handlers, whose exports we used bundled alone to 2.11 MB, over the 1 MB a
// handler may weigh (issue 14; docs/performance.md). It trusts only the cluster's CA and asks the token
// provider for a bearer token on every request, so a long step picks up a refreshed token.
import { Agent, request } from 'node:https';
import { MeshTrustError } from '../../core/meshtrust-error.js';

/**
 * A non-2xx answer of the API server. `code` is the HTTP status and `body` the Status JSON as text, the
 * fields kube-errors.ts and retry.ts read (as client-node's ApiException had them). The message names
 * the method and path only: a request body (a Secret's data) never reaches an error.
 */
export class KubeApiError extends MeshTrustError {
  readonly code: number;
  readonly body: string;

  constructor(method: string, path: string, code: number, body: string) {
    super(`HTTP ${code} from ${method} ${path}`);
    this.name = 'KubeApiError';
    this.code = code;
    this.body = body;
  }
}

/** Where one cluster's API server is and how to reach it: its CA, a token per request. */
export interface KubeConnection {
  /** https URL of the API server, without a trailing slash. */
  readonly server: string;
  /** PEM of the CA the API server's certificate must chain to; nothing else is trusted. */
  readonly caPem: string;
  /** The connections to the API server, kept alive between calls of a step. */
  readonly agent: Agent;
  /** `Bearer <token>`, asked for before every request. */
  authorization(): Promise<string>;
}

export function createKubeConnection(options: {
  readonly server: string;
  readonly caPem: string;
  readonly tokenProvider: () => Promise<string>;
}): KubeConnection {
  const { server, caPem, tokenProvider } = options;
  return {
    server: server.replace(/\/+$/, ''),
    caPem,
    agent: new Agent({ ca: caPem, keepAlive: true }),
    authorization: async () => `Bearer ${await tokenProvider()}`,
  };
}

/** Query parameters; an undefined one is left out. */
export type KubeQuery = Readonly<Record<string, string | number | boolean | undefined>>;

export interface KubeRequest {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH';
  /** The API path, e.g. /api/v1/namespaces/istio-system/secrets/cacerts. */
  readonly path: string;
  readonly query?: KubeQuery;
  /** Sent as JSON. */
  readonly body?: unknown;
  /** @default 'application/json' */
  readonly contentType?: string;
}

/**
 * How long a request may go without a byte either way before it fails with ETIMEDOUT (a passing
 * network fault, retried): undici's body and headers timeout, which client-node's fetch had.
 */
export const KUBE_IDLE_TIMEOUT_MS = 300_000;

/** The path with its query string. */
export function pathWithQuery(path: string, query: KubeQuery = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined) params.set(key, String(value));
  }
  const text = params.toString();
  return text === '' ? path : `${path}?${text}`;
}

/** One request; the answer's body as text, or a KubeApiError for a non-2xx answer. */
export async function kubeText(connection: KubeConnection, call: KubeRequest): Promise<string> {
  const target = pathWithQuery(call.path, call.query);
  const payload = call.body === undefined ? undefined : Buffer.from(JSON.stringify(call.body), 'utf8');
  const headers: Record<string, string | number> = {
    accept: 'application/json, */*',
    authorization: await connection.authorization(),
  };
  if (payload !== undefined) {
    headers['content-type'] = call.contentType ?? 'application/json';
    headers['content-length'] = payload.length;
  }
  return new Promise<string>((resolve, reject) => {
    const req = request(
      `${connection.server}${target}`,
      { method: call.method, agent: connection.agent, headers, timeout: KUBE_IDLE_TIMEOUT_MS },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = response.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve(text);
          else reject(new KubeApiError(call.method, call.path, status, text));
        });
      },
    );
    req.on('timeout', () =>
      req.destroy(
        Object.assign(new Error(`No answer to ${call.method} ${call.path} in ${KUBE_IDLE_TIMEOUT_MS} ms`), {
          code: 'ETIMEDOUT',
        }),
      ),
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** One request whose answer is a JSON object. */
export async function kubeJson<T>(connection: KubeConnection, call: KubeRequest): Promise<T> {
  return JSON.parse(await kubeText(connection, call)) as T;
}
