// The approval gates a rehearsal's executions wait at, held as Step Functions holds a
// `.waitForTaskToken` Task: a task token minted when the gate is scheduled, which one SendTaskSuccess
// or SendTaskFailure answers, and which answers nothing after that. The local runner has no
// SendTaskSuccess and gives every Task the same `$$.Task.Token` (its context is fixed for the run), so
// the gate's Task mints a token of its own here and puts it where the definition put `$$.Task.Token`;
// answer-approval then finds it in the execution's history (execution-history-proxy.ts answers
// GetExecutionHistory with the gate's TaskScheduled event) and sends it back through the proxy, which
// hands the answer to the waiting gate. A token is a capability: nothing here logs or prints one.
import { randomBytes } from 'node:crypto';

/** A gate the run waits at: what its TaskScheduled event says, and who the execution is. */
export interface OpenGate {
  /** The execution's ARN as the functions see it: moto's, which `$$.Execution.Id` holds. */
  readonly executionArn: string;
  /** The gate's Task state (`approve-reissue`, `approve-retire`). */
  readonly state: string;
  /** The Task's Resource, e.g. `arn:aws:states:::lambda:invoke.waitForTaskToken`. */
  readonly resource: string;
  /** The Task's resolved Parameters (`{ FunctionName, Payload }`), JSON text, the minted token in it. */
  readonly parameters: string;
  readonly taskToken: string;
  readonly scheduledAt: Date;
}

/** How a gate was answered: SendTaskSuccess's output (JSON text), or SendTaskFailure's error and cause. */
export type GateAnswer =
  | { readonly kind: 'success'; readonly output: string }
  | { readonly kind: 'failure'; readonly error?: string; readonly cause?: string };

/** What Step Functions says to a SendTaskSuccess/SendTaskFailure, by its error code (or `answered`). */
export type TaskResponseOutcome = 'answered' | 'InvalidToken' | 'TaskDoesNotExist' | 'TaskTimedOut';

/** One gate opened by `open`: its answer once given, and `close` when the Task no longer waits. */
export interface GateHandle {
  /** The answer, if one came (synchronously readable once the answering call returned). */
  answer(): GateAnswer | undefined;
  /** The gate stops waiting (answered, failed or abandoned): its token answers TaskTimedOut from now on. */
  close(): void;
}

const TOKEN_PREFIX = 'AQ';
/** The shape of the tokens minted here: the prefix and 160 base64url characters (120 random bytes). */
const TOKEN_SHAPE = /^AQ[A-Za-z0-9_-]{160}$/;

/**
 * A fresh task token, opaque and long as Step Functions' are (which are base64 and start `AQ`); 960
 * random bits, so one token cannot be guessed from another.
 */
export function mintTaskToken(): string {
  return `${TOKEN_PREFIX}${randomBytes(120).toString('base64url')}`;
}

export class ApprovalGates {
  private readonly waiting = new Map<string, { readonly gate: OpenGate; answer?: GateAnswer }>();
  private readonly executionStarts = new Map<string, Date>();
  /** Tokens of gates that no longer wait: Step Functions answers them TaskTimedOut. */
  private readonly closed = new Set<string>();

  /** The run started `executionArn` at `startDate` (what DescribeExecution says while it waits at a gate). */
  executionStarted(executionArn: string, startDate: Date): void {
    this.executionStarts.set(executionArn, startDate);
  }

  /** When the execution started, if the run said so. */
  startOf(executionArn: string): Date | undefined {
    return this.executionStarts.get(executionArn);
  }

  /** Opens a gate: from now until `close`, its execution waits at it and its token answers it once. */
  open(gate: OpenGate): GateHandle {
    if (this.waiting.has(gate.taskToken) || this.closed.has(gate.taskToken)) {
      throw new RangeError(`a gate of ${gate.executionArn} (${gate.state}) reuses a task token`);
    }
    const entry: { readonly gate: OpenGate; answer?: GateAnswer } = { gate };
    this.waiting.set(gate.taskToken, entry);
    return {
      answer: () => entry.answer,
      close: () => {
        if (this.waiting.delete(gate.taskToken)) this.closed.add(gate.taskToken);
      },
    };
  }

  /** The gate the execution waits at, unanswered, if any. */
  waitingIn(executionArn: string): OpenGate | undefined {
    for (const entry of this.waiting.values()) {
      if (entry.gate.executionArn === executionArn && entry.answer === undefined) return entry.gate;
    }
    return undefined;
  }

  /** The gate whose token this is, while it waits unanswered; a token is never matched by its shape alone. */
  waitingWith(taskToken: unknown): OpenGate | undefined {
    if (typeof taskToken !== 'string') return undefined;
    const entry = this.waiting.get(taskToken);
    return entry === undefined || entry.answer !== undefined ? undefined : entry.gate;
  }

  /**
   * A SendTaskSuccess/SendTaskFailure with `taskToken`: the gate it names takes the first answer; a
   * token of a gate that was answered or stopped waiting is TaskTimedOut, a token shaped like one
   * minted here but never issued TaskDoesNotExist, anything else InvalidToken (as Step Functions says).
   */
  respond(taskToken: unknown, answer: GateAnswer): TaskResponseOutcome {
    if (typeof taskToken !== 'string' || !TOKEN_SHAPE.test(taskToken)) return 'InvalidToken';
    const entry = this.waiting.get(taskToken);
    if (entry === undefined) return this.closed.has(taskToken) ? 'TaskTimedOut' : 'TaskDoesNotExist';
    if (entry.answer !== undefined) return 'TaskTimedOut';
    entry.answer = answer;
    return 'answered';
  }
}
