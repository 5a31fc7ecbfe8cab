import { z } from 'zod';
import { clientRequestTokenFor } from '../adapters/secrets/client-request-token.js';
import { auditStateChange } from '../application/audit-state-change.js';
import { secretVersionOf } from '../application/root-ca.js';
import type { HandlerRuntime } from '../application/runtime.js';
import { createRootCertificate } from '../core/pki/certificate-authority.js';
import { certificateFingerprint } from '../core/pki/fingerprint.js';
import { executionIdSchema, parseInput, type SecretVersion } from './handler-input.js';
import { type LambdaContext, runHandler } from './run-handler.js';

const PHASE = 'stage-root';

const inputSchema = z.object({ executionId: executionIdSchema });
export type StageRootInput = z.infer<typeof inputSchema>;
export type StageRootOutput = SecretVersion;

/**
 * stage-root: creates the new root B, a KMS key (the key spec of KEY_ALGORITHM, SIGN_VERIFY) and a
 * certificate it self-signs through kms:Sign, and stores the certificate with the key's ARN as
 * AWSPENDING of the root secret, under a version id derived from the execution. B's private key never
 * leaves KMS. A re-run finds that version and returns it, or finds the key by its alias: no second
 * root and no second key.
 */
export async function handler(event: unknown, context?: LambdaContext): Promise<StageRootOutput> {
  const input = parseInput(inputSchema, event, PHASE);
  return runHandler(
    { phase: PHASE, executionId: input.executionId, writes: true, lambdaContext: context },
    (runtime) => stageRoot(input, runtime),
  );
}

async function stageRoot(input: StageRootInput, runtime: HandlerRuntime): Promise<StageRootOutput> {
  const { store, config } = runtime;
  const { executionId } = input;
  const token = clientRequestTokenFor(executionId, 'root');
  const current = await store.readCurrentRoot();
  const stages = await store.describeRoot();
  if (stages.pending === token || stages.current === token) {
    const staged = await store.readRootVersion(token);
    auditStateChange({
      phase: PHASE,
      action: 'stage-root-secret',
      executionId,
      outcome: 'unchanged',
      fingerprintsBefore: [`root:${current.ref.fingerprint}`],
      fingerprintsAfter: [`root:${current.ref.fingerprint}`, `pending-root:${staged.ref.fingerprint}`],
      detail: { versionId: token },
    });
    return secretVersionOf(staged);
  }
  await store.checkCanStageRoot(token);
  const key = await runtime.rootKeys.createOrFind(token, config.keyAlgorithm);
  const { certificatePem } = await createRootCertificate(await runtime.rootKeys.signer(key.keyArn), {
    validityDays: config.rootValidityDays,
    commonName: `meshtrust ${config.meshId} Root CA`,
  });
  const fingerprint = certificateFingerprint(certificatePem);
  const ref = await store.stageRoot({
    material: { certificatePem, fingerprint, key: { kind: 'kms', keyArn: key.keyArn } },
    token,
  });
  auditStateChange({
    phase: PHASE,
    action: 'stage-root-secret',
    executionId,
    outcome: 'succeeded',
    fingerprintsBefore: [`root:${current.ref.fingerprint}`],
    fingerprintsAfter: [`root:${current.ref.fingerprint}`, `pending-root:${fingerprint}`],
    detail: { versionId: ref.versionId, rootKeyArn: key.keyArn, rootKeyCreated: key.created },
  });
  return secretVersionOf({ ref });
}
