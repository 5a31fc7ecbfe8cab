// The mesh's root keys in AWS KMS (issue 13): stage-root creates one asymmetric SIGN_VERIFY key per
// rotation, every root certificate and intermediate it issues is signed with kms:Sign, and the key is
// disabled and scheduled for deletion when its root is retired or its rotation rolled back.
//
// KMS has no idempotency token for CreateKey, so each key gets an alias named after the root version
// it belongs to: a re-run finds the key by its alias instead of creating a second one. Between
// CreateKey and CreateAlias the key is found by its tags instead (`meshtrust.io/root-version`): a
// CreateKey whose answer was lost (KMS made the key, the caller got an error or a timeout) is sent
// once, never retried by the SDK, and every attempt after it, in this call or in a retry of the whole
// step, first looks for the key that attempt made and adopts it (`createOrFind`).
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  type KeyMetadata,
  type KeySpec,
  type KMSClient,
  ListResourceTagsCommand,
  paginateListAliases,
  paginateListKeys,
  ScheduleKeyDeletionCommand,
} from '@aws-sdk/client-kms';
import { MESH_TAG_KEY } from '../../contract/resource-tags.js';
import {
  ROOT_KEY_DELETION_WINDOW_DAYS,
  ROOT_KEY_KIND,
  ROOT_KEY_KIND_TAG_KEY,
  ROOT_KEY_SEARCH_LIMIT,
  ROOT_KEY_VERSION_TAG_KEY,
  rootKeyAliasPrefix,
} from '../../contract/root-keys.js';
import { MeshTrustError } from '../../core/meshtrust-error.js';
import type { CertificateSigner } from '../../core/pki/certificate-signer.js';
import type { KeyAlgorithm } from '../../core/pki/key-algorithm.js';
import { PreconditionFailed } from '../../core/rotation-errors.js';
import { DEFAULT_RETRY_POLICY, type RetryPolicy, withRetry } from '../retry.js';
import { KMS_SIGNING_KEYS, kmsCertificateSigner } from './kms-certificate-signer.js';
import { type RootKeyPrincipals, rootKeyPolicy } from './root-key-policy.js';

export interface RootKeysProps {
  readonly client: KMSClient;
  readonly meshId: string;
  /**
   * The roles each new key's policy names, per use (root-key-policy.ts).
   * @default KMS's default key policy (outside a deployed stack)
   */
  readonly keyPrincipals?: RootKeyPrincipals;
  readonly retry?: RetryPolicy;
  /**
   * How many unaliased keys of the account's region `createOrFind` reads the tags of, at most, when it
   * looks for a key an earlier attempt made (docs/security.md, "Finding a root key made twice").
   * @default ROOT_KEY_SEARCH_LIMIT
   */
  readonly searchLimit?: number;
}

/** A root key and whether this call created it. */
export interface RootKeyRef {
  readonly keyArn: string;
  readonly created: boolean;
  /**
   * The key was made for this root version by an earlier attempt whose CreateKey answer was lost (or
   * that stopped before naming it), found by its tags and named now instead of making a second key.
   */
  readonly adopted?: boolean;
  /**
   * Other enabled keys tagged with this root version (made twice: a CreateKey retried blind before this
   * look existed, or one KMS listed late), left as they are: no alias names them, so they signed nothing,
   * and the creator's key policy lets it neither disable nor delete a key. A rollback of the run retires
   * them (unnamedKeysOf); after a run that succeeded the operator does (docs/runbook.md, "stage-root: too
   * many KMS keys, or a root key with no alias"); the audit event names them.
   */
  readonly unnamedKeys?: readonly string[];
}

/** What `keyForVersion` found or made, before the key is named. */
interface UnnamedKey {
  readonly keyArn: string;
  readonly adopted: boolean;
  /** Other keys of the root version the search found. */
  readonly others: readonly KeyMetadata[];
}

/** What retiring a key did. */
export interface RetiredRootKey {
  readonly keyArn: string;
  /** false: the key was already disabled and scheduled for deletion (or gone). */
  readonly changed: boolean;
  readonly deletionDate?: Date;
}

export class RootKeys {
  private readonly client: KMSClient;
  private readonly meshId: string;
  private readonly keyPrincipals: RootKeyPrincipals | undefined;
  private readonly retry: RetryPolicy;
  private readonly searchLimit: number;

  constructor(props: RootKeysProps) {
    this.client = props.client;
    this.meshId = props.meshId;
    this.keyPrincipals = props.keyPrincipals;
    this.retry = props.retry ?? DEFAULT_RETRY_POLICY;
    this.searchLimit = props.searchLimit ?? ROOT_KEY_SEARCH_LIMIT;
  }

  /** The alias of the key of root version `rootVersionId`. */
  aliasFor(rootVersionId: string): string {
    return `${rootKeyAliasPrefix(this.meshId)}${rootVersionId}`;
  }

  /**
   * The key for root version `rootVersionId`: the one its alias names, else one an earlier attempt made
   * for it (found by its tags: its CreateKey answer was lost, or the attempt stopped before naming it),
   * else a new key of `algorithm`; named with the alias. Other keys of the version are named in the result.
   * Refuses an existing key that cannot sign as `algorithm` or is not enabled.
   */
  async createOrFind(rootVersionId: string, algorithm: KeyAlgorithm): Promise<RootKeyRef> {
    const alias = this.aliasFor(rootVersionId);
    const keySpec = keySpecOf(algorithm);
    const existing = await this.describe(alias);
    if (existing !== undefined) return { keyArn: this.checkUsable(existing, alias, keySpec), created: false };

    // Each attempt looks before it creates: an attempt whose CreateKey answer was lost made a key, and
    // the next one finds it (withRetry runs the whole look-then-create again, never CreateKey alone).
    let retried = false;
    const unnamed = await withRetry(
      async (attempt) => {
        if (attempt > 1) retried = true;
        return this.keyForVersion(rootVersionId, keySpec);
      },
      { ...this.retry, operation: 'KMS: create a root key' },
    );
    const named = await this.name(alias, unnamed.keyArn, keySpec);
    // Other keys of the version: the search's, and, after a failed attempt (perhaps a lost answer), any
    // KMS listed only later. They are named to the caller, not retired: stage-root may not disable a key.
    const others = retried ? await this.keysOfVersion(rootVersionId) : unnamed.others;
    const unnamedKeys = others
      .filter((key) => key.KeyState === 'Enabled' && key.Arn !== named.keyArn)
      .map((key) => key.Arn as string);
    return {
      keyArn: named.keyArn,
      created: named.created,
      ...(unnamed.adopted && named.created && { adopted: true }),
      ...(unnamedKeys.length > 0 && { unnamedKeys }),
    };
  }

  /**
   * A key of root version `rootVersionId` made by an earlier attempt (the oldest, if several), or else
   * a new one, made with one CreateKey request: the SDK does not retry it, since a retried CreateKey
   * whose first answer was lost makes a second key (KMS CreateKey takes no idempotency token).
   */
  private async keyForVersion(rootVersionId: string, keySpec: KeySpec): Promise<UnnamedKey> {
    const earlier = await this.keysOfVersion(rootVersionId);
    const [oldest, ...others] = earlier;
    if (oldest?.Arn !== undefined) return { keyArn: oldest.Arn, adopted: true, others };
    const command = new CreateKeyCommand({
      KeySpec: keySpec,
      KeyUsage: 'SIGN_VERIFY',
      ...(this.keyPrincipals !== undefined && { Policy: rootKeyPolicy(this.keyPrincipals) }),
      Description: `meshtrust ${this.meshId}: root CA key of root version ${rootVersionId}`,
      Tags: [
        { TagKey: MESH_TAG_KEY, TagValue: this.meshId },
        { TagKey: ROOT_KEY_KIND_TAG_KEY, TagValue: ROOT_KEY_KIND },
        { TagKey: ROOT_KEY_VERSION_TAG_KEY, TagValue: rootVersionId },
      ],
    });
    const created = await this.client.send(withoutSdkRetry(command));
    const keyArn = created.KeyMetadata?.Arn;
    if (keyArn === undefined) throw new MeshTrustError('KMS CreateKey returned no key ARN');
    return { keyArn, adopted: false, others: [] };
  }

  /**
   * Names `keyArn` with `alias`; the key the alias names in the end (ours, or a concurrent re-run's,
   * then ours is retired), and whether it is ours.
   */
  private async name(alias: string, keyArn: string, keySpec: KeySpec): Promise<RootKeyRef> {
    try {
      await this.call(`create alias ${alias}`, () =>
        this.client.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: keyArn })),
      );
      return { keyArn, created: true };
    } catch (error) {
      if (errorName(error) !== 'AlreadyExistsException') throw error;
      const winner = await this.describe(alias);
      // The alias names our key: our CreateAlias was made and its answer lost, and the SDK's retry of
      // it found the alias. Retiring the key here would retire the root's own key.
      if (winner?.Arn === keyArn) return { keyArn, created: true };
      // A concurrent re-run won the alias: use its key and retire ours, which signed nothing.
      await this.retire(keyArn, ROOT_KEY_DELETION_WINDOW_DAYS.min);
      if (winner === undefined) throw error;
      return { keyArn: this.checkUsable(winner, alias, keySpec), created: false };
    }
  }

  /**
   * The keys tagged as this mesh's root CA key of root version `rootVersionId` that are not pending
   * deletion, oldest first. Only keys no alias names are read (a key of this version with its alias
   * was found by the alias): ListAliases, ListKeys, then ListResourceTags per unaliased key, at most
   * `searchLimit` of them. A key whose tags the role may not read is not ours: every root key's own
   * policy lets its creator read its tags (root-key-policy.ts).
   */
  private async keysOfVersion(rootVersionId: string): Promise<KeyMetadata[]> {
    const aliased = new Set<string>();
    for await (const page of paginateListAliases({ client: this.client }, { Limit: 100 })) {
      for (const alias of page.Aliases ?? []) {
        if (alias.TargetKeyId !== undefined) aliased.add(alias.TargetKeyId);
      }
    }
    const unaliased: string[] = [];
    for await (const page of paginateListKeys({ client: this.client }, { Limit: 1000 })) {
      for (const key of page.Keys ?? []) {
        if (key.KeyId !== undefined && !aliased.has(key.KeyId)) unaliased.push(key.KeyId);
      }
    }
    if (unaliased.length > this.searchLimit) {
      throw new PreconditionFailed(
        `KMS holds ${unaliased.length} keys with no alias in this account and region, more than the ` +
          `${this.searchLimit} meshtrust looks through for the keys of root version ${rootVersionId} that no ` +
          'alias names (stage-root, for a key an earlier attempt made: KMS CreateKey takes no idempotency ' +
          'token, so this look is what keeps a retry from making a second root key; rollback, for every key ' +
          "of the root it drops). Schedule the deletion of unused keys, or run the mesh's stack in a region " +
          'with fewer, then start a new rotation, or resume the rollback with meshtrust retry-rollback ' +
          '(docs/runbook.md, "stage-root: too many KMS keys").',
      );
    }
    const found: KeyMetadata[] = [];
    for (const keyId of unaliased) {
      if (!(await this.isKeyOfVersion(keyId, rootVersionId))) continue;
      const described = await this.describe(keyId);
      if (described !== undefined && described.KeyState !== 'PendingDeletion') found.push(described);
    }
    return found.sort(
      (a, b) =>
        (a.CreationDate?.getTime() ?? 0) - (b.CreationDate?.getTime() ?? 0) ||
        (a.KeyId ?? '').localeCompare(b.KeyId ?? ''),
    );
  }

  /** Whether a key's tags name it this mesh's root CA key of `rootVersionId`; false for a key we may not read. */
  private async isKeyOfVersion(keyId: string, rootVersionId: string): Promise<boolean> {
    try {
      const { Tags = [] } = await this.call(`list tags of key ${keyId}`, () =>
        this.client.send(new ListResourceTagsCommand({ KeyId: keyId })),
      );
      const tag = (key: string) => Tags.find((entry) => entry.TagKey === key)?.TagValue;
      return (
        tag(MESH_TAG_KEY) === this.meshId &&
        tag(ROOT_KEY_KIND_TAG_KEY) === ROOT_KEY_KIND &&
        tag(ROOT_KEY_VERSION_TAG_KEY) === rootVersionId
      );
    } catch (error) {
      const name = errorName(error);
      if (name === 'AccessDeniedException' || name === 'NotFoundException') return false;
      throw error;
    }
  }

  /**
   * A certificate signer over a root key, refused (PreconditionFailed) unless the key is enabled: a
   * retired root's key must never sign again, and the error says so before KMS would.
   */
  async signer(keyArn: string): Promise<CertificateSigner> {
    const described = await this.describe(keyArn);
    if (described?.KeyState !== 'Enabled') {
      throw new PreconditionFailed(
        `Root key ${keyArn} is ${described?.KeyState ?? 'gone'}: its root was retired or rolled back, so it signs ` +
          'nothing more. Use the current root (meshtrust status shows it), or start a new rotation.',
      );
    }
    return kmsCertificateSigner(this.client, keyArn);
  }

  /** The ARN of root version `rootVersionId`'s key, or undefined when stage-root made none. */
  async find(rootVersionId: string): Promise<string | undefined> {
    return (await this.describe(this.aliasFor(rootVersionId)))?.Arn;
  }

  /**
   * The ARNs of the keys tagged as root version `rootVersionId`'s that no alias names and that are not
   * pending deletion, oldest first: a key stage-root made and never named (the run stopped or rolled
   * back before CreateAlias), or made twice. Found the way createOrFind looks for them, within the same
   * bound (PreconditionFailed beyond it). An aliased key, such as the current root's, is never among them.
   */
  async unnamedKeysOf(rootVersionId: string): Promise<string[]> {
    return (await this.keysOfVersion(rootVersionId)).map((key) => key.Arn as string);
  }

  /**
   * Disables the key at once and schedules its deletion after `windowDays` (7-30; KMS refuses a
   * disabled or pending key's Sign at once, and CancelKeyDeletion would bring it back disabled).
   * Idempotent: a key already pending deletion, or gone, is left as it is.
   */
  async retire(keyId: string, windowDays: number): Promise<RetiredRootKey> {
    const described = await this.describe(keyId);
    if (described === undefined || described.KeyState === 'PendingDeletion') {
      return { keyArn: described?.Arn ?? keyId, changed: false, ...deletionDateOf(described) };
    }
    const keyArn = described.Arn ?? keyId;
    // By key id, not ARN: moto 5.2.1 fails DisableKey and ScheduleKeyDeletion given an ARN (HTTP 500);
    // AWS takes either for a key of the caller's account, which a root key always is.
    const id = described.KeyId ?? keyId;
    if (described.KeyState === 'Enabled') {
      await this.call(`disable key ${keyArn}`, () => this.client.send(new DisableKeyCommand({ KeyId: id })));
    }
    const scheduled = await this.call(`schedule deletion of key ${keyArn}`, () =>
      this.client.send(new ScheduleKeyDeletionCommand({ KeyId: id, PendingWindowInDays: windowDays })),
    );
    return {
      keyArn,
      changed: true,
      ...(scheduled.DeletionDate !== undefined && { deletionDate: scheduled.DeletionDate }),
    };
  }

  private checkUsable(key: KeyMetadata, alias: string, keySpec: KeySpec): string {
    const spec = key.KeySpec ?? key.CustomerMasterKeySpec;
    if (key.KeyState !== 'Enabled' || key.KeyUsage !== 'SIGN_VERIFY' || spec !== keySpec) {
      throw new PreconditionFailed(
        `KMS key ${key.Arn} (${alias}) is ${key.KeyState ?? 'in no state'}, ${spec ?? 'of no spec'} for ` +
          `${key.KeyUsage ?? 'no usage'}; this root needs an enabled ${keySpec} SIGN_VERIFY key. It was retired ` +
          'or changed by hand: roll back this execution and start a new one.',
      );
    }
    return key.Arn as string;
  }

  private async describe(keyId: string): Promise<KeyMetadata | undefined> {
    try {
      const described = await this.call(`describe key ${keyId}`, () =>
        this.client.send(new DescribeKeyCommand({ KeyId: keyId })),
      );
      return described.KeyMetadata;
    } catch (error) {
      if (errorName(error) === 'NotFoundException') return undefined;
      throw error;
    }
  }

  private call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    return withRetry(fn, { ...this.retry, operation: `KMS: ${operation}` });
  }
}

/**
 * The command sent once: the SDK's retry middleware replaced, for this command alone, by one that
 * passes the request on. A retry is the caller's, after it has looked for what the first request made.
 */
function withoutSdkRetry<C extends CreateKeyCommand>(command: C): C {
  command.middlewareStack.add((next) => next, {
    name: 'retryMiddleware',
    step: 'finalizeRequest',
    priority: 'high',
    tags: ['RETRY'],
    override: true,
  });
  return command;
}

/** The KMS key spec of a key algorithm (every algorithm meshtrust offers has one). */
export function keySpecOf(algorithm: KeyAlgorithm): KeySpec {
  const found = Object.entries(KMS_SIGNING_KEYS).find(([, spec]) => spec.algorithm === algorithm);
  if (found === undefined) throw new RangeError(`No KMS key spec signs as ${algorithm}`);
  return found[0] as KeySpec;
}

function deletionDateOf(key: KeyMetadata | undefined): { deletionDate?: Date } {
  return key?.DeletionDate === undefined ? {} : { deletionDate: key.DeletionDate };
}

function errorName(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined;
}
