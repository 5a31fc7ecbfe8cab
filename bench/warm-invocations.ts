// The handlers whose warm invocation the bench can time honestly: a path that does the handler's real
// work and needs neither AWS nor a cluster. Every other handler reads Secrets Manager, EKS or a
// Kubernetes API on every path worth timing, so its warm invoke is reported as not measured rather
// than timed on a path nobody runs (an input rejected by validation, say).

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

export const WARM_NOT_MEASURED =
  'not measured: every path reads AWS or a cluster (needs moto and the lab; a later slice of issue 14)';
