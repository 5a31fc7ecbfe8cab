// `meshtrust rehearse --lab DIR` after a run on the same lab was killed (SIGKILL: no handler runs, its
// execution stays RUNNING in the lab's moto and holds the rotation lock). The next run must find the
// dead run from what it left in DIR, say so, stop its execution as an operator would, and then:
// rotate, when the dead run had not written yet (the lock taken over from the stopped execution);
// refuse, naming --retry-rollback, when it had written; and with --retry-rollback roll the dead run
// back (as `meshtrust retry-rollback` would) and rotate from the restored state.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { jest } from '@jest/globals';
import { PROJECT_ROOT } from '../../../lib/handler-entries.js';
import { ensureCloudAssembly } from '../../../rehearsal/cloud-assembly.js';
import { ATTACHED_RUNS_DIR, type AttachedRunRecord } from '../../../rehearsal/fleet/attached-runs.js';
import {
  isAlive,
  type LabCommand,
  labCacertsRoots,
  readEnvFile,
  startLabCommand,
  stopLabCommand,
} from '../../support/lab-command.js';
import { failedChecks, runRehearseCli, startRehearseCli } from '../../support/rehearse-cli.js';

jest.setTimeout(300_000);
const RUN_TIMEOUT_MS = 180_000;

let cdkOut: string;
let dir: string;
let lab: LabCommand;
const outputDirs: string[] = [];

function rehearseAttached(...flags: string[]) {
  return runRehearseCli({ cdkOut, flags: ['--lab', dir, ...flags], timeoutMs: RUN_TIMEOUT_MS, outputDirs });
}

/** Starts an attached run, SIGKILLs it once stderr shows `when`, and returns the record it left in DIR. */
async function killedAt(when: RegExp, ...flags: string[]): Promise<AttachedRunRecord> {
  const out = await mkdtemp(join(tmpdir(), 'meshtrust-rehearse-killed-'));
  outputDirs.push(out);
  const run = startRehearseCli({ cdkOut, out, flags: ['--lab', dir, ...flags] });
  await run.waitForStderr(when, RUN_TIMEOUT_MS);
  process.kill(run.pid, 'SIGKILL');
  expect((await run.exit).signal).toBe('SIGKILL');
  const records = (await readdir(join(dir, ATTACHED_RUNS_DIR))).filter((name) => name.endsWith('.json'));
  expect(records).toHaveLength(1);
  return JSON.parse(await readFile(join(dir, ATTACHED_RUNS_DIR, records[0] as string), 'utf8'));
}

/** An attached run that may end before writing a report (a refusal): exit code and output. */
async function rehearseAttachedRaw(...flags: string[]) {
  const out = await mkdtemp(join(tmpdir(), 'meshtrust-rehearse-refused-'));
  outputDirs.push(out);
  const run = startRehearseCli({ cdkOut, out, flags: ['--lab', dir, ...flags] });
  const { code } = await run.exit;
  return { code, stderr: run.stderr(), stdout: run.stdout() };
}

async function rotatorEnv() {
  return readEnvFile(join(dir, 'env'));
}

/** What Step Functions (the lab's moto) says of an execution. */
async function executionStatus(executionArn: string): Promise<string | undefined> {
  const env = await rotatorEnv();
  const client = new SFNClient({
    endpoint: lab.description.moto?.endpoint as string,
    region: lab.description.region,
    credentials: {
      accessKeyId: env.AWS_ACCESS_KEY_ID ?? '',
      secretAccessKey: env.AWS_SECRET_ACCESS_KEY ?? '',
      sessionToken: env.AWS_SESSION_TOKEN ?? '',
    },
  });
  try {
    return (await client.send(new DescribeExecutionCommand({ executionArn }))).status;
  } finally {
    client.destroy();
  }
}

/** What a cluster's cacerts trusts now, read from the lab as the rotator of DIR/env (not from a report). */
function rootsOf(cluster: string): Promise<string[]> {
  return labCacertsRoots(dir, cluster);
}

/** The acquire-lock audit events of a report directory. */
async function lockEvents(out: string): Promise<Record<string, unknown>[]> {
  const lines = (await readFile(join(out, 'audit.jsonl'), 'utf8')).split('\n').filter(Boolean);
  return lines
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((event) => JSON.stringify(event).includes('acquire-rotation-lock'));
}

beforeAll(async () => {
  const assembly = await ensureCloudAssembly({ projectRoot: PROJECT_ROOT });
  cdkOut = assembly.directory;
  dir = await mkdtemp(join(tmpdir(), 'meshtrust-attached-killed-'));
  lab = await startLabCommand(['--clusters', '2', '--workloads', '1'], dir, 120_000);
}, 5 * 60_000);

afterAll(async () => {
  await stopLabCommand(lab, 30_000);
  await Promise.all([dir, ...outputDirs].map((path) => path && rm(path, { recursive: true, force: true })));
});

describe('meshtrust rehearse --lab DIR after a run on it was killed', () => {
  it('stops the execution of a run killed before its first write and rotates, taking the lock over from it', async () => {
    // Prepare: killed in preflight, after acquire-lock took the lock
    const rootA = (await rootsOf('lab-1'))[0];
    const dead = await killedAt(/phase preflight/, '--mode', 'emergency');
    expect(dead.statesEntered).toContain('acquire-lock');
    expect(dead.statesEntered).not.toContain('stage-root');
    expect(await executionStatus(dead.executionArn)).toBe('RUNNING');

    // Act
    const run = await rehearseAttached('--mode', 'emergency');

    // Assess
    expect(run.stderr).toContain(`left execution ${dead.name} unfinished`);
    expect(run.stderr).toContain('stopping it (StopExecution)');
    expect(failedChecks(run.report)).toEqual([]);
    expect(run.exitCode).toBe(0);
    expect(run.report.result).toBe('SUCCEEDED');
    expect(run.report.totals.handshakes.failed).toBe(0);
    expect(await executionStatus(dead.executionArn)).toBe('ABORTED');
    const [acquired] = await lockEvents(run.dir);
    expect(JSON.stringify(acquired)).toContain('taken-over');
    expect(JSON.stringify(acquired)).toContain(dead.executionArn);
    expect(run.report.rootLetters.A).toBe(rootA);
    const rootB = run.report.rootLetters.B as string;
    expect(await rootsOf('lab-1')).toEqual([rootB]);
    expect(await rootsOf('lab-2')).toEqual([rootB]);
    expect(await readdir(join(dir, ATTACHED_RUNS_DIR))).toEqual([]);
  });

  it('refuses to rotate over a run killed after it wrote, then with --retry-rollback rolls it back and rotates', async () => {
    // Prepare: killed in the soak, every cluster's cacerts holding the staged root beside the current one
    const [rootBefore] = await rootsOf('lab-1');
    const dead = await killedAt(/phase soak/, '--mode', 'scheduled');
    expect(dead.statesEntered).toContain('stage-root');
    expect((await rootsOf('lab-1')).length).toBe(2);

    // Act: without --retry-rollback
    const refused = await rehearseAttachedRaw('--mode', 'emergency');

    // Assess: stopped, refused before anything ran, and told what to do
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('stopping it (StopExecution)');
    expect(refused.stderr).toContain(`--lab ${dir} --retry-rollback`);
    expect(await executionStatus(dead.executionArn)).toBe('ABORTED');
    expect((await rootsOf('lab-1')).length).toBe(2);

    // Act: with --retry-rollback
    const run = await rehearseAttached('--mode', 'emergency', '--retry-rollback');

    // Assess: the dead run rolled back first, then a rotation from the restored root
    expect(run.stderr).toContain(`rolling back ${dead.name}`);
    expect(run.stderr).toContain(`rolled ${dead.name} back`);
    expect(failedChecks(run.report)).toEqual([]);
    expect(run.exitCode).toBe(0);
    expect(run.report.result).toBe('SUCCEEDED');
    expect(run.report.totals.handshakes.failed).toBe(0);
    expect(run.report.initial.map((cluster) => cluster.roots)).toEqual([[rootBefore], [rootBefore]]);
    const rootNew = run.report.rootLetters.B as string;
    expect(rootNew).not.toBe(rootBefore);
    expect(await rootsOf('lab-1')).toEqual([rootNew]);
    expect(await rootsOf('lab-2')).toEqual([rootNew]);
    expect(await readdir(join(dir, ATTACHED_RUNS_DIR))).toEqual([]);
    expect(isAlive(lab.description.pid)).toBe(true);
  });
});
