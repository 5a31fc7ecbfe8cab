// `npm run bench` as a shell sees it: help lists the sections and their flags, and a mistyped flag,
// section or size is refused with exit 2 before anything is measured or written.
import { fileURLToPath } from 'node:url';
import { jest } from '@jest/globals';
import { type CommandResult, runCommand } from '../../support/run-command.js';

jest.setTimeout(60_000);

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

function bench(args: string[]): Promise<CommandResult> {
  return runCommand('npm', ['run', '--silent', 'bench', '--', ...args], { cwd: repoRoot });
}

describe('npm run bench', () => {
  it('--help lists the sections and their flags', async () => {
    // Act
    const result = await bench(['--help']);

    // Assess
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('Usage: npm run bench -- [options]');
    for (const flag of [
      '--only <sections>',
      '--intermediates <n>',
      '--runs <n>',
      '--rotation-sizes <sizes>',
      '--rotation-modes <modes>',
      '--rotation-maps <maps>',
      '--quick',
      '--no-write',
    ]) {
      expect(result.stdout).toContain(flag);
    }
    expect(result.stdout).toMatch(/^ {2}pki {7}/m);
    expect(result.stdout).toMatch(/^ {2}handlers {2}/m);
    expect(result.stdout).toMatch(/^ {2}cost {6}/m);
    expect(result.stdout).toMatch(/^ {2}lab-idle {2}/m);
    expect(result.stdout).toMatch(/^ {2}rotation {2}/m);
    // Every figure issue 14 asks for has a section now.
    expect(result.stdout).not.toContain('Not measured yet');
  });

  it('refuses a mistyped flag with exit 2 and suggests the right one', async () => {
    // Act
    const result = await bench(['--onyl', 'pki']);

    // Assess
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain("error: unknown option '--onyl'");
    expect(result.stderr).toContain('Did you mean --only?');
    expect(result.stdout).toBe('');
  });

  it('refuses an unknown section, naming the ones there are', async () => {
    // Act
    const result = await bench(['--only', 'pki,rotations']);

    // Assess
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain(
      'expected sections from pki, handlers, cost, lab-idle, rotation, got rotations.',
    );
    expect(result.stdout).toBe('');
  });

  it('refuses an unknown rotation mode, naming the ones there are', async () => {
    // Act
    const result = await bench(['--only', 'rotation', '--rotation-modes', 'emergency,urgent']);

    // Assess
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('expected modes from emergency, scheduled, got urgent.');
    expect(result.stdout).toBe('');
  });

  it('refuses a rotation size that is not CLUSTERSxWORKLOADS', async () => {
    // Act
    const result = await bench(['--only', 'rotation', '--rotation-sizes', '1x10,10by100']);

    // Assess
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain(
      'expected sizes as CLUSTERSxWORKLOADS (each 1-1000), e.g. 1x10,10x100; got 10by100',
    );
    expect(result.stdout).toBe('');
  });

  it('refuses Maps that are neither inline nor distributed', async () => {
    // Act
    const result = await bench(['--only', 'rotation', '--rotation-maps', 'distribute']);

    // Assess
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain(
      "argument 'distribute' is invalid. Allowed choices are inline, distributed.",
    );
    expect(result.stdout).toBe('');
  });
});
