// `meshtrust rehearse` on a stack whose per-cluster Maps are Distributed Maps (`distributedMaps`,
// docs/workflow.md "Fleets past one execution's history", slice 4): the real functions run in child
// executions of their own (rehearsal/distributed-map-emulation.ts) against the lab, and a child's
// failure rolls the whole fleet back; at EKS's longest cluster names the state's bound holds, and a fleet
// whose state could pass Step Functions' quota is refused before any write.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { EXIT_CODES } from '../../bin/cli/cli-errors.js';
import { EKS_CLUSTER_NAME_MAX } from '../../lab/lab-cluster-names.js';
import type { HistoryEstimate } from '../../lambdas/core/plan/history-estimate.js';
import { CLUSTER_MAP_STATES, clusterTaskName, WORKFLOW_STATES } from '../../lib/workflow-states.js';
import { awsHistoryEvents, type LocalHistoryEvent } from '../../rehearsal/aws-history-events.js';
import { INJECTED_FAILURE } from '../../rehearsal/fail-at.js';
import type { ChildRecord } from '../../rehearsal/run-executions.js';
import { synthMeshTrustStack } from '../infra/synth-mesh-trust-stack.js';
import { failedChecks, type Rehearsal, runRehearseCli } from '../support/rehearse-cli.js';
import { stateSizeAgainstEstimate } from '../support/state-size-against-estimate.js';

const RUN_TIMEOUT_MS = 6 * 60_000;
const outputDirs: string[] = [];
let cdkOut: string;

interface HistoryEvent extends LocalHistoryEvent {
  state?: {
    name: string;
    type?: string;
    input?: { failure?: { Error?: string; Cause?: string } };
    output?: { preflight?: { plan?: { historyEvents?: HistoryEstimate } } };
  };
}

afterAll(() => {
  for (const dir of [...outputDirs, cdkOut])
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

beforeAll(() => {
  // In process, with the handlers bundled as `cdk synth` bundles them.
  cdkOut = synthMeshTrustStack({ distributedMaps: true }, { bundle: true }).app.outdir;
}, 10 * 60_000);

describe('meshtrust rehearse with Distributed Maps', () => {
  let rolledBack: Rehearsal;

  beforeAll(async () => {
    rolledBack = await runRehearseCli({
      cdkOut,
      flags: [
        '--clusters',
        '2',
        '--workloads',
        '2',
        '--mode',
        'emergency',
        '--fail-at',
        `${WORKFLOW_STATES.reissueIntermediate}:lab-2`,
      ],
      timeoutMs: RUN_TIMEOUT_MS,
      outputDirs,
    });
  }, RUN_TIMEOUT_MS);

  it("rolls every cluster back byte-identical when one cluster's child fails, with zero failed handshakes", () => {
    // THEN
    expect(failedChecks(rolledBack.report)).toEqual([]);
    expect(rolledBack.exitCode).toBe(0);
    expect(rolledBack.report.result).toBe('ROLLED_BACK');
    expect(rolledBack.report.totals.handshakes.failed).toBe(0);
    expect(rolledBack.report.checks.map((check) => check.name)).toContain('cacerts-byte-identical-to-start');
  });

  it("keeps each cluster's Task out of the parent's history and fails the Map with the Map Run's error", () => {
    // WHEN
    const history = JSON.parse(readFileSync(join(rolledBack.dir, 'history.json'), 'utf8')) as HistoryEvent[];
    const entered = history.filter((event) => event.type.endsWith('StateEntered')).map((e) => e.state?.name);
    const rollbackTrust = history.find(
      (event) => event.type.endsWith('StateEntered') && event.state?.name === WORKFLOW_STATES.rollbackTrust,
    );

    // THEN the parent enters the Maps, not the Tasks their children run
    expect(entered).toContain(WORKFLOW_STATES.reissueIntermediate);
    expect(entered).toContain(WORKFLOW_STATES.rollbackRestore);
    expect(entered).not.toContain(clusterTaskName(WORKFLOW_STATES.reissueIntermediate));
    expect(entered).not.toContain(clusterTaskName(WORKFLOW_STATES.rollbackRestore));
    // the Catch got the Map Run's error, which names neither the child nor its error
    expect(rollbackTrust?.state?.input?.failure).toEqual({
      Error: 'States.ExceedToleratedFailureThreshold',
      Cause: 'The specified tolerated failure threshold was exceeded',
    });
  });

  it("stays within preflight's estimate of the parent's history, which counts the children apart", () => {
    // WHEN
    const history = JSON.parse(readFileSync(join(rolledBack.dir, 'history.json'), 'utf8')) as HistoryEvent[];
    const estimate = history.find(
      (event) => event.type === 'StateExited' && event.state?.name === 'preflight',
    )?.state?.output?.preflight?.plan?.historyEvents;
    const real = awsHistoryEvents(history, new Set(), new Set(CLUSTER_MAP_STATES)).length;

    // THEN preflight knew the Maps were Distributed (DISTRIBUTED_MAPS from the stack)
    expect(estimate?.largestChild?.state).toBe(WORKFLOW_STATES.restartWorkloads);
    expect(real).toBeGreaterThan(estimate?.fewest ?? Number.POSITIVE_INFINITY);
    expect(real).toBeLessThanOrEqual(estimate?.worstCase ?? 0);
  });

  it('names the cluster whose child failed, and its error, which the Map Run error does not; children.json holds every child', () => {
    // WHEN
    const children = JSON.parse(readFileSync(join(rolledBack.dir, 'children.json'), 'utf8')) as ChildRecord[];
    const reissue = children.filter((child) => child.map === WORKFLOW_STATES.reissueIntermediate);

    // lab-1's child races the rollback: it wrote before the rollback's fence (SUCCEEDED), or its write
    // came after it and was refused (the late sibling, FAILED PreconditionFailed, nothing written).
    const lab1Status = reissue.find((child) => child.cluster === 'lab-1')?.status;
    const lateSibling = expect.objectContaining({
      map: WORKFLOW_STATES.reissueIntermediate,
      cluster: 'lab-1',
      status: 'FAILED',
      error: 'PreconditionFailed',
      cause: expect.stringMatching(/fenced by the rollback of execution .*Nothing was written/),
    });

    // THEN
    expect(rolledBack.report.failedChildren).toEqual([
      expect.objectContaining({
        map: WORKFLOW_STATES.reissueIntermediate,
        cluster: 'lab-2',
        status: 'FAILED',
        error: INJECTED_FAILURE,
      }),
      ...(lab1Status === 'SUCCEEDED' ? [] : [lateSibling]),
    ]);
    expect(rolledBack.stdout).toMatch(
      new RegExp(`failed in +reissue-intermediate lab-2: FAILED ${INJECTED_FAILURE}`),
    );
    expect(reissue.map((child) => [child.cluster, child.status]).sort()).toEqual([
      ['lab-1', lab1Status === 'SUCCEEDED' ? 'SUCCEEDED' : 'FAILED'],
      ['lab-2', 'FAILED'],
    ]);
    // each child with its own events: its Task's, which the parent's history does not hold
    const lab1 = reissue.find((child) => child.cluster === 'lab-1');
    expect(
      lab1?.events.some(
        (event) =>
          (event as HistoryEvent).state?.name === clusterTaskName(WORKFLOW_STATES.reissueIntermediate),
      ),
    ).toBe(true);
    // every cluster's rollback ran in a child too
    expect(children.filter((child) => child.map === WORKFLOW_STATES.rollbackRestore)).toHaveLength(2);
  });
});

/**
 * A prefix that gives the last of `count` clusters EKS's longest name (100 characters): what the
 * stack keeps per cluster (the state's answers, secret names and tags) is then at its largest.
 */
function longestNamesPrefix(count: number): string {
  const room = EKS_CLUSTER_NAME_MAX - String(count).length;
  return 'eu-west-1-payments-production-'.repeat(4).slice(0, room);
}

/** An emergency rehearsal of `clusters` clusters of one workload, named by longestNamesPrefix, with `flags`. */
function rehearseAtLongestNames(clusters: number, ...flags: string[]): Promise<Rehearsal> {
  return runRehearseCli({
    cdkOut,
    flags: [
      ...['--clusters', String(clusters), '--workloads', '1', '--mode', 'emergency'],
      ...['--cluster-name-prefix', longestNamesPrefix(clusters), ...flags],
    ],
    timeoutMs: RUN_TIMEOUT_MS,
    outputDirs,
  });
}

describe("meshtrust rehearse with Distributed Maps at EKS's longest cluster names", () => {
  it(
    "rolls back from retire-root byte-identical, its largest state within preflight's bound",
    async () => {
      // Prepare: the rollback from the last Map runs every Map once, each keeping an answer per cluster
      const prefix = longestNamesPrefix(2);
      const last = `${prefix}2`;

      // Act
      const run = await rehearseAtLongestNames(2, '--fail-at', `${WORKFLOW_STATES.retireRoot}:${last}`);

      // Assess
      expect(last).toHaveLength(EKS_CLUSTER_NAME_MAX);
      expect(failedChecks(run.report)).toEqual([]);
      expect(run.report.result).toBe('ROLLED_BACK');
      expect(run.report.totals.handshakes.failed).toBe(0);
      expect(run.report.checks.map((check) => check.name)).toContain('cacerts-byte-identical-to-start');
      expect(run.report.endState?.clusters.map((cluster) => [cluster.cluster, cluster.asAtStart])).toEqual([
        [`${prefix}1`, true],
        [last, true],
      ]);
      // The state held both names in every Map's answers, and stayed within the bound preflight gives.
      const size = stateSizeAgainstEstimate(run.dir);
      expect(size.largest).toBeGreaterThan(2 * 11 * EKS_CLUSTER_NAME_MAX);
      expect(size.largest).toBeLessThanOrEqual(size.atWorst);
    },
    RUN_TIMEOUT_MS,
  );

  it(
    "refuses at preflight, before any write, 100 clusters whose state could pass Step Functions' quota",
    async () => {
      // Prepare: at 100 characters a name, what the Maps keep per cluster passes the safe share of 256 KiB

      // Act
      const run = await rehearseAtLongestNames(100);

      // Assess: refused for the state's size (the history fits, the Maps being Distributed)
      expect(run.exitCode).toBe(EXIT_CODES.checkFailed);
      expect(run.report.result).toBe('FAILED');
      expect(run.report.error?.name).toBe('PreconditionFailed');
      expect(run.report.error?.cause).toMatch(
        /nothing was written\. The rotation's state could grow to [\d,]+ bytes for 100 cluster\(s\).*States\.DataLimitExceeded/,
      );
      // The timeline holds each cluster's start state (phase initial) and nothing written after it.
      expect(run.report.timeline.filter((write) => write.phase !== 'initial')).toEqual([]);
      expect(run.report.timeline).toHaveLength(100);
      expect(run.report.endState?.pendingRoot).toBe(false);
      expect(run.report.endState?.clusters).toHaveLength(100);
      expect(run.report.endState?.clusters.every((cluster) => cluster.asAtStart)).toBe(true);
      expect(run.report.totals.handshakes.failed).toBe(0);
    },
    RUN_TIMEOUT_MS,
  );
});
