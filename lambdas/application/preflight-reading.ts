import { clientRequestTokenFor } from '../adapters/secrets/client-request-token.js';
import type { StoredRoot } from '../adapters/secrets/root-material.js';
import type { RotationMode } from '../core/plan/phases.js';
import {
  emptyFleetRefusal,
  MISSING_MODE_REFUSAL,
  type PreflightRefusal,
  rootKeyRefusal,
  rootStagesRefusal,
} from '../core/rotation/preflight-refusals.js';
import { type ClusterReading, reviewFleet } from './review-fleet.js';
import type { RotationRuntime } from './runtime.js';

/** What preflight read before judging the fleet: the mode, the CA store's current root, every cluster. */
export interface PreflightReading {
  readonly mode: RotationMode;
  readonly currentRoot: StoredRoot;
  /** One per cluster of the fleet, in the fleet's order (reviewFleet). */
  readonly readings: readonly ClusterReading[];
  /** When the clusters were reviewed; their certificates' and the root's expiry count from it. */
  readonly now: Date;
}

export type PreflightReadingResult =
  | ({ readonly ok: true } & PreflightReading)
  | { readonly ok: false; readonly refusal: PreflightRefusal };

/**
 * preflight's reads, in the order that lets it refuse early (lambdas/core/rotation/preflight-refusals.ts):
 * the mode, the root secret's stages, the current root and its key, the fleet, then every cluster read
 * and reviewed (reviewFleet). Stops at the first refusal, before reading further; reads only.
 */
export async function readForPreflight(
  runtime: RotationRuntime,
  input: { readonly executionId: string; readonly mode?: RotationMode | null },
): Promise<PreflightReadingResult> {
  const { mode } = input;
  const { store, config } = runtime;
  if (mode === null || mode === undefined) return refused(MISSING_MODE_REFUSAL);
  const stages = await store.describeRoot();
  const ownToken = clientRequestTokenFor(input.executionId, 'root');
  const storeRefusal = rootStagesRefusal({ stages, ownToken, rootSecretName: store.rootSecretName });
  if (storeRefusal !== undefined) return refused(storeRefusal);
  const currentRoot = await store.readCurrentRoot();
  const keyRefusal = rootKeyRefusal(mode, currentRoot.material.key.kind);
  if (keyRefusal !== undefined) return refused(keyRefusal);
  const clusters = await runtime.fleet();
  const fleetRefusal = emptyFleetRefusal(clusters, config);
  if (fleetRefusal !== undefined) return refused(fleetRefusal);
  const now = new Date();
  const readings = await reviewFleet(runtime, clusters, currentRoot.ref.fingerprint, now);
  return { ok: true, mode, currentRoot, readings, now };
}

function refused(refusal: PreflightRefusal): PreflightReadingResult {
  return { ok: false, refusal };
}
