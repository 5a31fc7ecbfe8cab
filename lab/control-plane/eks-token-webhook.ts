// The lab's EKS token check served as kube-apiserver's webhook token authenticator, the way EKS runs
// aws-iam-authenticator: the real API server posts a TokenReview, this answers with the access
// entry's user and groups, or `authenticated: false` (and the API server answers 401). One HTTPS
// server for the fleet, one path per cluster, so a token minted for lab-1 is checked as lab-1's.
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createEksTokenAuthenticator, type EksTokenAuthenticator } from '../eks/eks-token-authenticator.js';
import type { LabIdentities } from '../eks/lab-identities.js';
import { createServingCertificates } from '../tls/serving-certificates.js';

const PATH_PREFIX = '/authenticate/';
const MAX_BODY_BYTES = 64 * 1024;

export interface EksTokenWebhook {
  /** The webhook's CA, for the kubeconfig kube-apiserver reads (--authentication-token-webhook-config-file). */
  readonly caPem: string;
  /** https://127.0.0.1:<port>/authenticate/<cluster> */
  urlFor(cluster: string): string;
  /** Refusals so far, with the reason and never the token, for tests and the lab's log. */
  readonly refusals: ReadonlyArray<{ readonly cluster: string; readonly reason: string }>;
  stop(): Promise<void>;
}

export interface EksTokenWebhookOptions {
  readonly identities: LabIdentities;
  readonly region: string;
  readonly clusterNames: readonly string[];
}

interface TokenReview {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly spec?: { readonly token?: unknown };
}

export async function startEksTokenWebhook(options: EksTokenWebhookOptions): Promise<EksTokenWebhook> {
  const refusals: Array<{ cluster: string; reason: string }> = [];
  const authenticators = new Map<string, EksTokenAuthenticator>(
    options.clusterNames.map((cluster) => [
      cluster,
      createEksTokenAuthenticator({
        clusterName: cluster,
        identities: options.identities,
        region: options.region,
        onRefused: (reason) => refusals.push({ cluster, reason }),
      }),
    ]),
  );
  const tls = await createServingCertificates({ clusterName: 'eks-token-webhook' });
  const server: Server = createServer({ cert: tls.certChainPem, key: tls.keyPem }, (req, res) => {
    // kube-apiserver adds a query (?timeout=30s) to the configured URL.
    const path = new URL(req.url ?? '/', 'https://webhook').pathname;
    const cluster = path.startsWith(PATH_PREFIX) ? path.slice(PATH_PREFIX.length) : '';
    const authenticate = authenticators.get(cluster);
    if (req.method !== 'POST' || !authenticate) {
      res.writeHead(404).end();
      return;
    }
    readBody(req)
      .then(async (body) => {
        const review = JSON.parse(body) as TokenReview;
        const token = typeof review.spec?.token === 'string' ? review.spec.token : '';
        const identity = await authenticate(token);
        const status = identity
          ? { authenticated: true, user: { username: identity.username, groups: identity.groups } }
          : { authenticated: false };
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ apiVersion: review.apiVersion, kind: 'TokenReview', status }));
      })
      .catch(() => res.writeHead(400).end());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    caPem: tls.caPem,
    urlFor: (cluster) => `https://127.0.0.1:${port}${PATH_PREFIX}${cluster}`,
    refusals,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function readBody(req: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) reject(new Error('TokenReview too large'));
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
