import { PreconditionFailed } from '../../core/rotation-errors.js';
import { type CaMaterial, parseCaMaterial, serialiseCaMaterial } from './ca-material.js';
import { CURRENT, type MeshSecrets } from './mesh-secrets.js';
import type { StoredRoot } from './root-material.js';
import { importedRootKeySecretName } from './secret-names.js';

/**
 * The private key of a root imported with `meshtrust import-root`, in a secret of its own
 * (`root-key/<rootVersionId>`) that the root version names (root-material.ts, key kind `secret`), until
 * a rotation retires that root and deletes the secret. Roots that meshtrust makes keep their key in KMS.
 */
export class ImportedRootKeyStore {
  private readonly secrets: MeshSecrets;

  constructor(secrets: MeshSecrets) {
    this.secrets = secrets;
  }

  /**
   * Stores an imported root's certificate and key as the current version of `root-key/<token>`, once
   * per token (a repeat with the same certificate finds it and puts its resource policy again, another
   * is refused). Returns the secret's name, for the root version to name.
   */
  async putImportedRootKey(token: string, material: CaMaterial): Promise<string> {
    const secretName = importedRootKeySecretName(this.secrets.meshId, token);
    const written = await this.secrets.putVersion(secretName, serialiseCaMaterial(material), {
      fingerprint: material.fingerprint,
      token,
      stages: [CURRENT],
      labels: { kind: 'root-key' },
      parse: (version, where) => parseCaMaterial(version.secretString, where).fingerprint,
    });
    // Found from an import stopped before the root version was written: put its policy as a new one gets.
    if (written.existed) await this.secrets.putPolicy(secretName, { kind: 'root-key' });
    return secretName;
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
    const version = await this.secrets.getVersion(key.secretName, { stage: CURRENT });
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
  deleteImportedRootKey(
    secretName: string,
    recoveryWindowDays: number,
  ): Promise<{ readonly deletionDate?: Date; readonly changed: boolean }> {
    return this.secrets.scheduleDeletion(secretName, recoveryWindowDays);
  }
}
