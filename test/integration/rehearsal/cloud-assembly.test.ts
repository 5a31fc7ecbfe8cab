import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ensureCloudAssembly, readCloudAssembly } from '../../../rehearsal/cloud-assembly.js';
import { CloudAssemblyError } from '../../../rehearsal/rehearsal-errors.js';
import { resolveEnvironment, templateFunctions } from '../../../rehearsal/template-functions.js';
import { isRunning } from '../../support/process-tree.js';

const TEMPLATE = {
  Resources: {
    CaKey: { Type: 'AWS::KMS::Key', Properties: {} },
    Preflight: {
      Type: 'AWS::Lambda::Function',
      Metadata: { 'aws:asset:path': 'asset.abc' },
      Properties: {
        FunctionName: 'meshtrust-my-mesh-distribute-bundle',
        Handler: 'index.handler',
        Timeout: 900,
        MemorySize: 512,
        Environment: {
          Variables: {
            MESH_ID: 'my-mesh',
            KMS_KEY_ID: { 'Fn::GetAtt': ['CaKey', 'Arn'] },
            STATE_MACHINE_ARN: {
              'Fn::Join': [
                '',
                ['arn:', { Ref: 'AWS::Partition' }, ':states:eu-west-1:', { Ref: 'AWS::AccountId' }, ':x'],
              ],
            },
          },
        },
      },
    },
  },
};

function project(): { root: string; assembly: string } {
  const root = mkdtempSync(join(tmpdir(), 'meshtrust-assembly-'));
  mkdirSync(join(root, 'lib'));
  writeFileSync(join(root, 'lib', 'stack.ts'), '// the stack');
  const assembly = join(root, 'cdk.out');
  mkdirSync(assembly);
  writeFileSync(
    join(assembly, 'manifest.json'),
    JSON.stringify({
      artifacts: {
        'meshtrust-my-mesh': { type: 'aws:cloudformation:stack', properties: { templateFile: 't.json' } },
      },
    }),
  );
  writeFileSync(join(assembly, 't.json'), JSON.stringify(TEMPLATE));
  return { root, assembly };
}

/**
 * An `npx` on PATH that notes its arguments in the returned file, runs `during` (shell lines) and then
 * writes the project's assembly as cdk synth would. Restore PATH with the returned function.
 */
function fakeNpx(
  assembly: string,
  during: readonly string[] = [],
): { argsFile: string; restore: () => void } {
  const bin = mkdtempSync(join(tmpdir(), 'meshtrust-fake-npx-'));
  const argsFile = join(bin, 'args');
  const manifest = readFileSync(join(assembly, 'manifest.json'), 'utf8');
  const template = readFileSync(join(assembly, 't.json'), 'utf8');
  writeFileSync(
    join(bin, 'npx'),
    [
      '#!/bin/sh',
      `echo "$@" >> ${argsFile}`,
      'out=""; while [ $# -gt 0 ]; do [ "$1" = --output ] && out="$2"; shift; done',
      ...during,
      'mkdir -p "$out"',
      `printf '%s' '${manifest}' > "$out/manifest.json"`,
      `printf '%s' '${template}' > "$out/t.json"`,
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  const path = process.env.PATH;
  process.env.PATH = `${bin}:${path}`;
  return {
    argsFile,
    restore: () => {
      process.env.PATH = path;
    },
  };
}

describe('the cloud assembly the rehearsal runs', () => {
  it('reuses cdk.out while it is newer than every source it was built from', async () => {
    // Prepare
    const { root, assembly } = project();
    const past = new Date(Date.now() - 60_000);
    utimesSync(join(root, 'lib', 'stack.ts'), past, past);

    // Act
    const found = await ensureCloudAssembly({ projectRoot: root });

    // Assess
    expect(found).toMatchObject({ directory: assembly, stackName: 'meshtrust-my-mesh', reused: true });
  });

  it('takes over the synth lock of a rehearsal that was killed, instead of waiting for it', async () => {
    // Prepare: a lock left behind by a process that no longer exists
    const { root, assembly } = project();
    const past = new Date(Date.now() - 60_000);
    utimesSync(join(root, 'lib', 'stack.ts'), past, past);
    const dead = spawnSync(process.execPath, ['-e', '0']).pid as number;
    mkdirSync(`${assembly}.rehearsal-lock`);
    writeFileSync(join(`${assembly}.rehearsal-lock`, 'pid'), String(dead));
    const progress: string[] = [];

    // Act
    const found = await ensureCloudAssembly({ projectRoot: root, onProgress: (line) => progress.push(line) });

    // Assess
    expect(found.reused).toBe(true);
    expect(progress.filter((line) => line.includes('waiting'))).toEqual([]);
    expect(existsSync(`${assembly}.rehearsal-lock`)).toBe(false);
  });

  it('stops a synth under way when aborted, with every process it started', async () => {
    // Prepare: a stale cdk.out, and an `npx` on PATH that starts a child of its own and waits
    const { root, assembly } = project();
    const past = new Date(Date.now() - 60_000);
    utimesSync(join(assembly, 'manifest.json'), past, past);
    const bin = mkdtempSync(join(tmpdir(), 'meshtrust-fake-npx-'));
    const pidFile = join(bin, 'sleep.pid');
    writeFileSync(join(bin, 'npx'), `#!/bin/sh\nsleep 300 &\necho $! > ${pidFile}\nwait\n`, { mode: 0o755 });
    const path = process.env.PATH;
    process.env.PATH = `${bin}:${path}`;
    const stop = new AbortController();

    // Act
    const synth = ensureCloudAssembly({ projectRoot: root, signal: stop.signal });
    synth.catch(() => undefined);
    while (!existsSync(pidFile) || readFileSync(pidFile, 'utf8') === '') await sleep(50);
    const sleeper = Number(readFileSync(pidFile, 'utf8'));
    stop.abort('SIGINT');

    // Assess
    try {
      await expect(synth).rejects.toBeDefined();
      await sleep(200);
      expect(isRunning(sleeper)).toBe(false);
      expect(existsSync(`${assembly}.rehearsal-lock`)).toBe(false);
    } finally {
      process.env.PATH = path;
    }
  });

  it('synthesizes with the context asked for (-c KEY=VALUE), and reuses the assembly only for that context', async () => {
    // Prepare: a fresh cdk.out of cdk.json's context, and an `npx` on PATH that notes its arguments
    // and writes the assembly as cdk synth would
    const { root, assembly } = project();
    const past = new Date(Date.now() - 60_000);
    utimesSync(join(root, 'lib', 'stack.ts'), past, past);
    const { argsFile, restore } = fakeNpx(assembly);

    try {
      // Act
      const withApproval = await ensureCloudAssembly({ projectRoot: root, context: { approval: 'true' } });
      const again = await ensureCloudAssembly({ projectRoot: root, context: { approval: 'true' } });
      const plain = await ensureCloudAssembly({ projectRoot: root });

      // Assess
      expect([withApproval.reused, again.reused, plain.reused]).toEqual([false, true, false]);
      const calls = readFileSync(argsFile, 'utf8').trim().split('\n');
      expect(calls).toEqual([
        `cdk synth --quiet --output ${assembly} -c approval=true`,
        `cdk synth --quiet --output ${assembly}`,
      ]);
    } finally {
      restore();
    }
  });

  it('synthesizes again when a source changed while the last synth ran', async () => {
    // Prepare: a stale cdk.out, and an `npx` whose synth sees lib/stack.ts edited while it bundles
    const { root, assembly } = project();
    const past = new Date(Date.now() - 60_000);
    utimesSync(join(assembly, 'manifest.json'), past, past);
    const { argsFile, restore } = fakeNpx(assembly, [
      'sleep 0.1',
      `echo '// edited during the synth' >> ${join(root, 'lib', 'stack.ts')}`,
      'sleep 0.1',
    ]);

    try {
      // Act
      const first = await ensureCloudAssembly({ projectRoot: root });
      const second = await ensureCloudAssembly({ projectRoot: root });

      // Assess: the edit came after synth began reading, so the first assembly is not taken for fresh
      expect([first.reused, second.reused]).toEqual([false, false]);
      expect(readFileSync(argsFile, 'utf8').trim().split('\n')).toHaveLength(2);
    } finally {
      restore();
    }
  });

  it('says how to recover from a cdk.out without a manifest', async () => {
    // Prepare
    const empty = mkdtempSync(join(tmpdir(), 'meshtrust-assembly-'));

    // Act & Assess
    await expect(readCloudAssembly(empty)).rejects.toThrow(CloudAssemblyError);
    await expect(readCloudAssembly(empty)).rejects.toThrow(/delete it and run again/);
  });

  it('finds each function bundle, handler and timeout, and resolves its environment tokens', async () => {
    // Prepare
    const { assembly } = project();
    const { template } = await readCloudAssembly(assembly);

    // Act
    const [fn] = templateFunctions(template, assembly);
    const environment = fn
      ? resolveEnvironment(fn, {
          arns: { CaKey: 'arn:aws:kms:us-east-1:000000000000:key/moto' },
          pseudo: { 'AWS::Partition': 'aws', 'AWS::AccountId': '000000000000' },
        })
      : {};

    // Assess
    expect(fn).toMatchObject({
      handlerName: 'distribute-bundle',
      bundleDirectory: join(assembly, 'asset.abc'),
      bundleFile: 'index.mjs',
      exportName: 'handler',
      timeoutSeconds: 900,
    });
    expect(environment).toEqual({
      MESH_ID: 'my-mesh',
      KMS_KEY_ID: 'arn:aws:kms:us-east-1:000000000000:key/moto',
      STATE_MACHINE_ARN: 'arn:aws:states:eu-west-1:000000000000:x',
    });
  });

  it('refuses a token it has no stand-in for, naming the variable', async () => {
    // Prepare
    const { assembly } = project();
    const { template } = await readCloudAssembly(assembly);
    const [fn] = templateFunctions(template, assembly);

    // Act & Assess
    expect(() => fn && resolveEnvironment(fn, { arns: {}, pseudo: {} })).toThrow(/KMS_KEY_ID/);
  });
});
