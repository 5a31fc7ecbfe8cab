/**
 * What the rotation's state keeps of preflight's answer at `$.preflight` (docs/workflow.md, "The state's
 * size"), picked by its Task's ResultSelector (lib/rotation-state-machine.ts): the clusters the Maps run
 * over and the current root their items carry, the two Wait states' plans (await-proxy-trust, soak) and
 * the history estimate an operator reads beside the run. The rest of the plan (per-cluster Istio
 * settings, strategies and their reasons, notes, phases), hundreds of bytes a cluster, stays in the execution
 * history (preflight's Task output, its TaskSucceeded event). A path an answer lacks fails the execution
 * States.Runtime, which no Catch takes: preflight's answer carries every one (PreflightOutput). Nothing
 * here imports anything.
 */
export const PREFLIGHT_KEPT_PATHS = [
  'clusters',
  'currentRoot',
  'plan.proxyTrustWait',
  'plan.soak',
  'plan.historyEvents',
] as const;
