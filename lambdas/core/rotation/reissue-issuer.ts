import type { RotationStrategy } from '../istio/rotation-strategy.js';
import type { RotationMode } from '../plan/phases.js';
import { PreconditionFailed } from '../rotation-errors.js';

/** What of its event reissue-intermediate decides by: `V` is a root version as the steps pass it on. */
export interface ReissueEvent<V> {
  readonly mode: RotationMode;
  readonly cluster: string;
  readonly currentRoot: V;
  /** null in intermediate mode. */
  readonly stagedRoot: V | null;
  /** The cluster's strategy from preflight's plan. */
  readonly strategy: RotationStrategy;
}

export interface ReissueIssuer<V> {
  /** The root version the new intermediate is issued under. */
  readonly issuerVersion: V;
  /** How the cluster's proxies move onto the new intermediate. */
  readonly strategy: RotationStrategy;
}

/**
 * Which root reissue-intermediate issues under, and how the cluster moves: a root rotation issues under
 * the staged root, which it must have been given; an intermediate rekey under the current root, and it
 * restarts, since resign re-signs under a new root only (a rekey keeps root-cert.pem as it is).
 */
export function reissueIssuerOf<V>(event: ReissueEvent<V>): ReissueIssuer<V> {
  const { mode, cluster } = event;
  if (mode === 'intermediate') return { issuerVersion: event.currentRoot, strategy: 'restart' };
  if (event.stagedRoot === null) {
    throw new PreconditionFailed(
      `reissue-intermediate in ${mode} mode needs the staged root (stagedRoot), got null. Check the state's Parameters.`,
      { cluster, phase: 'reissue-intermediate' },
    );
  }
  return { issuerVersion: event.stagedRoot, strategy: event.strategy };
}
