import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PROJECT_ROOT } from '../../../lib/handler-entries.js';
import { runCommand } from '../../support/run-command.js';

// A model rehearsal or model lab runs in the process of `meshtrust rehearse` / `meshtrust lab`, and at
// 100 clusters that process's memory is what issue 14's 1 GiB is read against. Only the istio engine
// needs @kubernetes/client-node, whose source and code held ~40 MiB of V8's heap once imported: the
// commands import the istio engine's modules when it starts. A real node process imports each command
// with a module hook that refuses to load the client, so any static import path to it fails the case.

const COMMANDS = ['bin/commands/rehearse.ts', 'bin/commands/lab.ts'];

const REFUSING_HOOKS = `export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  if (resolved.url.includes('/node_modules/@kubernetes/client-node/')) {
    throw new Error('loaded @kubernetes/client-node, imported by ' + context.parentURL);
  }
  return resolved;
}
`;

const made: string[] = [];

/** Imports `module` in a fresh node process whose module hooks refuse @kubernetes/client-node. */
async function importRefusingKubeClient(module: string) {
  const dir = mkdtempSync(join(tmpdir(), 'meshtrust-imports-'));
  made.push(dir);
  const hooks = join(dir, 'refuse-kube-client.mjs');
  writeFileSync(hooks, REFUSING_HOOKS);
  const child = join(dir, 'child.mts');
  writeFileSync(
    child,
    `import { register } from 'node:module';
register(${JSON.stringify(pathToFileURL(hooks).href)});
await import(${JSON.stringify(pathToFileURL(join(PROJECT_ROOT, module)).href)});
console.log('imported');
`,
  );
  return runCommand(process.execPath, ['--import', 'tsx', child], { cwd: PROJECT_ROOT });
}

describe('the model engine’s commands', () => {
  afterAll(() => {
    for (const dir of made) rmSync(dir, { recursive: true, force: true });
  });

  it.each(COMMANDS)(
    '%s imports without @kubernetes/client-node',
    async (command) => {
      // Act
      const result = await importRefusingKubeClient(command);

      // Assess
      expect({ exitCode: result.exitCode, stdout: result.stdout.trim(), stderr: result.stderr }).toEqual({
        exitCode: 0,
        stdout: 'imported',
        stderr: '',
      });
    },
    60_000,
  );

  it('the hook refuses the client where a module does import it', async () => {
    // Act: the istio engine's lab, which needs the client
    const result = await importRefusingKubeClient('lab/istio-install/start-istio-lab.ts');

    // Assess
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toContain('loaded @kubernetes/client-node');
  }, 60_000);
});
