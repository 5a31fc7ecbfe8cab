// `--fail-at STATE[:CLUSTER][:once]`, repeatable: make steps of the real state machine fail, to watch
// its Retry (once: a TransientError, which every Task retries) or its rollback (a plain failure, which
// the Catch after the first write sends to rollback-trust); a second one on a rollback state shows a
// failure inside the rollback itself. The step's function runs first, so the
// failure comes after its write, like a Lambda that crashed on the way out: Retry must find the
// write already made, rollback must undo it. The names are checked against the synthesized definition
// and the fleet before anything starts: a name that matches nothing would run a whole rotation for
// nothing.
import type { DefinitionTask } from './definition-tasks.js';
import { RehearsalOptionsError } from './rehearsal-errors.js';

export interface FailAt {
  /** A Task state name; a Map state name stands for its `<map>-in-cluster` Task. */
  readonly state: string;
  readonly cluster?: string;
  readonly once: boolean;
}

/** The error name of an injected permanent failure: matched by no Retry, caught by States.ALL. */
export const INJECTED_FAILURE = 'RehearsalInjectedFailure';
/** The error name of an injected one-off failure: every Task retries it. */
export const INJECTED_TRANSIENT = 'TransientError';

export class InjectedFailure extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

export function parseFailAt(text: string): FailAt {
  const parts = text.split(':');
  const once = parts[parts.length - 1] === 'once';
  if (once) parts.pop();
  const [state, cluster, ...rest] = parts;
  if (state === undefined || state === '' || rest.length > 0 || cluster === '') {
    throw new RehearsalOptionsError(
      '--fail-at',
      `--fail-at expects STATE[:CLUSTER][:once], e.g. reissue-intermediate:lab-2 or stage-root:once; got ${JSON.stringify(text)}`,
    );
  }
  return { state, ...(cluster === undefined ? {} : { cluster }), once };
}

/** The STATE names `--fail-at` accepts: every Task state that invokes a function, and the Map of each. */
export interface FailAtStates {
  /** What an error lists: a Map stands for its `<map>-in-cluster` Task, so only the Map is named. */
  readonly listed: readonly string[];
  readonly accepted: ReadonlySet<string>;
}

export function failAtStates(tasks: readonly DefinitionTask[]): FailAtStates {
  const listed = new Set(tasks.map((task) => task.map ?? task.state));
  return { listed: [...listed].sort(), accepted: new Set([...listed, ...tasks.map((task) => task.state)]) };
}

/** Refuses a STATE the definition does not have, or a CLUSTER the fleet does not have, naming the valid ones. */
export function checkFailAt(
  failAt: FailAt,
  known: { readonly states: FailAtStates; readonly clusters: readonly string[] },
): void {
  if (!known.states.accepted.has(failAt.state)) {
    throw new RehearsalOptionsError(
      '--fail-at',
      `--fail-at ${formatFailAt(failAt)}: the state machine has no Task state ${JSON.stringify(failAt.state)}; ` +
        `valid: ${known.states.listed.join(', ')} (a Map also as <name>-in-cluster)`,
    );
  }
  if (failAt.cluster !== undefined && !known.clusters.includes(failAt.cluster)) {
    throw new RehearsalOptionsError(
      '--fail-at',
      `--fail-at ${formatFailAt(failAt)}: the lab has no cluster ${JSON.stringify(failAt.cluster)}; ` +
        `valid: ${known.clusters.join(', ')}`,
    );
  }
}

export function formatFailAt(failAt: FailAt): string {
  return [failAt.state, failAt.cluster, failAt.once ? 'once' : undefined].filter(Boolean).join(':');
}

/** `a, b` for the report: each --fail-at as given. */
export function formatFailAts(failAts: readonly FailAt[]): string {
  return failAts.map(formatFailAt).join(', ');
}

/**
 * Decides, per invocation, whether to inject a failure: the first --fail-at that matches it. A `once`
 * one fails its first matching invocation only; the others every matching invocation.
 */
export function createFailureInjector(failAts: readonly FailAt[]) {
  const injectedBy = new Map<FailAt, number>();
  const fixed = new Set<FailAt>();
  return {
    /** Throws the injected failure when this invocation (Task state, cluster of its event) matches. */
    afterInvocation(taskState: string, event: unknown): void {
      const cluster = (event as { cluster?: unknown } | null)?.cluster;
      const failAt = failAts.find(
        (candidate) =>
          (taskState === candidate.state || taskState === `${candidate.state}-in-cluster`) &&
          (candidate.cluster === undefined || cluster === candidate.cluster) &&
          !fixed.has(candidate) &&
          !(candidate.once && (injectedBy.get(candidate) ?? 0) > 0),
      );
      if (failAt === undefined) return;
      injectedBy.set(failAt, (injectedBy.get(failAt) ?? 0) + 1);
      const where = `${taskState}${typeof cluster === 'string' ? ` in ${cluster}` : ''}`;
      throw failAt.once
        ? new InjectedFailure(INJECTED_TRANSIENT, `rehearsal --fail-at: one-off failure of ${where}`)
        : new InjectedFailure(INJECTED_FAILURE, `rehearsal --fail-at: ${where} fails`);
    },
    /**
     * The operator fixed what failed (--retry-rollback): every failure injected so far stops; one that
     * has not fired yet still fails the resumed run where it is given.
     */
    fixFired(): void {
      for (const failAt of injectedBy.keys()) fixed.add(failAt);
    },
    get injected() {
      return [...injectedBy.values()].reduce((sum, count) => sum + count, 0);
    },
  };
}
