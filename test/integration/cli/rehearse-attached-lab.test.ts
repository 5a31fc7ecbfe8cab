// `meshtrust rehearse --lab DIR` as an operator runs it: `meshtrust lab --out DIR` started as its own
// process (model engine, 2 clusters x 1 workload, to be quick), then rehearsals of the synthesized state
// machine against that lab, from other processes. Each must rotate the lab from the state it is in (no
// seeding: the second run goes from root B to C), report as a rehearsal does, and leave the lab running;
// two started at once must let one rotate and refuse the other before any write, naming the first.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { PROJECT_ROOT } from '../../../lib/handler-entries.js';
import { ensureCloudAssembly } from '../../../rehearsal/cloud-assembly.js';
import {
  isAlive,
  type LabCommand,
  labCacertsRoots,
  startLabCommand,
  stopLabCommand,
} from '../../support/lab-command.js';
import { failedChecks, runRehearseCli } from '../../support/rehearse-cli.js';

jest.setTimeout(240_000);
const RUN_TIMEOUT_MS = 150_000;

let cdkOut: string;
let dir: string;
let lab: LabCommand;
const outputDirs: string[] = [];

function rehearseAttached(...flags: string[]) {
  return runRehearseCli({ cdkOut, flags: ['--lab', dir, ...flags], timeoutMs: RUN_TIMEOUT_MS, outputDirs });
}

/** What a cluster's cacerts trusts now, read from the lab as the rotator of DIR/env (not from a report). */
function rootsOf(cluster: string): Promise<string[]> {
  return labCacertsRoots(dir, cluster);
}

beforeAll(async () => {
  const assembly = await ensureCloudAssembly({ projectRoot: PROJECT_ROOT });
  cdkOut = assembly.directory;
  dir = await mkdtemp(join(tmpdir(), 'meshtrust-attached-lab-'));
  lab = await startLabCommand(['--clusters', '2', '--workloads', '1'], dir, 120_000);
}, 5 * 60_000);

afterAll(async () => {
  await stopLabCommand(lab, 30_000);
  await Promise.all([dir, ...outputDirs].map((path) => path && rm(path, { recursive: true, force: true })));
});

describe('meshtrust rehearse --lab DIR', () => {
  let rootB: string;

  it('rotates the running lab (emergency) with 0 failed handshakes and leaves it running on root B alone', async () => {
    // Prepare
    const rootA = (await rootsOf('lab-1'))[0];

    // Act
    const run = await rehearseAttached('--mode', 'emergency');

    // Assess
    expect(failedChecks(run.report)).toEqual([]);
    expect(run.exitCode).toBe(0);
    expect(run.report.result).toBe('SUCCEEDED');
    expect(run.report.clusters).toEqual(['lab-1', 'lab-2']);
    expect(run.report.totals.handshakes.attempted).toBeGreaterThan(0);
    expect(run.report.totals.handshakes.failed).toBe(0);
    expect(run.stderr).toContain(`attached to the lab in ${dir}`);
    expect(run.stderr).not.toContain('starting moto_server');
    expect(run.stderr).not.toContain('seeding the CA store');
    expect(run.report.rootLetters.A).toBe(rootA);
    rootB = run.report.rootLetters.B as string;
    expect(rootB).toMatch(/^[0-9a-f]{64}$/);
    expect(rootB).not.toBe(rootA);
    // The lab is still the operator's: running, and its clusters trust root B alone.
    expect(isAlive(lab.description.pid)).toBe(true);
    expect(lab.child.exitCode).toBeNull();
    expect(JSON.parse(await readFile(join(dir, 'lab.json'), 'utf8'))).toMatchObject({ state: 'running' });
    expect(await rootsOf('lab-1')).toEqual([rootB]);
    expect(await rootsOf('lab-2')).toEqual([rootB]);
  });

  it('rotates again from the state the first run left: root B to a new root C', async () => {
    // Act
    const run = await rehearseAttached('--mode', 'emergency');

    // Assess
    expect(failedChecks(run.report)).toEqual([]);
    expect(run.exitCode).toBe(0);
    expect(run.report.totals.handshakes.failed).toBe(0);
    expect(run.report.initial.map((cluster) => cluster.roots)).toEqual([[rootB], [rootB]]);
    const rootC = run.report.rootLetters.B as string;
    expect(rootC).not.toBe(rootB);
    expect(run.report.final.map((cluster) => cluster.roots)).toEqual([[rootC], [rootC]]);
    expect(await rootsOf('lab-1')).toEqual([rootC]);
    expect(await rootsOf('lab-2')).toEqual([rootC]);
    expect(isAlive(lab.description.pid)).toBe(true);
  });

  it('lets one of two runs started at once rotate, and refuses the other at acquire-lock naming the first', async () => {
    // Act: scheduled, so the winner holds the lock long after the other has warmed up
    const runs = await Promise.all([
      rehearseAttached('--mode', 'scheduled'),
      rehearseAttached('--mode', 'scheduled'),
    ]);

    // Assess
    const winner = runs.find((run) => run.exitCode === 0);
    const refused = runs.find((run) => run !== winner);
    expect(runs.map((run) => run.exitCode).sort()).toEqual([0, 1]);
    if (winner === undefined || refused === undefined) throw new Error('expected a winner and a refused run');
    expect(failedChecks(winner.report)).toEqual([]);
    expect(winner.report.totals.handshakes.failed).toBe(0);
    expect(refused.report.result).toBe('FAILED');
    expect(refused.report.error?.name).toBe('RotationLocked');
    const winnerName = winner.report.executionId.split(':').at(-1) as string;
    expect(refused.report.error?.cause).toContain(`execution ${winnerName}`);
    expect(refused.stdout).toContain('refused');
    // Refused before any write: its execution entered acquire-lock, then only the lock's own cleanup
    // (which releases a lock only its holder's execution holds: the winner's stayed and it succeeded).
    const history = JSON.parse(await readFile(join(refused.dir, 'history.json'), 'utf8')) as {
      type: string;
      state?: { name: string; type: string };
    }[];
    const tasks = history
      .filter((event) => event.type === 'StateEntered' && event.state?.type === 'Task')
      .map((event) => event.state?.name);
    expect(tasks).toEqual(['acquire-lock', 'release-lock-after-stop']);
    const rootD = winner.report.rootLetters.B as string;
    expect(await rootsOf('lab-1')).toEqual([rootD]);
    expect(await rootsOf('lab-2')).toEqual([rootD]);
  });
});
