import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  type DescribeSecretCommandOutput,
  GetSecretValueCommand,
  ListSecretsCommand,
  PutResourcePolicyCommand,
  PutSecretValueCommand,
  type SecretsManagerClient,
  type Tag,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import type { CaSecretKind, CaSecretPolicyPrincipals } from '../../contract/ca-store.js';
import { MESH_TAG_KEY } from '../../contract/resource-tags.js';
import { caSecretPolicy } from '../../core/access/secret-policy.js';
import { PreconditionFailed } from '../../core/rotation-errors.js';
import { DEFAULT_RETRY_POLICY, type RetryPolicy, withRetry } from '../retry.js';
import type { SecretVersionRef } from './ca-material.js';
import { isValidClientRequestToken } from './client-request-token.js';

export const CURRENT = 'AWSCURRENT';
export const PENDING = 'AWSPENDING';
export const PREVIOUS = 'AWSPREVIOUS';

export interface MeshSecretsProps {
  readonly client: SecretsManagerClient;
  /** Names the mesh; every secret lives under `meshtrust/<meshId>/`. */
  readonly meshId: string;
  /**
   * KMS key (id, ARN or alias) that encrypts secrets this store creates.
   * @default the account's `aws/secretsmanager` key
   */
  readonly kmsKeyId?: string;
  /**
   * The roles each kind of secret's resource policy exempts (the stack's CA_SECRET_POLICY_ENV keys):
   * every secret this store creates gets that policy at once, and again whenever a write finds the
   * secret already there.
   * @default no resource policy (outside a deployed stack: the CLI, the lab, tests)
   */
  readonly secretPolicy?: CaSecretPolicyPrincipals;
  /**
   * Retries of each Secrets Manager call on throttling, 5xx and network errors, on top of the SDK's own.
   * @default 4 attempts, 200 ms base, 5 s max
   */
  readonly retry?: RetryPolicy;
}

/** The `meshtrust.io/...` tags of a secret the store creates, besides the mesh tag. */
export interface SecretLabels {
  readonly kind: 'root-ca' | 'root-key' | 'intermediate-ca' | 'cacerts-backup';
  readonly cluster?: string;
  readonly execution?: string;
}

const SECRET_KINDS: Readonly<Record<SecretLabels['kind'], CaSecretKind>> = {
  'root-ca': 'root',
  'root-key': 'importedRootKeys',
  'intermediate-ca': 'intermediates',
  'cacerts-backup': 'backups',
};

export interface SecretVersion {
  readonly arn: string;
  readonly versionId: string;
  readonly stages: readonly string[];
  readonly secretString: string | undefined;
}

export interface SecretDescription {
  readonly arn: string;
  /** Version id to its staging labels; versions without labels are not listed. */
  readonly versions: ReadonlyMap<string, readonly string[]>;
}

/** A version that putVersion wrote, or found under its token. */
export interface WrittenVersion {
  readonly ref: SecretVersionRef;
  readonly stages: readonly string[];
  /** The token's version was there already (a repeat), nothing was written. */
  readonly existed: boolean;
}

/**
 * The mesh's secrets on Secrets Manager, as the CA store's parts use them: versions read by id or stage,
 * certificates written once per ClientRequestToken, staging labels moved, secrets created with the
 * mesh's KMS key and tags. Every call is retried on throttling, 5xx and network errors (withRetry), and
 * the answers "not there" and "there already" become undefined, never errors.
 */
export class MeshSecrets {
  readonly meshId: string;
  private readonly client: SecretsManagerClient;
  private readonly kmsKeyId: string | undefined;
  private readonly secretPolicy: CaSecretPolicyPrincipals | undefined;
  private readonly retry: RetryPolicy;

  constructor(props: MeshSecretsProps) {
    this.meshId = props.meshId;
    this.client = props.client;
    this.kmsKeyId = props.kmsKeyId;
    this.secretPolicy = props.secretPolicy;
    this.retry = props.retry ?? DEFAULT_RETRY_POLICY;
  }

  /**
   * Writes a certificate's secret value under token unless a version with that token exists: then
   * its fingerprint must match, and the stored version is returned. The check comes first because a
   * backend may overwrite a reused token (moto does), so a repeat with other material is refused on
   * every backend, before anything is written.
   */
  async putVersion(
    name: string,
    secretString: string,
    options: {
      readonly fingerprint: string;
      readonly token: string;
      readonly stages: string[];
      /** The tags of the secret, when this creates it; its cluster also goes into a refusal. */
      readonly labels: SecretLabels;
      /** The fingerprint an existing version holds (and a check that it is well formed). */
      readonly parse: (version: SecretVersion, where: string) => string;
    },
  ): Promise<WrittenVersion> {
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
          { cluster: options.labels.cluster },
        );
      }
      return {
        ref: { arn: existing.arn, versionId: existing.versionId, fingerprint },
        stages: existing.stages,
        existed: true,
      };
    }
    await this.createSecret(name, options.labels);
    const put = await this.putSecretValue(name, secretString, token, options.stages);
    return {
      ref: { arn: put.arn, versionId: put.versionId, fingerprint },
      stages: options.stages,
      existed: false,
    };
  }

  /**
   * Creates the secret (with a first value when given); undefined when it exists already. Either way it
   * then puts the secret's resource policy (putPolicy), so a run stopped between the two puts it on retry.
   */
  async createSecret(
    name: string,
    labels: SecretLabels,
    value?: { readonly secretString: string; readonly token: string },
  ): Promise<{ arn: string; versionId: string } | undefined> {
    const created = await unlessAnswered('ResourceExistsException', async () => {
      const created = await this.call(`create secret ${name}`, () =>
        this.client.send(
          new CreateSecretCommand({
            Name: name,
            Description: `meshtrust CA store of mesh ${this.meshId}`,
            KmsKeyId: this.kmsKeyId,
            Tags: this.tags(labels),
            ...(value !== undefined && { SecretString: value.secretString, ClientRequestToken: value.token }),
          }),
        ),
      );
      return { arn: created.ARN ?? name, versionId: created.VersionId ?? '' };
    });
    await this.putPolicy(name, labels);
    return created;
  }

  /**
   * Puts the resource policy of the secret's kind (lambdas/core/access/secret-policy.ts): only the named
   * roles may read a key-holding secret's value, write it or delete it. Idempotent (the same document
   * again); nothing without a policy configured. BlockPublicPolicy: Secrets Manager refuses a policy
   * that would give access to anyone outside the account.
   */
  async putPolicy(name: string, labels: SecretLabels): Promise<void> {
    if (this.secretPolicy === undefined) return;
    const policy = JSON.stringify(caSecretPolicy(SECRET_KINDS[labels.kind], this.secretPolicy));
    await this.call(`put the resource policy of secret ${name}`, () =>
      this.client.send(
        new PutResourcePolicyCommand({ SecretId: name, ResourcePolicy: policy, BlockPublicPolicy: true }),
      ),
    );
  }

  async putSecretValue(
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

  async updateStage(
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

  /**
   * The secret's versions and their labels; undefined when it does not exist. A secret scheduled for
   * deletion is refused (PreconditionFailed): writing to it would fail, and reading it would mislead.
   */
  async describe(name: string): Promise<SecretDescription | undefined> {
    const described = await this.describeSecret(name);
    if (described === undefined) return undefined;
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
  }

  /** One version by id or stage; undefined when the secret or the version does not exist. */
  getVersion(
    name: string,
    which: { readonly versionId: string } | { readonly stage: string },
  ): Promise<SecretVersion | undefined> {
    return unlessAnswered('ResourceNotFoundException', async () => {
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
    });
  }

  /**
   * Schedules the deletion of a secret after a recovery window (7-30 days). Idempotent: a secret already
   * scheduled for deletion, or gone, is left as it is (changed: false).
   */
  async scheduleDeletion(
    name: string,
    recoveryWindowDays: number,
  ): Promise<{ readonly deletionDate?: Date; readonly changed: boolean }> {
    const described = await this.describeSecret(name);
    if (described === undefined || described.DeletedDate !== undefined) return { changed: false };
    const deleted = await this.call(`delete secret ${name}`, () =>
      this.client.send(new DeleteSecretCommand({ SecretId: name, RecoveryWindowInDays: recoveryWindowDays })),
    );
    return {
      ...(deleted.DeletionDate !== undefined && { deletionDate: deleted.DeletionDate }),
      changed: true,
    };
  }

  /**
   * The names of the secrets under a prefix, not scheduled for deletion. ListSecrets is eventually
   * consistent on AWS: a secret created seconds ago may be missing.
   */
  async listNames(prefix: string): Promise<string[]> {
    const names: string[] = [];
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
        if (name.startsWith(prefix) && secret.DeletedDate === undefined) names.push(name);
      }
      nextToken = page.NextToken;
    } while (nextToken !== undefined);
    return names;
  }

  private describeSecret(name: string): Promise<DescribeSecretCommandOutput | undefined> {
    return unlessAnswered('ResourceNotFoundException', () =>
      this.call(`describe secret ${name}`, () =>
        this.client.send(new DescribeSecretCommand({ SecretId: name })),
      ),
    );
  }

  private tags(labels: SecretLabels): Tag[] {
    return [
      { Key: MESH_TAG_KEY, Value: this.meshId },
      ...Object.entries(labels)
        .filter(([, value]) => value !== undefined)
        .map(([key, value]) => ({ Key: `meshtrust.io/${key}`, Value: value })),
    ];
  }

  private call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    return withRetry(fn, { ...this.retry, operation: `Secrets Manager: ${operation}` });
  }
}

/** The version that holds a staging label, if any. */
export function versionWithStage(description: SecretDescription, stage: string): string | undefined {
  for (const [versionId, stages] of description.versions) {
    if (stages.includes(stage)) return versionId;
  }
  return undefined;
}

/** A version's ref and stages with what it holds. */
export function storedAs<M extends { readonly fingerprint: string }>(
  version: SecretVersion,
  material: M,
): { ref: SecretVersionRef; stages: readonly string[]; material: M } {
  return {
    ref: { arn: version.arn, versionId: version.versionId, fingerprint: material.fingerprint },
    stages: version.stages,
    material,
  };
}

/**
 * fn's result, or undefined when Secrets Manager answers that the secret is not there
 * (ResourceNotFoundException) or there already (ResourceExistsException), whichever the caller expects.
 */
async function unlessAnswered<T>(
  answer: 'ResourceNotFoundException' | 'ResourceExistsException',
  fn: () => Promise<T>,
): Promise<T | undefined> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof Error && error.name === answer) return undefined;
    throw error;
  }
}
