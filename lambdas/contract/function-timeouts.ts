/**
 * How long the stack lets a long-running phase function run (lib/rotation-functions.ts gives
 * verify-trust, restart-workloads, verify-workloads and rollback 15 minutes, Lambda's maximum).
 * restart-workloads plans its waves within the Lambda context's remaining time; invoked without a
 * context (tests, in-process callers) it assumes this. test/infra/restart-loop.test.ts keeps the two
 * equal. Imports nothing, so lib/ can use it.
 */
export const LONG_RUNNING_FUNCTION_TIMEOUT_SECONDS = 900;
