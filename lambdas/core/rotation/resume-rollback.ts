import {
  ROLLBACK_PHASES,
  ROTATION_MODES,
  type RollbackPhaseName,
  type RotationMode,
} from '../plan/phases.js';
import { executionNameOf } from './execution-name.js';
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
 * Whether the rollback of an ended execution can be resumed by a new one, and with what (pure). A run
 * whose rollback failed ends in the Fail state `rotation-failed` (error RollbackFailed) after the Catch,
 * so Step Functions' redrive cannot take it back into the rollback; `meshtrust retry-rollback` starts a
 * new execution instead, whose input carries what the rollback stages read of the failed run's final
 * state (lambdas/contract/resume-rollback.ts). Only ids, ARNs, fingerprints and the two errors are
 * copied, never the state as a whole.
 */

/** The error a run ends with when its rollback did not complete (the Fail state `rotation-failed`). */
export const ROLLBACK_FAILED = 'RollbackFailed';
/** The error a run ends with when it was rolled back (the Fail state `rotation-rolled-back`). */
export const ROTATION_ROLLED_BACK = 'RotationRolledBack';

/** The last rollback stage: it drops the pending root and schedules the cacerts backups for deletion. */
const ROLLBACK_DROP_PENDING: RollbackPhaseName = 'rollback-drop-pending';

/** The value of the execution input's `resumeRollback` (contract RESUME_ROLLBACK_INPUT_KEY). */
export interface ResumeRollback {
  /** The rotation whose writes are undone (the first one, also when a resumed rollback failed again). */
  readonly executionArn: string;
  /** The execution whose failed rollback this resumes: the rotation itself, or an earlier resume of it. */
  readonly resumedFrom: string;
  /** Its preflight's clusters: the rollback stages' Map items. */
  readonly clusters: readonly { readonly name: string }[];
  /** Its preflight's current root: the per-cluster Tasks' `currentRoot`. */
  readonly currentRoot: ResumeSecretVersion;
  /** The root it staged; null when it staged none (intermediate mode, or it failed before stage-root). */
  readonly stagedRoot: ResumeSecretVersion | null;
  /** Why the rotation was rolled back (its `$.failure`), for the record. */
  readonly failure: CaughtError | null;
  /** Why the rollback failed (its `$.rollbackFailure`), for the record. */
  readonly rollbackFailure: CaughtError | null;
  /**
   * Every cluster's cacerts is back byte for byte: the run passed rollback-restore (or was itself a resume
   * that started after it) and stopped in rollback-drop-pending, which may have scheduled the cacerts
   * backups for deletion. The resume then starts at rollback-drop-pending and reads no backup.
   */
  readonly restored: boolean;
}

/** What DescribeExecution and the history say of the ended execution. */
export interface EndedExecution {
  readonly executionArn: string;
  /** RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED, PENDING_REDRIVE. */
  readonly status: string;
  readonly error?: string;
  /**
   * The state it ended with: the input of the last top-level state it entered, as the history records
   * it (a failed run: its Fail state's; an aborted or timed-out one: the state it was in).
   */
  readonly finalState?: unknown;
  /** ABORTED or TIMED_OUT: the top-level states it entered, oldest first, as its history records them. */
  readonly statesEntered?: readonly string[];
}

export type ResumeDecision =
  | { readonly resumable: true; readonly mode: RotationMode; readonly resumeRollback: ResumeRollback }
  | { readonly resumable: false; readonly reason: string };

/**
 * Ends outside the state machine's paths: StopExecution (ABORTED) or the state machine's timeout
 * (TIMED_OUT). Neither passes a Catch, so no rollback ran, and the lock may still be held.
 */
export const STOPPED_OUTSIDE_STATUSES: readonly string[] = ['ABORTED', 'TIMED_OUT'];

/**
 * The state machine's states (lib/workflow-states.ts, whose test checks these names) that say where a
 * run stopped outside its paths stood. The first write of each mode: stage-root (a root rotation),
 * reissue-intermediate (a rekey); before either, nothing was written.
 */
export const FIRST_WRITE_STATES: readonly string[] = ['stage-root', 'reissue-intermediate'];
/** Entered only after the last write that can be undone: promote-root, and the succeeded run's release. */
export const PAST_NO_RETURN_STATES: readonly string[] = [
  'promote-root',
  'release-lock',
  'rotation-succeeded',
];
/** Entered only once the rollback completed. */
export const ROLLED_BACK_STATES: readonly string[] = ['release-lock-after-rollback', 'rotation-rolled-back'];
/** Entered by a run that stopped before its first write, or after promote-root failed: nothing to undo. */
export const STOPPED_STATES: readonly string[] = [
  'unsupported-input',
  'unsupported-mode',
  'release-lock-after-stop',
  'rotation-stopped',
];

/**
 * The new execution's `mode` and `resumeRollback` for an execution whose writes are left part-way, or
 * why its rollback cannot be resumed. Resumable: a run that ended in RollbackFailed (its final state is
 * its Fail state's input), and one ABORTED or TIMED_OUT after its first write and before promote-root
 * (its final state is that of the state it was in: the same facts a Catch would have passed to the
 * rollback); also a resumed rollback that was aborted or timed out, from its own input. Refused: it
 * runs, succeeded, was rolled back, stopped before the first write or after promote-root, or a final
 * state that lacks what the rollback stages read.
 */
export function resumeRollbackOf(ended: EndedExecution): ResumeDecision {
  const refused = refusedEnd(ended);
  if (refused !== undefined) return { resumable: false, reason: refused };
  const state = asRecord(ended.finalState);
  const name = executionNameOf(ended.executionArn);
  if (STOPPED_OUTSIDE_STATUSES.includes(ended.status)) {
    const entered = ended.statesEntered ?? [];
    const last = entered[entered.length - 1] ?? 'no state';
    const resumed = asRecord(state?.resumeRollback);
    const refusedStop = refusedStoppedRun(name, ended.status, entered, resumed !== undefined);
    if (refusedStop !== undefined) return { resumable: false, reason: refusedStop };
    const stop: CaughtError = {
      Error: ended.status,
      Cause: `${name} was ${ended.status} in ${last}; no Catch ran`,
    };
    if (resumed !== undefined) {
      // A resumed rollback that was stopped: resume it again from its own input.
      return resumeOf(ended, `${name} was ${ended.status}`, {
        restored: resumed.restored === true || entered.includes(ROLLBACK_DROP_PENDING),
        mode: state?.mode,
        clusters: resumed.clusters,
        currentRoot: resumed.currentRoot,
        stagedRoot: resumed.stagedRoot,
        rollbackOf: resumed.executionArn,
        failure: resumed.failure,
        rollbackFailure: stop,
      });
    }
    // Stopped in the rollback, its Catch's failure is in the state; stopped forward, the stop is the failure.
    const inRollback = entered.some((entry) => (ROLLBACK_PHASES as readonly string[]).includes(entry));
    return resumeOf(ended, `${name} was ${ended.status}`, {
      // rollback-drop-pending is entered only after rollback-restore restored every cluster.
      restored: entered.includes(ROLLBACK_DROP_PENDING),
      mode: state?.mode,
      clusters: asRecord(state?.preflight)?.clusters,
      currentRoot: asRecord(state?.preflight)?.currentRoot,
      stagedRoot: state?.stagedRoot ?? null,
      rollbackOf: state?.rollbackOf,
      failure: inRollback ? (state?.failure ?? stop) : stop,
      rollbackFailure: inRollback ? (state?.rollbackFailure ?? stop) : null,
    });
  }
  const preflight = asRecord(state?.preflight);
  // rollback-restore's result ($.rollback.restored) is in the state only once every cluster is restored.
  const restored =
    asRecord(state?.rollback)?.restored !== undefined || asRecord(state?.resumeRollback)?.restored === true;
  return resumeOf(ended, `${name} ended in ${ROLLBACK_FAILED}`, {
    restored,
    mode: state?.mode,
    clusters: preflight?.clusters,
    currentRoot: preflight?.currentRoot,
    stagedRoot: state?.stagedRoot,
    rollbackOf: state?.rollbackOf,
    failure: state?.failure,
    rollbackFailure: state?.rollbackFailure,
    required: ['rollbackFailure'],
  });
}

/** What a resumed rollback is made of, as read from a run's final state (or a resume's input). */
interface ResumeParts {
  readonly restored: boolean;
  readonly mode: unknown;
  readonly clusters: unknown;
  readonly currentRoot: unknown;
  readonly stagedRoot: unknown;
  readonly rollbackOf: unknown;
  readonly failure: unknown;
  readonly rollbackFailure: unknown;
  /** Parts that must be a caught error, not null. */
  readonly required?: readonly 'rollbackFailure'[];
}

function resumeOf(ended: EndedExecution, how: string, parts: ResumeParts): ResumeDecision {
  const problems: string[] = [];
  const need = <T>(value: T | undefined, what: string): T | undefined => {
    if (value === undefined) problems.push(what);
    return value;
  };
  const mode = need(
    ROTATION_MODES.find((known) => known === parts.mode),
    'mode (scheduled, emergency or intermediate)',
  );
  const clusters = need(clustersOf(parts.clusters), 'preflight.clusters (a list of { name })');
  const currentRoot = need(secretVersionOf(parts.currentRoot), 'preflight.currentRoot (a secret version)');
  const stagedRoot = need(
    parts.stagedRoot === null ? null : secretVersionOf(parts.stagedRoot),
    'stagedRoot (a secret version, or null)',
  );
  const rollbackOf = need(
    parts.rollbackOf === undefined || parts.rollbackOf === null
      ? ended.executionArn
      : typeof parts.rollbackOf === 'string' && parts.rollbackOf !== ''
        ? parts.rollbackOf
        : undefined,
    'rollbackOf (an execution ARN, or null)',
  );
  const rollbackFailure = parts.required?.includes('rollbackFailure')
    ? need(caughtErrorOf(parts.rollbackFailure), 'rollbackFailure (the error the rollback failed with)')
    : (caughtErrorOf(parts.rollbackFailure) ?? null);
  if (problems.length > 0 || ended.finalState === undefined || ended.finalState === null) {
    return {
      resumable: false,
      reason:
        `${how}, but its final state lacks ${problems.join(', ') || 'everything'}; ` +
        'without it the rollback cannot be resumed. Follow docs/runbook.md (RollbackFailed) to restore by hand.',
    };
  }
  const resumeRollback: ResumeRollback = {
    executionArn: rollbackOf as string,
    resumedFrom: ended.executionArn,
    clusters: clusters as { name: string }[],
    currentRoot: currentRoot as ResumeSecretVersion,
    stagedRoot: stagedRoot as ResumeSecretVersion | null,
    failure: caughtErrorOf(parts.failure) ?? null,
    rollbackFailure: rollbackFailure as CaughtError | null,
    restored: parts.restored,
  };
  if (JSON.stringify(resumeRollback).includes('PRIVATE KEY')) {
    return {
      resumable: false,
      reason: `the final state of ${executionNameOf(ended.executionArn)} holds a private key block; nothing of it is passed on. Report this as a bug.`,
    };
  }
  return { resumable: true, mode: mode as RotationMode, resumeRollback };
}

/** Why a run that was aborted or timed out has nothing to resume, judged by the states it entered. */
function refusedStoppedRun(
  name: string,
  status: string,
  entered: readonly string[],
  isResume: boolean,
): string | undefined {
  const last = entered[entered.length - 1];
  const was = `${name} was ${status}${last === undefined ? '' : ` in ${last}`}`;
  if (last !== undefined && ROLLED_BACK_STATES.includes(last)) {
    return `${was}: its rollback had completed, every cluster is back on its original cacerts. The next run takes its lock over.`;
  }
  if (last !== undefined && PAST_NO_RETURN_STATES.includes(last)) {
    return (
      `${was}: it had reached promote-root, after which nothing is rolled back (the fleet trusts only the new root). ` +
      `If its new root is still pending, finish it with meshtrust retry-promotion ${name}; ` +
      'see docs/runbook.md ("A run stopped part-way").'
    );
  }
  if (last !== undefined && STOPPED_STATES.includes(last)) {
    return (
      `${was}: it was stopping without a rollback (refused before its first write, or promote-root failed); there is ` +
      `no rollback to resume. If promote-root failed, finish it with meshtrust retry-promotion ${name}.`
    );
  }
  const wrote = entered.some(
    (entry) => FIRST_WRITE_STATES.includes(entry) || (ROLLBACK_PHASES as readonly string[]).includes(entry),
  );
  // A resumed rollback stopped before its first stage leaves the rotation it resumes still to undo.
  if (!wrote && !isResume) {
    return `${was} before its first write (${FIRST_WRITE_STATES.join(' or ')}): nothing to roll back.`;
  }
  return undefined;
}

function refusedEnd(ended: EndedExecution): string | undefined {
  const name = executionNameOf(ended.executionArn);
  switch (ended.status) {
    case 'RUNNING':
    case 'PENDING_REDRIVE':
      return `${name} is ${ended.status}: it holds the rotation lock and runs its own rollback if it fails; wait for it to end (or stop it, then resume).`;
    case 'SUCCEEDED':
      return `${name} SUCCEEDED: there is no rollback to resume.`;
    case 'ABORTED':
    case 'TIMED_OUT':
      return undefined;
    case 'FAILED':
      if (ended.error === ROLLBACK_FAILED) return undefined;
      if (ended.error === ROTATION_ROLLED_BACK) {
        return `${name} failed with ${ROTATION_ROLLED_BACK}: its rollback completed, every cluster is back on its original cacerts.`;
      }
      return (
        `${name} failed with ${ended.error ?? 'no error'}, not ${ROLLBACK_FAILED}: it stopped before its first write ` +
        '(nothing to roll back) or in promote-root (the fleet trusts only the new root, nothing to roll back: ' +
        `finish its promotion with meshtrust retry-promotion ${name}; docs/runbook.md, "FAILED with the error of promote-root").`
      );
    default:
      return `${name} has status ${ended.status}; only a run that ended in ${ROLLBACK_FAILED}, ABORTED or TIMED_OUT can be resumed.`;
  }
}

/**
 * The name of the execution that resumes the rollback of `rotationName` (the rotation whose writes are
 * undone): `<rotation>-rollback-<UTC second>`, the rotation's name cut so the whole fits 80 characters.
 * Unique per second; the history of both runs is found by the rotation's name.
 */
export function resumedRollbackName(rotationName: string, at: Date): string {
  return resumedRunName(rotationName, 'rollback', at);
}

/** The fields of a Step Functions history event that say which state was entered, with what input. */
export interface EnteredEventLike {
  readonly id?: number;
  readonly type?: string;
  readonly stateEnteredEventDetails?: { readonly name?: string; readonly input?: string };
}

/**
 * An ended execution as resumeRollbackOf reads it, from DescribeExecution and its history (events in any
 * order; `topLevel`: the state machine's top-level state names, so that the states inside a Map are left
 * out): the input of the last top-level state entered is its final state, and for a run stopped outside
 * the state machine's paths, the top-level states it entered. The CLI and acquire-lock read it alike.
 */
export function endedExecutionOf(
  described: { readonly executionArn: string; readonly status: string; readonly error?: string },
  events: readonly EnteredEventLike[],
  topLevel: ReadonlySet<string>,
  /** Give the top-level states entered whatever the status (a run stopped in promote-root, FAILED too). */
  options: { readonly statesEntered?: boolean } = {},
): EndedExecution {
  const entered = events
    .filter((event) => event.type?.endsWith('StateEntered') === true)
    .filter((event) => topLevel.has(event.stateEnteredEventDetails?.name ?? ''))
    .sort((a, b) => (a.id ?? 0) - (b.id ?? 0));
  const last = entered[entered.length - 1]?.stateEnteredEventDetails?.input;
  let finalState: unknown;
  try {
    finalState = last === undefined ? undefined : JSON.parse(last);
  } catch {
    finalState = undefined;
  }
  return {
    executionArn: described.executionArn,
    status: described.status,
    ...(described.error !== undefined && { error: described.error }),
    ...(finalState !== undefined && { finalState }),
    ...((options.statesEntered === true || STOPPED_OUTSIDE_STATUSES.includes(described.status)) && {
      statesEntered: entered.map((event) => event.stateEnteredEventDetails?.name as string),
    }),
  };
}

/**
 * Inside the resumed execution, before it takes the lock or writes anything: the `resumeRollback` its
 * input claims must be exactly what `resumeRollbackOf` reads from the named run (`resumedFrom`) as Step
 * Functions describes it now, and both runs it names must be executions of the state machine this
 * execution runs on. So an input started by hand (or by a CLI that misjudged) cannot point the rollback
 * at a run that succeeded, still runs, was rolled back, stopped before its first write, or at another
 * state machine's run, nor at clusters or roots the named run's history does not show.
 */
export function checkResumedExecution(input: {
  /** This execution's ARN ($$.Execution.Id). */
  readonly executionId: string;
  /** The input's resumeRollback, as given. */
  readonly claimed: unknown;
  /** The execution the claim names as resumedFrom, as DescribeExecution and its history say now. */
  readonly ended: EndedExecution;
}): ResumeCheck {
  const target = checkResumeTarget(input);
  if (!target.ok) return target;
  if (asRecord(input.claimed)?.resumedFrom !== input.ended.executionArn) {
    return {
      ok: false,
      reason: `the execution read is not resumeRollback.resumedFrom. Nothing was written.`,
    };
  }
  const decision = resumeRollbackOf(input.ended);
  if (!decision.resumable) {
    return { ok: false, reason: `not resumed: ${decision.reason} Nothing was written.` };
  }
  if (canonical(decision.resumeRollback) !== canonical(input.claimed)) {
    return {
      ok: false,
      reason:
        `resumeRollback differs from what the history of ${executionNameOf(input.ended.executionArn)} says ` +
        '(its clusters, roots, errors or restored); start the resume with meshtrust retry-rollback, which reads it. ' +
        'Nothing was written.',
    };
  }
  return { ok: true };
}

/**
 * The first half of checkResumedExecution, before anything is read: both runs the claim names
 * (`resumedFrom`, `executionArn`) are executions of the state machine this execution runs on.
 */
export function checkResumeTarget(input: {
  readonly executionId: string;
  readonly claimed: unknown;
}): ResumeCheck {
  return checkClaimTarget(input, { key: 'resumeRollback', carriedOn: 'rolled back' });
}
