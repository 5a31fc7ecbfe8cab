// The CLI's surface as a shell sees it: help for every command, usage mistakes (exit 2) and a missing
// lab (exit 3) reported in one line that says what to do, without a stack trace.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jest } from '@jest/globals';
import { LAB_MAX_CLUSTERS } from '../../../lab/lab-options.js';
import { type CommandResult, runCommand } from '../../support/run-command.js';

jest.setTimeout(60_000);

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

function meshtrust(
  args: string[],
  command: string[] = [process.execPath, '--import', 'tsx', 'bin/meshtrust.ts'],
): Promise<CommandResult> {
  const [file, ...prefix] = command as [string, ...string[]];
  return runCommand(file, [...prefix, ...args], { cwd: repoRoot });
}

describe('meshtrust --help', () => {
  it('runs through the package.json bin with npx and lists every operator command', async () => {
    // Act
    const result = await meshtrust(['--help'], ['npx', 'meshtrust']);

    // Assess
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('Usage: meshtrust');
    const listed = [...result.stdout.matchAll(/^ {2}([a-z-]+) /gm)].map((match) => match[1]);
    expect(listed).toEqual(
      expect.arrayContaining([
        'lab',
        'rehearse',
        'plan',
        'verify',
        'rotate',
        'status',
        'history',
        'approve',
        'reject',
        'retry-rollback',
      ]),
    );
    expect(result.stdout).toContain('Exit codes: 0 ok, 1 a check failed, 2 usage error');
  });

  it('describes lab with its options and its probe subcommand', async () => {
    // Act
    const result = await meshtrust(['lab', '--help']);

    // Assess
    expect(result.exitCode).toBe(0);
    for (const option of [
      '--out <dir>',
      '--clusters <n>',
      '--workloads <n>',
      '--region <region>',
      '--mesh-id <id>',
      '--no-moto',
      '--topology <topology>',
    ]) {
      expect(result.stdout).toContain(option);
    }
    expect(result.stdout).toMatch(/^ {2}probe \[options\]/m);
  });

  it('describes rehearse --lab: a running lab rotated, the flags it decides refused with it', async () => {
    // Act
    const result = await meshtrust(['rehearse', '--help']);

    // Assess
    expect(result.exitCode).toBe(0);
    const help = result.stdout.replace(/\s+/g, ' ');
    expect(help).toContain('--lab <dir> rotate the lab `meshtrust lab --out DIR` runs');
    expect(help).toContain('the lab keeps running');
    expect(help).toContain('the lab decides clusters, workloads, engine and topology');
    expect(help).toContain('npm run rehearse -- --lab ./my-lab --mode emergency');
    expect(help).toContain('A model or istio lab');
    expect(help).toContain(
      'An earlier run on it that was killed is found from DIR and its execution stopped',
    );
    expect(help).toContain('a killed earlier run on the lab that had written is rolled back first');
    expect(help).toContain(
      '--approve-delay <seconds> with --approve auto: answer each approval gate this long',
    );
  });

  it('lists slow of AWS, the EKS API and STS among the --fault kinds, and refuses a bad MS naming them', async () => {
    // Act
    const result = await meshtrust(['rehearse', '--help']);
    const refused = await meshtrust(['rehearse', '--fault', 'aws:slow:0:3@stage-root']);

    // Assess
    expect(result.exitCode).toBe(0);
    const help = result.stdout.replace(/\s+/g, ' ');
    for (const form of ['aws:slow:MS:N@PHASE', 'eks:slow:MS:N@PHASE', 'sts[:ACCOUNT]:slow:MS:N@PHASE']) {
      expect(help).toContain(form);
    }
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toContain('--fault "aws:slow:0:3@stage-root": MS (delay) must be 1..60000, got 0');
    expect(refused.stderr).toContain('eks:slow:MS:N@PHASE');
  });

  it('describes lab probe with its options', async () => {
    // Act
    const result = await meshtrust(['lab', 'probe', '--help']);

    // Assess
    expect(result.exitCode).toBe(0);
    for (const option of ['--lab <dir>', '--rounds <n>', '--json']) expect(result.stdout).toContain(option);
  });
});

describe('meshtrust usage errors', () => {
  it('refuses an unknown option with exit 2 and names it', async () => {
    // Act
    const result = await meshtrust(['lab', '--out', '/tmp/x', '--clustres', '2']);

    // Assess
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain("error: unknown option '--clustres'");
    expect(result.stderr).toContain('--clusters');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('refuses an out-of-range value with exit 2 and says what is expected', async () => {
    // Act
    const result = await meshtrust(['lab', '--out', '/tmp/x', '--clusters', '0']);

    // Assess
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain(`expected a whole number from 1 to ${LAB_MAX_CLUSTERS}`);
  });

  it('asks for --out when it is missing (exit 2)', async () => {
    // Act
    const result = await meshtrust(['lab']);

    // Assess
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('--out DIR');
  });

  it('reports a lab that is not running with exit 3 and how to start it', async () => {
    // Act
    const result = await meshtrust(['lab', 'probe', '--lab', '/nonexistent/meshtrust-lab']);

    // Assess
    expect(result.exitCode).toBe(3);
    expect(result.stderr).toContain('is not running');
    expect(result.stderr).toContain('meshtrust lab --out /nonexistent/meshtrust-lab');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('reports an --out that cannot be a directory with exit 3, before starting any server', async () => {
    // Prepare
    const dir = await mkdtemp(join(tmpdir(), 'meshtrust-usage-'));
    await writeFile(join(dir, 'a-file'), '');

    // Act
    const result = await meshtrust(['lab', '--out', join(dir, 'a-file', 'lab')]);

    // Assess
    await rm(dir, { recursive: true, force: true });
    expect(result.exitCode).toBe(3);
    expect(result.stderr).toContain('choose another --out directory');
    expect(result.stderr).not.toContain('starting');
  });

  it('refuses an --approve-delay that is no whole number of seconds, or goes with --approve manual (exit 2)', async () => {
    // Act
    const typo = await meshtrust(['rehearse', '--approve-delay', '5s']);
    const manual = await meshtrust(['rehearse', '--approve', 'manual', '--approve-delay', '5']);

    // Assess
    expect(typo.exitCode).toBe(2);
    expect(typo.stderr).toContain("option '--approve-delay <seconds>' argument '5s' is invalid");
    expect(typo.stderr).toContain('expected a whole number from 0 to 3600');
    expect(manual.exitCode).toBe(2);
    expect(manual.stderr).toContain('--approve-delay applies to --approve auto only');
  });

  it('reports an --out where no directory can be made (/proc) with exit 3 at once, not a hang', async () => {
    // Act
    const result = await meshtrust(['lab', '--out', '/proc/meshtrust-lab/nested']);

    // Assess
    expect(result.exitCode).toBe(3);
    expect(result.stderr).toContain('cannot write the lab files to /proc/meshtrust-lab/nested (ENOENT)');
  });
});
