import { PreconditionFailed } from '../../core/rotation-errors.js';
import type { CaMaterial, SecretVersionRef } from './ca-material.js';
import type { ImportedRootKeyStore } from './imported-root-key-store.js';
import {
  CURRENT,
  type MeshSecrets,
  PENDING,
  PREVIOUS,
  type SecretVersion,
  storedAs,
  versionWithStage,
  type WrittenVersion,
} from './mesh-secrets.js';
import {
  parseRootMaterial,
  type RootMaterial,
  type StoredRoot,
  serialiseRootMaterial,
} from './root-material.js';
import { rootSecretName } from './secret-names.js';

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

/** The mesh's existing root to adopt; its private key when the mesh has it (not when it is offline). */
export interface ImportRootInput {
  readonly material: Omit<CaMaterial, 'privateKeyPem'> & { readonly privateKeyPem?: string };
  readonly token: string;
}

/** A new root to stage; the token becomes its version id. */
export interface StageRootInput {
  readonly material: RootMaterial;
  readonly token: string;
}

/**
 * The mesh's root CA, one secret whose versions are the roots and whose staging labels are the
 * rotation's state: AWSCURRENT the root the mesh trusts, AWSPENDING the one a rotation staged,
 * AWSPREVIOUS the one it replaced. A version holds the certificate and where its key is, never a key
 * (root-material.ts); the key of an imported root goes to ImportedRootKeyStore.
 */
export class RootStore {
  readonly rootSecretName: string;
  private readonly secrets: MeshSecrets;
  private readonly importedKeys: ImportedRootKeyStore;

  constructor(secrets: MeshSecrets, importedKeys: ImportedRootKeyStore) {
    this.rootSecretName = rootSecretName(secrets.meshId);
    this.secrets = secrets;
    this.importedKeys = importedKeys;
  }

  /** Which root versions are current, pending and previous; all absent when no root is stored. */
  async describeRoot(): Promise<RootStages> {
    const description = await this.secrets.describe(this.rootSecretName);
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
    const version = await this.secrets.getVersion(this.rootSecretName, { stage: CURRENT });
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
    const version = await this.secrets.getVersion(this.rootSecretName, { versionId });
    return version === undefined
      ? undefined
      : toStoredRoot(version, `root secret ${this.rootSecretName} version ${versionId}`);
  }

  /**
   * Stores the mesh's existing root as AWSCURRENT, once, when none is stored (adopting a mesh). With
   * its private key, the key goes to a secret of its own (`root-key/<token>`) that the root version
   * names; without, the root is `offline` (root-material.ts). Returns the current root unchanged when
   * it already is this certificate, after putting the resource policy on its secrets again (a root
   * imported before the store had a policy configured gets it so); refuses to replace a different current
   * root, which only a rotation may do.
   */
  async importRoot(input: ImportRootInput): Promise<SecretVersionRef> {
    const { material, token } = input;
    const stages = await this.describeRoot();
    if (stages.current !== undefined) {
      const current = await this.readRootVersion(stages.current);
      if (current.ref.fingerprint === material.fingerprint) {
        await this.secrets.putPolicy(this.rootSecretName, { kind: 'root-ca' });
        const { key } = current.material;
        if (key.kind === 'secret') await this.secrets.putPolicy(key.secretName, { kind: 'root-key' });
        return current.ref;
      }
      throw new PreconditionFailed(
        `Root secret ${this.rootSecretName} already holds a different current root ` +
          `(${current.ref.fingerprint}); importRoot never replaces it. Rotate the root instead.`,
      );
    }
    const { certificatePem, fingerprint, privateKeyPem } = material;
    const key: RootMaterial['key'] =
      privateKeyPem === undefined
        ? { kind: 'offline' }
        : {
            kind: 'secret',
            secretName: await this.importedKeys.putImportedRootKey(token, {
              certificatePem,
              privateKeyPem,
              fingerprint,
            }),
          };
    return (await this.putRootVersion({ certificatePem, fingerprint, key }, token, [CURRENT])).ref;
  }

  /**
   * Stores a new root as version AWSPENDING with ClientRequestToken = token (its version id).
   * Idempotent: if the token's version exists with the same fingerprint it is returned (and staged
   * AWSPENDING again if it has lost every label); with another fingerprint, while another version is
   * AWSPENDING (another rotation), or when no root is current, it throws PreconditionFailed before
   * writing.
   */
  async stageRoot(input: StageRootInput): Promise<SecretVersionRef> {
    const { material, token } = input;
    await this.checkCanStageRoot(token);
    const written = await this.putRootVersion(material, token, [PENDING]);
    if (written.existed && written.stages.length === 0) {
      await this.secrets.updateStage(this.rootSecretName, PENDING, { moveTo: token });
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
      await this.secrets.updateStage(this.rootSecretName, CURRENT, {
        moveTo: versionId,
        removeFrom: stages.current,
      });
    }
    if (stages.pending === versionId) {
      await this.secrets.updateStage(this.rootSecretName, PENDING, { removeFrom: versionId });
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
    await this.secrets.updateStage(this.rootSecretName, PENDING, { removeFrom: pending });
    return { droppedVersionId: pending };
  }

  private putRootVersion(material: RootMaterial, token: string, stages: string[]): Promise<WrittenVersion> {
    return this.secrets.putVersion(this.rootSecretName, serialiseRootMaterial(material), {
      fingerprint: material.fingerprint,
      token,
      stages,
      labels: { kind: 'root-ca' },
      parse: (version, where) => parseRootMaterial(version.secretString, where).fingerprint,
    });
  }
}

function toStoredRoot(version: SecretVersion, where: string): StoredRoot {
  return storedAs(version, parseRootMaterial(version.secretString, where));
}
