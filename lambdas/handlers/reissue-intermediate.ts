import { z } from 'zod';
import type { CaMaterial, StoredCa } from '../adapters/secrets/ca-material.js';
import { clientRequestTokenFor } from '../adapters/secrets/client-request-token.js';
import type { StoredRoot } from '../adapters/secrets/root-material.js';
import { checkReceivedApproval } from '../application/approval-received.js';
import { auditCacertsChange } from '../application/audit-state-change.js';
import { applyCacertsChange, readClusterCacerts } from '../application/cluster-cacerts.js';
import { type SkippedRemote, skipRemote } from '../application/remote-cluster.js';
import { readRootVersion, rootIssuer } from '../application/root-ca.js';
import type { HandlerRuntime } from '../application/runtime.js';
import { ROTATION_STRATEGIES } from '../core/istio/rotation-strategy.js';
import { createIntermediateCa } from '../core/pki/certificate-authority.js';
import { certificateFingerprint } from '../core/pki/fingerprint.js';
import { TrustBundle } from '../core/pki/trust-bundle.js';
import { executionNameOf } from '../core/rotation/execution-name.js';
import { reissueIntermediateChange } from '../core/rotation/reissue-intermediate-change.js';
import { PreconditionFailed, VerificationFailed } from '../core/rotation-errors.js';
import { clusterStepSchema, parseInput } from './handler-input.js';
import { type LambdaContext, runHandler } from './run-handler.js';

const PHASE = 'reissue-intermediate';

const inputSchema = clusterStepSchema.extend({
  /** The cluster's strategy from preflight's plan (its item of `$.preflight.clusters`). */
  strategy: z.enum(ROTATION_STRATEGIES).default('restart'),
});
export type ReissueIntermediateInput = z.input<typeof inputSchema>;
type ParsedInput = z.infer<typeof inputSchema>;

export interface ReissueIntermediateOutput {
  readonly cluster: string;
  readonly changed: boolean;
  readonly intermediateBefore: string;
  readonly intermediateAfter: string;
  /** The root the new intermediate chains to. */
  readonly issuerRoot: string;
  readonly intermediateSecretArn: string;
  readonly intermediateVersionId: string;
  readonly resourceVersion: string;
  /** `resign`: root-cert.pem got the new root's PEM once more, so istiod pushes and proxies re-sign. */
  readonly strategy: 'resign' | 'restart';
}

/**
 * reissue-intermediate, per cluster: a new intermediate signed by the new root (intermediate mode:
 * by the current root), stored in the cluster's intermediate secret under a version id derived from
 * the execution, then cacerts = {int, key, int + root, root-cert unchanged}. A re-run reuses the
 * stored intermediate, so the cluster never sees a second one. A cluster whose strategy is `resign`
 * gets root-cert.pem with the new root appended once more (A+B+B), which makes istiod push a changed
 * trust anchor by PCDS: every running proxy then takes a certificate from the new intermediate without
 * a restart (docs/workflow.md, "Rotation strategy").
 */
export async function handler(
  event: unknown,
  context?: LambdaContext,
): Promise<ReissueIntermediateOutput | SkippedRemote> {
  const input = parseInput(inputSchema, event, PHASE);
  return runHandler(
    {
      phase: PHASE,
      executionId: input.executionId,
      cluster: input.cluster,
      writes: true,
      lambdaContext: context,
    },
    async (runtime) => {
      // Before any write: the approve-reissue gate's result must be one the approval endpoint recorded.
      await checkReceivedApproval(runtime.config, {
        phase: PHASE,
        gate: 'reissue',
        executionId: input.executionId,
        cluster: input.cluster,
        event,
      });
      return reissueIntermediate(input, runtime);
    },
  );
}

async function reissueIntermediate(
  input: ParsedInput,
  runtime: HandlerRuntime,
): Promise<ReissueIntermediateOutput | SkippedRemote> {
  const { executionId, cluster, mode } = input;
  // A remote's proxies are signed by its primary's istiod, whose own reissue moves them.
  const remote = skipRemote(runtime, { phase: PHASE, cluster, executionId });
  if (remote !== undefined) return remote;
  // Resign re-signs under the new root only; an intermediate rekey keeps root-cert.pem as it is.
  const strategy = mode === 'intermediate' ? 'restart' : input.strategy;
  const issuerVersion = mode === 'intermediate' ? input.currentRoot : input.stagedRoot;
  if (issuerVersion === null) {
    throw new PreconditionFailed(
      `reissue-intermediate in ${mode} mode needs the staged root (stagedRoot), got null. Check the state's Parameters.`,
      { cluster, phase: PHASE },
    );
  }
  const { store } = runtime;
  const issuer = await readRootVersion(store, issuerVersion, { phase: PHASE, cluster });
  const client = await runtime.clusterClient(cluster);
  // In intermediate mode this is the first write of the run: keep the start state for rollback.
  const start = await readClusterCacerts(client, PHASE);
  if (!TrustBundle.parse(start.files['root-cert.pem']).has(issuer.ref.fingerprint)) {
    // Checked here too, before an intermediate is stored: rollback takes a stored one as "switched".
    throw new PreconditionFailed(
      `root-cert.pem of cluster ${cluster} does not hold the issuing root ${issuer.ref.fingerprint}; switching the ` +
        'intermediate now would break mTLS with every peer. Run distribute-bundle and verify-trust for every cluster first.',
      { cluster, phase: PHASE },
    );
  }
  await store.backupCacerts(executionNameOf(executionId), cluster, start);

  const intermediate = await intermediateFor(runtime, { executionId, cluster, issuer });
  const applied = await applyCacertsChange(client, PHASE, (current) =>
    reissueIntermediateChange({
      cluster,
      current,
      intermediate: intermediate.material,
      issuerRootPem: issuer.material.certificatePem,
      strategy,
    }),
  );
  // istiod says nothing when it drops a cacerts; at least make sure what it reads is what we wrote.
  const readBack = await readClusterCacerts(client, PHASE);
  if (readBack.files['ca-cert.pem'] !== applied.after['ca-cert.pem']) {
    throw new VerificationFailed(
      `istio-system/cacerts of cluster ${cluster} does not hold the new intermediate after writing it; someone else ` +
        'changed it. Find out who, then retry.',
      { cluster, phase: PHASE },
    );
  }
  const { before, after } = auditCacertsChange(applied, {
    phase: PHASE,
    action: 'write-cacerts',
    cluster,
    executionId,
    detail: {
      resourceVersion: applied.resourceVersion,
      intermediateVersionId: intermediate.ref.versionId,
      issuerRoot: issuer.ref.fingerprint,
      strategy,
    },
  });
  return {
    cluster,
    changed: applied.changed,
    intermediateBefore: before.intermediate,
    intermediateAfter: after.intermediate,
    issuerRoot: issuer.ref.fingerprint,
    intermediateSecretArn: intermediate.ref.arn,
    intermediateVersionId: intermediate.ref.versionId,
    resourceVersion: applied.resourceVersion,
    strategy,
  };
}

/** This execution's intermediate for the cluster: the stored one on a re-run, else a new one, stored. */
async function intermediateFor(
  runtime: HandlerRuntime,
  context: { readonly executionId: string; readonly cluster: string; readonly issuer: StoredRoot },
): Promise<Pick<StoredCa, 'ref' | 'material'>> {
  const { store, config } = runtime;
  const { executionId, cluster, issuer } = context;
  const token = clientRequestTokenFor(executionId, `intermediate/${cluster}`);
  const stored = await runtime.store.tryReadIntermediate(cluster);
  if (stored?.ref.versionId === token) return stored;
  const created = await createIntermediateCa({
    cluster,
    issuer: await rootIssuer(runtime, issuer, { phase: PHASE, cluster }),
    validityDays: config.intermediateValidityDays,
    algorithm: config.keyAlgorithm,
  });
  const material: CaMaterial = { ...created, fingerprint: certificateFingerprint(created.certificatePem) };
  const ref = await store.putIntermediate(cluster, material, token);
  return { ref, material };
}
