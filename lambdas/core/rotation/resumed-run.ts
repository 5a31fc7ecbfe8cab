/**
 * What a new execution that carries on a stopped run is made of, shared by a resumed rollback
 * (resume-rollback.ts) and a finished promotion (resume-promotion.ts) (pure): the parts both copy from
 * the stopped run's final state, the name of the new execution, and the check that the runs its input
 * names are of this state machine. Only ids, ARNs, fingerprints and errors are copied, never a state as
 * a whole.
 */

/** Causes copied into the new input are cut to this many characters: they are for the record. */
export const RESUME_CAUSE_MAX = 1024;

/** Step Functions' limit on an execution name. */
export const EXECUTION_NAME_MAX = 80;

/** A secret version as the state holds it: where it is and which certificate, never a key. */
export interface ResumeSecretVersion {
  readonly secretArn: string;
  readonly versionId: string;
  readonly fingerprint: string;
}

/** An error as a Catch records it (`$.failure`, `$.rollbackFailure`, `$.stop`). */
export interface CaughtError {
  readonly Error?: string;
  readonly Cause?: string;
}

export type ResumeCheck = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/**
 * The name of the execution that carries on `rotationName`: `<rotation>-<kind>-<UTC second>`, the
 * rotation's name cut so the whole fits Step Functions' 80 characters. Unique per second; the history of
 * both runs is found by the rotation's name.
 */
export function resumedRunName(rotationName: string, kind: 'rollback' | 'promote', at: Date): string {
  const stamp = at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  const suffix = `-${kind}-${stamp}`;
  return `${rotationName.slice(0, EXECUTION_NAME_MAX - suffix.length)}${suffix}`;
}

/**
 * Before anything is read: both runs a claim names (`resumedFrom`, `executionArn`) are executions of the
 * state machine this execution (`executionId`, $$.Execution.Id) runs on. `key` is the input's key the
 * claim came in, `carriedOn` what the claim does to the run ("rolled back", "finished").
 */
export function checkClaimTarget(
  input: { readonly executionId: string; readonly claimed: unknown },
  claim: { readonly key: string; readonly carriedOn: string },
): ResumeCheck {
  const own = stateMachineOf(input.executionId);
  const claimed = asRecord(input.claimed);
  const foreign = [claimed?.resumedFrom, claimed?.executionArn].find(
    (arn) => typeof arn !== 'string' || own === undefined || stateMachineOf(arn) !== own,
  );
  if (foreign === undefined) return { ok: true };
  return {
    ok: false,
    reason:
      `${claim.key} names ${typeof foreign === 'string' ? foreign : 'no execution'}, not an execution of this ` +
      `state machine (${own ?? 'unknown'}); only a run of this state machine can be ${claim.carriedOn} by it. Nothing was written.`,
  };
}

/** The state machine an execution ARN belongs to (`arn:<partition>:states:<region>:<account>:stateMachine:<name>`). */
function stateMachineOf(executionArn: string): string | undefined {
  const parts = executionArn.split(':');
  if (parts.length !== 8 || parts[2] !== 'states' || parts[5] !== 'execution') return undefined;
  return [...parts.slice(0, 5), 'stateMachine', parts[6]].join(':');
}

export function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/** A preflight's clusters as `{ name }` alone; undefined unless a non-empty list of named clusters. */
export function clustersOf(value: unknown): { name: string }[] | undefined {
  if (!Array.isArray(value) || value.length === 0) return undefined;
  const names = value.map((item) => asRecord(item)?.name);
  if (!names.every((name): name is string => typeof name === 'string' && name !== '')) return undefined;
  return names.map((name) => ({ name }));
}

export function secretVersionOf(value: unknown): ResumeSecretVersion | undefined {
  const { secretArn, versionId, fingerprint } = asRecord(value) ?? {};
  if (typeof secretArn !== 'string' || secretArn === '') return undefined;
  if (typeof versionId !== 'string' || versionId === '') return undefined;
  if (typeof fingerprint !== 'string' || !/^[0-9a-f]{64}$/.test(fingerprint)) return undefined;
  return { secretArn, versionId, fingerprint };
}

/** A caught error's Error and Cause, each cut to RESUME_CAUSE_MAX. */
export function caughtErrorOf(value: unknown): CaughtError | undefined {
  const record = asRecord(value);
  if (record === undefined) return undefined;
  const cut = (text: unknown) => (typeof text === 'string' ? text.slice(0, RESUME_CAUSE_MAX) : undefined);
  const error = cut(record.Error);
  const cause = cut(record.Cause);
  return { ...(error !== undefined && { Error: error }), ...(cause !== undefined && { Cause: cause }) };
}

/** JSON with every object's keys sorted: equal values, equal text. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) => {
    const record = asRecord(inner);
    return record === undefined
      ? inner
      : Object.fromEntries(
          Object.keys(record)
            .sort()
            .map((key) => [key, record[key]]),
        );
  });
}
