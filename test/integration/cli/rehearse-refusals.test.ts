// `meshtrust rehearse` refuses what it cannot do before anything starts: a --fail-at or --fault naming
// a state or phase the synthesized state machine does not have or a cluster the fleet does not have, a
// --fault outside its grammar (exit 2, listing the valid names), a --out that cannot hold the report
// (exit 3, with the reason). No moto_server, no fleet, no function container is started, and a refused
// run leaves no directory behind.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { jest } from '@jest/globals';
import { PROJECT_ROOT } from '../../../lib/handler-entries.js';
import { CLUSTER_MAP_STATES, WORKFLOW_STATES } from '../../../lib/workflow-states.js';
import { ensureCloudAssembly } from '../../../rehearsal/cloud-assembly.js';
import { descendantProcesses } from '../../support/process-tree.js';
import { startRehearseCli } from '../../support/rehearse-cli.js';

const REFUSAL_TIMEOUT_MS = 30_000;
// Each refusal starts the CLI (tsx compiles it first: 3-5 s on a busy machine); some tests start it
// thrice, beyond jest's default 5 s.
jest.setTimeout(60_000);
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
  return refusedAsGiven(out, '--clusters', '2', '--workloads', '1', ...flags);
}

/** As `refused`, with exactly these flags (no fleet size added). */
async function refusedAsGiven(out: string, ...flags: string[]) {
  const rehearsal = startRehearseCli({ cdkOut, out, flags });
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

describe('meshtrust rehearse --fault', () => {
  it('refuses a spec outside the grammar, naming the grammar', async () => {
    // Act
    const result = await refused(join(scratch, 'malformed'), '--fault', 'kube:lab-1:5xx:3');

    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--fault "kube:lab-1:5xx:3": no @PHASE');
    expect(result.stderr).toContain('expected kube:CLUSTER:5xx:N@PHASE');
    expect(result.stderr).not.toContain('starting moto_server');
    expect(result.children).toEqual([]);
  });

  it('refuses a phase the rehearsal never enters and a cluster the fleet does not have', async () => {
    // Act
    const phase = await refused(join(scratch, 'fault-phase'), '--fault', 'aws:throttle:3@stage-rooot');
    const inCluster = await refused(
      join(scratch, 'fault-in-cluster'),
      '--fault',
      'aws:throttle:3@distribute-bundle-in-cluster',
    );
    const cluster = await refused(join(scratch, 'fault-cluster'), '--fault', 'kube:lab-3:down:5@preflight');

    // Assess
    for (const result of [phase, inCluster, cluster]) {
      expect(result.code).toBe(2);
      expect(result.stderr).not.toContain('starting moto_server');
      expect(result.children).toEqual([]);
    }
    expect(phase.stderr).toContain('the rehearsal has no phase "stage-rooot"');
    // A Map is the phase, its per-cluster Task is not: a fault on it would never start.
    const valid = /valid: ([^\n]+)/.exec(phase.stderr)?.[1]?.trim().split(', ') ?? [];
    expect(valid).toEqual(expect.arrayContaining([...CLUSTER_MAP_STATES, WORKFLOW_STATES.stageRoot]));
    expect(inCluster.stderr).toContain('no phase "distribute-bundle-in-cluster"');
    expect(cluster.stderr).toContain('the lab has no cluster "lab-3"; valid: lab-1, lab-2');
    expect(existsSync(join(scratch, 'fault-cluster'))).toBe(false);
  });

  it('refuses the Kubernetes faults the istio engine cannot play, saying why and what to use', async () => {
    // Act
    const stuck = await refused(
      join(scratch, 'fault-istio-stuck'),
      '--engine',
      'istio',
      '--fault',
      'kube:lab-1:5xx:2@distribute-bundle',
      '--fault',
      'kube:lab-2:stuck:1:statefulset@restart-workloads',
    );

    // Assess
    expect(stuck.code).toBe(2);
    expect(stuck.stderr).not.toContain('starting moto_server');
    expect(stuck.stderr).toContain('Use --engine model');
    expect(stuck.children).toEqual([]);
    expect(stuck.stderr).toContain(
      '--fault kube:lab-2:stuck:1:statefulset@restart-workloads: the istio engine',
    );
    expect(stuck.stderr).not.toContain('kube:lab-1:5xx');
    expect(existsSync(join(scratch, 'fault-istio-stuck'))).toBe(false);
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

describe('meshtrust rehearse --lab', () => {
  it('refuses the flags the running lab decides (exit 2), naming each, before looking for the lab', async () => {
    // Prepare
    const out = join(scratch, 'lab-conflict');

    // Act
    const result = await refused(out, '--lab', join(scratch, 'no-lab-here'), '--engine', 'model');

    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      `--clusters, --workloads, --engine cannot go with --lab ${join(scratch, 'no-lab-here')}`,
    );
    expect(result.stderr).not.toContain('No lab in');
    expect(result.children).toEqual([]);
    expect(existsSync(out)).toBe(false);
  });

  it('refuses a directory without a lab and one whose lab has stopped (exit 3), saying how to start one', async () => {
    // Prepare: a lab.json as `meshtrust lab` leaves it once stopped.
    const empty = join(scratch, 'empty-lab-dir');
    mkdirSync(empty);
    const stopped = join(scratch, 'stopped-lab-dir');
    mkdirSync(stopped);
    writeFileSync(
      join(stopped, 'lab.json'),
      JSON.stringify({ schemaVersion: 1, state: 'stopped', pid: process.pid, dir: stopped }),
    );

    // Act
    const none = await refusedAsGiven(join(scratch, 'lab-none'), '--lab', empty);
    const ended = await refusedAsGiven(join(scratch, 'lab-stopped'), '--lab', stopped);

    // Assess
    expect(none.code).toBe(3);
    expect(none.stderr).toContain(`No lab in ${empty}: start one with \`meshtrust lab --out ${empty}\``);
    expect(ended.code).toBe(3);
    expect(ended.stderr).toContain('the lab there is not running (lab.json says stopped');
    for (const result of [none, ended]) {
      expect(result.stderr).not.toContain('starting moto_server');
      expect(result.children).toEqual([]);
    }
    expect(existsSync(join(scratch, 'lab-none'))).toBe(false);
    expect(existsSync(join(scratch, 'lab-stopped'))).toBe(false);
  });
});
