// `--fail-at STATE[:CLUSTER][:once]`: make one step of the real state machine fail, to watch its
// Retry (once: a TransientError, which every Task retries) or its rollback (a plain failure, which
// the Catch after the first write sends to rollback-trust). The step's function runs first, so the
// failure comes after its write, like a Lambda that crashed on the way out: Retry must find the
// write already made, rollback must undo it.
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

export function formatFailAt(failAt: FailAt): string {
  return [failAt.state, failAt.cluster, failAt.once ? 'once' : undefined].filter(Boolean).join(':');
}

/**
 * Decides, per invocation, whether to inject the failure. `once` fails the first matching invocation
 * only; otherwise every matching invocation fails.
 */
export function createFailureInjector(failAt: FailAt | undefined) {
  let injected = 0;
  return {
    /** Throws the injected failure when this invocation (Task state, cluster of its event) matches. */
    afterInvocation(taskState: string, event: unknown): void {
      if (failAt === undefined) return;
      const matchesState = taskState === failAt.state || taskState === `${failAt.state}-in-cluster`;
      const cluster = (event as { cluster?: unknown } | null)?.cluster;
      const matchesCluster = failAt.cluster === undefined || cluster === failAt.cluster;
      if (!matchesState || !matchesCluster || (failAt.once && injected > 0)) return;
      injected += 1;
      const where = `${taskState}${typeof cluster === 'string' ? ` in ${cluster}` : ''}`;
      throw failAt.once
        ? new InjectedFailure(INJECTED_TRANSIENT, `rehearsal --fail-at: one-off failure of ${where}`)
        : new InjectedFailure(INJECTED_FAILURE, `rehearsal --fail-at: ${where} fails`);
    },
    get injected() {
      return injected;
    },
  };
}
