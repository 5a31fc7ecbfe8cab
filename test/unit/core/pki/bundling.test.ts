import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';

const run = promisify(execFile);

// @peculiar/x509 needs the Reflect metadata polyfill loaded before it; lambdas/core/pki/x509.ts orders that.
// This proves that holds where it matters: a Lambda-style esbuild bundle in a fresh Node process.
describe('the PKI core bundled by esbuild', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'meshtrust-pki-bundle-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('imports and issues a validated cacerts with the polyfill loaded first', async () => {
    // Prepare
    const entry = join(dir, 'entry.ts');
    const core = resolve('lambdas/core/pki/index.ts');
    await writeFile(
      entry,
      `import { assembleCacerts, createIntermediateCa, createRootCa, isCompliant, TrustBundle, validateCacerts } from ${JSON.stringify(core)};
const root = await createRootCa();
const intermediate = await createIntermediateCa({ cluster: 'bundle', issuer: root });
const files = assembleCacerts({ intermediate, chainAbove: [root.certificatePem], trustedRoots: TrustBundle.of([root.certificatePem]) });
console.log(JSON.stringify({ hasReflectMetadata: typeof Reflect.getMetadata, compliant: isCompliant(await validateCacerts(files, { now: new Date() })) }));
`,
    );
    const outfile = join(dir, 'bundle.mjs');
    await build({
      entryPoints: [entry],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      outfile,
      logLevel: 'silent',
    });

    // Act
    const { stdout } = await run(process.execPath, [outfile], { cwd: dir });

    // Assess
    expect(JSON.parse(stdout)).toEqual({ hasReflectMetadata: 'function', compliant: true });
  }, 30_000);
});
