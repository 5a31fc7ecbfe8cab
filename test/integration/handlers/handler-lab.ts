// A lab fleet wired for the handlers: the lab's EKS API and moto's Secrets Manager behind the AWS SDK's
// own endpoint variables, the lab's rotator credentials in the default credential chain, the handler
// configuration in the environment, and root A imported into the CA store. The handlers run exactly as
// in Lambda: they read their environment and build their own clients.
import { randomUUID } from 'node:crypto';
import { DescribeKeyCommand, KMSClient, ListAliasesCommand } from '@aws-sdk/client-kms';
import {
  DescribeSecretCommand,
  ListSecretsCommand,
  ListSecretVersionIdsCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { expect } from '@jest/globals';
import { awsEnvironmentFor } from '../../../lab/eks/lab-identities.js';
import type { LabOptions } from '../../../lab/lab-options.js';
import { cacertsSecret } from '../../../lab/seed-cluster.js';
import { type Lab, type LabHooks, startLab } from '../../../lab/start-lab.js';
import { logger } from '../../../lambdas/adapters/audit/logger.js';
import { containsPrivateKey } from '../../../lambdas/adapters/audit/private-key-guard.js';
import { CaSecretStore } from '../../../lambdas/adapters/secrets/ca-secret-store.js';
import { clientRequestTokenFor } from '../../../lambdas/adapters/secrets/client-request-token.js';
import { backupSecretName, meshSecretPrefix } from '../../../lambdas/adapters/secrets/secret-names.js';
import type { SkippedRemote } from '../../../lambdas/application/remote-cluster.js';
import {
  CLUSTERS_ENV,
  LAMBDA_SET_ENV_KEYS,
  MESH_ID_ENV,
  RESTART_WAVE_SIZE_ENV,
  ROLLOUT_TIMEOUT_SECONDS_ENV,
  ROTATION_FUNCTION_ENV_KEYS,
  type RotationFunctionEnvKey,
  VERIFY_TIMEOUT_SECONDS_ENV,
} from '../../../lambdas/contract/function-environment.js';
import { rootKeyAliasPrefix } from '../../../lambdas/contract/root-keys.js';
import { formatRemoteClusters, REMOTE_CLUSTERS_ENV } from '../../../lambdas/contract/topology.js';
import { type CacertsFiles, certificateFingerprint } from '../../../lambdas/core/pki/index.js';
import { executionNameOf } from '../../../lambdas/core/rotation/execution-name.js';
import { motoClientConfig } from '../../support/moto-endpoint.js';

export interface HandlerLab {
  readonly lab: Lab;
  readonly meshId: string;
  /** The same CA store the handlers use, for the tests to look into. */
  readonly store: CaSecretStore;
  /** Root A as preflight reports it. */
  readonly currentRoot: { secretArn: string; versionId: string; fingerprint: string };
  executionId(name?: string): string;
  /** The cluster's cacerts as stored now (all four keys, decoded), read in-process. */
  cacertsOf(cluster: string): CacertsFiles;
  /** Replaces the cluster's cacerts in-process, as an operator's kubectl would. */
  replaceCacerts(cluster: string, files: Readonly<Record<string, string>>): void;
  /**
   * Everything a rotation writes, to prove a refusal wrote nothing: each cluster's cacerts resourceVersion
   * (or `absent`), every secret of the mesh (this lab's, or `meshId`) in Secrets Manager with its
   * versions and their stages, and the mesh's root keys in KMS (by alias) with their states.
   */
  writableState(meshId?: string): Promise<WritableState>;
  /**
   * Each lab cluster's cacerts backup of an execution as Secrets Manager describes it (never read):
   * `kept`, `deleting` (scheduled for deletion) or `none` (never made).
   */
  cacertsBackups(executionId: string): Promise<Record<string, 'kept' | 'deleting' | 'none'>>;
  stop(): Promise<void>;
}

export interface WritableState {
  readonly cacerts: Readonly<Record<string, string>>;
  readonly secrets: readonly { readonly name: string; readonly versions: readonly string[] }[];
  /** `<alias>:<key state>` of each of the mesh's root keys, sorted. */
  readonly rootKeys: readonly string[];
}

/** Saved before the lab sets them and restored after: the handlers' keys (the contract's) and the SDK's. */
const HANDLER_ENV_KEYS = [
  ...ROTATION_FUNCTION_ENV_KEYS,
  ...LAMBDA_SET_ENV_KEYS,
  'AWS_DEFAULT_REGION',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_ENDPOINT_URL_EKS',
  'AWS_ENDPOINT_URL_SECRETS_MANAGER',
  'AWS_ENDPOINT_URL_KMS',
  'POWERTOOLS_METRICS_DISABLED',
];

export async function startHandlerLab(
  options: LabOptions & { readonly importRoot?: boolean; readonly hooks?: LabHooks } = {},
): Promise<HandlerLab> {
  const { importRoot = true, hooks = {}, ...labOptions } = options;
  const meshId = `mesh-${randomUUID().slice(0, 8)}`;
  const lab = await startLab({ clusters: 2, workloadsPerCluster: 3, ...labOptions, meshId }, hooks);
  const saved = Object.fromEntries(HANDLER_ENV_KEYS.map((key) => [key, process.env[key]]));
  Object.assign(process.env, awsEnvironmentFor(lab.identities.rotator, lab.region), {
    [MESH_ID_ENV]: meshId,
    AWS_ENDPOINT_URL_EKS: lab.eksEndpoint,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: motoClientConfig().endpoint,
    AWS_ENDPOINT_URL_KMS: motoClientConfig().endpoint,
    [ROLLOUT_TIMEOUT_SECONDS_ENV]: '60',
    [RESTART_WAVE_SIZE_ENV]: '4',
    [VERIFY_TIMEOUT_SECONDS_ENV]: '15',
    // EMF lines go to stdout; nothing here asserts them.
    POWERTOOLS_METRICS_DISABLED: 'true',
  });
  // The audit lines are asserted elsewhere; keep test output readable.
  logger.setLogLevel('SILENT');
  delete process.env[CLUSTERS_ENV];
  // What an operator declares for the lab's remote clusters (topology primary-remote), as the stack would.
  const remotes = lab.clusters.flatMap(({ name, primary }) =>
    primary === undefined ? [] : [{ name, primary }],
  );
  if (remotes.length > 0) process.env[REMOTE_CLUSTERS_ENV] = formatRemoteClusters(remotes);
  else delete process.env[REMOTE_CLUSTERS_ENV];

  const client = new SecretsManagerClient({ ...motoClientConfig(), region: lab.region });
  const store = new CaSecretStore({ client, meshId });
  const kms = new KMSClient({ ...motoClientConfig(), region: lab.region });
  let currentRoot = {
    secretArn: '',
    versionId: '',
    fingerprint: certificateFingerprint(lab.rootA.certificatePem),
  };
  if (importRoot) {
    const ref = await store.importRoot({
      material: { ...lab.rootA, fingerprint: currentRoot.fingerprint },
      token: clientRequestTokenFor(`adopt-${meshId}`, 'root'),
    });
    currentRoot = { secretArn: ref.arn, versionId: ref.versionId, fingerprint: ref.fingerprint };
  }

  return {
    lab,
    meshId,
    store,
    currentRoot,
    executionId: (name = randomUUID().slice(0, 8)) =>
      `arn:aws:states:${lab.region}:000000000000:execution:meshtrust-${meshId}:${name}`,
    cacertsOf: (cluster) => {
      const secret = lab.cluster(cluster).store.get('Secret', 'istio-system', 'cacerts');
      const data = (secret.data ?? {}) as Record<string, string>;
      return Object.fromEntries(
        ['ca-cert.pem', 'ca-key.pem', 'cert-chain.pem', 'root-cert.pem'].map((key) => [
          key,
          Buffer.from(data[key] ?? '', 'base64').toString('utf8'),
        ]),
      ) as unknown as CacertsFiles;
    },
    replaceCacerts: (cluster, files) => {
      const store = lab.cluster(cluster).store;
      const current = store.get('Secret', 'istio-system', 'cacerts');
      store.update({ ...cacertsSecret(files), metadata: { ...current.metadata } });
    },
    writableState: async (ofMesh = meshId) => ({
      cacerts: Object.fromEntries(
        lab.clusters.map(({ name }) => {
          const secret = lab.cluster(name).store.tryGet('Secret', 'istio-system', 'cacerts');
          return [name, String(secret?.metadata.resourceVersion ?? 'absent')];
        }),
      ),
      secrets: await meshSecrets(client, ofMesh),
      rootKeys: await meshRootKeys(kms, ofMesh),
    }),
    cacertsBackups: async (executionId) => {
      const states = await Promise.all(
        lab.clusters.map(async ({ name }) => {
          const secretId = backupSecretName(meshId, executionNameOf(executionId), name);
          try {
            const described = await client.send(new DescribeSecretCommand({ SecretId: secretId }));
            return [name, described.DeletedDate === undefined ? 'kept' : 'deleting'] as const;
          } catch (error) {
            if (error instanceof Error && error.name === 'ResourceNotFoundException')
              return [name, 'none'] as const;
            throw error;
          }
        }),
      );
      return Object.fromEntries(states);
    },
    stop: async () => {
      client.destroy();
      kms.destroy();
      await lab.stop();
      for (const [key, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    },
  };
}

/** Every secret under `meshtrust/<mesh>/`, each with its version ids and their stages, sorted. */
async function meshSecrets(client: SecretsManagerClient, meshId: string): Promise<WritableState['secrets']> {
  const prefix = meshSecretPrefix(meshId);
  const { SecretList = [] } = await client.send(
    new ListSecretsCommand({ Filters: [{ Key: 'name', Values: [prefix] }], MaxResults: 100 }),
  );
  const secrets = await Promise.all(
    SecretList.filter((secret) => secret.Name?.startsWith(prefix)).map(async (secret) => {
      const { Versions = [] } = await client.send(
        new ListSecretVersionIdsCommand({ SecretId: secret.ARN, IncludeDeprecated: true }),
      );
      const versions = Versions.map(
        (version) => `${version.VersionId}:${[...(version.VersionStages ?? [])].sort().join(',')}`,
      ).sort();
      return { name: secret.Name as string, versions };
    }),
  );
  return secrets.sort((a, b) => a.name.localeCompare(b.name));
}

/** The mesh's root keys (stage-root names each with an alias under the mesh's prefix) and their states. */
async function meshRootKeys(kms: KMSClient, meshId: string): Promise<string[]> {
  const prefix = rootKeyAliasPrefix(meshId);
  const keys: string[] = [];
  let marker: string | undefined;
  do {
    const page = await kms.send(new ListAliasesCommand({ Marker: marker }));
    for (const alias of page.Aliases ?? []) {
      if (!alias.AliasName?.startsWith(prefix) || alias.TargetKeyId === undefined) continue;
      const { KeyMetadata } = await kms.send(new DescribeKeyCommand({ KeyId: alias.TargetKeyId }));
      keys.push(`${alias.AliasName}:${KeyMetadata?.KeyState}`);
    }
    marker = page.Truncated ? page.NextMarker : undefined;
  } while (marker !== undefined);
  return keys.sort();
}

/** The key scan every handler output must pass: no PEM block, no private key (plain or base64). */
export function expectNoKeyMaterial(output: unknown): void {
  const text = JSON.stringify(output);
  expect(text).toBeDefined();
  expect(text).not.toContain('-----BEGIN');
  expect(text).not.toContain('PRIVATE KEY');
  expect(containsPrivateKey(text)).toBe(false);
}

/**
 * The prober's verdict on a run: not one failed handshake (the first five named when there are), and
 * handshakes attempted in each of `phases`, so a phase that probed nothing cannot pass for a clean one.
 */
export function expectCleanHandshakes(h: HandlerLab, phases: readonly string[]): void {
  const stats = h.lab.prober.stats();
  const failures = h.lab.prober
    .failures()
    .slice(0, 5)
    .map((f) => `${f.phase}: ${f.from} -> ${f.to} (${f.side}) ${f.error}`);
  expect({ failed: stats.failed, failures }).toEqual({ failed: 0, failures: [] });
  for (const name of phases) {
    expect({ phase: name, attempted: (stats.byPhase[name]?.attempted ?? 0) > 0 }).toEqual({
      phase: name,
      attempted: true,
    });
  }
}

/**
 * A lab where only istiod's push can move a running proxy to a new intermediate: PCDS on, certificates
 * that live ten minutes (no renewal during a test), proxies of Istio 1.29 (which re-request on a push).
 */
export const PUSH_ONLY_LAB = {
  clusters: 2,
  workloadsPerCluster: 2,
  pcds: true,
  workloadCertTtlMs: 600_000,
  istioVersion: '1.29',
} as const satisfies LabOptions;

/** The intermediate each running pod of `cluster` holds a certificate from, as the lab's istiod model gave it. */
export function podIssuersOf(h: HandlerLab, cluster: string): Map<string, string> {
  return new Map(
    h.lab
      .cluster(cluster)
      .istiod.identities()
      .map((identity) => [`${identity.namespace}/${identity.podName}`, identity.issuerFingerprint]),
  );
}

/** Not one of the lab prober's handshakes failed, across clusters, in any phase (the first five named). */
export function expectNoFailedHandshake(h: HandlerLab): void {
  expect({ failed: h.lab.prober.stats().failed, failures: h.lab.prober.failures().slice(0, 5) }).toEqual({
    failed: 0,
    failures: [],
  });
}

/** Every pod's uid, by namespace/name, as the lab's API server holds it: a restart replaces pods. */
export function podUidsOf(h: HandlerLab, cluster: string): Record<string, string> {
  return Object.fromEntries(
    h.lab
      .cluster(cluster)
      .store.list('Pod')
      .items.map((pod) => [`${pod.metadata.namespace}/${pod.metadata.name}`, pod.metadata.uid ?? '']),
  );
}

/** An env variable of a pod's container, as the lab's store holds it. */
export interface ProxyEnvVar {
  readonly name: string;
  readonly value?: string;
}

interface StoredPod {
  metadata: { namespace: string; name: string };
  spec: { initContainers?: { name: string; env?: ProxyEnvVar[] }[] };
}

/**
 * Runs `act` while the istio-proxy env of the first injected pod of `cluster` is what `edit` makes of it
 * (as if that pod had been injected otherwise), then puts the pod's init containers back, whatever
 * `act` did. `act` is given the pod's namespace and name.
 */
export async function withProxyEnvEdited<T>(
  h: HandlerLab,
  cluster: string,
  edit: (env: readonly ProxyEnvVar[]) => ProxyEnvVar[],
  act: (pod: { readonly namespace: string; readonly name: string }) => Promise<T>,
): Promise<T> {
  const store = h.lab.cluster(cluster).store;
  const pod = (store.list('Pod').items as unknown as StoredPod[]).find((candidate) =>
    (candidate.spec.initContainers ?? []).some((container) => container.name === 'istio-proxy'),
  ) as StoredPod;
  const { namespace, name } = pod.metadata;
  const current = store.get('Pod', namespace, name) as unknown as StoredPod;
  const original = structuredClone(current.spec.initContainers);
  for (const container of current.spec.initContainers ?? []) {
    if (container.name === 'istio-proxy') container.env = edit(container.env ?? []);
  }
  store.update(current as never);
  try {
    return await act({ namespace, name });
  } finally {
    const restored = store.get('Pod', namespace, name) as unknown as StoredPod;
    restored.spec.initContainers = original;
    store.update(restored as never);
  }
}

/**
 * The state machine's await-proxy-trust state: the Wait preflight planned, so that every running proxy
 * holds the new root set (renewed, or pushed by PCDS) before any workload moves to the new intermediate.
 */
export function awaitProxyTrust(preflightOutput: {
  readonly plan: { readonly proxyTrustWait: { readonly seconds: number } };
}): Promise<object> {
  return new Promise((resolve) =>
    setTimeout(() => resolve({}), preflightOutput.plan.proxyTrustWait.seconds * 1000),
  );
}

/**
 * Runs `act` with `values` in process.env (the handlers read their configuration there), then puts back
 * what was there. Only the contract's keys and the AWS SDK's: a test cannot set a key the handlers do
 * not read.
 */
export async function withEnv<T>(
  values: Partial<Record<RotationFunctionEnvKey, string>> & { readonly [sdkKey: `AWS_${string}`]: string },
  act: () => Promise<T>,
): Promise<T> {
  const saved = Object.fromEntries(Object.keys(values).map((key) => [key, process.env[key]]));
  Object.assign(process.env, values);
  try {
    return await act();
  } finally {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
}

/**
 * A cacerts-writing handler as a primary cluster answers it: the handlers answer `skipped` for a remote
 * cluster (lambdas/application/remote-cluster.ts), which a test on primaries never expects.
 */
export function onPrimary<T extends object>(
  handler: (event: unknown) => Promise<T>,
): (event: unknown) => Promise<Exclude<T, Pick<SkippedRemote, 'primary'>>> {
  return async (event) => {
    const output = await handler(event);
    // Every answer says `skipped` (its Map hands it on, contract/map-answers.ts); only a remote's names a primary.
    if ('primary' in output) {
      throw new Error(
        `expected a primary cluster, got skipped: ${(output as unknown as SkippedRemote).reason}`,
      );
    }
    return output as Exclude<T, Pick<SkippedRemote, 'primary'>>;
  };
}
