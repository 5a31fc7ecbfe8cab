// `meshtrust rehearse` refuses what it cannot do before anything starts: a --fail-at naming a state
// the synthesized state machine does not have or a cluster the fleet does not have (exit 2, listing
// the valid names), a --out that cannot hold the report (exit 3, with the reason). No moto_server,
// no fleet, no function container is started, and a refused run leaves no directory behind.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { ensureCloudAssembly } from '../../../lab/rehearsal/cloud-assembly.js';
import { PROJECT_ROOT } from '../../../lib/handler-entries.js';
import { CLUSTER_MAP_STATES, WORKFLOW_STATES } from '../../../lib/workflow-states.js';
import { descendantProcesses } from '../../support/process-tree.js';
import { startRehearseCli } from '../../support/rehearse-cli.js';

const REFUSAL_TIMEOUT_MS = 30_000;
let cdkOut: string;
let scratch: string;

beforeAll(async () => {
  // A fresh cdk.out is reused; a stale one is synthesized again (1-2 minutes), once for the file.
  // Its manifest and template are copied: a refused run reads nothing else, and another synth
  // rebuilding cdk.out meanwhile cannot pull the file from under it.
  const assembly = await ensureCloudAssembly({ projectRoot: PROJECT_ROOT });
  scratch = mkdtempSync(join(tmpdir(), 'meshtrust-rehearse-refusals-'));
  cdkOut = join(scratch, 'cdk.out');
  mkdirSync(cdkOut);
  copyFileSync(join(assembly.directory, 'manifest.json'), join(cdkOut, 'manifest.json'));
  copyFileSync(assembly.templateFile, join(cdkOut, basename(assembly.templateFile)));
}, 5 * 60_000);

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/**
 * Runs rehearse to its end, watching the processes it starts: none but tsx's own esbuild service
 * (which compiles the CLI) should be seen.
 */
async function refused(out: string, ...flags: string[]) {
  const rehearsal = startRehearseCli({
    cdkOut,
    out,
    flags: ['--clusters', '2', '--workloads', '1', ...flags],
  });
  const children = new Set<string>();
  const watch = setInterval(() => {
    for (const { command } of descendantProcesses(rehearsal.pid)) {
      if (command !== '' && !/\/esbuild --service/.test(command)) children.add(command);
    }
  }, 50);
  const timer = setTimeout(() => process.kill(rehearsal.pid, 'SIGKILL'), REFUSAL_TIMEOUT_MS);
  const { code } = await rehearsal.exit;
  clearInterval(watch);
  clearTimeout(timer);
  return { code, stderr: rehearsal.stderr(), children: [...children] };
}

describe('meshtrust rehearse --fail-at', () => {
  it('refuses a state the synthesized state machine does not have, listing its Task states', async () => {
    // Prepare
    const out = join(scratch, 'bogus-state');

    // Act
    const result = await refused(out, '--fail-at', 'bogus-state');

    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('no Task state "bogus-state"');
    const valid = /valid: ([^(\n]+)/.exec(result.stderr)?.[1]?.trim().split(', ') ?? [];
    expect(valid).toEqual(
      expect.arrayContaining([
        ...CLUSTER_MAP_STATES,
        WORKFLOW_STATES.preflight,
        WORKFLOW_STATES.stageRoot,
        WORKFLOW_STATES.promoteRoot,
        WORKFLOW_STATES.rollbackDropPending,
      ]),
    );
    // Not a Task, so nothing to fail: a Choice, a Wait, a Pass.
    expect(valid).not.toContain(WORKFLOW_STATES.mode);
    expect(valid).not.toContain(WORKFLOW_STATES.soak);
    expect(valid).not.toContain(WORKFLOW_STATES.inputDefaults);
    expect(result.stderr).not.toContain('starting moto_server');
    expect(result.children).toEqual([]);
    expect(existsSync(out)).toBe(false);
  });

  it('refuses a cluster the fleet of --clusters does not have, listing the fleet', async () => {
    // Act
    const unknown = await refused(
      join(scratch, 'unknown'),
      '--fail-at',
      'reissue-intermediate:no-such-cluster',
    );
    const beyond = await refused(
      join(scratch, 'beyond'),
      '--fail-at',
      'reissue-intermediate-in-cluster:lab-3',
    );

    // Assess
    for (const result of [unknown, beyond]) {
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('valid: lab-1, lab-2');
      expect(result.stderr).not.toContain('starting moto_server');
      expect(result.children).toEqual([]);
    }
    expect(unknown.stderr).toContain('the lab has no cluster "no-such-cluster"');
  });
});

describe('meshtrust rehearse --out', () => {
  it('refuses a directory below a file, saying why, before anything starts', async () => {
    // Prepare
    const file = join(scratch, 'a-file');
    writeFileSync(file, 'not a directory');

    // Act
    const result = await refused(join(file, 'sub'));

    // Assess
    expect(result.code).toBe(3);
    expect(result.stderr).toContain(`the report directory ${join(file, 'sub')} cannot be used`);
    expect(result.stderr).toContain('ENOTDIR');
    expect(result.stderr).not.toContain('starting moto_server');
    expect(result.children).toEqual([]);
  });

  it('refuses a directory a file system will not create, at once instead of hanging', async () => {
    // Act
    const result = await refused('/proc/meshtrust-nope');

    // Assess
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('the report directory /proc/meshtrust-nope cannot be used');
    expect(result.children).toEqual([]);
  });
});
