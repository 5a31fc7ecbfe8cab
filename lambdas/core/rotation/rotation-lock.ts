import { executionNameOf } from './execution-name.js';

/**
 * The decisions of the mesh's rotation lock, without I/O: when a held lock may be taken over, and what
 * a refused execution is told. The lock itself (a conditional write) is lambdas/adapters/lock/.
 */

/** Who holds a mesh's rotation lock: an execution ARN, and when it took the lock (ISO 8601). */
export interface LockHolding {
  readonly holder: string;
  readonly acquiredAt: string;
}

/** What Step Functions says of the holder's execution. */
export type HolderRun =
  /** RUNNING, or PENDING_REDRIVE (it is about to run again). */
  | { readonly state: 'running'; readonly status: string }
  | { readonly state: 'stopped'; readonly status: string; readonly stoppedAt?: Date }
  /** Step Functions does not know it: closed more than 90 days ago (it keeps closed executions 90 days). */
  | { readonly state: 'gone' };

const LIVE_STATUSES: ReadonlySet<string> = new Set(['RUNNING', 'PENDING_REDRIVE']);

/** The holder's run from DescribeExecution's status and stop date. */
export function holderRunOf(status: string, stoppedAt?: Date): HolderRun {
  if (LIVE_STATUSES.has(status)) return { state: 'running', status };
  return { state: 'stopped', status, ...(stoppedAt !== undefined && { stoppedAt }) };
}

export type TakeoverDecision =
  | { readonly takeover: true; readonly reason: string }
  | { readonly takeover: false; readonly reason: string };

export interface TakeoverInput {
  readonly holding: LockHolding;
  readonly run: HolderRun;
  readonly now: Date;
  /** How long after the holder stopped its lock stays untouchable (the longest function timeout). */
  readonly graceSeconds: number;
}

/**
 * Whether another execution may take over a lock whose holder is `run`. Only a holder that no longer
 * runs loses its lock, and only once `graceSeconds` have passed since it stopped: an aborted or
 * timed-out execution does not stop the Lambda invocation it was waiting for, which may still write
 * until its own timeout.
 */
export function decideTakeover(input: TakeoverInput): TakeoverDecision {
  const { holding, run, now, graceSeconds } = input;
  const name = executionNameOf(holding.holder);
  switch (run.state) {
    case 'running':
      return { takeover: false, reason: `execution ${name} is ${run.status}` };
    case 'gone':
      return {
        takeover: true,
        reason: `execution ${name} is unknown to Step Functions (closed more than 90 days ago) and never released the lock`,
      };
    case 'stopped': {
      const ended = `execution ${name} ended ${run.status}${run.stoppedAt === undefined ? '' : ` at ${run.stoppedAt.toISOString()}`}`;
      if (run.stoppedAt !== undefined) {
        const free = new Date(run.stoppedAt.getTime() + graceSeconds * 1000);
        if (now.getTime() < free.getTime()) {
          return {
            takeover: false,
            reason: `${ended} without releasing the lock, and a function it started may still be writing until ${free.toISOString()} (the longest function timeout); start again after that`,
          };
        }
      }
      return { takeover: true, reason: `${ended} without releasing the lock` };
    }
  }
}

/** The refusal of an execution that found the lock held: it names the holder and what to do. */
export function lockHeldMessage(meshId: string, holding: LockHolding, reason: string): string {
  const name = executionNameOf(holding.holder);
  return (
    `Another rotation of mesh ${meshId} holds the rotation lock: execution ${name} (${holding.holder}), ` +
    `lock taken at ${holding.acquiredAt}; ${reason}. One rotation at a time: this execution stopped before ` +
    `writing anything. Follow the other with \`meshtrust status ${name}\` and start again once it has ended ` +
    '(docs/runbook.md, "Refused: another rotation holds the lock").'
  );
}
