/**
 * How long the stack lets a long-running phase function run (lib/rotation-functions.ts gives
 * verify-trust, restart-workloads, verify-workloads and rollback this, Lambda's maximum of 15 minutes).
 * restart-workloads plans its waves within the Lambda context's remaining time; invoked without a
 * context (tests, in-process callers) it assumes this. Imports nothing, so lib/ can use it.
 */
export const LONG_RUNNING_FUNCTION_TIMEOUT_SECONDS = 900;
