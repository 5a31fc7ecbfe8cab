/**
 * The rotation strategy setting, which the stack (lib/) sets and the handlers read, declared once
 * (lambdas/core/istio/rotation-strategy.ts decides with it). Nothing here imports anything.
 */

/** Environment key: `auto` (preflight chooses per cluster), or `resign` / `restart` for every cluster. */
export const ROTATION_STRATEGY_ENV = 'ROTATION_STRATEGY';

export const ROTATION_STRATEGY_SETTINGS = ['auto', 'resign', 'restart'] as const;
export type RotationStrategySettingName = (typeof ROTATION_STRATEGY_SETTINGS)[number];
export const DEFAULT_ROTATION_STRATEGY: RotationStrategySettingName = 'auto';
