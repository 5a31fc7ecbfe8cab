// Step Functions' payload quota, which aws-local-stepfunctions does not enforce: a state's input or
// output larger than 256 KiB as a UTF-8 string ends the execution with States.DataLimitExceeded, a
// terminal error no Catch takes, not even States.ALL (AWS Step Functions Developer Guide, "Service
// quotas", maximum input or output size; "Handling errors", States.DataLimitExceeded). Without it the
// lab would let a large fleet's state grow past what AWS runs, and a rotation green here would end on
// AWS after its writes with no rollback. The runner feeds every event of the execution to observe();
// each Task handler awaits admit() before it starts its function, so nothing is written after the
// state AWS would have stopped at, and the runner ends the execution as AWS would. The quota is
// stated here, from AWS's documentation, not taken from the product.

/** 256 KiB: the largest state input or output, in bytes of its JSON text, that Step Functions takes. */
export const PAYLOAD_QUOTA_BYTES = 262_144;

/** The error Step Functions ends the execution with. */
export const DATA_LIMIT_EXCEEDED = 'States.DataLimitExceeded';

export interface PayloadOverQuota {
  readonly state: string;
  readonly which: 'input' | 'output';
  readonly bytes: number;
}

/** An event of aws-local-stepfunctions' log, as far as the quota reads it. */
interface StateEvent {
  readonly type: string;
  readonly state?: { readonly name: string; readonly input?: unknown; readonly output?: unknown };
}

export class PayloadQuota {
  #exceeded: PayloadOverQuota | undefined;

  /** The first state input or output over the quota, once one was seen. */
  get exceeded(): PayloadOverQuota | undefined {
    return this.#exceeded;
  }

  /**
   * Reads one event of the execution's log; returns the payload over the quota when this event is
   * the first to carry one (the caller then aborts the execution).
   */
  observe(event: unknown): PayloadOverQuota | undefined {
    if (this.#exceeded !== undefined) return undefined;
    const { type, state } = event as StateEvent;
    if (state === undefined) return undefined;
    const which = type === 'StateEntered' ? 'input' : type === 'StateExited' ? 'output' : undefined;
    if (which === undefined) return undefined;
    const payload = which === 'input' ? state.input : state.output;
    const bytes = Buffer.byteLength(JSON.stringify(payload ?? null), 'utf8');
    if (bytes <= PAYLOAD_QUOTA_BYTES) return undefined;
    this.#exceeded = { state: state.name, which, bytes };
    return this.#exceeded;
  }

  /** Forgets what an earlier execution exceeded: each execution of a run starts within the quota. */
  reset(): void {
    this.#exceeded = undefined;
  }

  /**
   * Resolves when a Task may start its function: once the execution's pending log events have reached
   * observe() (they are dispatched before their state runs, and read in microtasks), and only while no
   * state exceeded the quota; otherwise rejects with the terminal error, since AWS would not have run
   * that state.
   */
  async admit(): Promise<void> {
    await new Promise((settled) => setImmediate(settled));
    const over = this.#exceeded;
    if (over !== undefined) throw dataLimitError(over);
  }
}

/** What the execution ends with: the error and a cause naming the state, the payload and its size. */
export function dataLimitError(over: PayloadOverQuota): Error {
  const error = new Error(
    `the ${over.which} of state ${over.state} is ${over.bytes.toLocaleString('en-US')} bytes, over Step Functions' ` +
      `quota of ${PAYLOAD_QUOTA_BYTES.toLocaleString('en-US')} (256 KiB): the execution ends there, past every Catch`,
  );
  error.name = DATA_LIMIT_EXCEEDED;
  return error;
}
