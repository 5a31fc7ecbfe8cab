// Which intermediate a running proxy's workload certificate comes from, read from the data plane the
// way `istioctl proxy-config secret` reads it: a port-forward through the API server (pods/portforward)
// to the sidecar's Envoy admin port, 15000, bound to localhost inside the pod, and there
// GET /config_dump?mask=dynamic_active_secrets,dynamic_warming_secrets. The `default` secret holds the
// chain Envoy serves (its key is redacted by Envoy); the judgement is core/istio/served-certificate.ts.
// RBAC: create (and, for the WebSocket upgrade, get) pods/portforward, which ClusterRole
// meshtrust-envoy-admin gives the rotator and the verifier (verify-workloads), kept to port 15000 by the
// admission policy meshtrust-envoy-admin-only (deploy/kubernetes/rbac.yaml).
import { request } from 'node:http';
import { Duplex } from 'node:stream';
import {
  type ServedLeaf,
  servedChainPem,
  servedLeafIssuer,
  servedRootsPem,
} from '../../core/istio/served-certificate.js';
import { PreconditionFailed, TransientError, VerificationFailed } from '../../core/rotation-errors.js';
import { withRetry } from '../retry.js';
import type { ClusterClient } from './cluster-client.js';
import { RBAC_MANIFEST } from './kube-errors.js';
import { openPortForward, PortForwardRefused, type PortForwardStreams } from './kube-port-forward.js';

/** Port-forwards a caller reading many proxies opens at once: a few per cluster, to spare the API server. */
export const SERVED_READ_CONCURRENCY = 8;
/** Envoy's admin port in an Istio sidecar or gateway (istioctl's proxyAdminPort). */
export const ENVOY_ADMIN_PORT = 15000;
/** rbac.yaml's ClusterRole that grants pods/portforward, and the groups it is bound to. */
export const ENVOY_ADMIN_ROLE = 'meshtrust-envoy-admin';
export const ENVOY_ADMIN_GROUPS = { rotator: 'meshtrust-rotator', verifier: 'meshtrust-verifier' } as const;
/** rbac.yaml's admission policy that keeps those groups' port-forwards to ENVOY_ADMIN_PORT. */
export const ENVOY_ADMIN_ONLY_POLICY = 'meshtrust-envoy-admin-only';
/** istioctl proxy-config secret's query. */
export const SECRETS_CONFIG_DUMP_PATH = '/config_dump?mask=dynamic_active_secrets,dynamic_warming_secrets';
const DEFAULT_TIMEOUT_MS = 15_000;
/** A config dump of secrets is a few kB; refuse anything absurd rather than buffer it. */
const MAX_DUMP_BYTES = 4 * 1024 * 1024;

/** The pod was deleted before its proxy could be read: a caller reading many pods may pass over it. */
export class PodGone extends PreconditionFailed {
  constructor(message: string, options?: ConstructorParameters<typeof PreconditionFailed>[1]) {
    super(message, options);
    this.name = 'PreconditionFailed';
  }
}

export interface PodRef {
  readonly namespace: string;
  readonly name: string;
}

export interface ServedCertificate extends ServedLeaf {
  readonly namespace: string;
  readonly pod: string;
}

/**
 * The leaf `pod`'s Envoy serves now and the fingerprint of its issuer. Retries (client.retry) when the
 * forward or the admin request fails on the way; PreconditionFailed when the caller (the rotator or the
 * verifier) may not port-forward or the pod is gone; VerificationFailed when the proxy serves no certificate its issuer
 * can be told from.
 */
export async function readServedCertificate(
  client: ClusterClient,
  pod: PodRef,
  options: { readonly timeoutMs?: number } = {},
): Promise<ServedCertificate> {
  const label = `${pod.namespace}/${pod.name}`;
  const dump = await readSecretsDump(client, pod, `the certificate ${label} serves`, options);
  const chainPem = servedChainPem(dump);
  if (chainPem === undefined) {
    throw new VerificationFailed(
      `${label}'s Envoy holds no workload certificate (no active secret "default") in cluster ${client.name}`,
      { cluster: client.name },
    );
  }
  const leaf = await servedLeafIssuer(chainPem, { pod: label, cluster: client.name });
  return { namespace: pod.namespace, pod: pod.name, ...leaf };
}

/**
 * The roots `pod`'s Envoy verifies peers with now (its `ROOTCA` secret), as PEM; errors as
 * readServedCertificate's, VerificationFailed when the proxy holds no roots yet.
 */
export async function readServedRoots(
  client: ClusterClient,
  pod: PodRef,
  options: { readonly timeoutMs?: number } = {},
): Promise<string> {
  const label = `${pod.namespace}/${pod.name}`;
  const rootsPem = servedRootsPem(await readSecretsDump(client, pod, `the roots ${label} trusts`, options));
  if (rootsPem === undefined) {
    throw new VerificationFailed(
      `${label}'s Envoy holds no roots (no active secret "ROOTCA") in cluster ${client.name}`,
      { cluster: client.name },
    );
  }
  return rootsPem;
}

/** The pod's Envoy config dump of its secrets, parsed; `what` names the read in messages. */
async function readSecretsDump(
  client: ClusterClient,
  pod: PodRef,
  what: string,
  options: { readonly timeoutMs?: number },
): Promise<unknown> {
  const where: Where = {
    cluster: client.name,
    action: `read ${what} (pods/portforward to port ${ENVOY_ADMIN_PORT}) in cluster ${client.name}`,
  };
  const body = await withRetry(
    () => fetchOverPortForward(client, pod, options.timeoutMs ?? DEFAULT_TIMEOUT_MS, where),
    { ...client.retry, isRetryable: (error) => error instanceof TransientError, operation: where.action },
  );
  try {
    return JSON.parse(body);
  } catch (error) {
    throw new VerificationFailed(
      `${pod.namespace}/${pod.name}'s Envoy admin answered something that is not a config dump`,
      { cluster: client.name, cause: error },
    );
  }
}

interface Where {
  readonly cluster: string;
  readonly action: string;
}

/**
 * The API server refused or failed the port-forward's upgrade with this HTTP status. The adapter does not
 * know which role's token its client carries (the rotator's phases and the verifier's gate both call
 * it), so a refusal names both groups.
 */
function refusedForward(status: number, where: Where, cause: unknown): Error {
  const options = { cluster: where.cluster, cause };
  const prefix = `Could not ${where.action}`;
  if (status === 401 || status === 403) {
    return new PreconditionFailed(
      `${prefix}: ${status === 401 ? 'unauthorized' : 'forbidden'} (HTTP ${status}). The calling role's Kubernetes group (${ENVOY_ADMIN_GROUPS.rotator} for the rotation's phases, ${ENVOY_ADMIN_GROUPS.verifier} for the gates verify-trust and verify-workloads) needs get and create on pods/portforward, which ClusterRole ${ENVOY_ADMIN_ROLE} grants, and admission policy ${ENVOY_ADMIN_ONLY_POLICY} lets it forward to port ${ENVOY_ADMIN_PORT} only: apply ${RBAC_MANIFEST} to this cluster, and check the role's EKS access entry maps it to its group.`,
      options,
    );
  }
  if (status === 429 || status >= 500) {
    return new TransientError(`${prefix}: the API server answered ${status}; retry later.`, options);
  }
  if (status === 404)
    return new PodGone(`${prefix}: the API server answered 404 (the pod is gone).`, options);
  return new PreconditionFailed(
    `${prefix}: the API server answered ${status} (the pod may be gone).`,
    options,
  );
}

/** One HTTP GET to the pod's admin port over one port-forward WebSocket; the response body. */
async function fetchOverPortForward(
  client: ClusterClient,
  pod: PodRef,
  timeoutMs: number,
  where: Where,
): Promise<string> {
  const prefix = `Could not ${where.action}`;
  const options = { cluster: where.cluster };
  let forward: PortForwardStreams;
  try {
    forward = await openPortForward(client.connection, pod.namespace, pod.name, ENVOY_ADMIN_PORT);
  } catch (error) {
    if (error instanceof PortForwardRefused) throw refusedForward(error.status, where, error);
    const text = String((error as { message?: unknown })?.message ?? error);
    throw new TransientError(`${prefix}: the port-forward did not open (${text}); retry later.`, {
      ...options,
      cause: error,
    });
  }
  const { fromPod, toPod, errors: forwardErrors } = forward;
  const socket = Duplex.from({ readable: fromPod, writable: toPod });
  try {
    return await new Promise<string>((resolve, reject) => {
      const fail = (error: Error) => {
        req.destroy();
        reject(error);
      };
      // The kubelet reports a failed dial (nothing listens: no Envoy, or not up yet) on the error stream.
      forwardErrors.on('data', (chunk: Buffer) =>
        fail(
          new VerificationFailed(
            `${prefix}: nothing answered on the pod's port ${ENVOY_ADMIN_PORT} (${chunk.toString('utf8').trim()}); is its proxy running?`,
            options,
          ),
        ),
      );
      const req = request(
        {
          createConnection: () => socket as never,
          host: 'localhost',
          path: SECRETS_CONFIG_DUMP_PATH,
          method: 'GET',
          headers: { connection: 'close' },
          timeout: timeoutMs,
        },
        (response) => {
          const chunks: Buffer[] = [];
          let size = 0;
          response.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_DUMP_BYTES) {
              fail(
                new VerificationFailed(
                  `${prefix}: the config dump is larger than ${MAX_DUMP_BYTES} bytes`,
                  options,
                ),
              );
            } else chunks.push(chunk);
          });
          response.on('end', () => {
            if (response.statusCode !== 200) {
              reject(
                new VerificationFailed(
                  `${prefix}: Envoy's admin answered ${response.statusCode} to GET ${SECRETS_CONFIG_DUMP_PATH}`,
                  options,
                ),
              );
              return;
            }
            resolve(Buffer.concat(chunks).toString('utf8'));
          });
          response.on('error', (error) =>
            reject(
              new TransientError(`${prefix}: reading the config dump failed (${error.message})`, {
                ...options,
                cause: error,
              }),
            ),
          );
        },
      );
      req.on('timeout', () =>
        fail(new TransientError(`${prefix}: no config dump within ${timeoutMs} ms`, options)),
      );
      // A refused dial also ends the stream; let the kubelet's reason, on its way, win over "hang up".
      req.on('error', (error) =>
        setTimeout(
          () =>
            reject(
              new TransientError(`${prefix}: the admin request failed (${error.message})`, {
                ...options,
                cause: error,
              }),
            ),
          100,
        ),
      );
      req.end();
    });
  } finally {
    forward.close();
    socket.destroy();
  }
}
