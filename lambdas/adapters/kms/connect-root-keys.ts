import { KMSClient } from '@aws-sdk/client-kms';
import type { RootKeyPrincipals } from './root-key-policy.js';
import { RootKeys } from './root-keys.js';

export interface RootKeysConnection {
  readonly region: string;
  readonly meshId: string;
  /** The roles each new key's policy names (root-key-policy.ts); undefined: KMS's default policy. */
  readonly keyPrincipals?: RootKeyPrincipals;
}

/** The mesh's root keys and how to release the KMS client behind them. */
export interface ConnectedRootKeys {
  readonly rootKeys: RootKeys;
  close(): void;
}

/**
 * How a runtime reaches the root keys (application/runtime.ts): handed in by the handlers that make,
 * sign with or retire a root key, so that only their bundles hold the KMS client.
 */
export type RootKeysConnector = (connection: RootKeysConnection) => ConnectedRootKeys;

/** KMS of the mesh's region, with the default credential chain. */
export const connectRootKeys: RootKeysConnector = ({ region, meshId, keyPrincipals }) => {
  const client = new KMSClient({ region });
  return {
    rootKeys: new RootKeys({ client, meshId, ...(keyPrincipals !== undefined && { keyPrincipals }) }),
    close: () => client.destroy(),
  };
};
