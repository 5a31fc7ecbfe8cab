/**
 * How long the stack lets a long-running phase function run (lib/rotation-functions.ts gives
 * verify-trust, restart-workloads, verify-workloads and rollback this, Lambda's maximum of 15 minutes).
 * restart-workloads plans its waves within the Lambda context's remaining time; invoked without a
 * context (tests, in-process callers) it assumes this. Imports nothing, so lib/ can use it.
 */
export const LONG_RUNNING_FUNCTION_TIMEOUT_SECONDS = 900;

/**
 * What restart-workloads keeps at the end of each invocation for the last rollout poll, the audit event
 * and its answer, so that it returns its cursor before Lambda stops it. preflight's execution history
 * estimate counts a restart invocation as the long-running timeout less this.
 */
export const RESTART_INVOCATION_RESERVE_MS = 30_000;
