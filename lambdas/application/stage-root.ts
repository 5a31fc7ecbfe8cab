import { clientRequestTokenFor } from '../adapters/secrets/client-request-token.js';
import { createRootCertificate } from '../core/pki/certificate-authority.js';
import { certificateFingerprint } from '../core/pki/fingerprint.js';
import { auditStateChange } from './audit-state-change.js';
import { type SecretVersion, secretVersionOf } from './root-ca.js';
import type { RotationRuntime } from './runtime.js';

const PHASE = 'stage-root';

/**
 * stage-root's sequence: the execution's root version (its token) found staged already, or current, is
 * returned as it is; else its KMS key is created (or found by its alias, or adopted when an earlier
 * attempt made it and its answer was lost: RootKeys.createOrFind), the root certificate self-signed
 * through kms:Sign and staged as AWSPENDING with the key's ARN. A key found without a staged root (the
 * earlier attempt stopped before staging) signs a root now, as on a first run: a re-run converges on
 * one key and one staged version. Audited `stage-root-secret` either way, unchanged on a re-run.
 */
export async function stageRoot(runtime: RotationRuntime, executionId: string): Promise<SecretVersion> {
  const { store, config } = runtime;
  const token = clientRequestTokenFor(executionId, 'root');
  const current = await store.readCurrentRoot();
  const stages = await store.describeRoot();
  const audit = (
    outcome: 'succeeded' | 'unchanged',
    staged: string,
    detail: Record<string, string | boolean>,
  ) =>
    auditStateChange({
      phase: PHASE,
      action: 'stage-root-secret',
      executionId,
      outcome,
      fingerprintsBefore: [`root:${current.ref.fingerprint}`],
      fingerprintsAfter: [`root:${current.ref.fingerprint}`, `pending-root:${staged}`],
      detail,
    });
  if (stages.pending === token || stages.current === token) {
    const staged = await store.readRootVersion(token);
    audit('unchanged', staged.ref.fingerprint, { versionId: token });
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
  audit('succeeded', fingerprint, {
    versionId: ref.versionId,
    rootKeyArn: key.keyArn,
    rootKeyCreated: key.created,
    ...(key.adopted === true && { rootKeyAdopted: true }),
    ...(key.unnamedKeys !== undefined && { rootKeysUnnamed: key.unnamedKeys.join(',') }),
  });
  return secretVersionOf({ ref });
}
