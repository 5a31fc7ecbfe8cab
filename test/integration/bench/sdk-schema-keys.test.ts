// The SDK schemas esbuild keeps though a handler never calls their operations, measured on a real
// handler with the real SDK and esbuild: rollback describes EKS clusters and never creates a node group.
import { jest } from '@jest/globals';
import { build } from 'esbuild';
import { handlerBuildOptions, handlerEntryOf } from '../../../bench/handler-profile.js';
import { bundleBytesWithLiteralSchemaKeys, literalSchemaKeysPlugin } from '../../../bench/sdk-schema-keys.js';

jest.setTimeout(60_000);

const ENTRY = handlerEntryOf('rollback') as string;

async function bundleOf(plugins: Parameters<typeof build>[0]['plugins']): Promise<string> {
  const result = await build({ ...handlerBuildOptions(ENTRY), outfile: 'index.mjs', write: false, plugins });
  return result.outputFiles?.[0]?.text ?? '';
}

describe('the SDK schemas with literal keys', () => {
  it('lets esbuild drop the schema of an operation the handler never calls, and keeps the one it calls', async () => {
    // Act
    const asDeployed = await bundleOf([]);
    const literal = await bundleOf([literalSchemaKeysPlugin]);

    // Assess: the deployed build carries the schemas of CreateNodegroup and DeleteCluster; DescribeCluster's
    // route stays
    expect(asDeployed).toContain('"CreateNodegroupRequest"');
    expect(asDeployed).toContain('["DELETE","/clusters/{name}",200]');
    expect(literal).not.toContain('"CreateNodegroupRequest"');
    expect(literal).not.toContain('["DELETE","/clusters/{name}",200]');
    expect(literal).toContain('["GET","/clusters/{name}",200]');
    expect(literal.length).toBeLessThan(asDeployed.length);
  });

  it('counts the bytes of that build', async () => {
    // Act
    const bytes = await bundleBytesWithLiteralSchemaKeys(ENTRY);

    // Assess
    expect(bytes).toBe(Buffer.byteLength(await bundleOf([literalSchemaKeysPlugin])));
  });
});
