import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

  it('bundles every handler locally as minified ESM with the createRequire banner and a source map', () => {
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
      const bundle = readFileSync(join(assetDir, 'index.mjs'), 'utf8');
      const map = JSON.parse(readFileSync(join(assetDir, 'index.mjs.map'), 'utf8')) as {
        sources: string[];
        sourcesContent: (string | null)[];
      };
      const handler = String(fn.FunctionName).replace('meshtrust-example-mesh-', '');
      expect(bundle.startsWith(ESM_REQUIRE_BANNER)).toBe(true);
      expect(bundle).toMatch(/export\s*\{[^}]*\bas handler\b[^}]*\}/);
      expect(bundle.trimEnd().endsWith('//# sourceMappingURL=index.mjs.map')).toBe(true);
      expect(map.sources.some((source) => source.endsWith(`lambdas/handlers/${handler}.ts`))).toBe(true);
      // Minified: the bundle is smaller than the sources it was built from.
      expect(bundle.length).toBeLessThan(
        map.sourcesContent.reduce((sum, source) => sum + (source?.length ?? 0), 0),
      );
    }
  });

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
