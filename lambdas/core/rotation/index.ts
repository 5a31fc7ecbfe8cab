/**
 * What each rotation phase should do to a cluster, decided from what it holds now: pure functions
 * the handlers call between reading and writing. No I/O.
 */
export * from './approval-record.js';
export * from './cacerts-change.js';
export * from './cacerts-fingerprints.js';
export * from './cacerts-write-handoff.js';
export * from './chain-root.js';
export * from './disruption-budget.js';
export * from './distribute-bundle-change.js';
export * from './execution-name.js';
export * from './expiry-headroom.js';
export * from './gate-answer.js';
export * from './intermediate-expiry.js';
export * from './issuer-trust.js';
export * from './mesh-execution.js';
export * from './plan-reviewed-fleet.js';
export * from './plan-summary.js';
export * from './preflight-refusals.js';
export * from './reissue-intermediate-change.js';
export * from './reissue-issuer.js';
export * from './resign-root-cert-writes.js';
export * from './restart-id.js';
export * from './restart-progress.js';
export * from './restart-waves.js';
export * from './resume-promotion.js';
export * from './resume-rollback.js';
export * from './resumed-run.js';
export * from './retire-root-change.js';
export * from './review-cluster-cacerts.js';
export * from './rollback-changes.js';
export * from './rollback-stages.js';
export * from './rollout-width.js';
export * from './root-headroom.js';
export * from './rotation-lock.js';
export * from './run-request.js';
export * from './staged-root-required.js';
export * from './trust-refusals.js';
export * from './worked-clusters.js';
