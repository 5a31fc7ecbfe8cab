// One rotation driven by hand over a handler lab, as the state machine calls the handlers: preflight and
// stage-root once, each Map's handler per cluster with the Map's item, the rollback stages the same way.
// The tests say only their scenario (which phases, which clusters, where it fails); the items are built
// here, once.
import { setTimeout as sleep } from 'node:timers/promises';
import type { RotationMode } from '../../../lambdas/core/plan/phases.js';
import { handler as distributeBundle } from '../../../lambdas/handlers/distribute-bundle.js';
import { handler as preflight } from '../../../lambdas/handlers/preflight.js';
import { handler as promoteRoot } from '../../../lambdas/handlers/promote-root.js';
import { handler as reissueIntermediate } from '../../../lambdas/handlers/reissue-intermediate.js';
import { handler as restartWorkloads } from '../../../lambdas/handlers/restart-workloads.js';
import { handler as retireRoot } from '../../../lambdas/handlers/retire-root.js';
import { handler as rollback } from '../../../lambdas/handlers/rollback.js';
import { handler as stageRoot } from '../../../lambdas/handlers/stage-root.js';
import { handler as verifyTrust } from '../../../lambdas/handlers/verify-trust.js';
import { handler as verifyWorkloads } from '../../../lambdas/handlers/verify-workloads.js';
import { FORWARD_PHASES } from '../../support/workflow-paths.js';
import { awaitProxyTrust, type HandlerLab, onPrimary } from './handler-lab.js';

/** How a test runs one phase: `probedPhase` labels the prober with it, `unprobed` just runs it. */
export type Phase = <T>(name: string, run: () => Promise<T>) => Promise<T>;

export const unprobed: Phase = (_name, run) => run();

/**
 * Runs each phase with the lab's prober labelled by its name, hands its output to `seen` (to collect or
 * scan it), then runs one probe round, so that every phase is probed at least once.
 */
export function probedPhase(h: HandlerLab, seen: (output: unknown) => void = () => {}): Phase {
  return async (name, run) => {
    h.lab.prober.setPhase(name);
    const result = await run();
    seen(result);
    await h.lab.prober.runRound();
    return result;
  };
}

/** The cacerts writers as any cluster answers them: a remote answers `skipped`. */
export const ON_ANY_CLUSTER = { distributeBundle, reissueIntermediate, retireRoot };
/** The cacerts writers for a fleet of primaries: a `skipped` answer fails the test. */
export const ON_PRIMARIES = {
  distributeBundle: onPrimary(distributeBundle),
  reissueIntermediate: onPrimary(reissueIntermediate),
  retireRoot: onPrimary(retireRoot),
};
type Writers = typeof ON_ANY_CLUSTER | typeof ON_PRIMARIES;
type Answer<F extends (event: unknown) => Promise<unknown>> = Awaited<ReturnType<F>>;

export type ForwardPhase = (typeof FORWARD_PHASES)[number];
const INTERMEDIATE_PHASES: ReadonlySet<ForwardPhase> = new Set([
  'preflight',
  'reissue-intermediate',
  'restart-workloads',
  'verify-workloads',
]);

export interface RotationByHandOptions<W extends Writers> {
  readonly executionId: string;
  readonly mode: RotationMode;
  /** The clusters each Map runs over, in order: every lab cluster unless named. */
  readonly clusters?: readonly string[];
  /** ON_PRIMARIES where every cluster is a primary; ON_ANY_CLUSTER (the default) where remotes skip. */
  readonly writers?: W;
  /** A resumed rollback's stages name the execution whose writes they undo. */
  readonly rollbackOf?: string;
  /**
   * Give reissue-intermediate and restart-workloads each cluster's strategy from preflight's answer, as
   * the state machine's Map items do (the default: leave it out, so that they restart).
   */
  readonly plannedStrategies?: boolean;
}

export interface Walk {
  /** The first phase to run (the default: preflight). */
  readonly from?: ForwardPhase;
  /** The last phase to run. */
  readonly through: ForwardPhase;
  /** How each phase runs (the default: unprobed). */
  readonly phase?: Phase;
  /** Each phase's label for `phase` (the default: its name). */
  readonly label?: (phase: ForwardPhase) => string;
}

export interface PreflightClusters {
  /** Send preflight's clusters too, as the state machine does (the default: leave them out). */
  readonly withPreflightClusters?: boolean;
}

export class RotationByHand<W extends Writers = typeof ON_ANY_CLUSTER> {
  readonly executionId: string;
  readonly mode: RotationMode;
  readonly clusters: readonly string[];
  readonly #writers: W;
  readonly #rollbackOf: string | undefined;
  readonly #plannedStrategies: boolean;
  #checked: Answer<typeof preflight> | undefined;
  #stagedRoot: Answer<typeof stageRoot> | null = null;
  /**
   * The last answers of distribute-bundle, reissue-intermediate and the rollback's restore-trust and
   * restore-intermediate: the gates after them get them as `writes`.
   */
  #distributed: readonly object[] | undefined;
  #reissued: readonly object[] | undefined;
  #restoredTrust: readonly object[] | undefined;
  #restoredIntermediate: readonly object[] | undefined;
  readonly #h: HandlerLab;

  constructor(h: HandlerLab, options: RotationByHandOptions<W>) {
    this.#h = h;
    this.executionId = options.executionId;
    this.mode = options.mode;
    this.clusters = options.clusters ?? h.lab.clusters.map((cluster) => cluster.name);
    this.#writers = options.writers ?? (ON_ANY_CLUSTER as W);
    this.#rollbackOf = options.rollbackOf;
    this.#plannedStrategies = options.plannedStrategies ?? false;
  }

  /** The same rotation's root and plan, run by another execution (a resumed rollback, with rollbackOf). */
  asExecution(executionId: string, rollbackOf?: string): RotationByHand<W> {
    const other = new RotationByHand(this.#h, {
      executionId,
      mode: this.mode,
      clusters: this.clusters,
      writers: this.#writers,
      plannedStrategies: this.#plannedStrategies,
      ...(rollbackOf !== undefined && { rollbackOf }),
    });
    other.#checked = this.#checked;
    other.#stagedRoot = this.#stagedRoot;
    return other;
  }

  /** What preflight answered. */
  get checked(): Answer<typeof preflight> {
    if (this.#checked === undefined) throw new Error('preflight has not run in this rotation');
    return this.#checked;
  }

  /** The root stage-root staged. */
  get stagedRoot(): Answer<typeof stageRoot> {
    if (this.#stagedRoot === null) throw new Error('stage-root has not run in this rotation');
    return this.#stagedRoot;
  }

  /** A per-cluster Map's item, as the state machine builds it from preflight's and stage-root's answers. */
  item(cluster: string) {
    return {
      executionId: this.executionId,
      mode: this.mode,
      cluster,
      currentRoot: this.checked.currentRoot,
      stagedRoot: this.#stagedRoot,
      ...(this.#rollbackOf !== undefined && { rollbackOf: this.#rollbackOf }),
    };
  }

  /** The cluster's item with its planned strategy, for the Maps whose items carry it (plannedStrategies). */
  #itemWithStrategy(cluster: string) {
    const strategy = this.#plannedStrategies
      ? this.checked.clusters.find(({ name }) => name === cluster)?.strategy
      : undefined;
    return { ...this.item(cluster), ...(strategy !== undefined && { strategy }) };
  }

  /** Per cluster, as a Map state with MaxConcurrency would: here all at once. */
  each<T>(run: (cluster: string) => Promise<T>, clusters: readonly string[] = this.clusters): Promise<T[]> {
    return Promise.all(clusters.map(run));
  }

  async preflight(cluster: string | null = null): Promise<Answer<typeof preflight>> {
    this.#checked = await preflight({ executionId: this.executionId, mode: this.mode, cluster });
    return this.#checked;
  }

  async stageRoot(): Promise<Answer<typeof stageRoot>> {
    this.#stagedRoot = await stageRoot({ executionId: this.executionId });
    return this.#stagedRoot;
  }

  async distributeBundle(clusters?: readonly string[]): Promise<Answer<W['distributeBundle']>[]> {
    const answers = await this.#write('distributeBundle', clusters);
    this.#distributed = answers;
    return answers;
  }

  /** As the state machine hands it: with distribute-bundle's answers as `writes`. */
  verifyTrust(clusters?: readonly string[]) {
    const writes = this.#distributed;
    return this.each(
      (c) => verifyTrust({ ...this.item(c), ...(writes !== undefined && { writes }) }),
      clusters,
    );
  }

  /** The await-proxy-trust Wait, as long as preflight planned it. */
  awaitProxyTrust(): Promise<object> {
    return awaitProxyTrust(this.checked);
  }

  async reissueIntermediate(clusters?: readonly string[]): Promise<Answer<W['reissueIntermediate']>[]> {
    const answers = await this.#write('reissueIntermediate', clusters);
    this.#reissued = answers;
    return answers;
  }

  /**
   * As the state machine hands it: with reissue-intermediate's answers as `writes` (a rotation's), or
   * restore-intermediate's (a rollback's).
   */
  restartWorkloads(purpose: 'rotation' | 'rollback', clusters?: readonly string[]) {
    const writes = purpose === 'rotation' ? this.#reissued : this.#restoredIntermediate;
    return this.each(
      (c) =>
        restartWorkloads({ ...this.#itemWithStrategy(c), purpose, ...(writes !== undefined && { writes }) }),
      clusters,
    );
  }

  verifyWorkloads(clusters?: readonly string[]) {
    return this.each((c) => verifyWorkloads(this.item(c)), clusters);
  }

  /** The soak Wait, one workload-certificate TTL of the lab. */
  soak(): Promise<object> {
    return sleep(this.#h.lab.options.workloadCertTtlMs).then(() => ({}));
  }

  retireRoot(clusters?: readonly string[]): Promise<Answer<W['retireRoot']>[]> {
    return this.#write('retireRoot', clusters);
  }

  /** One of the cacerts writers per cluster, answering as `writers` does. */
  #write<K extends keyof Writers>(writer: K, clusters?: readonly string[]): Promise<Answer<W[K]>[]> {
    const write = this.#writers[writer] as (event: unknown) => Promise<Answer<W[K]>>;
    const item = (c: string) => (writer === 'reissueIntermediate' ? this.#itemWithStrategy(c) : this.item(c));
    return this.each((c) => write(item(c)), clusters);
  }

  /** promote-root; with `withPreflightClusters` as the state machine sends it, naming preflight's clusters. */
  promoteRoot({ withPreflightClusters = false }: PreflightClusters = {}) {
    return promoteRoot({
      executionId: this.executionId,
      stagedRoot: this.stagedRoot,
      ...(withPreflightClusters && { clusters: this.checked.clusters }),
    });
  }

  /**
   * A per-cluster rollback stage (restore-trust, verify-restored-trust, restore-intermediate,
   * restore-original). restore-trust runs as the state machine's rollback-trust and rollback-verify-trust
   * do one after the other: the write, then the wait given the write's answers as `writes`; each
   * cluster's answer is the two merged (restore-trust's stage and `changed`, the wait's proxy trust).
   * verify-restored-trust alone is given the last restore-trust answers.
   */
  async rollback(stage: string, clusters?: readonly string[]) {
    if (stage === 'restore-trust') {
      const written = await this.#rollbackStage(stage, clusters);
      this.#restoredTrust = written;
      const verified = await this.#rollbackStage('verify-restored-trust', clusters);
      return written.map((answer, i) => ({ ...verified[i], ...answer }));
    }
    const answers = await this.#rollbackStage(stage, clusters);
    if (stage === 'restore-intermediate') this.#restoredIntermediate = answers;
    return answers;
  }

  #rollbackStage(stage: string, clusters?: readonly string[]) {
    const writes = stage === 'verify-restored-trust' ? this.#restoredTrust : undefined;
    return this.each(
      (c) => rollback({ ...this.item(c), stage, ...(writes !== undefined && { writes }) }),
      clusters,
    );
  }

  /**
   * The state machine's rollback-await-proxy-trust: every cluster's verify-restored-trust says how long its
   * proxies may take to trust the restored roots, and the run waits the longest of those.
   */
  async awaitRestoredProxyTrust(
    trust: readonly { readonly proxyTrustWaitSeconds?: number }[],
  ): Promise<{ seconds: number }> {
    const seconds = Math.max(0, ...trust.map((t) => t.proxyTrustWaitSeconds ?? 0));
    await sleep(seconds * 1000);
    return { seconds };
  }

  /** The last rollback stage; with `withPreflightClusters` as the state machine sends it (it deletes their backups). */
  dropPendingRoot({ withPreflightClusters = false }: PreflightClusters = {}) {
    return rollback({
      executionId: this.executionId,
      stage: 'drop-pending-root',
      ...(withPreflightClusters && { clusters: this.checked.clusters }),
      ...(this.#rollbackOf !== undefined && { rollbackOf: this.#rollbackOf }),
    });
  }

  /**
   * Runs the forward phases `from` to `through` in order, each Map over every cluster, those of the
   * rotation's mode only: emergency skips the soak, intermediate rekeys its one cluster under the
   * current root (preflight, reissue-intermediate, restart-workloads, verify-workloads).
   */
  async walk({ from = 'preflight', through, phase = unprobed, label = (name) => name }: Walk): Promise<void> {
    const phases = FORWARD_PHASES.slice(FORWARD_PHASES.indexOf(from), FORWARD_PHASES.indexOf(through) + 1);
    for (const name of phases) {
      if (name === 'soak' && this.mode === 'emergency') continue;
      if (this.mode === 'intermediate' && !INTERMEDIATE_PHASES.has(name)) continue;
      await phase(label(name), () => this.#run(name));
    }
  }

  /** The cluster an intermediate rekey names at preflight: its one cluster. */
  #rekeyed(): string {
    const [cluster, ...more] = this.clusters;
    if (cluster === undefined || more.length > 0) {
      throw new Error(`an intermediate rekey works on one cluster, not ${this.clusters.join(', ')}`);
    }
    return cluster;
  }

  #run(name: ForwardPhase): Promise<unknown> {
    const steps: Record<ForwardPhase, () => Promise<unknown>> = {
      preflight: () => this.preflight(this.mode === 'intermediate' ? this.#rekeyed() : null),
      'stage-root': () => this.stageRoot(),
      'distribute-bundle': () => this.distributeBundle(),
      'verify-trust': () => this.verifyTrust(),
      'await-proxy-trust': () => this.awaitProxyTrust(),
      'reissue-intermediate': () => this.reissueIntermediate(),
      'restart-workloads': () => this.restartWorkloads('rotation'),
      'verify-workloads': () => this.verifyWorkloads(),
      soak: () => this.soak(),
      'retire-root': () => this.retireRoot(),
      'promote-root': () => this.promoteRoot(),
    };
    return steps[name]();
  }
}

/**
 * An intermediate rekey of `cluster` walked through reissue-intermediate under its own execution (so its
 * own restart id): the item restart-workloads and verify-workloads get, as the Map hands it.
 */
export async function reissuedRekey(h: HandlerLab, name: string, cluster = 'lab-1') {
  const rotation = rotationByHand(h, {
    executionId: h.executionId(name),
    mode: 'intermediate',
    clusters: [cluster],
  });
  await rotation.walk({ through: 'reissue-intermediate' });
  return rotation.item(cluster);
}

/** A rotation of `h`'s lab to drive by hand. */
export function rotationByHand<W extends Writers = typeof ON_ANY_CLUSTER>(
  h: HandlerLab,
  options: RotationByHandOptions<W>,
): RotationByHand<W> {
  return new RotationByHand(h, options);
}
