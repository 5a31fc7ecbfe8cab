import { WORKFLOW_STATES as S } from '../../contract/workflow-states.js';
import { ROTATION_MODES, type RotationMode } from '../plan/phases.js';
import { executionNameOf } from './execution-name.js';
import {
  type EndedExecution,
  ROLLBACK_FAILED,
  ROTATION_ROLLED_BACK,
  STOPPED_OUTSIDE_STATUSES,
} from './resume-rollback.js';
import {
  asRecord,
  type CaughtError,
  canonical,
  caughtErrorOf,
  checkClaimTarget,
  clustersOf,
  type ResumeCheck,
  type ResumeSecretVersion,
  resumedRunName,
  secretVersionOf,
} from './resumed-run.js';

/**
 * Whether a run that stopped in promote-root can be finished by a new execution, and with what (pure).
 * Such a run passed retire-root: every cluster trusts only the new root B, which is still AWSPENDING.
 * Rolling it back would break the fleet (meshtrust retry-rollback refuses), and a new rotation is refused
 * at preflight (a pending root). promote-root is idempotent, so `meshtrust retry-promotion` starts a new
 * execution whose input carries the stopped run's staged root and clusters
 * (lambdas/contract/resume-promotion.ts); it takes the lock and runs promote-root, then release-lock.
 * Only ids, ARNs, fingerprints and the stop's error are copied, never the state as a whole.
 */

/** The value of the execution input's `resumePromotion` (contract RESUME_PROMOTION_INPUT_KEY). */
export interface ResumePromotion {
  /** The rotation whose staged root is promoted (the first one, also when a resumed promotion stopped again). */
  readonly executionArn: string;
  /** The execution that stopped in promote-root: the rotation itself, or an earlier resume of it. */
  readonly resumedFrom: string;
  /** Its preflight's clusters: their cacerts backups of the rotation are deleted once B is current. */
  readonly clusters: readonly { readonly name: string }[];
  /** The root it staged and every cluster now trusts alone: promoted to AWSCURRENT. */
  readonly stagedRoot: ResumeSecretVersion;
  /** Why it stopped (its `$.stop`, or the stop outside the state machine), for the record. */
  readonly stop: CaughtError;
}

export type PromotionDecision =
  | {
      readonly resumable: true;
      readonly mode: Exclude<RotationMode, 'intermediate'>;
      readonly resumePromotion: ResumePromotion;
    }
  | { readonly resumable: false; readonly reason: string };

/** What may follow promote-root in a run that stopped there: the release of its lock and the Fail state. */
const AFTER_FAILED_PROMOTION: readonly string[] = [S.releaseLockAfterStop, S.rotationStopped];
/** Entered only after promote-root succeeded. */
const PROMOTED_STATES: readonly string[] = [S.releaseLock, S.rotationSucceeded];

/**
 * The new execution's `mode` and `resumePromotion` for a run that stopped in promote-root, or why it
 * cannot be finished this way. Resumable: a run that FAILED with promote-root's error (promote-root
 * entered, then only release-lock-after-stop and rotation-stopped), and one ABORTED or TIMED_OUT in
 * promote-root (or in the release after it failed): promote-root is entered only once retire-root
 * completed on every cluster, or from a resumed promotion. Refused: still running, succeeded, rolled
 * back or failed its rollback, stopped anywhere else (before retire-root finished: meshtrust
 * retry-rollback undoes it), or a final state lacking the staged root, the clusters or the mode.
 * `ended.statesEntered` must hold the run's top-level states, for a FAILED run too.
 */
export function resumePromotionOf(ended: EndedExecution): PromotionDecision {
  const name = executionNameOf(ended.executionArn);
  const refuse = (reason: string): PromotionDecision => ({ resumable: false, reason });
  switch (ended.status) {
    case 'RUNNING':
    case 'PENDING_REDRIVE':
      return refuse(
        `${name} is ${ended.status}: wait for it to end (or stop it, then finish its promotion).`,
      );
    case 'SUCCEEDED':
      return refuse(`${name} SUCCEEDED: its root is promoted already, there is nothing to finish.`);
    case 'FAILED':
      if (ended.error === ROTATION_ROLLED_BACK || ended.error === ROLLBACK_FAILED) {
        return refuse(
          `${name} failed with ${ended.error}: it was rolled back (or its rollback failed), it never reached ` +
            `promote-root; ${ended.error === ROLLBACK_FAILED ? 'resume its rollback with meshtrust retry-rollback.' : 'there is nothing to finish.'}`,
        );
      }
      break;
    default:
      if (!STOPPED_OUTSIDE_STATUSES.includes(ended.status)) {
        return refuse(
          `${name} has status ${ended.status}; only a run that stopped in promote-root can be finished.`,
        );
      }
  }
  const entered = ended.statesEntered ?? [];
  const last = entered.at(-1) ?? 'no state';
  const where = `${name} ${ended.status === 'FAILED' ? `failed with ${ended.error ?? 'no error'}` : `was ${ended.status}`} in ${last}`;
  const promoteAt = entered.lastIndexOf(S.promoteRoot);
  if (promoteAt < 0) {
    return refuse(
      `${where}, before promote-root: the fleet was not yet moved to the new root alone. ` +
        (ended.status === 'FAILED'
          ? 'It stopped before its first write or was rolled back; there is no promotion to finish.'
          : 'meshtrust retry-rollback rolls it back.'),
    );
  }
  const after = entered.slice(promoteAt + 1);
  if (after.some((state) => PROMOTED_STATES.includes(state))) {
    return refuse(
      `${where}: promote-root had completed (the new root is current); there is nothing to finish.`,
    );
  }
  if (!after.every((state) => AFTER_FAILED_PROMOTION.includes(state))) {
    return refuse(`${where}: its history does not end in promote-root (${after.join(', ')}); not finished.`);
  }
  if (ended.status === 'FAILED' && after.at(-1) !== S.rotationStopped) {
    return refuse(`${where}: it did not end in ${S.rotationStopped} after promote-root; not finished.`);
  }
  const state = asRecord(ended.finalState);
  const stop =
    ended.status === 'FAILED'
      ? caughtErrorOf(state?.stop)
      : { Error: ended.status, Cause: `${name} was ${ended.status} in ${last}; no Catch ran` };
  const problems: string[] = [];
  const mode = (['scheduled', 'emergency'] as const).find((known) => known === state?.mode);
  if (mode === undefined)
    problems.push(`mode (${ROTATION_MODES.filter((m) => m !== 'intermediate').join(' or ')})`);
  const clusters = clustersOf(asRecord(state?.preflight)?.clusters);
  if (clusters === undefined) problems.push('preflight.clusters (a list of { name })');
  const stagedRoot = secretVersionOf(state?.stagedRoot);
  if (stagedRoot === undefined) problems.push('stagedRoot (a secret version)');
  const promotionOf = state?.promotionOf;
  const executionArn =
    promotionOf === undefined || promotionOf === null
      ? ended.executionArn
      : typeof promotionOf === 'string' && promotionOf !== ''
        ? promotionOf
        : undefined;
  if (executionArn === undefined) problems.push('promotionOf (an execution ARN, or null)');
  if (stop === undefined) problems.push('stop (the error promote-root stopped with)');
  if (problems.length > 0 || state === undefined) {
    return refuse(
      `${where}, but its final state lacks ${problems.join(', ') || 'everything'}; without it the promotion ` +
        'cannot be finished. Follow docs/runbook.md ("FAILED with the error of promote-root") to promote by hand.',
    );
  }
  const resumePromotion: ResumePromotion = {
    executionArn: executionArn as string,
    resumedFrom: ended.executionArn,
    clusters: clusters as { name: string }[],
    stagedRoot: stagedRoot as ResumeSecretVersion,
    stop: stop as CaughtError,
  };
  if (JSON.stringify(resumePromotion).includes('PRIVATE KEY')) {
    return refuse(
      `the final state of ${name} holds a private key block; nothing of it is passed on. Report this as a bug.`,
    );
  }
  return { resumable: true, mode: mode as 'scheduled' | 'emergency', resumePromotion };
}

/**
 * The name of the execution that finishes the promotion of `rotationName`: `<rotation>-promote-<UTC
 * second>`, the rotation's name cut so the whole fits Step Functions' 80 characters.
 */
export function resumedPromotionName(rotationName: string, at: Date): string {
  return resumedRunName(rotationName, 'promote', at);
}

/**
 * Inside the resumed execution, before it takes the lock or writes anything: both runs the claim names
 * are of the state machine this execution runs on, the run named `resumedFrom` (as Step Functions
 * describes it now) stopped in promote-root, and the claim is exactly what `resumePromotionOf` reads of
 * it: the same staged root, clusters, rotation and stop. So an input started by hand cannot promote a
 * root the named run did not stage, nor finish a run that did not reach promote-root.
 */
export function checkResumedPromotion(input: {
  /** This execution's ARN ($$.Execution.Id). */
  readonly executionId: string;
  /** The input's resumePromotion, as given. */
  readonly claimed: unknown;
  /** The execution the claim names as resumedFrom; undefined when not read (a foreign claim). */
  readonly ended?: EndedExecution;
}): ResumeCheck {
  const target = checkPromotionTarget(input);
  if (!target.ok) return target;
  const { ended } = input;
  if (ended === undefined || asRecord(input.claimed)?.resumedFrom !== ended.executionArn) {
    return {
      ok: false,
      reason: 'the execution read is not resumePromotion.resumedFrom. Nothing was written.',
    };
  }
  const decision = resumePromotionOf(ended);
  if (!decision.resumable)
    return { ok: false, reason: `not finished: ${decision.reason} Nothing was written.` };
  if (canonical(decision.resumePromotion) !== canonical(input.claimed)) {
    return {
      ok: false,
      reason:
        `resumePromotion differs from what the history of ${executionNameOf(ended.executionArn)} says ` +
        '(its staged root, clusters, rotation or stop); start it with meshtrust retry-promotion, which reads it. ' +
        'Nothing was written.',
    };
  }
  return { ok: true };
}

/** The first half of checkResumedPromotion, before anything is read: both ARNs are of this state machine. */
export function checkPromotionTarget(input: {
  readonly executionId: string;
  readonly claimed: unknown;
}): ResumeCheck {
  return checkClaimTarget(input, { key: 'resumePromotion', carriedOn: 'finished' });
}
