// istiod's plug-in CA secret istio-system/cacerts: read it decoded, write it only over the version that
// was read (resourceVersion precondition), so a concurrent change is never overwritten. ca-key.pem is
// decoded into this process's memory only; nothing here logs, and no error carries Secret data.

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
import { SECRETS, type V1Secret } from './kube-objects.js';

export const CACERTS_NAMESPACE = 'istio-system';
export const CACERTS_SECRET = 'cacerts';
/**
 * The rollback's fence on the Secret: the execution name of the rotation being rolled back. Set by the
 * rollback's first stage on the cluster (restore-trust), kept ever after (writeCacerts keeps
 * annotations): a forward write of that execution still in flight refuses on reading it, or gets a
 * resourceVersion conflict if it read before. The next rotation has another name, so it is not fenced.
 * kubelet mounts data keys only, so istiod never sees it.
 */
export const ROLLED_BACK_ANNOTATION = 'meshtrust.io/rolled-back';

export interface CacertsSnapshot {
  /** The cacerts keys present in the secret, decoded (UTF-8 PEM). */
  readonly files: Partial<Record<CacertsKey, string>>;
  /** Every other data key (e.g. tls.crt, which overrides the plug-in CA), sorted. */
  readonly otherKeys: string[];
  readonly resourceVersion: string;
  /** The execution whose rollback fenced the Secret (ROLLED_BACK_ANNOTATION), if any. */
  readonly rolledBack?: string;
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
          client.api.create(SECRETS, CACERTS_NAMESPACE, {
            apiVersion: 'v1',
            kind: 'Secret',
            metadata: { name: CACERTS_SECRET, namespace: CACERTS_NAMESPACE },
            type: 'Opaque',
            data,
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
  // A 409 also after a lost answer to a PUT that did succeed: the re-read then finds the files written.
  const resourceVersion = await replaceOverRead(
    client,
    { current, resourceVersion: expectedResourceVersion, operation: `replace secret ${SECRET_PATH}`, data },
    (cause) => conflict('a newer resourceVersion', cause),
  );
  return { resourceVersion, written: true };
}

export interface FenceCacertsResult {
  readonly resourceVersion: string;
  /** false when the Secret already carried this fence. */
  readonly written: boolean;
}

/**
 * Sets ROLLED_BACK_ANNOTATION to `executionName` on the Secret, data untouched, on condition that it is
 * still at the resourceVersion read: the new resourceVersion is what turns any forward write that read
 * before into a CacertsConflict. undefined when the Secret does not exist (no write can be made to it:
 * every writer refuses a missing cacerts).
 */
export async function fenceCacerts(
  client: ClusterClient,
  executionName: string,
): Promise<FenceCacertsResult | undefined> {
  const current = await readSecret(client);
  if (current === undefined) return undefined;
  const currentVersion = resourceVersionOf(client, current);
  const annotations = current.metadata?.annotations ?? {};
  if (annotations[ROLLED_BACK_ANNOTATION] === executionName) {
    return { resourceVersion: currentVersion, written: false };
  }
  const resourceVersion = await replaceOverRead(
    client,
    {
      current,
      resourceVersion: currentVersion,
      operation: `annotate secret ${SECRET_PATH}`,
      annotations: { [ROLLED_BACK_ANNOTATION]: executionName },
    },
    (cause) =>
      new CacertsConflict(
        `${SECRET_PATH} in cluster ${client.name} changed while the rollback's fence was set on it (expected resourceVersion ${currentVersion}); nothing was written. Read it again.`,
        { cluster: client.name, expectedResourceVersion: currentVersion, cause },
      ),
  );
  return { resourceVersion, written: true };
}

/**
 * PUT of the Secret as read (`current`: its labels, annotations, type and data kept), with `annotations`
 * and `data` set over them, on condition that it is still at `resourceVersion`: a 409 throws `conflict`.
 * Answers the new resourceVersion.
 */
async function replaceOverRead(
  client: ClusterClient,
  replace: {
    readonly current: V1Secret;
    readonly resourceVersion: string;
    readonly operation: string;
    readonly annotations?: Readonly<Record<string, string>>;
    readonly data?: Readonly<Record<string, string>>;
  },
  conflict: (cause: unknown) => CacertsConflict,
): Promise<string> {
  const { current, resourceVersion } = replace;
  const annotations = { ...current.metadata?.annotations, ...replace.annotations };
  try {
    const replaced = await callKube(
      client,
      replace.operation,
      () =>
        client.api.replace(SECRETS, CACERTS_NAMESPACE, CACERTS_SECRET, {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: {
            name: CACERTS_SECRET,
            namespace: CACERTS_NAMESPACE,
            resourceVersion,
            ...(current.metadata?.labels ? { labels: current.metadata.labels } : {}),
            ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
          },
          ...(current.type ? { type: current.type } : {}),
          data: { ...current.data, ...replace.data },
        }),
      { passStatuses: [409] },
    );
    return resourceVersionOf(client, replaced);
  } catch (error) {
    if (kubeStatusOf(error) === 409) throw conflict(error);
    throw error;
  }
}

async function readSecret(client: ClusterClient): Promise<V1Secret | undefined> {
  try {
    return await callKube(
      client,
      `read secret ${SECRET_PATH}`,
      () => client.api.read(SECRETS, CACERTS_NAMESPACE, CACERTS_SECRET),
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
    ...(secret.metadata?.annotations?.[ROLLED_BACK_ANNOTATION] !== undefined && {
      rolledBack: secret.metadata.annotations[ROLLED_BACK_ANNOTATION],
    }),
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
