import { checkReceivedApproval } from '../application/approval-received.js';
import { auditCacertsChange } from '../application/audit-state-change.js';
import { applyCacertsChange } from '../application/cluster-cacerts.js';
import { type SkippedRemote, skipRemote } from '../application/remote-cluster.js';
import { readRootVersion } from '../application/root-ca.js';
import type { HandlerRuntime } from '../application/runtime.js';
import { retireRootChange } from '../core/rotation/retire-root-change.js';
import { PreconditionFailed } from '../core/rotation-errors.js';
import { type ClusterStepInput, clusterStepSchema, parseInput } from './handler-input.js';
import { type LambdaContext, runHandler } from './run-handler.js';

const PHASE = 'retire-root';

export interface RetireRootOutput {
  readonly cluster: string;
  readonly changed: boolean;
  readonly rootsBefore: string[];
  readonly rootsAfter: string[];
  readonly resourceVersion: string;
}

/**
 * retire-root, per cluster: root-cert = {new root}; refused while the cluster's intermediate does not
 * chain to the new root. The root secret is promoted afterwards, by promote-root, once every
 * cluster retired.
 */
export async function handler(
  event: unknown,
  context?: LambdaContext,
): Promise<RetireRootOutput | SkippedRemote> {
  const input = parseInput(clusterStepSchema, event, PHASE);
  return runHandler(
    {
      phase: PHASE,
      executionId: input.executionId,
      cluster: input.cluster,
      writes: true,
      lambdaContext: context,
    },
    async (runtime) => {
      // Before any write: the approve-retire gate's result must be one the approval endpoint recorded.
      await checkReceivedApproval(runtime.config, {
        phase: PHASE,
        gate: 'retire',
        executionId: input.executionId,
        cluster: input.cluster,
        event,
      });
      return retireRoot(input, runtime);
    },
  );
}

async function retireRoot(
  input: ClusterStepInput,
  runtime: HandlerRuntime,
): Promise<RetireRootOutput | SkippedRemote> {
  const { executionId, cluster, stagedRoot } = input;
  const remote = skipRemote(runtime, { phase: PHASE, cluster, executionId });
  if (remote !== undefined) return remote;
  if (stagedRoot === null) {
    throw new PreconditionFailed(
      'retire-root needs the staged root (stagedRoot), got null; it runs only in scheduled and emergency mode.',
      { cluster, phase: PHASE },
    );
  }
  const newRoot = await readRootVersion(runtime.store, stagedRoot, { phase: PHASE, cluster });
  const client = await runtime.clusterClient(cluster);
  const applied = await applyCacertsChange(client, PHASE, (current) =>
    retireRootChange(cluster, current, newRoot.material.certificatePem),
  );
  const { before, after } = auditCacertsChange(applied, {
    phase: PHASE,
    action: 'write-cacerts',
    cluster,
    executionId,
    detail: { resourceVersion: applied.resourceVersion },
  });
  return {
    cluster,
    changed: applied.changed,
    rootsBefore: before.roots,
    rootsAfter: after.roots,
    resourceVersion: applied.resourceVersion,
  };
}
