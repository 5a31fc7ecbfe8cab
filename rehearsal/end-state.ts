// Where a rehearsal left the fleet and the CA store: per cluster whether its cacerts is byte for byte
// what it started with, which roots it trusts (by letter) and whether it signs with its original
// intermediate; and whether a staged root is still pending. What an operator would need to know after
// a rollback that did not complete (RollbackFailed), so the report says it for every run.
import {
  DescribeKeyCommand,
  KMSClient,
  ListAliasesCommand,
  ListKeysCommand,
  ListResourceTagsCommand,
} from '@aws-sdk/client-kms';
import { ListSecretsCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { LabCredentials } from '../lab/eks/lab-identities.js';
import { CaSecretStore } from '../lambdas/adapters/secrets/ca-secret-store.js';
import { backupSecretPrefix } from '../lambdas/adapters/secrets/secret-names.js';
import { MESH_TAG_KEY } from '../lambdas/contract/resource-tags.js';
import { ROOT_KEY_KIND, ROOT_KEY_KIND_TAG_KEY, rootKeyAliasPrefix } from '../lambdas/contract/root-keys.js';
import { executionNameOf } from '../lambdas/core/rotation/execution-name.js';

export interface ClusterEndState {
  readonly cluster: string;
  /** Every cacerts file byte for byte as at the start. */
  readonly asAtStart: boolean;
  /** The roots of root-cert.pem, as letters (A the start's, B the staged one) or fingerprints. */
  readonly roots: readonly string[];
  readonly intermediate: 'original' | 'new';
}

export interface EndState {
  readonly clusters: readonly ClusterEndState[];
  /** The root secret still has a version staged AWSPENDING (what rollback's drop-pending removes). */
  readonly pendingRoot: boolean;
  /** The mesh's root keys in KMS and the imported root's key secret, read straight from moto. */
  readonly rootKeys?: RootKeysAtEnd;
  /** The execution's cacerts backups (the start's intermediate keys), read straight from moto. */
  readonly cacertsBackups?: CacertsBackupsAtEnd;
}

/** How many of the execution's cacerts backups (one per cluster it wrote to) are kept, how many deleting. */
export interface CacertsBackupsAtEnd {
  readonly kept: number;
  /** Scheduled for deletion (Secrets Manager's DeletedDate set). */
  readonly deleting: number;
}

export interface RootKeysAtEnd {
  /** The KMS key state of each root key (alias under alias/meshtrust/<mesh>/root/), sorted. */
  readonly kms: readonly string[];
  /** Root A's key secret (root A is imported with its key): still there, or scheduled for deletion. */
  readonly importedKeySecret: 'kept' | 'deleting' | 'none';
  /**
   * Keys tagged as this mesh's root CA keys that no alias names and that are not scheduled for deletion:
   * a key made twice (a CreateKey whose answer was lost, then retried) that nothing will ever retire.
   * Absent: not counted.
   */
  readonly unaliased?: number;
}

interface CacertsSummary {
  readonly cluster: string;
  readonly roots: readonly string[];
  readonly caCert?: string;
}

export function clusterEndStates(input: {
  readonly initial: readonly CacertsSummary[];
  readonly final: readonly CacertsSummary[];
  readonly identicalToStart: Readonly<Record<string, boolean>>;
  readonly rootLetters: Readonly<Record<string, string>>;
}): ClusterEndState[] {
  const letterOf = new Map(
    Object.entries(input.rootLetters).map(([letter, fingerprint]) => [fingerprint, letter]),
  );
  return input.final.map((end) => ({
    cluster: end.cluster,
    asAtStart: input.identicalToStart[end.cluster] === true,
    roots: end.roots.map((fingerprint) => letterOf.get(fingerprint) ?? fingerprint),
    intermediate:
      input.initial.find((start) => start.cluster === end.cluster)?.caCert === end.caCert
        ? 'original'
        : 'new',
  }));
}

/** `lab-1: as at start (roots A, original intermediate)`, one line per cluster. */
export function describeEndState(state: EndState): string[] {
  return [
    ...state.clusters.map(
      (cluster) =>
        `${cluster.cluster}: ${cluster.asAtStart ? 'as at start' : 'changed'} (roots ${cluster.roots.join('+')}, ` +
        `${cluster.intermediate} intermediate)`,
    ),
    state.pendingRoot
      ? 'CA store: the staged root is still pending (AWSPENDING); docs/runbook.md, RollbackFailed'
      : 'CA store: no pending root',
    ...(state.rootKeys === undefined
      ? []
      : [
          `root keys: KMS ${state.rootKeys.kms.length === 0 ? 'none' : state.rootKeys.kms.join(', ')}; ` +
            `root A's key secret ${state.rootKeys.importedKeySecret}`,
        ]),
    ...(state.cacertsBackups === undefined
      ? []
      : [
          `cacerts backups of the run: ${state.cacertsBackups.kept} kept, ` +
            `${state.cacertsBackups.deleting} scheduled for deletion`,
        ]),
  ];
}

/** Asks the mesh's CA store, as the functions see it, whether a root is staged AWSPENDING. */
export async function hasPendingRoot(options: {
  readonly endpoint: string;
  readonly region: string;
  readonly credentials: LabCredentials;
  readonly meshId: string;
}): Promise<boolean> {
  const client = new SecretsManagerClient({
    endpoint: options.endpoint,
    region: options.region,
    credentials: options.credentials,
  });
  try {
    return (await new CaSecretStore({ client, meshId: options.meshId }).describeRoot()).pending !== undefined;
  } finally {
    client.destroy();
  }
}

/**
 * The mesh's root keys as KMS and Secrets Manager hold them, listed by name prefix with the AWS APIs
 * (not through the product's adapters): each KMS root key's state, and whether the imported root's key
 * secret is still there.
 */
export async function rootKeysAtEnd(options: {
  readonly endpoint: string;
  readonly region: string;
  readonly credentials: LabCredentials;
  readonly meshId: string;
}): Promise<RootKeysAtEnd> {
  const config = { endpoint: options.endpoint, region: options.region, credentials: options.credentials };
  const kms = new KMSClient(config);
  const secrets = new SecretsManagerClient(config);
  try {
    const prefix = rootKeyAliasPrefix(options.meshId);
    const states: string[] = [];
    const aliased = new Set<string>();
    let marker: string | undefined;
    do {
      const page = await kms.send(new ListAliasesCommand({ Marker: marker }));
      for (const alias of page.Aliases ?? []) {
        if (!alias.AliasName?.startsWith(prefix) || alias.TargetKeyId === undefined) continue;
        aliased.add(alias.TargetKeyId);
        const described = await kms.send(new DescribeKeyCommand({ KeyId: alias.TargetKeyId }));
        states.push(described.KeyMetadata?.KeyState ?? 'unknown');
      }
      marker = page.Truncated ? page.NextMarker : undefined;
    } while (marker !== undefined);
    const unaliased = await unaliasedRootKeys(kms, options.meshId, aliased);
    const keyPrefix = `meshtrust/${options.meshId}/root-key/`;
    const listed = await secrets.send(
      new ListSecretsCommand({
        Filters: [{ Key: 'name', Values: [keyPrefix] }],
        IncludePlannedDeletion: true,
      }),
    );
    const keySecrets = (listed.SecretList ?? []).filter((secret) => secret.Name?.startsWith(keyPrefix));
    return {
      kms: states.sort(),
      importedKeySecret:
        keySecrets.length === 0
          ? 'none'
          : keySecrets.every((secret) => secret.DeletedDate !== undefined)
            ? 'deleting'
            : 'kept',
      unaliased,
    };
  } finally {
    kms.destroy();
    secrets.destroy();
  }
}

/** Keys tagged as the mesh's root CA keys, not scheduled for deletion, whose id no alias names. */
async function unaliasedRootKeys(
  kms: KMSClient,
  meshId: string,
  aliased: ReadonlySet<string>,
): Promise<number> {
  let count = 0;
  let marker: string | undefined;
  do {
    const page = await kms.send(new ListKeysCommand({ Marker: marker }));
    for (const key of page.Keys ?? []) {
      if (key.KeyId === undefined || aliased.has(key.KeyId)) continue;
      const described = await kms.send(new DescribeKeyCommand({ KeyId: key.KeyId }));
      if (described.KeyMetadata?.KeyState === 'PendingDeletion') continue;
      const tags = await kms.send(new ListResourceTagsCommand({ KeyId: key.KeyId }));
      const tag = (name: string) => tags.Tags?.find((entry) => entry.TagKey === name)?.TagValue;
      if (tag(MESH_TAG_KEY) === meshId && tag(ROOT_KEY_KIND_TAG_KEY) === ROOT_KEY_KIND) count += 1;
    }
    marker = page.Truncated ? page.NextMarker : undefined;
  } while (marker !== undefined);
  return count;
}

/**
 * The execution's cacerts backups (`backup/<execution>/*`) as Secrets Manager lists them, those
 * scheduled for deletion included, with the AWS API (not through the product's adapters); never read.
 */
export async function cacertsBackupsAtEnd(options: {
  readonly endpoint: string;
  readonly region: string;
  readonly credentials: LabCredentials;
  readonly meshId: string;
  readonly executionId: string;
}): Promise<CacertsBackupsAtEnd> {
  const client = new SecretsManagerClient({
    endpoint: options.endpoint,
    region: options.region,
    credentials: options.credentials,
  });
  const prefix = backupSecretPrefix(options.meshId, executionNameOf(options.executionId));
  let kept = 0;
  let deleting = 0;
  try {
    let nextToken: string | undefined;
    do {
      const page = await client.send(
        new ListSecretsCommand({
          Filters: [{ Key: 'name', Values: [prefix] }],
          IncludePlannedDeletion: true,
          NextToken: nextToken,
        }),
      );
      // The name filter matches prefixes case-insensitively; count exact matches only.
      for (const secret of (page.SecretList ?? []).filter((listed) => listed.Name?.startsWith(prefix))) {
        if (secret.DeletedDate === undefined) kept += 1;
        else deleting += 1;
      }
      nextToken = page.NextToken;
    } while (nextToken !== undefined);
    return { kept, deleting };
  } finally {
    client.destroy();
  }
}
