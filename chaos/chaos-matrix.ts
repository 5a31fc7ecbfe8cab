// The reliability matrix: every case `npm run chaos` can run, derived from the synthesized state
// machine rather than listed by hand. For each mode:
// - baseline: nothing injected;
// - fail-at: a permanent failure after each Task (or Map) state the mode passes through, and for a Map
//   one more on a single cluster when the mode's Maps run over several;
// - transient: a one-off failure at each of those states (`:once`), which Retry must absorb;
// - fault: each --fault kind, on the first phase after the first write (Kubernetes faults on the first
//   such Map, where the functions talk to the clusters; a rollout held unready on the restart Map), and
//   the late sibling (a cluster's write arriving after that Map failed on another);
// - rollback: the latest failure that rolls back, then a failure at each state of that rollback
//   (permanent and one-off).
// The states come from the list the rehearsal checks `--fail-at` against (failAtStates) in the order
// the mode's walk of the definition enters them; each case's expected end is that walk with the case's
// failures injected (state-graph.ts). Pure: no I/O.
import { RESTART_LOOP_MAP_STATES } from '../lib/workflow-states.js';
import { ChaosMatrixError } from './chaos-errors.js';
import {
  type Definition,
  type EndResult,
  type InjectedFailure,
  mapStates,
  predictEnd,
  type RehearsalMode,
} from './state-graph.js';

export const MODES: readonly RehearsalMode[] = ['scheduled', 'emergency', 'intermediate'];

/** `kill`: a `rehearse --lab` run SIGKILLed in a state, then resumed (kill-cases.ts). */
export const CASE_KINDS = ['baseline', 'fail-at', 'transient', 'fault', 'rollback', 'kill'] as const;
export type CaseKind = (typeof CASE_KINDS)[number];

export interface ExpectedEnd {
  readonly result: EndResult;
  /** The execution's error name, when the end is FAILED (e.g. RollbackFailed). */
  readonly error?: string;
}

export interface ChaosCase {
  /** `mode/kind/what`, e.g. `scheduled/fail-at/reissue-intermediate:lab-2`: what --only matches. */
  readonly id: string;
  readonly mode: RehearsalMode;
  readonly kind: CaseKind;
  /** The rehearse flags of the case beyond the fleet size, --cdk-out and --out. */
  readonly flags: readonly string[];
  readonly expected: ExpectedEnd;
}

export interface MatrixInput {
  readonly definition: Definition;
  /** The STATE names `rehearse --fail-at` accepts (failAtStates(...).listed): Task states and Maps. */
  readonly failAtStates: readonly string[];
  /** The fleet's clusters (`lab-1` .. `lab-N`); the last one is where per-cluster faults land. */
  readonly clusters: readonly string[];
}

/**
 * Modes whose Maps run over one cluster only: intermediate mode rekeys `--cluster` alone
 * (lambdas/handlers/preflight.ts), so a per-cluster variant there would repeat the whole-Map case.
 */
const MAPS_OVER_ONE_CLUSTER: readonly RehearsalMode[] = ['intermediate'];

/**
 * Each --fault kind of the rehearsal (rehearsal/fault-spec.ts) and where it lands: Kubernetes faults on
 * the first Map after the first write, AWS faults on the first write, EKS API faults on that Map, all sized to be absorbed
 * (SUCCEEDED; an AWS answer lost after its write is retried, and must write nothing twice; a late answer
 * is waited for); a rollout held unready on the restart Map, where the wave's rollout timeout fails the
 * step and the run rolls back as a permanent failure of that Map would; a cacerts write istiod ignores on
 * the first Map that writes, which the gates after it (verify-trust, restart-workloads' istiod gate) must
 * catch, rolling back as a failure of that Map would.
 */
const FAULT_KINDS: readonly {
  readonly name: string;
  readonly on: 'first-write' | 'first-write-map' | 'restart-map';
  /** Not absorbed: the run must fail at the gates after `on` and roll back. @default false */
  readonly rollsBack?: boolean;
  spec(cluster: string, phase: string): string;
}[] = [
  { name: 'kube-5xx', on: 'first-write-map', spec: (cluster, phase) => `kube:${cluster}:5xx:3@${phase}` },
  {
    name: 'kube-conflict',
    on: 'first-write-map',
    spec: (cluster, phase) => `kube:${cluster}:conflict:2@${phase}`,
  },
  {
    name: 'kube-slow',
    on: 'first-write-map',
    spec: (cluster, phase) => `kube:${cluster}:slow:1500:3@${phase}`,
  },
  { name: 'kube-down', on: 'first-write-map', spec: (cluster, phase) => `kube:${cluster}:down:5@${phase}` },
  {
    name: 'kube-istiod-drop',
    on: 'first-write-map',
    rollsBack: true,
    spec: (cluster, phase) => `kube:${cluster}:istiod-drop:1@${phase}`,
  },
  // A Deployment's pod: its next template (the rollback's restart) replaces a pod that is not ready. A
  // StatefulSet's stuck pod blocks that restart too (OrderedReady), which only deleting it undoes, so its
  // run ends FAILED RollbackFailed by design (docs/reliability.md, finding 1): not a case of the matrix.
  {
    name: 'kube-stuck',
    on: 'restart-map',
    rollsBack: true,
    spec: (cluster, phase) => `kube:${cluster}:stuck:1:deployment@${phase}`,
  },
  { name: 'aws-throttle', on: 'first-write', spec: (_cluster, phase) => `aws:throttle:3@${phase}` },
  { name: 'aws-5xx', on: 'first-write', spec: (_cluster, phase) => `aws:5xx:3@${phase}` },
  // The first write's first four writes (the lock's PutItem, CreateKey, CreateAlias, PutSecretValue in
  // stage-root), each made and its answer lost once: the retry must not write a second time.
  { name: 'aws-lost', on: 'first-write', spec: (_cluster, phase) => `aws:lost:4@${phase}` },
  // Three requests each answered 3 s late: the SDK, which sets no request timeout, waits for each; the
  // function's own time limit (5 min and more) is far off.
  { name: 'aws-slow', on: 'first-write', spec: (_cluster, phase) => `aws:slow:3000:3@${phase}` },
  // The EKS API (DescribeCluster) on the first Map: every invocation there describes its cluster first.
  { name: 'eks-throttle', on: 'first-write-map', spec: (_cluster, phase) => `eks:throttle:3@${phase}` },
  { name: 'eks-5xx', on: 'first-write-map', spec: (_cluster, phase) => `eks:5xx:3@${phase}` },
  { name: 'eks-slow', on: 'first-write-map', spec: (_cluster, phase) => `eks:slow:3000:3@${phase}` },
  // STS (AssumeRole) on the same Map: every invocation there assumes the cluster role before it connects.
  // Three, as for EKS: one invocation may meet all three, past the SDK's 3 attempts of one AssumeRole, and
  // then the state machine's Retry takes the TransientError the adapters make of it (docs/reliability.md,
  // "Faults of STS").
  { name: 'sts-throttle', on: 'first-write-map', spec: (_cluster, phase) => `sts:throttle:3@${phase}` },
  { name: 'sts-5xx', on: 'first-write-map', spec: (_cluster, phase) => `sts:5xx:3@${phase}` },
  { name: 'sts-slow', on: 'first-write-map', spec: (_cluster, phase) => `sts:slow:3000:3@${phase}` },
];

/** The case of a sibling whose write comes after its Map failed, and how late each of its requests is. */
const LATE_SIBLING = 'late-sibling';
const LATE_SIBLING_DELAY_MS = 5000;

export function chaosMatrix(input: MatrixInput): ChaosCase[] {
  const victim = input.clusters[input.clusters.length - 1];
  if (victim === undefined) throw new ChaosMatrixError('the fleet has no cluster');
  if (input.failAtStates.length === 0) throw new ChaosMatrixError('the definition has no Task state');
  return MODES.flatMap((mode) => modeCases(input, mode, victim));
}

function modeCases(input: MatrixInput, mode: RehearsalMode, victim: string): ChaosCase[] {
  const { definition } = input;
  const maps = mapStates(definition);
  const fleetFlags = mode === 'intermediate' ? ['--mode', mode, '--cluster', victim] : ['--mode', mode];
  const expect = (failures: readonly InjectedFailure[]): ExpectedEnd => {
    const end = predictEnd(definition, mode, failures);
    return { result: end.result, ...(end.error === undefined ? {} : { error: end.error }) };
  };
  const failAtFlags = (specs: readonly string[]) => specs.flatMap((spec) => ['--fail-at', spec]);
  const make = (
    kind: CaseKind,
    what: string | undefined,
    flags: readonly string[],
    expected: ExpectedEnd,
  ) => ({
    id: [mode, kind, what].filter((part) => part !== undefined).join('/'),
    mode,
    kind,
    flags: [...fleetFlags, ...flags],
    expected,
  });

  const baseline = predictEnd(definition, mode);
  if (baseline.result !== 'SUCCEEDED') {
    throw new ChaosMatrixError(`with nothing injected, ${mode} is predicted to end ${baseline.result}`);
  }
  const points = unique(baseline.path.filter((state) => input.failAtStates.includes(state)));
  const perCluster = !MAPS_OVER_ONE_CLUSTER.includes(mode) && input.clusters.length > 1;
  const cases: ChaosCase[] = [make('baseline', undefined, [], { result: 'SUCCEEDED' })];

  for (const state of points) {
    const expected = expect([{ state, once: false }]);
    cases.push(make('fail-at', state, failAtFlags([state]), expected));
    if (perCluster && maps.has(state)) {
      cases.push(make('fail-at', `${state}:${victim}`, failAtFlags([`${state}:${victim}`]), expected));
    }
  }
  for (const state of points) {
    cases.push(
      make('transient', `${state}:once`, failAtFlags([`${state}:once`]), expect([{ state, once: true }])),
    );
  }

  // After the first write: where a permanent failure rolls back.
  const rollsBack = points.filter((state) => expect([{ state, once: false }]).result === 'ROLLED_BACK');
  const firstWrite = rollsBack[0];
  const firstWriteMap = rollsBack.find((state) => maps.has(state));
  if (firstWrite === undefined || firstWriteMap === undefined) {
    throw new ChaosMatrixError(`no Map state of ${mode} rolls back when it fails: nothing to fault`);
  }
  // The forward restart Map (the one that rolls back when it fails), if the mode runs one.
  const restartMap = rollsBack.find((state) => state === RESTART_LOOP_MAP_STATES[0]);
  for (const kind of FAULT_KINDS) {
    if (kind.on === 'restart-map') {
      if (restartMap === undefined) continue;
      const spec = kind.spec(victim, restartMap);
      cases.push(make('fault', kind.name, ['--fault', spec], expect([{ state: restartMap, once: false }])));
      continue;
    }
    const phase = kind.on === 'first-write-map' ? firstWriteMap : firstWrite;
    const expected =
      kind.rollsBack === true ? expect([{ state: phase, once: false }]) : ({ result: 'SUCCEEDED' } as const);
    cases.push(make('fault', kind.name, ['--fault', kind.spec(victim, phase)], expected));
  }

  // A sibling late: on the first Map that writes, the last cluster's step fails at once while the first
  // cluster's is slowed past the Map's failure, so its write comes after the rollback began (a Map's
  // failure stops no invocation in flight, inline or Distributed): the rollback's fence must refuse it.
  const sibling = input.clusters[0];
  if (perCluster && sibling !== undefined && sibling !== victim) {
    cases.push(
      make(
        'fault',
        LATE_SIBLING,
        [
          ...failAtFlags([`${firstWriteMap}:${victim}`]),
          '--fault',
          `kube:${sibling}:slow:${LATE_SIBLING_DELAY_MS}:3@${firstWriteMap}`,
        ],
        expect([{ state: firstWriteMap, once: false }]),
      ),
    );
  }

  // The latest failure that still rolls back has the most to undo: every rollback state does work.
  const triggerState = rollsBack[rollsBack.length - 1] as string;
  const trigger = perCluster && maps.has(triggerState) ? `${triggerState}:${victim}` : triggerState;
  const triggered = predictEnd(definition, mode, [{ state: triggerState, once: false }]);
  const rollbackPoints = unique(triggered.path.slice(triggered.path.lastIndexOf(triggerState) + 1)).filter(
    (state) => input.failAtStates.includes(state),
  );
  for (const state of rollbackPoints) {
    for (const once of [false, true]) {
      const spec = once ? `${state}:once` : state;
      cases.push(
        make(
          'rollback',
          `${trigger}+${spec}`,
          failAtFlags([trigger, spec]),
          expect([
            { state: triggerState, once: false },
            { state, once },
          ]),
        ),
      );
    }
  }
  return cases;
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}

/**
 * The cases whose id matches one of `patterns`: `*` stands for any text (slashes too); a pattern
 * without `*` matches an id that contains it. No patterns: every case.
 */
export function selectCases(cases: readonly ChaosCase[], patterns: readonly string[]): ChaosCase[] {
  if (patterns.length === 0) return [...cases];
  const matchers = patterns.map((pattern) =>
    pattern.includes('*')
      ? new RegExp(`^${pattern.split('*').map(escapeRegExp).join('.*')}$`)
      : { test: (id: string) => id.includes(pattern) },
  );
  return cases.filter((chaosCase) => matchers.some((matcher) => matcher.test(chaosCase.id)));
}

function escapeRegExp(text: string): string {
  return text.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
}
