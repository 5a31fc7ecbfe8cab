import { PreconditionFailed } from '../../core/rotation-errors.js';
import {
  type CaMaterial,
  parseCaMaterial,
  type SecretVersionRef,
  type StoredCa,
  serialiseCaMaterial,
} from './ca-material.js';
import { CURRENT, type MeshSecrets, type SecretVersion, storedAs } from './mesh-secrets.js';
import { intermediateSecretName } from './secret-names.js';

/**
 * Each cluster's intermediate CA, one secret per cluster (`intermediate/<cluster>`) whose AWSCURRENT
 * version is the intermediate in use, with its private key: istiod needs it in `cacerts`.
 */
export class IntermediateStore {
  private readonly secrets: MeshSecrets;

  constructor(secrets: MeshSecrets) {
    this.secrets = secrets;
  }

  intermediateSecretName(cluster: string): string {
    return intermediateSecretName(this.secrets.meshId, cluster);
  }

  /**
   * Stores a cluster's new intermediate as the current version of its secret (creating the secret
   * on first use). Idempotent for the token, as stageRoot.
   */
  async putIntermediate(cluster: string, material: CaMaterial, token: string): Promise<SecretVersionRef> {
    const name = this.intermediateSecretName(cluster);
    return (
      await this.secrets.putVersion(name, serialiseCaMaterial(material), {
        fingerprint: material.fingerprint,
        token,
        stages: [CURRENT],
        labels: { kind: 'intermediate-ca', cluster },
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
    const version = await this.secrets.getVersion(name, { stage: CURRENT });
    return version === undefined ? undefined : toStoredCa(version, `intermediate secret ${name}`);
  }
}

function toStoredCa(version: SecretVersion, where: string): StoredCa {
  return storedAs(version, parseCaMaterial(version.secretString, where));
}
