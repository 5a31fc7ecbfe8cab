// How the bench times each handler's warm invocation. Where a path does the handler's real work and
// needs neither AWS nor a cluster, in one process of its own (WARM_INVOCATIONS, handler-probe.mjs).
// Every other handler reads Secrets Manager, EKS or a Kubernetes API on every path worth timing: its
// warm invocations are timed on their real path in small emergency rehearsals (WARM_REHEARSALS), against
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

export interface WarmRehearsal {
  readonly clusters: number;
  readonly workloads: number;
  readonly mode: 'emergency';
  /** `--fail-at`: a step that fails, so that the rotation rolls back. */
  readonly failAt?: string;
  /** The result the rehearsal must end with for its times to count. */
  readonly result: 'SUCCEEDED' | 'ROLLED_BACK';
  /** What it runs, for the reader of docs/performance.md. */
  readonly path: string;
}

/**
 * The rehearsals whose warm invocations time the other handlers, small so that the lab stays quiet:
 * a rotation that succeeds, then one that rolls back (the rollback handler's only path). A handler
 * takes its times from the first of them that invoked it warm.
 */
export const WARM_REHEARSALS: readonly WarmRehearsal[] = [
  {
    clusters: 3,
    workloads: 2,
    mode: 'emergency',
    result: 'SUCCEEDED',
    path:
      'its real path in an emergency rehearsal of 3 x 2, against moto and the model lab on this machine ' +
      '(waits inside the handler included)',
  },
  {
    clusters: 3,
    workloads: 2,
    mode: 'emergency',
    failAt: 'retire-root:lab-2',
    result: 'ROLLED_BACK',
    path:
      'its real path in an emergency rehearsal of 3 x 2 that fails at retire-root in lab-2 and rolls back, ' +
      'against moto and the model lab on this machine (waits inside the handler included)',
  },
];

/** Before the rehearsals, or without them: a handler with no network-free path. */
export const WARM_NOT_MEASURED = 'not measured: every path reads AWS or a cluster, and no rehearsal timed it';

/** After the rehearsals: a handler none of them invoked warm. */
export const WARM_NOT_INVOKED =
  'not measured: no rehearsal invoked it warm (record-approval runs only with approval gates)';
