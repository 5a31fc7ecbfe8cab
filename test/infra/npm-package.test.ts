import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HANDLER_NAMES, PROJECT_ROOT } from '../../lib/handler-entries.js';
import { runCommand } from '../support/run-command.js';

// What `npm pack` makes of the repository is what a team installs: the construct as
// `import { MeshTrustRotation } from 'meshtrust'` with its type declarations, the CLI as `meshtrust`, and
// nothing else (no tests, sources, lab binaries, keys or cdk.out). This packs the real tarball (the
// prepack build included), unpacks it into a consumer project and uses it there. The consumer's
// node_modules links to this repository's installed dependencies instead of `npm install`ing them, so
// the test runs offline; the package itself is exactly the tarball's content.

interface PackedFile {
  readonly path: string;
  readonly mode: number;
}
interface PackResult {
  readonly filename: string;
  readonly files: readonly PackedFile[];
}

const PACK_TIMEOUT_MS = 240_000;
const PACKAGE_VERSION = (
  JSON.parse(readFileSync(`${PROJECT_ROOT}package.json`, 'utf8')) as { version: string }
).version;

/**
 * The files of the package: compiled JavaScript with its declarations, the bin launcher, what each
 * function container of the rehearsal runs (plain JavaScript, copied by the build), the clusters' RBAC
 * manifest, the manifest and readme.
 */
const ALLOWED_FILE =
  /^(dist\/.+\.(js|d\.ts)|dist\/rehearsal\/lambda-bootstrap\.mjs|bin\/meshtrust\.mjs|deploy\/kubernetes\/[a-z-]+\.yaml|package\.json|README\.md|LICENSE)$/;

/** A rehearsal from the installed package: synth with bundling (30-60 s) and a run (about 30 s). */
const REHEARSAL_TIMEOUT_MS = 180_000;

describe('the npm package', () => {
  let workDir: string;
  let packed: PackResult;
  let consumer: string;

  const node = (args: readonly string[]) =>
    runCommand(process.execPath, args, { cwd: consumer, timeoutMs: 60_000 });

  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'meshtrust-pack-'));
    const pack = await runCommand('npm', ['pack', '--json', '--pack-destination', workDir], {
      cwd: PROJECT_ROOT,
      timeoutMs: PACK_TIMEOUT_MS,
    });
    if (pack.exitCode !== 0) {
      throw new Error(`npm pack failed (${pack.exitCode}):\n${pack.stdout}\n${pack.stderr}`);
    }
    // npm prints the prepack build's output before the JSON.
    packed = (JSON.parse(pack.stdout.slice(pack.stdout.indexOf('\n[') + 1)) as PackResult[])[0] as PackResult;

    consumer = join(workDir, 'consumer');
    const installed = join(consumer, 'node_modules', 'meshtrust');
    mkdirSync(installed, { recursive: true });
    const untar = await runCommand(
      'tar',
      ['-xzf', join(workDir, packed.filename), '-C', installed, '--strip-components=1'],
      {},
    );
    if (untar.exitCode !== 0) throw new Error(`tar failed: ${untar.stderr}`);
    for (const dependency of readdirSync(join(PROJECT_ROOT, 'node_modules'))) {
      if (dependency === 'meshtrust') continue;
      symlinkSync(join(PROJECT_ROOT, 'node_modules', dependency), join(consumer, 'node_modules', dependency));
    }
    writeFileSync(
      join(consumer, 'package.json'),
      JSON.stringify({ name: 'consumer', private: true, type: 'module' }),
    );
  }, PACK_TIMEOUT_MS + 30_000);

  it('holds only compiled JavaScript, declarations, the bin launcher, the rehearsal bootstrap, the RBAC manifest and package.json', () => {
    // WHEN
    const paths = packed.files.map((file) => file.path);

    // THEN
    expect(paths.filter((path) => !ALLOWED_FILE.test(path))).toEqual([]);
    expect(paths.filter((path) => /(^|\/)(test|cdk\.out|go)\//.test(path))).toEqual([]);
    expect(paths.filter((path) => /\.test\.|\.pem$|\.key$|\.tgz$|tsbuildinfo/.test(path))).toEqual([]);
  });

  it('has the construct with its declarations, every handler entry and the CLI', () => {
    // WHEN
    const paths = new Set(packed.files.map((file) => file.path));

    // THEN
    for (const file of [
      'dist/lib/index.js',
      'dist/lib/index.d.ts',
      'dist/lib/mesh-trust-rotation.js',
      'dist/lib/mesh-trust-rotation.d.ts',
      'dist/bin/meshtrust.js',
      'bin/meshtrust.mjs',
      'deploy/kubernetes/rbac.yaml',
      'dist/rehearsal/lambda-bootstrap.mjs',
      ...HANDLER_NAMES.map((name) => `dist/lambdas/handlers/${name}.js`),
    ]) {
      expect({ file, packed: paths.has(file) }).toEqual({ file, packed: true });
    }
    const launcher = packed.files.find((file) => file.path === 'bin/meshtrust.mjs');
    expect((launcher?.mode ?? 0) & 0o111).not.toBe(0);
  });

  it("synthesizes a consumer's stack with MeshTrustRotation imported from 'meshtrust'", async () => {
    // GIVEN a CDK app of its own; bundling skipped (slow), but NodejsFunction still requires every entry
    writeFileSync(
      join(consumer, 'app.mjs'),
      `import { App, Stack } from 'aws-cdk-lib';
import { MeshTrustRotation } from 'meshtrust';
const app = new App({ outdir: 'cdk.out', context: { 'aws:cdk:bundling-stacks': [] } });
const stack = new Stack(app, 'Consumer', { env: { account: '123456789012', region: 'eu-west-1' } });
const rotation = new MeshTrustRotation(stack, 'Rotation', { meshId: 'payments' });
const template = app.synth().getStackByName('Consumer').template;
const types = Object.values(template.Resources).map((resource) => resource.Type);
console.log(JSON.stringify({
  functions: Object.keys(rotation.functions).sort(),
  stateMachines: types.filter((type) => type === 'AWS::StepFunctions::StateMachine').length,
}));
`,
    );

    // WHEN
    const result = await node(['app.mjs']);

    // THEN
    expect(result.stderr).not.toMatch(/Error/);
    expect(result.exitCode).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ functions: [...HANDLER_NAMES].sort(), stateMachines: 1 });
  }, 60_000);

  it('type-checks a TypeScript consumer against the declarations, which are not `any`', async () => {
    // GIVEN strict NodeNext, declarations checked too (skipLibCheck off); a wrong prop type must be an
    // error, or the @ts-expect-error below is itself one
    const tsconfig = {
      compilerOptions: {
        target: 'ES2022',
        lib: ['ES2022', 'ESNext.Disposable'],
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        noEmit: true,
        skipLibCheck: false,
        types: [],
      },
      files: ['consumer.ts'],
    };
    writeFileSync(join(consumer, 'tsconfig.json'), JSON.stringify(tsconfig));
    writeFileSync(
      join(consumer, 'consumer.ts'),
      `import { App, Stack } from 'aws-cdk-lib';
import { MeshTrustRotation, type MeshTrustRotationProps } from 'meshtrust';
const props: MeshTrustRotationProps = { meshId: 'payments', approval: true };
const rotation = new MeshTrustRotation(new Stack(new App(), 'Consumer'), 'Rotation', props);
export const arn: string = rotation.stateMachine.stateMachineArn;
// @ts-expect-error meshId is a string
export const wrong: MeshTrustRotationProps = { meshId: 42 };
`,
    );

    // WHEN
    const tsc = await runCommand(
      process.execPath,
      [join(PROJECT_ROOT, 'node_modules/typescript/bin/tsc'), '-p', consumer],
      { cwd: consumer, timeoutMs: 120_000 },
    );

    // THEN
    expect(tsc.stdout).toBe('');
    expect(tsc.exitCode).toBe(0);
  }, 150_000);

  it('runs the CLI from the installed package, compiled, without TypeScript sources', async () => {
    // WHEN
    const version = await node(['node_modules/meshtrust/bin/meshtrust.mjs', '--version']);
    const help = await node(['node_modules/meshtrust/bin/meshtrust.mjs', '--help']);

    // THEN
    expect(version.stdout.trim()).toBe(PACKAGE_VERSION);
    expect(help.exitCode).toBe(0);
    for (const command of ['plan', 'rotate', 'status', 'approve', 'verify']) {
      expect(help.stdout).toMatch(new RegExp(`^\\s+${command}\\b`, 'm'));
    }
  }, 60_000);

  it("has the rehearsal's function bootstrap where the installed rehearsal looks for it", async () => {
    // WHEN the installed rehearsal module says where its function containers start
    const found = await node([
      '--input-type=module',
      '-e',
      "const pool = await import('./node_modules/meshtrust/dist/rehearsal/function-pool.js'); console.log(pool.LAMBDA_BOOTSTRAP);",
    ]);
    const help = await node(['node_modules/meshtrust/bin/meshtrust.mjs', 'rehearse', '--help']);

    // THEN it is the file the tarball carries, beside the compiled rehearsal
    expect(found.stderr).toBe('');
    const bootstrap = found.stdout.trim();
    expect(bootstrap).toBe(join(consumer, 'node_modules/meshtrust/dist/rehearsal/lambda-bootstrap.mjs'));
    expect(existsSync(bootstrap)).toBe(true);
    expect(readFileSync(bootstrap, 'utf8')).toBe(
      readFileSync(join(PROJECT_ROOT, 'rehearsal/lambda-bootstrap.mjs'), 'utf8'),
    );
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toContain('--cdk-out <dir>');
  }, 60_000);

  it('asks for a synthesized app when the installed rehearse finds no ./cdk.out: it has no app of its own', async () => {
    // GIVEN a directory without cdk.out
    const empty = mkdtempSync(join(workDir, 'no-assembly-'));

    // WHEN
    const result = await runCommand(
      process.execPath,
      [join(consumer, 'node_modules/meshtrust/bin/meshtrust.mjs'), 'rehearse'],
      { cwd: empty, timeoutMs: 60_000 },
    );

    // THEN a usage error, before any lab or moto starts
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain(`no cloud assembly in ${join(empty, 'cdk.out')}`);
    expect(result.stderr).toContain('npx cdk synth');
  }, 60_000);

  it(
    "rehearses a consumer's app, synthesized with bundling, with the installed meshtrust",
    async () => {
      // GIVEN the consumer's CDK app with the ready-made stack, bundled from the installed package, with
      // the asset metadata \`cdk synth\` adds (the rehearsal finds each function's bundle by it)
      writeFileSync(
        join(consumer, 'rehearsed-app.mjs'),
        `import { App } from 'aws-cdk-lib';
import { MeshTrustStack } from 'meshtrust';
const app = new App({ outdir: 'cdk.out', context: { 'aws:cdk:enable-asset-metadata': true } });
new MeshTrustStack(app, 'meshtrust-payments', { rotation: { meshId: 'payments' } });
app.synth();
`,
      );
      const synth = await runCommand(process.execPath, ['rehearsed-app.mjs'], {
        cwd: consumer,
        timeoutMs: REHEARSAL_TIMEOUT_MS,
      });
      // (esbuild reports each bundle on stderr, which is shown only on a failure)
      expect({ exitCode: synth.exitCode, stderr: synth.stderr.slice(-2000) }).toEqual({
        exitCode: 0,
        stderr: expect.any(String),
      });

      // WHEN `meshtrust rehearse` runs in the consumer's directory (./cdk.out), from the tarball's files
      const run = await runCommand(
        process.execPath,
        [
          'node_modules/meshtrust/bin/meshtrust.mjs',
          'rehearse',
          ...['--clusters', '1', '--workloads', '1', '--mode', 'intermediate'],
          ...['--out', join(workDir, 'rehearsal'), '--json'],
        ],
        { cwd: consumer, timeoutMs: REHEARSAL_TIMEOUT_MS },
      );

      // THEN the state machine ran its functions from their bundles and rotated the lab's intermediate
      expect({ exitCode: run.exitCode, stderr: run.stderr.slice(-2000) }).toEqual({
        exitCode: 0,
        stderr: expect.not.stringContaining('error:'),
      });
      const summary = JSON.parse(run.stdout) as { result: string; handshakes: { failed: number } };
      expect(summary.result).toBe('SUCCEEDED');
      expect(summary.handshakes.failed).toBe(0);
    },
    2 * REHEARSAL_TIMEOUT_MS,
  );
});
