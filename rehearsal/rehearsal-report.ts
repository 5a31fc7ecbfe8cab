// report.json: what the rehearsal ran, what happened, and the checks that decide its exit code.

import type { LabEngineDescription } from '../lab/lab-files.js';
import type { LabLoad } from '../lab/lab-load.js';
import type { LabPaceSettings } from '../lab/lab-pace.js';
import { RELEASE_LOCK_STATES, ROLLBACK_STATES, WORKFLOW_STATES } from '../lib/workflow-states.js';
import type { CacertsWrite } from './cacerts-timeline.js';
import type { ClusterAccountReport } from './cluster-accounts.js';
import type { ClusterStrategy } from './cluster-strategies.js';
import type { CacertsBackupsAtEnd, EndState, RootKeysAtEnd } from './end-state.js';
import type { FaultReport } from './fault-plan.js';
import type { Fault } from './fault-spec.js';
import type { RefusedCacerts, WorkloadCertificate } from './fleet/rehearsal-fleet.js';
import type { LabWaits } from './lab-waits.js';
import type { InvocationTimes } from './warm-invocation-times.js';
import { resignNoPodsRestartedCheck, type WorkloadMove, workloadsMovedCheck } from './workload-moves.js';

export type RehearsalMode = 'scheduled' | 'emergency' | 'intermediate';
/** How the execution ended; ABORTED: an interrupt (SIGINT/SIGTERM) stopped it, as StopExecution would. */
export type RehearsalResult = 'SUCCEEDED' | 'ROLLED_BACK' | 'FAILED' | 'ABORTED';

/** A Distributed Map's child execution that failed or was aborted. */
export interface FailedChild {
  readonly map: string;
  readonly cluster?: string;
  readonly executionArn: string;
  readonly status: string;
  readonly error?: string;
  readonly cause?: string;
}

export interface HandshakeCounts {
  readonly attempted: number;
  readonly failed: number;
}

export interface PhaseReport {
  readonly name: string;
  readonly startedAt: string;
  readonly endedAt?: string;
  readonly handshakes: HandshakeCounts;
}

export interface ReportCheck {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

export interface ClusterCacertsSummary {
  readonly cluster: string;
  readonly roots: readonly string[];
  readonly caCert?: string;
}

export interface RehearsalReport {
  readonly schemaVersion: 1;
  readonly mode: RehearsalMode;
  readonly cluster?: string;
  readonly meshId: string;
  /**
   * The lab engine the rotation ran against. The model engine names the Istio release whose istiod
   * rules it states (istiod-cacerts-rules.ts); it runs no Kubernetes of its own.
   */
  readonly engine: LabEngineDescription;
  /** How the clusters' original root-cert.pem was written, when not canonical (--root-cert-style). */
  readonly rootCertStyle?: string;
  readonly clusters: readonly string[];
  /**
   * Which account each cluster is in: the stack's (the lab's own) or, with --other-account-clusters,
   * another, with the roles of it the functions assumed there (cluster-accounts.ts).
   */
  readonly accounts?: readonly ClusterAccountReport[];
  readonly workloadsPerCluster: number;
  readonly executionId: string;
  readonly startedAt: string;
  readonly endedAt: string;
  readonly durationMs: number;
  readonly result: RehearsalResult;
  readonly expectedResult: RehearsalResult;
  /** True when the run was not interrupted, the result is the expected one and every check passed: exit code 0. */
  readonly ok: boolean;
  /**
   * Set when SIGINT/SIGTERM cut the run short (`phase`: where it was): the execution was aborted (result
   * ABORTED), or the watch after it ended early. Everything else is as far as the run got.
   */
  readonly interrupted?: { readonly signal: string; readonly at: string; readonly phase: string };
  readonly error?: { readonly name: string; readonly cause: string };
  /**
   * With Distributed Maps, each child execution that did not succeed: the Map's own error
   * (`States.ExceedToleratedFailureThreshold`) names neither its cluster nor its error, so the report
   * does, as an operator finds them through the Map Run. Absent when none.
   */
  readonly failedChildren?: readonly FailedChild[];
  readonly failAt?: string;
  /** Each --fault as given and how many requests it answered (--fault; absent without). */
  readonly faults?: readonly FaultReport[];
  readonly assembly: { readonly directory: string; readonly stack: string; readonly reused: boolean };
  /** Root fingerprints by letter: A the one the fleet started with, B the one this run staged. */
  readonly rootLetters: Readonly<Record<string, string>>;
  readonly phases: readonly PhaseReport[];
  readonly totals: { readonly handshakes: HandshakeCounts; readonly rounds: number };
  readonly handshakeFailures: readonly {
    readonly at: string;
    readonly phase: string;
    readonly from: string;
    readonly to: string;
    readonly side: string;
    readonly error: string;
  }[];
  readonly timeline: readonly CacertsWrite[];
  /** The cacerts changes istiod refused: the model's list, or real istiod's log lines. */
  readonly rejectedUpdates: readonly RefusedCacerts[];
  readonly initial: readonly ClusterCacertsSummary[];
  readonly final: readonly ClusterCacertsSummary[];
  /** Where the run left each cluster and the CA store (end-state.ts): what a failed rollback leaves. */
  readonly endState?: EndState;
  /** Every ready workload's certificate at the end (after the settle window), as its proxy holds it. */
  readonly workloads: readonly WorkloadCertificate[];
  /**
   * Per cluster, the rotation strategy preflight chose and restart-workloads' last answer, from the
   * execution history (cluster-strategies.ts); empty when preflight did not finish.
   */
  readonly strategies: readonly ClusterStrategy[];
  /**
   * Per workload, its pods (UID, issuer of the certificate held) before the execution started and at
   * the end, as the lab saw them, and whether it was restarted (workload-moves.ts).
   */
  readonly workloadMoves: readonly WorkloadMove[];
  readonly invocations: Readonly<Record<string, number>>;
  /** Per handler, its warm invocations' times (containers already initialised; warm-invocation-times.ts). */
  readonly warmInvocations: Readonly<Record<string, InvocationTimes>>;
  /** How late the lab's timers ran (it shares this process): long delays explain expired certificates. */
  readonly labEventLoopDelayMs: { readonly max: number; readonly p99: number };
  /**
   * The model lab's own load over the run (lab/lab-load.ts: this process's CPU and memory, its event-loop
   * delay, the certificates the lab signed a second) and the pace it ran at (lab/lab-pace.ts), so a
   * reader can tell whether the lab kept up. Absent when the lab ran in other processes.
   */
  readonly labLoad?: LabLoad & { readonly pace: LabPaceSettings };
  /**
   * The model lab's own waits while the execution ran (lab-waits.ts): the delays it plays and the pods
   * it started, so the rotation's own time can be told from the lab's. Absent when the lab ran in other
   * processes.
   */
  readonly labWaits?: LabWaits;
  readonly checks: readonly ReportCheck[];
}

/**
 * What the run should end in: a permanent failure after the first write rolls back, and a permanent
 * failure of a rollback state then fails the rollback (RollbackFailed). One-off failures are retried.
 */
export function expectedResult(
  mode: RehearsalMode,
  failAts: readonly { readonly state: string; readonly once: boolean }[],
): RehearsalResult {
  // A release of the lock that fails is caught, and the run ends as it would have.
  const permanent = failAts
    .filter((failAt) => !failAt.once)
    .map((failAt) => failAt.state.replace(/-in-cluster$/, ''))
    .filter((state) => !(RELEASE_LOCK_STATES as readonly string[]).includes(state));
  const inRollback = (state: string) => (ROLLBACK_STATES as readonly string[]).includes(state);
  // A rollback state runs only after a failure of the rotation: the first of those decides.
  const trigger = permanent.find((state) => !inRollback(state));
  if (trigger === undefined) return 'SUCCEEDED';
  // Before the first write there is nothing to roll back, and promote-root is not rolled back on purpose:
  // the run stops (rotation-stopped) with the error of that state.
  if (
    [
      'input-defaults',
      'apply-input-defaults',
      'execution-context',
      'acquire-lock',
      'preflight',
      'promote-root',
    ].includes(trigger)
  )
    return 'FAILED';
  if (mode === 'intermediate' && trigger === 'stage-root') return 'SUCCEEDED';
  return permanent.some(inRollback) ? 'FAILED' : 'ROLLED_BACK';
}

/**
 * The failures a run's --fault specs stand for, as --fail-at states: a rollout held unready (`stuck`)
 * or a cacerts write istiod ignores (`istiod-drop`) is no transient fault, so the product's gates must
 * fail the run from that phase on, as a permanent --fail-at there would. A StatefulSet's pod held
 * unready blocks the rollback's restart too (OrderedReady replaces no pod while one is not ready; only
 * deleting it does, docs/runbook.md), so that rollback fails as well. STS refusing an AssumeRole
 * (`sts:...:denied`) is no transient fault either: the phase that meets it fails. The other faults are
 * absorbed.
 */
export function faultFailAts(faults: readonly Fault[]): { readonly state: string; readonly once: false }[] {
  return faults.flatMap((fault) => {
    if (fault.target === 'sts' && fault.kind === 'denied')
      return [{ state: fault.phase, once: false } as const];
    if (fault.target !== 'kube' || (fault.kind !== 'stuck' && fault.kind !== 'istiod-drop')) return [];
    const atPhase = { state: fault.phase, once: false } as const;
    if (fault.kind === 'stuck' && fault.workload === 'statefulset') {
      return [atPhase, { state: WORKFLOW_STATES.rollbackRestart, once: false } as const];
    }
    return [atPhase];
  });
}

/**
 * What must become of the run's cacerts backups (one per cluster it wrote to, each with that cluster's
 * start intermediate key), given how it ended: a run that succeeded (promote-root, or release-lock after
 * a rekey) or was rolled back (the last rollback stage) has scheduled every one for deletion; a rollback
 * that failed before its last stage keeps them all, for the operator. undefined: nothing to expect (a run
 * stopped before writing or after promote-root, or a failure injected after rollback-drop-pending ran).
 */
export function expectedCacertsBackups(
  result: RehearsalResult,
  failAts: readonly { readonly state: string; readonly once: boolean }[],
): 'deleting' | 'kept' | undefined {
  if (result === 'SUCCEEDED' || result === 'ROLLED_BACK') return 'deleting';
  if (result !== 'FAILED') return undefined;
  const lastStage = WORKFLOW_STATES.rollbackDropPending as string;
  const failedBeforeLastStage = failAts
    .filter((failAt) => !failAt.once)
    .map((failAt) => failAt.state.replace(/-in-cluster$/, ''))
    .some((state) => (ROLLBACK_STATES as readonly string[]).includes(state) && state !== lastStage);
  return failedBeforeLastStage ? 'kept' : undefined;
}

export interface OutcomeFacts {
  readonly mode: RehearsalMode;
  readonly cluster?: string;
  readonly result: RehearsalResult;
  readonly expected: RehearsalResult;
  readonly phases: readonly PhaseReport[];
  readonly failedHandshakes: number;
  readonly rejectedUpdates: number;
  readonly rootA: string;
  readonly rootB?: string;
  /** Per cluster; a remote cluster's entry is its primary's cacerts, which is what its pods are served. */
  readonly initial: readonly ClusterCacertsSummary[];
  readonly final: readonly ClusterCacertsSummary[];
  /** The remote clusters (model topology primary-remote): no cacerts, no intermediate of their own. */
  readonly remotes?: readonly string[];
  /** Every ready workload's certificate at the end, as its proxy holds it (who issued it is what counts). */
  readonly workloads: readonly Pick<WorkloadCertificate, 'cluster' | 'pod' | 'issuer'>[];
  /** Each workload's pods at the start and at the end (workload-moves.ts); absent: no check of moves. */
  readonly workloadMoves?: readonly WorkloadMove[];
  /** Each cluster's strategy and restart-workloads' answer (cluster-strategies.ts); absent: no check. */
  readonly strategies?: readonly ClusterStrategy[];
  /** Per cluster: is the whole cacerts Secret (all four keys) byte-identical to the start? */
  readonly identicalToStart: Readonly<Record<string, boolean>>;
  /** The --fault specs and how often each fired; none or empty: no check. */
  readonly faults?: readonly FaultReport[];
  /** The root keys at the end (end-state.ts); absent: no check. */
  readonly rootKeys?: RootKeysAtEnd;
  /**
   * The root keys when the run started, the baseline of the end. @default none and A's imported key
   * secret kept: a CA store seeded as after a first run (an attached lab may hold earlier rotations' keys)
   */
  readonly rootKeysAtStart?: RootKeysAtEnd;
  /** The run's cacerts backups at the end (end-state.ts); absent: no check. */
  readonly cacertsBackups?: CacertsBackupsAtEnd;
  /** The --fail-at failures injected (what the backups' end depends on, with the result). */
  readonly failAts?: readonly { readonly state: string; readonly once: boolean }[];
  /**
   * The daily expiry check, invoked at the end as deployed (its own bundle, role and environment), then
   * once more in the container the first run warmed: what it returned, or why either run failed or
   * the second answered otherwise; absent: no check.
   */
  readonly expiryCheck?: ExpiryCheckAtEnd;
}

/** What check-expiry returned at the end of a rehearsal, or the error it ended with. */
export type ExpiryCheckAtEnd =
  | { readonly certificates: number; readonly days: number; readonly first: string }
  | { readonly error: string };

/** The checks of a rehearsal; every one must pass for exit code 0. */
export function outcomeChecks(facts: OutcomeFacts): ReportCheck[] {
  const checks: ReportCheck[] = [
    {
      name: 'result-as-expected',
      ok: facts.result === facts.expected,
      detail: `expected ${facts.expected}, got ${facts.result}`,
    },
    {
      name: 'no-failed-handshake',
      ok: facts.failedHandshakes === 0,
      detail: `${facts.failedHandshakes} failed handshake(s)`,
    },
  ];
  const silent = facts.phases.filter((phase) => phase.handshakes.attempted === 0).map((phase) => phase.name);
  checks.push({
    name: 'handshakes-in-every-phase',
    ok: silent.length === 0,
    detail:
      silent.length === 0
        ? `${facts.phases.length} phases, each with handshakes`
        : `none in ${silent.join(', ')}`,
  });
  checks.push({
    name: 'istiod-accepted-every-write',
    ok: facts.rejectedUpdates === 0,
    detail: `${facts.rejectedUpdates} cacerts update(s) dropped by istiod`,
  });
  // A fault that never landed (its phase never ran, or nothing asked the API after it began) proves
  // nothing about how the rotation takes it.
  const faults = facts.faults ?? [];
  if (faults.length > 0) {
    const silent = faults.filter((fault) => fault.fired === 0).map((fault) => fault.spec);
    checks.push({
      name: 'every-fault-fired',
      ok: silent.length === 0,
      detail:
        silent.length === 0
          ? faults.map((fault) => `${fault.spec} fired ${fault.fired}x`).join(', ')
          : `never fired: ${silent.join(', ')}`,
    });
  }
  const strayKeys = strayRootKeysCheck(facts);
  if (strayKeys !== undefined) checks.push(strayKeys);
  const initial = new Map(facts.initial.map((entry) => [entry.cluster, entry]));
  const backups = cacertsBackupsCheck(facts);
  if (backups !== undefined) checks.push(backups);
  // Nothing more to expect of a run that failed outright or was stopped halfway.
  if (facts.result === 'FAILED' || facts.result === 'ABORTED') return checks;
  if (facts.expiryCheck !== undefined)
    checks.push(expiryCheckCheck(facts.expiryCheck, facts.final.length - (facts.remotes?.length ?? 0)));
  // Whatever the outcome, a workload must end on what its cluster's istiod now signs with: a pod left
  // on another intermediate breaks as soon as the root it chains to goes.
  const finalIntermediate = new Map(facts.final.map((entry) => [entry.cluster, entry.caCert]));
  const stale = facts.workloads.filter(
    (workload) => workload.issuer !== finalIntermediate.get(workload.cluster),
  );
  checks.push({
    name: 'workloads-on-final-intermediate',
    ok: facts.workloads.length > 0 && stale.length === 0,
    detail:
      facts.workloads.length === 0
        ? 'no workload certificate could be read'
        : stale.length === 0
          ? `${facts.workloads.length} workload(s), each certificate issued by its cluster's final intermediate`
          : `${stale.length} of ${facts.workloads.length} still on another intermediate: ${stale
              .slice(0, 5)
              .map((workload) => `${workload.cluster}/${workload.pod}`)
              .join(', ')}`,
  });
  if (facts.result === 'ROLLED_BACK') {
    const changed = Object.entries(facts.identicalToStart)
      .filter(([, same]) => !same)
      .map(([cluster]) => cluster);
    checks.push({
      name: 'cacerts-byte-identical-to-start',
      ok: changed.length === 0,
      detail: changed.length === 0 ? 'every cluster' : `changed: ${changed.join(', ')}`,
    });
  } else if (facts.mode === 'intermediate') {
    const wrong = facts.final.filter((entry) => {
      const before = initial.get(entry.cluster);
      const sameRoots = JSON.stringify(entry.roots) === JSON.stringify(before?.roots);
      const rekeyed = entry.caCert !== before?.caCert;
      return !sameRoots || rekeyed !== (entry.cluster === facts.cluster);
    });
    checks.push({
      name: 'only-the-cluster-rekeyed',
      ok: wrong.length === 0,
      detail:
        wrong.length === 0
          ? `${facts.cluster} has a new intermediate under root A; roots unchanged everywhere`
          : `expected only ${facts.cluster} to get a new intermediate under an unchanged root; wrong in ${wrong
              .map((entry) => entry.cluster)
              .join(', ')}`,
    });
  } else {
    const wrong = facts.final.filter(
      (entry) =>
        facts.rootB === undefined ||
        facts.rootB === facts.rootA ||
        entry.roots.length !== 1 ||
        entry.roots[0] !== facts.rootB,
    );
    checks.push({
      name: 'final-roots-new-root-only',
      ok: wrong.length === 0,
      detail:
        wrong.length === 0
          ? 'every cluster trusts root B only'
          : `not on root B alone: ${wrong.map((entry) => entry.cluster).join(', ')}`,
    });
  }
  checks.push(...movesChecks(facts));
  const keys = rootKeysCheck(facts);
  if (keys !== undefined) checks.push(keys);
  return checks;
}

/**
 * What a rotation that succeeded did to the workloads (issue 17's proof): every workload of a cluster
 * that rotated (all of them in a root rotation, the one rekeyed in intermediate mode) moved from its
 * start intermediate to its final one; and a cluster preflight set to `resign` restarted no pod. A
 * rolled-back run ends where it started, which cacerts-byte-identical-to-start and
 * workloads-on-final-intermediate judge.
 */
function movesChecks(facts: OutcomeFacts): ReportCheck[] {
  if (facts.result !== 'SUCCEEDED' || facts.workloadMoves === undefined) return [];
  const rotated =
    facts.mode === 'intermediate'
      ? facts.cluster === undefined
        ? []
        : [facts.cluster]
      : facts.final.map((entry) => entry.cluster);
  const checks: ReportCheck[] = [
    workloadsMovedCheck({
      clusters: rotated,
      initial: facts.initial,
      final: facts.final,
      moves: facts.workloadMoves,
    }),
  ];
  const resign =
    facts.strategies === undefined
      ? undefined
      : resignNoPodsRestartedCheck(facts.strategies, facts.workloadMoves);
  if (resign !== undefined) checks.push(resign);
  return checks;
}

/**
 * Whether each root key ended as the run's end requires: after a root rotation only B's KMS key is
 * live and root A's imported key is being deleted; after a rollback no root key made by the run is
 * live and A's key is kept; an intermediate rekey makes no root key. No check for a failed run.
 */
/** The expiry check ran as deployed and watched the root and every cluster's intermediate. */
function expiryCheckCheck(expiry: ExpiryCheckAtEnd, clusters: number): ReportCheck {
  if ('error' in expiry)
    return { name: 'expiry-check-runs', ok: false, detail: `check-expiry failed: ${expiry.error}` };
  const ok = expiry.certificates === clusters + 1 && expiry.days >= 0;
  return {
    name: 'expiry-check-runs',
    ok,
    detail: `${expiry.certificates} certificate(s) watched (expected ${clusters + 1}), first to expire ${expiry.first} in ${expiry.days} day(s)`,
  };
}

/**
 * The run's cacerts backups ended as expectedCacertsBackups says: all scheduled for deletion (and at
 * least one made, by a run that succeeded), or all kept after a rollback that failed before its end.
 */
function cacertsBackupsCheck(facts: OutcomeFacts): ReportCheck | undefined {
  const backups = facts.cacertsBackups;
  if (backups === undefined || facts.result !== facts.expected) return undefined;
  const expected = expectedCacertsBackups(facts.result, facts.failAts ?? []);
  if (expected === undefined) return undefined;
  const counts = `${backups.kept} kept, ${backups.deleting} scheduled for deletion`;
  if (expected === 'kept') {
    return {
      name: 'cacerts-backups-kept',
      ok: backups.deleting === 0,
      detail: `the rollback did not complete, so none may be deleted: ${counts}`,
    };
  }
  const made = facts.result === 'SUCCEEDED' ? backups.deleting > 0 : true;
  return {
    name: 'cacerts-backups-deleted',
    ok: backups.kept === 0 && made,
    detail: `every backup of the run scheduled for deletion: ${counts}`,
  };
}

/**
 * However the run ended, it made no root key beyond the one each root version's alias names: a second
 * key (CreateKey retried after its answer was lost) is enabled, can sign, and nothing retires it.
 */
function strayRootKeysCheck(facts: OutcomeFacts): ReportCheck | undefined {
  const unaliased = facts.rootKeys?.unaliased;
  if (unaliased === undefined) return undefined;
  const before = facts.rootKeysAtStart?.unaliased ?? 0;
  return {
    name: 'no-root-key-without-alias',
    ok: unaliased <= before,
    detail:
      unaliased <= before
        ? `every enabled root key of the mesh is named by its root version's alias (${before} stray before the run)`
        : `${unaliased - before} enabled root key(s) of the mesh made by the run with no alias: made twice, never retired`,
  };
}

function rootKeysCheck(facts: OutcomeFacts): ReportCheck | undefined {
  const keys = facts.rootKeys;
  if (keys === undefined || facts.result !== facts.expected) return undefined;
  // Keys there at the start (earlier rotations of an attached lab) are the baseline: a root rotation
  // retires every one of them, a rekey or a rollback leaves them as they were.
  const start = facts.rootKeysAtStart ?? { kms: [], importedKeySecret: 'kept' };
  const made = Math.max(0, keys.kms.length - start.kms.length);
  const expected =
    facts.result === 'SUCCEEDED' && facts.mode !== 'intermediate'
      ? {
          kms: ['Enabled', ...start.kms.map(() => 'PendingDeletion')].sort(),
          importedKeySecret: start.importedKeySecret === 'none' ? 'none' : 'deleting',
          says: "only B's KMS key live, A's key secret deleting",
        }
      : facts.result === 'SUCCEEDED'
        ? {
            kms: [...start.kms],
            importedKeySecret: start.importedKeySecret,
            says: "no root key made, A's key secret kept",
          }
        : facts.result === 'ROLLED_BACK'
          ? {
              kms: [...start.kms, ...Array.from({ length: made }, () => 'PendingDeletion')].sort(),
              importedKeySecret: start.importedKeySecret,
              says: "no root key of the run live, A's key secret kept",
            }
          : undefined;
  if (expected === undefined) return undefined;
  const ok =
    JSON.stringify(keys.kms) === JSON.stringify(expected.kms) &&
    keys.importedKeySecret === expected.importedKeySecret;
  return {
    name: 'root-keys-retired',
    ok,
    detail: `${ok ? expected.says : `expected ${expected.says}`}: KMS [${keys.kms.join(', ')}], A's key secret ${keys.importedKeySecret}`,
  };
}
