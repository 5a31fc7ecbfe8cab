// The paths through the rotation state machine that tests of the definition, the plan, the core and the
// rehearsal all expect, declared once (lambdas/contract/workflow-states.ts names the states).

/** What every execution enters first, before rotate-or-resume picks its way. */
export const RUN_START = [
  'input-defaults',
  'apply-input-defaults',
  'execution-context',
  'acquire-lock',
  'rotate-or-resume',
] as const;

/** The forward phases a root rotation walks, in the state machine's order (emergency skips the soak). */
export const FORWARD_PHASES = [
  'preflight',
  'stage-root',
  'distribute-bundle',
  'verify-trust',
  'await-proxy-trust',
  'reissue-intermediate',
  'restart-workloads',
  'verify-workloads',
  'soak',
  'retire-root',
  'promote-root',
] as const;

/** A resumed promotion that succeeds: the lock (its claim checked), promote-root alone, the release. */
export const RESUMED_PROMOTION_STATES = [
  ...RUN_START,
  'resume-promotion',
  'promote-root',
  'release-lock',
  'rotation-succeeded',
] as const;
