// One authenticated request to a lab cluster's Kubernetes API, the way an EKS client makes it: a fresh
// EKS bearer token from the identity's credentials, TLS verified against the cluster's CA only.
import { request } from 'node:https';
import { createEksToken } from '../lambdas/adapters/eks/eks-token.js';
import type { LabIdentity } from './eks/lab-identities.js';

export interface LabKubeRequest {
  readonly cluster: { readonly name: string; readonly endpoint: string; readonly caPem: string };
  readonly region: string;
  /** Who calls; undefined sends no Authorization header. */
  readonly identity: LabIdentity | undefined;
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** e.g. /api/v1/namespaces/istio-system/secrets/cacerts */
  readonly path: string;
  readonly body?: unknown;
  /** @default 'application/json' (or merge-patch for PATCH) */
  readonly contentType?: string;
  /** @default 10000 */
  readonly timeoutMs?: number;
}

export interface LabKubeResponse {
  readonly status: number;
  // biome-ignore lint/suspicious/noExplicitAny: Kubernetes answers any object or a Status
  readonly body: any;
}

export async function labKubeRequest(options: LabKubeRequest): Promise<LabKubeResponse> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.identity) {
    const { token } = await createEksToken({
      clusterName: options.cluster.name,
      region: options.region,
      credentials: options.identity.credentials,
    });
    headers.authorization = `Bearer ${token}`;
  }
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  if (payload !== undefined) {
    headers['content-type'] =
      options.contentType ??
      (options.method === 'PATCH' ? 'application/merge-patch+json' : 'application/json');
  }
  const url = new URL(options.path, options.cluster.endpoint);
  return new Promise<LabKubeResponse>((resolve, reject) => {
    const req = request(
      url,
      { method: options.method, headers, ca: options.cluster.caPem, timeout: options.timeoutMs ?? 10_000 },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => {
          let body: unknown = text;
          try {
            body = text ? JSON.parse(text) : undefined;
          } catch {
            // not JSON: keep the text
          }
          resolve({ status: res.statusCode ?? 0, body });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${options.method} ${url} timed out`)));
    req.on('error', reject);
    req.end(payload);
  });
}
