// The private keys the CA store holds at the end of a rehearsal (root B, the new intermediates), read
// back from moto only so the key scan can look for them in the report. They stay in memory.
import {
  GetSecretValueCommand,
  ListSecretsCommand,
  ListSecretVersionIdsCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { LabCredentials } from '../lab/eks/lab-identities.js';

export async function privateKeysInCaStore(options: {
  readonly endpoint: string;
  readonly region: string;
  readonly credentials: LabCredentials;
  readonly prefix: string;
}): Promise<string[]> {
  const client = new SecretsManagerClient({
    endpoint: options.endpoint,
    region: options.region,
    credentials: options.credentials,
  });
  const keys: string[] = [];
  try {
    let nextToken: string | undefined;
    do {
      const page = await client.send(
        new ListSecretsCommand({
          Filters: [{ Key: 'name', Values: [options.prefix] }],
          NextToken: nextToken,
        }),
      );
      nextToken = page.NextToken;
      for (const secret of page.SecretList ?? []) {
        const versions = await client.send(
          new ListSecretVersionIdsCommand({ SecretId: secret.ARN, IncludeDeprecated: true }),
        );
        for (const version of versions.Versions ?? []) {
          const value = await client.send(
            new GetSecretValueCommand({ SecretId: secret.ARN, VersionId: version.VersionId }),
          );
          if (value.SecretString !== undefined) keys.push(value.SecretString.replaceAll('\\n', '\n'));
        }
      }
    } while (nextToken !== undefined);
  } finally {
    client.destroy();
  }
  return keys;
}
