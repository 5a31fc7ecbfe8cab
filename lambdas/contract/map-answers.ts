/**
 * What the rotation's state keeps of each per-cluster answer (docs/workflow.md, "The state's size"):
 * only the fields a later state reads, picked by the per-cluster Task's ResultSelector
 * (lib/rotation-state-machine.ts). The whole answer stays in the execution history (the Task's own
 * output) and in the step's audit event. A ResultSelector path that an answer lacks fails the execution
 * with States.Runtime, which no Catch takes, so every answer of such a Map carries each field: the
 * handlers build it with `cacertsWriteHandoff` (core/rotation/cacerts-write-handoff.ts). Nothing here
 * imports anything.
 */

/**
 * A Map that wrote cacerts (distribute-bundle, reissue-intermediate, the rollback's restore-trust and
 * restore-intermediate) hands the gate after it, as `writes`, when each cluster was written.
 */
export const CACERTS_WRITE_FIELDS = ['cluster', 'skipped', 'changed', 'cacertsWrittenBy'] as const;

/** One cluster's part of `writes`: every field present, `cacertsWrittenBy` null when nothing was written. */
export interface CacertsWriteHandoff {
  readonly cluster: string;
  /** A remote cluster: it holds no cacerts, its primary's was written. */
  readonly skipped: boolean;
  readonly changed: boolean;
  /** ISO time at or after which the cluster's cacerts held what the step leaves there. */
  readonly cacertsWrittenBy: string | null;
}

/** verify-restored-trust hands rollback-await-proxy-trust each cluster's wait. */
export const PROXY_TRUST_WAIT_FIELDS = ['cluster', 'proxyTrustWaitSeconds'] as const;

/** Every other per-cluster Map's answers, which no later state reads: which cluster answered. */
export const ANSWERED_FIELDS = ['cluster'] as const;
