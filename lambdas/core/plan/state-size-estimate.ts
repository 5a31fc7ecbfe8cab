// How large the rotation's state grows at worst, against Step Functions' quota on a state's input or
// output. The state keeps of each Map's answers only what a later state reads (lambdas/contract/
// map-answers.ts, picked by ResultSelectors), so each cluster adds a bounded few hundred bytes, beside
// preflight's own answer; a state over the quota ends the execution States.DataLimitExceeded, a terminal
// error no Catch takes: a rotation whose rollback reached it would stop after its writes, part-way back.
// preflight refuses a plan whose worst case passes a safe share of the quota (docs/workflow.md, "The
// execution history limit", its state-size paragraph). Pure.
import {
  ANSWERED_FIELDS,
  CACERTS_WRITE_FIELDS,
  PROXY_TRUST_WAIT_FIELDS,
} from '../../contract/map-answers.js';

/**
 * Step Functions' quota: a state's input or output may be at most 256 KiB of UTF-8 JSON text
 * (Service quotas, "Maximum input or output size for a task, state, or execution").
 */
export const STATE_PAYLOAD_QUOTA_BYTES = 262_144;

/** The share of the quota a plan's worst case may use: the rest is for what the bounds below miss. */
export const SAFE_STATE_SHARE = 0.9;

/**
 * What the state keeps of one cluster in a run that rolls back from its last Map (retire-root), which
 * runs every per-cluster Map once: the fields each Map's ResultSelector keeps, in the order they run
 * (test/infra/state-size-estimate.test.ts holds this list to the synthesized definition).
 */
export const KEPT_PER_CLUSTER: readonly (readonly string[])[] = [
  CACERTS_WRITE_FIELDS, // distribute-bundle
  ANSWERED_FIELDS, // verify-trust
  CACERTS_WRITE_FIELDS, // reissue-intermediate
  ANSWERED_FIELDS, // restart-workloads
  ANSWERED_FIELDS, // verify-workloads
  ANSWERED_FIELDS, // retire-root
  CACERTS_WRITE_FIELDS, // rollback-trust
  PROXY_TRUST_WAIT_FIELDS, // rollback-verify-trust
  CACERTS_WRITE_FIELDS, // rollback-intermediate
  ANSWERED_FIELDS, // rollback-restart
  ANSWERED_FIELDS, // rollback-restore
];

/**
 * The widest value each kept field can take, but for the cluster's name: booleans as `false`, the
 * latest time `Date.toISOString` writes, the largest whole number JSON carries exactly.
 */
const WIDEST_VALUE: Readonly<Record<string, unknown>> = {
  skipped: false,
  changed: false,
  cacertsWrittenBy: new Date(8.64e15).toISOString(),
  proxyTrustWaitSeconds: Number.MAX_SAFE_INTEGER,
};

/**
 * The state's parts that do not grow with the fleet, but for the failures: the input and its defaults,
 * the execution context, the lock, the staged root, approvals, the lock's release and the rollback's
 * last answers (about 1 KB measured).
 */
export const FIXED_STATE_BYTES = 2_000;

/** A Catch's error at its largest: Step Functions keeps a Cause up to 32,768 characters. */
export const FAILURE_BYTES_AT_MOST = 32_768;

export interface StateSizeInput {
  /** The clusters the Maps work on (their names: each kept answer names its cluster). */
  readonly clusters: readonly string[];
  /** preflight's own answer as it stands in the state (`$.preflight`), in bytes of JSON. */
  readonly preflightBytes: number;
  /**
   * The errors the rollback carries (`$.failure`, and `$.rollbackFailure` once the rollback fails), when
   * known (a run's own); two of FAILURE_BYTES_AT_MOST otherwise.
   */
  readonly failureBytes?: number;
}

/** The most one cluster adds to the state: each Map's kept answer, as an item of its result array. */
export function keptBytesPerCluster(name: string): number {
  return KEPT_PER_CLUSTER.reduce((sum, fields) => {
    const widest = Object.fromEntries(
      fields.map((field) => [field, field === 'cluster' ? name : WIDEST_VALUE[field]]),
    );
    // The item, and the comma that separates it from the next.
    return sum + utf8Bytes(JSON.stringify(widest)) + 1;
  }, 0);
}

/** The largest the state can be: preflight's answer, the fixed parts, the failures and each cluster's answers. */
export function stateBytesAtWorst(input: StateSizeInput): number {
  return (
    FIXED_STATE_BYTES +
    (input.failureBytes ?? 2 * FAILURE_BYTES_AT_MOST) +
    input.preflightBytes +
    input.clusters.reduce((sum, name) => sum + keptBytesPerCluster(name), 0)
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
    `The rotation's state could grow to ${worst.toLocaleString('en-US')} bytes for ${n} cluster(s) (preflight's ` +
    `answer and what each Map keeps of its answers stay in it; a rollback adds its own), over ${SAFE_STATE_BYTES.toLocaleString('en-US')}, the safe share of ` +
    `Step Functions' ${STATE_PAYLOAD_QUOTA_BYTES.toLocaleString('en-US')}-byte limit on a state: past it the run would ` +
    'end States.DataLimitExceeded, which no Catch takes, after its writes and without its rollback. A root rotation ' +
    'must reach every cluster that trusts the root, so this fleet is too large for one run of this state machine ' +
    '(docs/workflow.md, "Fleets past one execution\'s history"); do not narrow the cluster selection for it'
  );
}
