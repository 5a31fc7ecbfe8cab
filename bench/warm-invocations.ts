// How the bench times each handler's warm invocation. Where a path does the handler's real work and
// needs neither AWS nor a cluster, in one process of its own (WARM_INVOCATIONS, handler-probe.mjs).
// Every other handler reads Secrets Manager, EKS or a Kubernetes API on every path worth timing: its
// warm invocations are timed on their real path in one emergency rehearsal (WARM_REHEARSAL), against
// moto and the model lab on this machine, as the rehearsal's function pool measured them.

export interface WarmInvocation {
  /** The event, as the state machine would send it. */
  readonly event: unknown;
  /** What the handler does on this path, for the reader of docs/performance.md. */
  readonly path: string;
}

const EXECUTION_ID = 'arn:aws:states:us-east-1:000000000000:execution:meshtrust-bench-rotation:bench';

export const WARM_INVOCATIONS: Readonly<Record<string, WarmInvocation>> = {
  'record-approval': {
    event: { executionId: EXECUTION_ID, gate: 'reissue', mode: 'scheduled', taskToken: 'bench-task-token' },
    path: 'an approval gate: validates the event, writes its audit event and returns (no AWS call)',
  },
};

/** The rehearsal whose warm invocations time the other handlers: small, so its lab stays quiet. */
export const WARM_REHEARSAL = { clusters: 3, workloads: 2, mode: 'emergency' } as const;

export const WARM_REHEARSAL_PATH =
  `its real path in an emergency rehearsal of ${WARM_REHEARSAL.clusters} x ${WARM_REHEARSAL.workloads}, ` +
  'against moto and the model lab on this machine (waits inside the handler included)';

/** Before the rehearsal, or without one: a handler with no network-free path. */
export const WARM_NOT_MEASURED = 'not measured: every path reads AWS or a cluster, and no rehearsal timed it';

/** After the rehearsal: a handler it did not invoke warm. */
export const WARM_NOT_INVOKED =
  'not measured: the emergency rehearsal did not invoke it warm (rollback runs when a rotation fails, ' +
  'check-expiry on its own schedule, record-approval with approval gates)';
