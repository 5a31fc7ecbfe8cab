// The last step of a rehearsal: no private key may be in what it wrote. Every key the run could know
// of (the seeded root and intermediates, each cluster's ca-key.pem at the start and at the end, every
// key in the CA store) is looked for in every file of the report directory.
import { join } from 'node:path';
import type { SecretData } from '../lab/cacerts-snapshot.js';
import type { MotoServer } from '../lab/moto-server.js';
import { privateKeysInCaStore } from './ca-store-keys.js';
import type { RehearsalFleet } from './fleet/rehearsal-fleet.js';
import { filesWithPrivateKeys, keyFragments } from './private-key-scan.js';
import { PrivateKeyInReportError } from './rehearsal-errors.js';

export async function scanReportForPrivateKeys(input: {
  readonly outDir: string;
  readonly lab: RehearsalFleet;
  readonly moto: Pick<MotoServer, 'endpoint'>;
  readonly initialSecrets: ReadonlyMap<string, SecretData>;
  readonly finalSecrets: ReadonlyMap<string, SecretData>;
}): Promise<void> {
  const { outDir, lab, moto, initialSecrets, finalSecrets } = input;
  const knownKeys = [
    ...(lab.rootA === undefined ? [] : [lab.rootA.privateKeyPem]),
    ...lab.clusters.flatMap((cluster) =>
      cluster.initialIntermediate === undefined ? [] : [cluster.initialIntermediate.privateKeyPem],
    ),
    ...lab.clusters.map((cluster) => decoded(initialSecrets.get(cluster.name), 'ca-key.pem')),
    ...lab.clusters.map((cluster) => decoded(finalSecrets.get(cluster.name), 'ca-key.pem')),
    ...(await privateKeysInCaStore({
      endpoint: moto.endpoint,
      region: lab.region,
      credentials: lab.identities.rotator.credentials,
      prefix: `meshtrust/${lab.meshId}/`,
    })),
  ];
  const leaks = await filesWithPrivateKeys(outDir, keyFragments(knownKeys));
  if (leaks.length > 0) throw new PrivateKeyInReportError(leaks.map((file) => join(outDir, file)));
}

function decoded(data: SecretData | undefined, key: string): string {
  const value = data?.[key];
  return value === undefined ? '' : Buffer.from(value, 'base64').toString('utf8');
}
