// `npm run bench` as a shell sees it: help lists the sections and what is not measured yet, and a
// mistyped flag or section is refused with exit 2 before anything is measured or written.
import { fileURLToPath } from 'node:url';
import { jest } from '@jest/globals';
import { type CommandResult, runCommand } from '../../support/run-command.js';

jest.setTimeout(60_000);

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

function bench(args: string[]): Promise<CommandResult> {
  return runCommand('npm', ['run', '--silent', 'bench', '--', ...args], { cwd: repoRoot });
}

describe('npm run bench', () => {
  it('--help lists the sections, their flags and what is not measured yet', async () => {
    // Act
    const result = await bench(['--help']);

    // Assess
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('Usage: npm run bench -- [options]');
    for (const flag of ['--only <sections>', '--intermediates <n>', '--runs <n>', '--no-write']) {
      expect(result.stdout).toContain(flag);
    }
    expect(result.stdout).toMatch(/^ {2}pki {7}/m);
    expect(result.stdout).toMatch(/^ {2}handlers {2}/m);
    expect(result.stdout).toMatch(/^ {2}cost {6}/m);
    expect(result.stdout).toMatch(/^ {2}lab-idle {2}/m);
    expect(result.stdout).toContain('Not measured yet: rotation at scale, orchestration overhead.');
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

  it('refuses a section that is not measured yet, naming the ones that are', async () => {
    // Act
    const result = await bench(['--only', 'pki,rotation']);

    // Assess
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('expected sections from pki, handlers, cost, lab-idle, got rotation');
    expect(result.stdout).toBe('');
  });
});
