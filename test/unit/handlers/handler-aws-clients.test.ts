// A handler's bundle holds only the AWS clients its step calls (docs/architecture.md, "Lambda bundles"):
// the runtime module makes the CA store's and the fleet's, and every other one comes in through a
// connector the handler hands in. Built with the stack's own esbuild options, as the bench profiles them.
import { build } from 'esbuild';
import { handlerBuildOptions, handlerEntryOf } from '../../../bench/handler-profile.js';
import { entryPath } from '../../../lib/handler-entries.js';

const AWS_CLIENT = /node_modules\/@aws-sdk\/(client-[^/]+)\//;

/** The inputs a bundle of `entry` holds code of (paths from the project root). */
async function bundledInputs(entry: string): Promise<string[]> {
  const result = await build({ ...handlerBuildOptions(entry), write: false, metafile: true });
  return Object.values(result.metafile.outputs).flatMap((output) =>
    Object.entries(output.inputs).flatMap(([input, { bytesInOutput }]) => (bytesInOutput > 0 ? [input] : [])),
  );
}

/** The @aws-sdk/client-* packages a bundle of `entry` holds code of, sorted. */
async function bundledAwsClients(entry: string): Promise<string[]> {
  const clients = new Set<string>();
  for (const input of await bundledInputs(entry)) {
    const client = AWS_CLIENT.exec(input)?.[1];
    if (client !== undefined) clients.add(client);
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

describe('what HANDLER_ALIASES leaves out of a bundle', () => {
  it('is every credential source but the environment, and yaml’s CommonJS build', async () => {
    // Act: rollback, which assumes roles through STS and reads YAML.
    const inputs = await bundledInputs(handlerEntry('rollback'));
    // Assess
    const packages = new Set(inputs.map((input) => /node_modules\/((@[^/]+\/)?[^/]+)\//.exec(input)?.[1]));
    expect({
      environment: packages.has('@aws-sdk/credential-provider-env'),
      others: [...packages].filter((name) => /credential-provider-(?!env)|token-providers/.test(name ?? '')),
      sts: inputs.some((input) => input.includes('nested-clients/dist-es/submodules/sts/')),
      sso: inputs.some((input) => /nested-clients\/dist-es\/submodules\/sso/.test(input)),
      ours: inputs.includes('lambdas/adapters/lambda/lambda-credentials.ts'),
    }).toEqual({ environment: true, others: [], sts: true, sso: false, ours: true });
    expect(inputs.filter((input) => input.startsWith('node_modules/yaml/dist/'))).toEqual([]);
    expect(inputs.some((input) => input.startsWith('node_modules/yaml/browser/dist/'))).toBe(true);
  });

  it('is yaml’s parser in restart-workloads, which never parses YAML', async () => {
    // Act
    const inputs = await bundledInputs(handlerEntry('restart-workloads'));
    // Assess
    // yaml's parser and composer, the bulk of it, are left out; some of its modules' top-level code stays.
    expect(
      inputs.filter((input) => /node_modules\/yaml\/(.+\/)?(parse\/parser|compose\/)/.test(input)),
    ).toEqual([]);
  });
});
