import { auditCacertsChange } from '../application/audit-state-change.js';
import { applyCacertsChange, readClusterCacerts } from '../application/cluster-cacerts.js';
import { type SkippedRemote, skipRemote } from '../application/remote-cluster.js';
import { readRootVersion } from '../application/root-ca.js';
import type { HandlerRuntime } from '../application/runtime.js';
import { distributeBundleChange } from '../core/rotation/distribute-bundle-change.js';
import { executionNameOf } from '../core/rotation/execution-name.js';
import { PreconditionFailed } from '../core/rotation-errors.js';
import { type ClusterStepInput, clusterStepSchema, parseInput } from './handler-input.js';
import { type LambdaContext, runHandler } from './run-handler.js';

const PHASE = 'distribute-bundle';

export interface DistributeBundleOutput {
  readonly cluster: string;
  readonly changed: boolean;
  readonly rootsBefore: string[];
  readonly rootsAfter: string[];
  readonly resourceVersion: string;
  readonly backupVersionId: string;
}

/**
 * distribute-bundle, per cluster: backs up `cacerts` as this execution first found it (kept on
 * re-runs), then writes root-cert = current roots + the new root. Nothing else changes.
 */
export async function handler(
  event: unknown,
  context?: LambdaContext,
): Promise<DistributeBundleOutput | SkippedRemote> {
  const input = parseInput(clusterStepSchema, event, PHASE);
  return runHandler(
    {
      phase: PHASE,
      executionId: input.executionId,
      cluster: input.cluster,
      writes: true,
      lambdaContext: context,
    },
    (runtime) => distributeBundle(input, runtime),
  );
}

async function distributeBundle(
  input: ClusterStepInput,
  runtime: HandlerRuntime,
): Promise<DistributeBundleOutput | SkippedRemote> {
  const { executionId, cluster, stagedRoot } = input;
  const remote = skipRemote(runtime, { phase: PHASE, cluster, executionId });
  if (remote !== undefined) return remote;
  if (stagedRoot === null) {
    throw new PreconditionFailed(
      `distribute-bundle needs the staged root (stagedRoot), got null; it runs only in scheduled and emergency mode.`,
      { cluster, phase: PHASE },
    );
  }
  const { store } = runtime;
  const newRoot = await readRootVersion(store, stagedRoot, { phase: PHASE, cluster });
  const client = await runtime.clusterClient(cluster);
  const start = await readClusterCacerts(client, PHASE);
  const backup = await store.backupCacerts(executionNameOf(executionId), cluster, start);
  const applied = await applyCacertsChange(client, PHASE, (current) =>
    distributeBundleChange(current, newRoot.material.certificatePem),
  );
  const { before, after } = auditCacertsChange(applied, {
    phase: PHASE,
    action: 'write-cacerts',
    cluster,
    executionId,
    detail: { resourceVersion: applied.resourceVersion, backupVersionId: backup.versionId },
  });
  return {
    cluster,
    changed: applied.changed,
    rootsBefore: before.roots,
    rootsAfter: after.roots,
    resourceVersion: applied.resourceVersion,
    backupVersionId: backup.versionId,
  };
}
