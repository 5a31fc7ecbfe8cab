// A handler's bundle holds only the AWS clients its step calls (docs/architecture.md, "Lambda bundles"):
// the runtime module makes the CA store's and the fleet's, and every other one comes in through a
// connector the handler hands in. Built with the stack's own esbuild options, as the bench profiles them.
import { build } from 'esbuild';
import { handlerBuildOptions, handlerEntryOf } from '../../../bench/handler-profile.js';
import { entryPath } from '../../../lib/handler-entries.js';

const AWS_CLIENT = /node_modules\/@aws-sdk\/(client-[^/]+)\//;

/** The @aws-sdk/client-* packages a bundle of `entry` holds code of, sorted. */
async function bundledAwsClients(entry: string): Promise<string[]> {
  const result = await build({ ...handlerBuildOptions(entry), write: false, metafile: true });
  const clients = new Set<string>();
  for (const output of Object.values(result.metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const client = AWS_CLIENT.exec(input)?.[1];
      if (client !== undefined && bytesInOutput > 0) clients.add(client);
    }
  }
  return [...clients].sort();
}

function handlerEntry(name: string): string {
  const entry = handlerEntryOf(name);
  if (entry === undefined) throw new Error(`no handler ${name}`);
  return entry;
}

describe('the AWS clients in a bundle', () => {
  it('are only the CA store and fleet clients for the runtime module alone', async () => {
    // Act
    const clients = await bundledAwsClients(entryPath('lambdas/application/runtime.ts'));
    // Assess
    expect(clients).toEqual(['client-eks', 'client-secrets-manager']);
  });

  it.each(['check-expiry', 'verify-workloads'])(
    'hold no KMS, DynamoDB or Step Functions client in %s, which reads only',
    async (name) => {
      // Act
      const clients = await bundledAwsClients(handlerEntry(name));
      // Assess
      expect(clients).toEqual(['client-eks', 'client-secrets-manager']);
    },
  );

  it('hold the lock clients but not KMS in distribute-bundle, which writes but signs nothing', async () => {
    // Act
    const clients = await bundledAwsClients(handlerEntry('distribute-bundle'));
    // Assess
    expect(clients).toEqual(['client-dynamodb', 'client-eks', 'client-secrets-manager', 'client-sfn']);
  });

  it('hold KMS in stage-root, which makes the root key', async () => {
    // Act
    const clients = await bundledAwsClients(handlerEntry('stage-root'));
    // Assess
    expect(clients).toContain('client-kms');
  });
});
