import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { handlerBuildOptions, handlerEntryOf } from '../../bench/handler-profile.js';
import { HANDLER_NAMES } from '../../lib/handler-entries.js';
import { ESM_REQUIRE_BANNER } from '../../lib/rotation-functions.js';

const PROJECT_ROOT = new URL('../..', import.meta.url).pathname;
// Bundling every real handler takes one to two minutes on 2 cores; leave room for a busy machine.
const SYNTH_TIMEOUT_MS = 300_000;

/** The environment of a machine that has never seen AWS: no credentials, no config, no profile. */
function offlineEnv(home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('AWS_') && !key.startsWith('CDK_')) env[key] = value;
  }
  return {
    ...env,
    HOME: home,
    AWS_CONFIG_FILE: join(home, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(home, 'no-aws-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    CDK_DISABLE_CLI_TELEMETRY: 'true',
  };
}

describe('npx cdk synth (the CLI, as a user runs it)', () => {
  let outdir: string;
  let home: string;
  let synth: ReturnType<typeof spawnSync>;

  beforeAll(() => {
    home = mkdtempSync(join(tmpdir(), 'meshtrust-home-'));
    outdir = mkdtempSync(join(tmpdir(), 'meshtrust-cdkout-'));
    synth = spawnSync('npx', ['cdk', 'synth', '--quiet', '--no-notices', '--output', outdir], {
      cwd: PROJECT_ROOT,
      env: offlineEnv(home),
      encoding: 'utf8',
      timeout: SYNTH_TIMEOUT_MS,
    });
  }, SYNTH_TIMEOUT_MS + 10_000);

  afterAll(() => {
    rmSync(home, { recursive: true, force: true });
    rmSync(outdir, { recursive: true, force: true });
  });

  it('synthesizes offline, without credentials, from cdk.json', () => {
    // THEN
    expect({ status: synth.status, stderr: synth.status === 0 ? '' : synth.stderr }).toEqual({
      status: 0,
      stderr: '',
    });
    expect(readdirSync(outdir)).toContain('meshtrust-example-mesh.template.json');
    const template = JSON.parse(readFileSync(join(outdir, 'meshtrust-example-mesh.template.json'), 'utf8'));
    expect(
      Object.values(template.Resources).filter(
        (r) => (r as { Type: string }).Type === 'AWS::Lambda::Function',
      ),
    ).toHaveLength(HANDLER_NAMES.length);
  });

  it('bundles every handler locally as minified ESM with the createRequire banner, the AWS SDK inside and no source map', async () => {
    // GIVEN
    const template = JSON.parse(readFileSync(join(outdir, 'meshtrust-example-mesh.template.json'), 'utf8'));
    const functions = Object.values(
      template.Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>,
    )
      .filter((resource) => resource.Type === 'AWS::Lambda::Function')
      .map((resource) => resource.Properties);

    // THEN
    expect(functions).toHaveLength(HANDLER_NAMES.length);
    for (const fn of functions) {
      const assetDir = join(outdir, `asset.${(fn.Code as { S3Key: string }).S3Key.replace(/\.zip$/, '')}`);
      const bundle = readFileSync(join(assetDir, 'index.mjs'));
      const text = bundle.toString('utf8');
      const handler = String(fn.FunctionName).replace('meshtrust-example-mesh-', '');
      // The asset is the bundle alone, and nothing asks node for a map at start.
      expect({ handler, files: readdirSync(assetDir) }).toEqual({ handler, files: ['index.mjs'] });
      expect(text).not.toMatch(/sourceMappingURL/);
      expect(
        (fn.Environment as { Variables: Record<string, string> }).Variables.NODE_OPTIONS,
      ).toBeUndefined();
      expect(text.startsWith(ESM_REQUIRE_BANNER)).toBe(true);
      expect(text).toMatch(/export\s*\{[^}]*\bas handler\b[^}]*\}/);
      // The SDK is bundled: nothing is left for the runtime's node_modules.
      expect(text).not.toMatch(/from\s*["']@aws-sdk\//);
      // It is what esbuild makes with HANDLER_BUNDLING's options (minified, names kept), byte for byte, so
      // the bench's profile of the bundles (bench/handler-profile.ts) is the deployed bundles'.
      const entry = handlerEntryOf(handler);
      expect(entry).toBeDefined();
      const rebuilt = await build({
        ...handlerBuildOptions(entry as string),
        outfile: 'index.mjs',
        write: false,
      });
      expect({ handler, same: Buffer.from(rebuilt.outputFiles[0]?.contents ?? []).equals(bundle) }).toEqual({
        handler,
        same: true,
      });
    }
  }, 120_000);

  it('passes cfn-lint with no finding but W3005 (CDK adds DependsOn next to GetAtt on purpose)', () => {
    // WHEN
    const lint = spawnSync(
      'cfn-lint',
      ['--ignore-checks', 'W3005', '--', join(outdir, 'meshtrust-example-mesh.template.json')],
      { encoding: 'utf8', timeout: 120_000 },
    );

    // THEN
    expect({ status: lint.status, output: `${lint.stdout}${lint.stderr}` }).toEqual({
      status: 0,
      output: '',
    });
  }, 130_000);
});
