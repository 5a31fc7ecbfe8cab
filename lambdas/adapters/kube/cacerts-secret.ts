// istiod's plug-in CA secret istio-system/cacerts: read it decoded, write it only over the version that
// was read (resourceVersion precondition), so a concurrent change is never overwritten. ca-key.pem is
// decoded into this process's memory only; nothing here logs, and no error carries Secret data.
import type { V1Secret } from '@kubernetes/client-node';
import {
  CACERTS_FORBIDDEN_KEYS,
  CACERTS_KEYS,
  type CacertsFiles,
  type CacertsKey,
} from '../../core/pki/index.js';
import { PreconditionFailed } from '../../core/rotation-errors.js';
import type { ClusterClient } from './cluster-client.js';
import { callKube } from './kube-call.js';
import { CacertsConflict, kubeStatusOf } from './kube-errors.js';

export const CACERTS_NAMESPACE = 'istio-system';
export const CACERTS_SECRET = 'cacerts';

export interface CacertsSnapshot {
  /** The cacerts keys present in the secret, decoded (UTF-8 PEM). */
  readonly files: Partial<Record<CacertsKey, string>>;
  /** Every other data key (e.g. tls.crt, which overrides the plug-in CA), sorted. */
  readonly otherKeys: string[];
  readonly resourceVersion: string;
}

export interface WriteCacertsOptions {
  /** The resourceVersion of the snapshot the files were computed from; undefined: the secret must not exist. */
  readonly expectedResourceVersion?: string;
}

export interface WriteCacertsResult {
  readonly resourceVersion: string;
  /** false when the secret already held exactly these files (an idempotent re-run). */
  readonly written: boolean;
}

const SECRET_PATH = `${CACERTS_NAMESPACE}/${CACERTS_SECRET}`;

/** The secret decoded, or undefined when it does not exist. */
export async function readCacerts(client: ClusterClient): Promise<CacertsSnapshot | undefined> {
  const secret = await readSecret(client);
  return secret === undefined ? undefined : toSnapshot(client, secret);
}

/**
 * Replaces the four files, keeping the secret's other keys, labels and annotations, on condition that
 * the secret is still at expectedResourceVersion (or, without it, creates the secret). Any change in
 * between throws CacertsConflict and writes nothing: re-read, recompute, write again.
 */
export async function writeCacerts(
  client: ClusterClient,
  files: CacertsFiles,
  options: WriteCacertsOptions = {},
): Promise<WriteCacertsResult> {
  const { expectedResourceVersion } = options;
  const missing = CACERTS_KEYS.filter((key) => typeof files[key] !== 'string' || files[key].trim() === '');
  if (missing.length > 0) {
    throw new PreconditionFailed(
      `Refusing to write ${SECRET_PATH} in cluster ${client.name} without ${missing.join(', ')}: istiod needs all of ${CACERTS_KEYS.join(', ')}.`,
      { cluster: client.name },
    );
  }
  const data = Object.fromEntries(
    CACERTS_KEYS.map((key) => [key, Buffer.from(files[key], 'utf8').toString('base64')]),
  );
  const conflict = (found: string, cause?: unknown): CacertsConflict =>
    new CacertsConflict(
      `${SECRET_PATH} in cluster ${client.name} changed since it was read (expected ${expectedResourceVersion === undefined ? 'no secret' : `resourceVersion ${expectedResourceVersion}`}, found ${found}); nothing was written. Read it again and recompute.`,
      { cluster: client.name, expectedResourceVersion, ...(cause === undefined ? {} : { cause }) },
    );

  if (expectedResourceVersion === undefined) {
    try {
      const created = await callKube(
        client,
        `create secret ${SECRET_PATH}`,
        () =>
          client.core.createNamespacedSecret({
            namespace: CACERTS_NAMESPACE,
            body: { metadata: { name: CACERTS_SECRET, namespace: CACERTS_NAMESPACE }, type: 'Opaque', data },
          }),
        { passStatuses: [409] },
      );
      return { resourceVersion: resourceVersionOf(client, created), written: true };
    } catch (error) {
      if (kubeStatusOf(error) === 409) throw conflict('an existing secret', error);
      throw error;
    }
  }

  const current = await readSecret(client);
  if (current === undefined) throw conflict('no secret');
  const currentVersion = resourceVersionOf(client, current);
  if (currentVersion !== expectedResourceVersion) throw conflict(`resourceVersion ${currentVersion}`);
  const forbidden = CACERTS_FORBIDDEN_KEYS.filter((key) => current.data?.[key] !== undefined);
  if (forbidden.length > 0) {
    throw new PreconditionFailed(
      `${SECRET_PATH} in cluster ${client.name} holds ${forbidden.join(', ')}, which make istiod ignore the plug-in CA files; remove them before rotating. Nothing was written.`,
      { cluster: client.name },
    );
  }
  if (CACERTS_KEYS.every((key) => current.data?.[key] === data[key])) {
    return { resourceVersion: currentVersion, written: false };
  }
  try {
    const replaced = await callKube(
      client,
      `replace secret ${SECRET_PATH}`,
      () =>
        client.core.replaceNamespacedSecret({
          name: CACERTS_SECRET,
          namespace: CACERTS_NAMESPACE,
          body: {
            apiVersion: 'v1',
            kind: 'Secret',
            metadata: {
              name: CACERTS_SECRET,
              namespace: CACERTS_NAMESPACE,
              resourceVersion: expectedResourceVersion,
              ...(current.metadata?.labels ? { labels: current.metadata.labels } : {}),
              ...(current.metadata?.annotations ? { annotations: current.metadata.annotations } : {}),
            },
            ...(current.type ? { type: current.type } : {}),
            data: { ...current.data, ...data },
          },
        }),
      { passStatuses: [409] },
    );
    return { resourceVersion: resourceVersionOf(client, replaced), written: true };
  } catch (error) {
    // Also after a lost answer to a PUT that did succeed: the re-read then finds the files written.
    if (kubeStatusOf(error) === 409) throw conflict('a newer resourceVersion', error);
    throw error;
  }
}

async function readSecret(client: ClusterClient): Promise<V1Secret | undefined> {
  try {
    return await callKube(
      client,
      `read secret ${SECRET_PATH}`,
      () => client.core.readNamespacedSecret({ name: CACERTS_SECRET, namespace: CACERTS_NAMESPACE }),
      { passStatuses: [404] },
    );
  } catch (error) {
    if (kubeStatusOf(error) === 404) return undefined;
    throw error;
  }
}

function toSnapshot(client: ClusterClient, secret: V1Secret): CacertsSnapshot {
  const data = secret.data ?? {};
  const files: Partial<Record<CacertsKey, string>> = {};
  for (const key of CACERTS_KEYS) {
    const value = data[key];
    if (value !== undefined) files[key] = Buffer.from(value, 'base64').toString('utf8');
  }
  const known = new Set<string>(CACERTS_KEYS);
  return {
    files,
    otherKeys: Object.keys(data)
      .filter((key) => !known.has(key))
      .sort(),
    resourceVersion: resourceVersionOf(client, secret),
  };
}

function resourceVersionOf(client: ClusterClient, secret: V1Secret): string {
  const version = secret.metadata?.resourceVersion;
  if (!version) {
    throw new PreconditionFailed(
      `The API server of cluster ${client.name} returned ${SECRET_PATH} without a resourceVersion; it cannot be written safely.`,
      { cluster: client.name },
    );
  }
  return version;
}
