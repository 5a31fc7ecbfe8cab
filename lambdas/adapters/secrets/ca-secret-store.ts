import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  type DescribeSecretCommandOutput,
  GetSecretValueCommand,
  ListSecretsCommand,
  PutSecretValueCommand,
  type SecretsManagerClient,
  type Tag,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { MESH_TAG_KEY } from '../../contract/resource-tags.js';
import { PreconditionFailed } from '../../core/rotation-errors.js';
import { type RetryOptions, withRetry } from '../retry.js';
import {
  type CaMaterial,
  parseCaMaterial,
  type SecretVersionRef,
  type StoredCa,
  serialiseCaMaterial,
} from './ca-material.js';
import {
  type CacertsBackup,
  type CacertsBackupRef,
  parseCacertsBackup,
  serialiseCacertsBackup,
} from './cacerts-backup.js';
import { clientRequestTokenFor, isValidClientRequestToken } from './client-request-token.js';
import {
  parseRootMaterial,
  type RootMaterial,
  type StoredRoot,
  serialiseRootMaterial,
} from './root-material.js';
import {
  backupSecretName,
  backupSecretPrefix,
  importedRootKeySecretName,
  intermediateSecretName,
  rootSecretName,
} from './secret-names.js';

export const CURRENT = 'AWSCURRENT';
export const PENDING = 'AWSPENDING';
export const PREVIOUS = 'AWSPREVIOUS';

export interface CaSecretStoreProps {
  readonly client: SecretsManagerClient;
  /** Names the mesh; every secret lives under `meshtrust/<meshId>/`. */
  readonly meshId: string;
  /**
   * KMS key (id, ARN or alias) that encrypts secrets this store creates.
   * @default the account's `aws/secretsmanager` key
   */
  readonly kmsKeyId?: string;
  /**
   * Retries of each Secrets Manager call on throttling, 5xx and network errors, on top of the SDK's own.
   * @default 4 attempts, 200 ms base, 5 s max
   */
  readonly retry?: Pick<RetryOptions, 'attempts' | 'baseDelayMs' | 'maxDelayMs'>;
}

/** The staging labels of the root secret: which version is current, pending, previous. */
export interface RootStages {
  readonly arn?: string;
  readonly current?: string;
  readonly pending?: string;
  readonly previous?: string;
}

/** A root version after promotion, and the version that was current before it. */
export interface PromotedRoot extends SecretVersionRef {
  readonly previousVersionId?: string;
}

interface SecretVersion {
  readonly arn: string;
  readonly versionId: string;
  readonly stages: readonly string[];
  readonly secretString: string | undefined;
}

interface SecretDescription {
  readonly arn: string;
  /** Version id to its staging labels; versions without labels are not listed. */
  readonly versions: ReadonlyMap<string, readonly string[]>;
}

/**
 * The CA store of one mesh on Secrets Manager: the root CA, each cluster's intermediate CA and the
 * per-execution backups of each cluster's `cacerts` (layout in secret-names.ts, docs/adapters.md).
 *
 * Every write checks what is stored before writing and is idempotent for a given ClientRequestToken
 * (see clientRequestTokenFor): a repeat with the same material returns the stored version, a repeat
 * with different material is refused. Real Secrets Manager refuses such a repeat too, but moto
 * silently overwrites it, so the check is ours and does not depend on the backend.
 *
 * The root secret holds no private key (root-material.ts: a KMS key reference, or the name of an
 * imported root's key secret). Only readImportedRootKey, (try)readIntermediate and readCacertsBackup
 * return private keys, for in-process use; everything else returns ARNs, version ids and fingerprints.
 */
export class CaSecretStore {
  readonly meshId: string;
  readonly rootSecretName: string;
  private readonly client: SecretsManagerClient;
  private readonly kmsKeyId: string | undefined;
  private readonly retry: Pick<RetryOptions, 'attempts' | 'baseDelayMs' | 'maxDelayMs'>;

  constructor(props: CaSecretStoreProps) {
    this.meshId = props.meshId;
    this.rootSecretName = rootSecretName(props.meshId);
    this.client = props.client;
    this.kmsKeyId = props.kmsKeyId;
    this.retry = props.retry ?? { attempts: 4, baseDelayMs: 200, maxDelayMs: 5000 };
  }

  intermediateSecretName(cluster: string): string {
    return intermediateSecretName(this.meshId, cluster);
  }

  backupSecretName(executionName: string, cluster: string): string {
    return backupSecretName(this.meshId, executionName, cluster);
  }

  // ---- root -------------------------------------------------------------------------------------

  /** Which root versions are current, pending and previous; all absent when no root is stored. */
  async describeRoot(): Promise<RootStages> {
    const description = await this.describe(this.rootSecretName);
    if (description === undefined) return {};
    return {
      arn: description.arn,
      current: versionWithStage(description, CURRENT),
      pending: versionWithStage(description, PENDING),
      previous: versionWithStage(description, PREVIOUS),
    };
  }

  /** The root the mesh trusts now (AWSCURRENT): its certificate and where its key is. */
  async readCurrentRoot(): Promise<StoredRoot> {
    const version = await this.getVersion(this.rootSecretName, { stage: CURRENT });
    if (version === undefined) {
      throw new PreconditionFailed(
        `No current root CA is stored in ${this.rootSecretName}. Import the mesh's current root ` +
          '(meshtrust import-root) before rotating.',
      );
    }
    return toStoredRoot(version, `root secret ${this.rootSecretName}`);
  }

  /** One version of the root secret. */
  async readRootVersion(versionId: string): Promise<StoredRoot> {
    const version = await this.tryReadRootVersion(versionId);
    if (version === undefined) {
      throw new PreconditionFailed(
        `Root secret ${this.rootSecretName} has no version ${versionId}. Check the version id passed ` +
          'from the stage-root step, or stage the root again.',
      );
    }
    return version;
  }

  /** One version of the root secret, or undefined when there is none (e.g. nothing was staged). */
  async tryReadRootVersion(versionId: string): Promise<StoredRoot | undefined> {
    const version = await this.getVersion(this.rootSecretName, { versionId });
    return version === undefined
      ? undefined
      : toStoredRoot(version, `root secret ${this.rootSecretName} version ${versionId}`);
  }

  /**
   * Stores the mesh's existing root as AWSCURRENT, once, when none is stored (adopting a mesh). With
   * its private key, the key goes to a secret of its own (`root-key/<token>`) that the root version
   * names; without, the root is `offline` (root-material.ts). Returns the current root unchanged when
   * it already is this certificate; refuses to replace a different current root, which only a rotation
   * may do.
   */
  async importRoot(input: {
    readonly material: Omit<CaMaterial, 'privateKeyPem'> & { readonly privateKeyPem?: string };
    readonly token: string;
  }): Promise<SecretVersionRef> {
    const { material, token } = input;
    const stages = await this.describeRoot();
    if (stages.current !== undefined) {
      const current = await this.readRootVersion(stages.current);
      if (current.ref.fingerprint === material.fingerprint) return current.ref;
      throw new PreconditionFailed(
        `Root secret ${this.rootSecretName} already holds a different current root ` +
          `(${current.ref.fingerprint}); importRoot never replaces it. Rotate the root instead.`,
      );
    }
    const { certificatePem, fingerprint, privateKeyPem } = material;
    let key: RootMaterial['key'] = { kind: 'offline' };
    if (privateKeyPem !== undefined) {
      const secretName = importedRootKeySecretName(this.meshId, token);
      await this.putVersion(secretName, serialiseCaMaterial({ certificatePem, privateKeyPem, fingerprint }), {
        fingerprint,
        token,
        stages: [CURRENT],
        kind: 'root-key',
        parse: (version, where) => parseCaMaterial(version.secretString, where).fingerprint,
      });
      key = { kind: 'secret', secretName };
    }
    return (await this.putRootVersion({ certificatePem, fingerprint, key }, token, [CURRENT])).ref;
  }

  /**
   * The certificate and private key of an imported root (key kind `secret`), checked to be the key of
   * that root's certificate by fingerprint. For in-process signing only.
   */
  async readImportedRootKey(root: StoredRoot): Promise<CaMaterial> {
    const { key } = root.material;
    if (key.kind !== 'secret') {
      throw new TypeError(
        `readImportedRootKey needs a root whose key is a secret, this one's is ${key.kind}`,
      );
    }
    const version = await this.getVersion(key.secretName, { stage: CURRENT });
    if (version === undefined) {
      throw new PreconditionFailed(
        `Root ${root.ref.fingerprint} names its key secret ${key.secretName}, which does not exist or is being ` +
          'deleted; the root cannot sign. Import the root again (meshtrust import-root) or run a scheduled rotation.',
      );
    }
    const material = parseCaMaterial(version.secretString, `root key secret ${key.secretName}`);
    if (material.fingerprint !== root.ref.fingerprint) {
      throw new PreconditionFailed(
        `Root key secret ${key.secretName} holds the key of certificate ${material.fingerprint}, not of root ` +
          `${root.ref.fingerprint}; someone changed the CA store. Import the root again.`,
      );
    }
    return material;
  }

  /**
   * Schedules the deletion of an imported root's key secret, after a recovery window of 7-30 days.
   * Idempotent: a secret already scheduled for deletion, or gone, is left as it is.
   */
  async deleteImportedRootKey(
    secretName: string,
    recoveryWindowDays: number,
  ): Promise<{ readonly deletionDate?: Date; readonly changed: boolean }> {
    let described: DescribeSecretCommandOutput;
    try {
      described = await this.call(`describe secret ${secretName}`, () =>
        this.client.send(new DescribeSecretCommand({ SecretId: secretName })),
      );
    } catch (error) {
      if (errorName(error) === 'ResourceNotFoundException') return { changed: false };
      throw error;
    }
    if (described.DeletedDate !== undefined) return { changed: false };
    const deleted = await this.call(`delete secret ${secretName}`, () =>
      this.client.send(
        new DeleteSecretCommand({ SecretId: secretName, RecoveryWindowInDays: recoveryWindowDays }),
      ),
    );
    return {
      ...(deleted.DeletionDate !== undefined && { deletionDate: deleted.DeletionDate }),
      changed: true,
    };
  }

  /**
   * Stores a new root as version AWSPENDING with ClientRequestToken = token (its version id).
   * Idempotent: if the token's version exists with the same fingerprint it is returned (and staged
   * AWSPENDING again if it has lost every label); with another fingerprint, while another version is
   * AWSPENDING (another rotation), or when no root is current, it throws PreconditionFailed before
   * writing.
   */
  async stageRoot(input: {
    readonly material: RootMaterial;
    readonly token: string;
  }): Promise<SecretVersionRef> {
    const { material, token } = input;
    await this.checkCanStageRoot(token);
    const written = await this.putRootVersion(material, token, [PENDING]);
    if (written.existed && written.stages.length === 0) {
      await this.updateStage(this.rootSecretName, PENDING, { moveTo: token });
    }
    return written.ref;
  }

  /**
   * Refuses (PreconditionFailed) what stageRoot would refuse before writing: no current root, or
   * another version pending. For callers that must create something (a KMS key) before staging.
   */
  async checkCanStageRoot(token: string): Promise<void> {
    const stages = await this.describeRoot();
    // Secrets Manager makes the first version of a secret AWSCURRENT whatever stage is asked for, so
    // staging without a current root would trust the new root at once.
    if (stages.current === undefined) {
      throw new PreconditionFailed(
        `Root secret ${this.rootSecretName} holds no current root, so a staged root would become current at ` +
          "once. Import the mesh's current root (meshtrust import-root) before rotating.",
      );
    }
    if (stages.pending !== undefined && stages.pending !== token) {
      throw new PreconditionFailed(
        `Root secret ${this.rootSecretName} already has a pending root (version ${stages.pending}) from ` +
          'another rotation. Finish or roll back that rotation (rollback drops AWSPENDING) before staging.',
      );
    }
  }

  /**
   * Makes a staged root current: AWSCURRENT moves to it (Secrets Manager moves AWSPREVIOUS to the
   * version that was current), then AWSPENDING is removed. Idempotent: on an already current version
   * it only removes a leftover AWSPENDING. Refuses a version that is neither pending nor current.
   */
  async promoteRoot(input: { readonly versionId: string }): Promise<PromotedRoot> {
    const { versionId } = input;
    const target = await this.readRootVersion(versionId);
    const stages = await this.describeRoot();
    const isCurrent = stages.current === versionId;
    if (!isCurrent && stages.pending !== versionId) {
      throw new PreconditionFailed(
        `Root version ${versionId} of ${this.rootSecretName} is not staged (AWSPENDING) nor current; ` +
          'promoteRoot only promotes the root this rotation staged. Stage it again or check the version id.',
      );
    }
    // AWSCURRENT first: if the step stops between the two calls, a re-run sees the version current
    // and only has the AWSPENDING label left to remove.
    if (!isCurrent) {
      await this.updateStage(this.rootSecretName, CURRENT, { moveTo: versionId, removeFrom: stages.current });
    }
    if (stages.pending === versionId) {
      await this.updateStage(this.rootSecretName, PENDING, { removeFrom: versionId });
    }
    const previousVersionId = isCurrent ? stages.previous : stages.current;
    return { ...target.ref, ...(previousVersionId !== undefined && { previousVersionId }) };
  }

  /**
   * Rollback: removes AWSPENDING from whichever version has it, or only from versionId when given.
   * A no-op when no version is pending (or another one is); returns the version it dropped.
   */
  async dropPendingRoot(input: { readonly versionId?: string } = {}): Promise<{ droppedVersionId?: string }> {
    const { pending } = await this.describeRoot();
    if (pending === undefined || (input.versionId !== undefined && pending !== input.versionId)) return {};
    await this.updateStage(this.rootSecretName, PENDING, { removeFrom: pending });
    return { droppedVersionId: pending };
  }

  // ---- intermediates ----------------------------------------------------------------------------

  /**
   * Stores a cluster's new intermediate as the current version of its secret (creating the secret
   * on first use). Idempotent for the token, as stageRoot.
   */
  async putIntermediate(cluster: string, material: CaMaterial, token: string): Promise<SecretVersionRef> {
    const name = this.intermediateSecretName(cluster);
    return (
      await this.putVersion(name, serialiseCaMaterial(material), {
        fingerprint: material.fingerprint,
        token,
        stages: [CURRENT],
        kind: 'intermediate-ca',
        cluster,
        parse: (version, where) => toStoredCa(version, where).ref.fingerprint,
      })
    ).ref;
  }

  /** A cluster's current intermediate, with its key. */
  async readIntermediate(cluster: string): Promise<StoredCa> {
    const stored = await this.tryReadIntermediate(cluster);
    if (stored === undefined) {
      throw new PreconditionFailed(
        `No intermediate CA is stored for cluster ${cluster} in ${this.intermediateSecretName(cluster)}.`,
        { cluster },
      );
    }
    return stored;
  }

  /** The cluster's current intermediate, or undefined when none was stored yet (a first rotation). */
  async tryReadIntermediate(cluster: string): Promise<StoredCa | undefined> {
    const name = this.intermediateSecretName(cluster);
    const version = await this.getVersion(name, { stage: CURRENT });
    return version === undefined ? undefined : toStoredCa(version, `intermediate secret ${name}`);
  }

  // ---- cacerts backups --------------------------------------------------------------------------

  /**
   * Backs up a cluster's `cacerts` for an execution. The first backup is the start state to restore,
   * so an existing backup is kept and returned (created: false), never overwritten.
   */
  async backupCacerts(
    executionName: string,
    cluster: string,
    backup: CacertsBackup,
  ): Promise<CacertsBackupRef & { readonly created: boolean }> {
    const name = this.backupSecretName(executionName, cluster);
    const secretString = serialiseCacertsBackup(backup, new Date());
    const existing = await this.getVersion(name, { stage: CURRENT });
    if (existing !== undefined) return { ...this.backupRef(existing, cluster), created: false };

    const token = clientRequestTokenFor(name, 'cacerts-backup');
    const tags = this.tags({ kind: 'cacerts-backup', cluster, execution: executionName });
    const created = await this.createSecret(name, tags, { secretString, token });
    if (created !== undefined) {
      return {
        arn: created.arn,
        versionId: created.versionId,
        cluster,
        resourceVersion: backup.resourceVersion,
        created: true,
      };
    }
    // Someone created the secret between our read and our create: keep theirs if it holds a value.
    const raced = await this.getVersion(name, { stage: CURRENT });
    if (raced !== undefined) return { ...this.backupRef(raced, cluster), created: false };
    const put = await this.putSecretValue(name, secretString, token, [CURRENT]);
    return {
      arn: put.arn,
      versionId: put.versionId,
      cluster,
      resourceVersion: backup.resourceVersion,
      created: true,
    };
  }

  /** The backup of a cluster's `cacerts` for an execution, or undefined when there is none. */
  async readCacertsBackup(executionName: string, cluster: string): Promise<CacertsBackup | undefined> {
    const name = this.backupSecretName(executionName, cluster);
    const version = await this.getVersion(name, { stage: CURRENT });
    if (version === undefined) return undefined;
    return parseCacertsBackup(version.secretString, `cacerts backup ${name}`);
  }

  /**
   * The clusters with a backup for an execution. ListSecrets is eventually consistent on AWS: a
   * backup made seconds ago may be missing, so rollback should call readCacertsBackup for each
   * cluster of its plan and use this list only to find extra ones.
   */
  async listCacertsBackups(executionName: string): Promise<string[]> {
    const prefix = backupSecretPrefix(this.meshId, executionName);
    const clusters: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.call(`list secrets under ${prefix}`, () =>
        this.client.send(
          new ListSecretsCommand({ Filters: [{ Key: 'name', Values: [prefix] }], NextToken: nextToken }),
        ),
      );
      for (const secret of page.SecretList ?? []) {
        // The name filter matches prefixes case-insensitively; keep exact matches only.
        const name = secret.Name ?? '';
        if (name.startsWith(prefix) && secret.DeletedDate === undefined)
          clusters.push(name.slice(prefix.length));
      }
      nextToken = page.NextToken;
    } while (nextToken !== undefined);
    return clusters.sort();
  }

  // ---- building blocks --------------------------------------------------------------------------

  private putRootVersion(
    material: RootMaterial,
    token: string,
    stages: string[],
  ): Promise<{ ref: SecretVersionRef; stages: readonly string[]; existed: boolean }> {
    return this.putVersion(this.rootSecretName, serialiseRootMaterial(material), {
      fingerprint: material.fingerprint,
      token,
      stages,
      kind: 'root-ca',
      parse: (version, where) => parseRootMaterial(version.secretString, where).fingerprint,
    });
  }

  /**
   * Writes a certificate's secret value under token unless a version with that token exists: then
   * its fingerprint must match. The check comes first because a backend may overwrite a reused token
   * (moto does).
   */
  private async putVersion(
    name: string,
    secretString: string,
    options: {
      readonly fingerprint: string;
      readonly token: string;
      readonly stages: string[];
      /** The `meshtrust.io/kind` tag of a secret this creates. */
      readonly kind: string;
      readonly cluster?: string;
      /** The fingerprint an existing version holds (and a check that it is well formed). */
      readonly parse: (version: SecretVersion, where: string) => string;
    },
  ): Promise<{ ref: SecretVersionRef; stages: readonly string[]; existed: boolean }> {
    const { fingerprint, token } = options;
    if (!isValidClientRequestToken(token)) {
      throw new RangeError(
        `A ClientRequestToken must have 32-64 characters, got ${token.length}; derive it with clientRequestTokenFor`,
      );
    }
    const existing = await this.getVersion(name, { versionId: token });
    if (existing !== undefined) {
      const stored = options.parse(existing, `secret ${name} version ${token}`);
      if (stored !== fingerprint) {
        throw new PreconditionFailed(
          `Secret ${name} already has version ${token} holding certificate ${stored}, not ` +
            `${fingerprint}. A re-run must store the same CA; nothing was written. Use the stored ` +
            'version, or roll back and start a new execution.',
          { cluster: options.cluster },
        );
      }
      return {
        ref: { arn: existing.arn, versionId: existing.versionId, fingerprint },
        stages: existing.stages,
        existed: true,
      };
    }
    const tags = this.tags({
      kind: options.kind,
      ...(options.cluster !== undefined && { cluster: options.cluster }),
    });
    await this.createSecret(name, tags);
    const put = await this.putSecretValue(name, secretString, token, options.stages);
    return {
      ref: { arn: put.arn, versionId: put.versionId, fingerprint },
      stages: options.stages,
      existed: false,
    };
  }

  /** Creates the secret (with a first value when given); undefined when it exists already. */
  private async createSecret(
    name: string,
    tags: Tag[],
    value?: { readonly secretString: string; readonly token: string },
  ): Promise<{ arn: string; versionId: string } | undefined> {
    try {
      const created = await this.call(`create secret ${name}`, () =>
        this.client.send(
          new CreateSecretCommand({
            Name: name,
            Description: `meshtrust CA store of mesh ${this.meshId}`,
            KmsKeyId: this.kmsKeyId,
            Tags: tags,
            ...(value !== undefined && { SecretString: value.secretString, ClientRequestToken: value.token }),
          }),
        ),
      );
      return { arn: created.ARN ?? name, versionId: created.VersionId ?? '' };
    } catch (error) {
      if (errorName(error) === 'ResourceExistsException') return undefined;
      throw error;
    }
  }

  private async putSecretValue(
    name: string,
    secretString: string,
    token: string,
    stages: string[],
  ): Promise<{ arn: string; versionId: string }> {
    const put = await this.call(`put a value into secret ${name}`, () =>
      this.client.send(
        new PutSecretValueCommand({
          SecretId: name,
          SecretString: secretString,
          ClientRequestToken: token,
          VersionStages: stages,
        }),
      ),
    );
    return { arn: put.ARN ?? name, versionId: put.VersionId ?? token };
  }

  private async updateStage(
    name: string,
    stage: string,
    move: { readonly moveTo?: string; readonly removeFrom?: string },
  ): Promise<void> {
    await this.call(`move label ${stage} of secret ${name}`, () =>
      this.client.send(
        new UpdateSecretVersionStageCommand({
          SecretId: name,
          VersionStage: stage,
          MoveToVersionId: move.moveTo,
          RemoveFromVersionId: move.removeFrom,
        }),
      ),
    );
  }

  private async describe(name: string): Promise<SecretDescription | undefined> {
    try {
      const described = await this.call(`describe secret ${name}`, () =>
        this.client.send(new DescribeSecretCommand({ SecretId: name })),
      );
      if (described.DeletedDate !== undefined) {
        throw new PreconditionFailed(
          `Secret ${name} is scheduled for deletion. Restore it (aws secretsmanager restore-secret) or wait ` +
            'until it is deleted, then run again.',
        );
      }
      return {
        arn: described.ARN ?? name,
        versions: new Map(Object.entries(described.VersionIdsToStages ?? {})),
      };
    } catch (error) {
      if (errorName(error) === 'ResourceNotFoundException') return undefined;
      throw error;
    }
  }

  /** One version by id or stage; undefined when the secret or the version does not exist. */
  private async getVersion(
    name: string,
    which: { readonly versionId: string } | { readonly stage: string },
  ): Promise<SecretVersion | undefined> {
    try {
      const value = await this.call(`read secret ${name}`, () =>
        this.client.send(
          new GetSecretValueCommand({
            SecretId: name,
            ...('versionId' in which ? { VersionId: which.versionId } : { VersionStage: which.stage }),
          }),
        ),
      );
      return {
        arn: value.ARN ?? name,
        versionId: value.VersionId ?? '',
        stages: value.VersionStages ?? [],
        secretString: value.SecretString,
      };
    } catch (error) {
      if (errorName(error) === 'ResourceNotFoundException') return undefined;
      throw error;
    }
  }

  private backupRef(version: SecretVersion, cluster: string): CacertsBackupRef {
    const backup = parseCacertsBackup(version.secretString, `cacerts backup ${version.arn}`);
    return {
      arn: version.arn,
      versionId: version.versionId,
      cluster,
      resourceVersion: backup.resourceVersion,
    };
  }

  private tags(extra: Record<string, string>): Tag[] {
    return [
      { Key: MESH_TAG_KEY, Value: this.meshId },
      ...Object.entries(extra).map(([key, value]) => ({ Key: `meshtrust.io/${key}`, Value: value })),
    ];
  }

  private call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    return withRetry(fn, { ...this.retry, operation: `Secrets Manager: ${operation}` });
  }
}

function versionWithStage(description: SecretDescription, stage: string): string | undefined {
  for (const [versionId, stages] of description.versions) {
    if (stages.includes(stage)) return versionId;
  }
  return undefined;
}

function toStoredRoot(version: SecretVersion, where: string): StoredRoot {
  return storedAs(version, parseRootMaterial(version.secretString, where));
}

function toStoredCa(version: SecretVersion, where: string): StoredCa {
  return storedAs(version, parseCaMaterial(version.secretString, where));
}

/** A version's ref and stages with what it holds. */
function storedAs<M extends { readonly fingerprint: string }>(
  version: SecretVersion,
  material: M,
): { ref: SecretVersionRef; stages: readonly string[]; material: M } {
  return {
    ref: { arn: version.arn, versionId: version.versionId, fingerprint: material.fingerprint },
    stages: version.stages,
    material,
  };
}

function errorName(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined;
}
