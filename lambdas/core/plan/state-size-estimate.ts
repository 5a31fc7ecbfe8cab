// How large the rotation's state grows at worst, against Step Functions' quota on a state's input or
// output. Every Map's answers stay in the state (`$.distributed`, `$.reissued`, `$.rollback`, ...), so
// it grows with the fleet; a state over the quota ends the execution States.DataLimitExceeded, a
// terminal error no Catch takes: a rotation whose rollback reached it would stop after its writes,
// part-way back. preflight refuses a plan whose worst case passes a safe share of the quota
// (docs/workflow.md, "The execution history limit", its state-size paragraph). Pure.

/**
 * Step Functions' quota: a state's input or output may be at most 256 KiB of UTF-8 JSON text
 * (Service quotas, "Maximum input or output size for a task, state, or execution").
 */
export const STATE_PAYLOAD_QUOTA_BYTES = 262_144;

/** The share of the quota a plan's worst case may use: the rest is for what the bounds below miss. */
export const SAFE_STATE_SHARE = 0.9;

/**
 * The most one cluster's answers add to the state over a run that rolls back from its last Map
 * (retire-root): distribute-bundle, verify-trust, reissue-intermediate, restart-workloads and
 * verify-workloads forward, then every rollback Map's, less the cluster's name. Measured on a 4-cluster
 * rehearsal rolled back from retire-root on 2 December 2026: 3,108 bytes a cluster of which 12 mentions
 * of its 5-character name; 3,048 without them, and a tenth more for what other fleets write longer
 * (resource versions, wait reasons). test/e2e/rehearse.test.ts checks a rollback's largest state
 * against stateBytesAtWorst.
 */
export const ANSWER_BYTES_PER_CLUSTER = 3_400;

/** How often a cluster's answers name it (its Map items, secret ARNs): each mention is its name's length. */
export const NAME_MENTIONS_PER_CLUSTER = 14;

/**
 * The state's parts that do not grow with the fleet, but for the failure: the input and its defaults,
 * the lock, the staged root, the lock's release (about 1 KB measured).
 */
export const FIXED_STATE_BYTES = 1_000;

/** The Catch's `$.failure` at its largest: Step Functions keeps a Cause up to 32,768 characters. */
export const FAILURE_BYTES_AT_MOST = 32_768;

export interface StateSizeInput {
  /** The clusters the Maps work on (their names: each answer names its cluster). */
  readonly clusters: readonly string[];
  /** preflight's own answer as it stands in the state (`$.preflight`), in bytes of JSON. */
  readonly preflightBytes: number;
  /** The failure the rollback carries, when known (a run's own); FAILURE_BYTES_AT_MOST otherwise. */
  readonly failureBytes?: number;
}

/** The largest the state can be: preflight's answer, the fixed parts, and each cluster's answers. */
export function stateBytesAtWorst(input: StateSizeInput): number {
  return (
    FIXED_STATE_BYTES +
    (input.failureBytes ?? FAILURE_BYTES_AT_MOST) +
    input.preflightBytes +
    input.clusters.reduce(
      (sum, name) => sum + ANSWER_BYTES_PER_CLUSTER + NAME_MENTIONS_PER_CLUSTER * utf8Bytes(name),
      0,
    )
  );
}

/** The length of `text` as UTF-8, as Step Functions counts a payload. */
export function utf8Bytes(text: string): number {
  return new TextEncoder().encode(text).length;
}

/** The most bytes preflight lets the worst case reach: SAFE_STATE_SHARE of the quota. */
export const SAFE_STATE_BYTES = Math.floor(STATE_PAYLOAD_QUOTA_BYTES * SAFE_STATE_SHARE);

/** Why preflight refuses this plan, or undefined when its worst-case state fits SAFE_STATE_BYTES. */
export function stateSizeProblem(input: StateSizeInput): string | undefined {
  const worst = stateBytesAtWorst(input);
  if (worst <= SAFE_STATE_BYTES) return undefined;
  const n = input.clusters.length;
  return (
    `The rotation's state could grow to ${worst.toLocaleString('en-US')} bytes for ${n} cluster(s) (each Map's ` +
    `answers stay in it; a rollback adds its own), over ${SAFE_STATE_BYTES.toLocaleString('en-US')}, the safe share of ` +
    `Step Functions' ${STATE_PAYLOAD_QUOTA_BYTES.toLocaleString('en-US')}-byte limit on a state: past it the run would ` +
    'end States.DataLimitExceeded, which no Catch takes, after its writes and without its rollback. A root rotation ' +
    'must reach every cluster that trusts the root, so this fleet is too large for one run of this state machine ' +
    'until its state is trimmed (docs/workflow.md, "Fleets past one execution\'s history"); do not narrow the ' +
    'cluster selection for it'
  );
}
