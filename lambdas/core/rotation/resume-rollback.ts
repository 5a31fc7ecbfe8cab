import { ROTATION_MODES, type RotationMode } from '../plan/phases.js';
import { executionNameOf } from './execution-name.js';

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

/** Causes copied into the new input are cut to this many characters: they are for the record. */
export const RESUME_CAUSE_MAX = 1024;

/** A secret version as the state holds it: where it is and which certificate, never a key. */
export interface ResumeSecretVersion {
  readonly secretArn: string;
  readonly versionId: string;
  readonly fingerprint: string;
}

/** An error as a Catch records it (`$.failure`, `$.rollbackFailure`). */
export interface CaughtError {
  readonly Error?: string;
  readonly Cause?: string;
}

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
}

/** What DescribeExecution and the history say of the ended execution. */
export interface EndedExecution {
  readonly executionArn: string;
  /** RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED, PENDING_REDRIVE. */
  readonly status: string;
  readonly error?: string;
  /** The state it ended with: the input of its last Fail state, as the history records it. */
  readonly finalState?: unknown;
}

export type ResumeDecision =
  | { readonly resumable: true; readonly mode: RotationMode; readonly resumeRollback: ResumeRollback }
  | { readonly resumable: false; readonly reason: string };

/**
 * The new execution's `mode` and `resumeRollback` for an execution that ended in RollbackFailed, or why
 * its rollback cannot be resumed: any other end (it runs, succeeded, was rolled back, stopped before the
 * first write or after promote-root, was aborted or timed out), or a final state that lacks what the
 * rollback stages read.
 */
export function resumeRollbackOf(ended: EndedExecution): ResumeDecision {
  const refused = refusedEnd(ended);
  if (refused !== undefined) return { resumable: false, reason: refused };
  const state = asRecord(ended.finalState);
  const problems: string[] = [];
  const need = <T>(value: T | undefined, what: string): T | undefined => {
    if (value === undefined) problems.push(what);
    return value;
  };
  const preflight = asRecord(state?.preflight);
  const mode = need(
    ROTATION_MODES.find((known) => known === state?.mode),
    'mode (scheduled, emergency or intermediate)',
  );
  const clusters = need(clustersOf(preflight?.clusters), 'preflight.clusters (a list of { name })');
  const currentRoot = need(
    secretVersionOf(preflight?.currentRoot),
    'preflight.currentRoot (a secret version)',
  );
  const stagedRoot = need(
    state?.stagedRoot === null ? null : secretVersionOf(state?.stagedRoot),
    'stagedRoot (a secret version, or null)',
  );
  const rollbackOf = need(
    state?.rollbackOf === undefined || state.rollbackOf === null
      ? ended.executionArn
      : typeof state.rollbackOf === 'string' && state.rollbackOf !== ''
        ? state.rollbackOf
        : undefined,
    'rollbackOf (an execution ARN, or null)',
  );
  const rollbackFailure = need(
    caughtErrorOf(state?.rollbackFailure),
    'rollbackFailure (the error the rollback failed with)',
  );
  if (problems.length > 0 || state === undefined) {
    return {
      resumable: false,
      reason:
        `${executionNameOf(ended.executionArn)} ended in ${ROLLBACK_FAILED}, but its final state lacks ${problems.join(', ') || 'everything'}; ` +
        'without it the rollback cannot be resumed. Follow docs/runbook.md (RollbackFailed) to restore by hand.',
    };
  }
  const resumeRollback: ResumeRollback = {
    executionArn: rollbackOf as string,
    resumedFrom: ended.executionArn,
    clusters: clusters as { name: string }[],
    currentRoot: currentRoot as ResumeSecretVersion,
    stagedRoot: stagedRoot as ResumeSecretVersion | null,
    failure: caughtErrorOf(state.failure) ?? null,
    rollbackFailure: rollbackFailure as CaughtError,
  };
  if (JSON.stringify(resumeRollback).includes('PRIVATE KEY')) {
    return {
      resumable: false,
      reason: `the final state of ${executionNameOf(ended.executionArn)} holds a private key block; nothing of it is passed on. Report this as a bug.`,
    };
  }
  return { resumable: true, mode: mode as RotationMode, resumeRollback };
}

function refusedEnd(ended: EndedExecution): string | undefined {
  const name = executionNameOf(ended.executionArn);
  switch (ended.status) {
    case 'RUNNING':
    case 'PENDING_REDRIVE':
      return `${name} is ${ended.status}: it holds the rotation lock and runs its own rollback if it fails; wait for it to end.`;
    case 'SUCCEEDED':
      return `${name} SUCCEEDED: there is no rollback to resume.`;
    case 'ABORTED':
    case 'TIMED_OUT':
      return (
        `${name} was ${ended.status}: it skipped the Catch, so no rollback ran and there is none to resume. ` +
        'Only a run that ended in RollbackFailed can be resumed; see docs/runbook.md for a run stopped part-way.'
      );
    case 'FAILED':
      if (ended.error === ROLLBACK_FAILED) return undefined;
      if (ended.error === ROTATION_ROLLED_BACK) {
        return `${name} failed with ${ROTATION_ROLLED_BACK}: its rollback completed, every cluster is back on its original cacerts.`;
      }
      return (
        `${name} failed with ${ended.error ?? 'no error'}, not ${ROLLBACK_FAILED}: it stopped before its first write ` +
        '(nothing to roll back) or after promote-root (the fleet trusts only the new root; re-run the rotation).'
      );
    default:
      return `${name} has status ${ended.status}; only a FAILED run whose error is ${ROLLBACK_FAILED} can be resumed.`;
  }
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function clustersOf(value: unknown): { name: string }[] | undefined {
  if (!Array.isArray(value) || value.length === 0) return undefined;
  const names = value.map((item) => asRecord(item)?.name);
  if (!names.every((name): name is string => typeof name === 'string' && name !== '')) return undefined;
  return names.map((name) => ({ name }));
}

function secretVersionOf(value: unknown): ResumeSecretVersion | undefined {
  const record = asRecord(value);
  const { secretArn, versionId, fingerprint } = record ?? {};
  if (typeof secretArn !== 'string' || secretArn === '') return undefined;
  if (typeof versionId !== 'string' || versionId === '') return undefined;
  if (typeof fingerprint !== 'string' || !/^[0-9a-f]{64}$/.test(fingerprint)) return undefined;
  return { secretArn, versionId, fingerprint };
}

function caughtErrorOf(value: unknown): CaughtError | undefined {
  const record = asRecord(value);
  if (record === undefined) return undefined;
  const cut = (text: unknown) => (typeof text === 'string' ? text.slice(0, RESUME_CAUSE_MAX) : undefined);
  const error = cut(record.Error);
  const cause = cut(record.Cause);
  return { ...(error !== undefined && { Error: error }), ...(cause !== undefined && { Cause: cause }) };
}

/** Step Functions' limit on an execution name. */
export const EXECUTION_NAME_MAX = 80;

/**
 * The name of the execution that resumes the rollback of `rotationName` (the rotation whose writes are
 * undone): `<rotation>-rollback-<UTC second>`, the rotation's name cut so the whole fits 80 characters.
 * Unique per second; the history of both runs is found by the rotation's name.
 */
export function resumedRollbackName(rotationName: string, at: Date): string {
  const stamp = at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  const suffix = `-rollback-${stamp}`;
  return `${rotationName.slice(0, EXECUTION_NAME_MAX - suffix.length)}${suffix}`;
}
