// The resource policy on every CA secret the handlers create, read back from moto with GetResourcePolicy.
// moto stores a secret's policy but does not enforce it, so this shows what each secret carries; what
// the policy allows is shown by the unit tests of the policy (test/unit/core/access/secret-policy.test.ts).

import {
  DeleteResourcePolicyCommand,
  GetResourcePolicyCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { jest } from '@jest/globals';
import { CaSecretStore } from '../../../lambdas/adapters/secrets/ca-secret-store.js';
import { clientRequestTokenFor } from '../../../lambdas/adapters/secrets/client-request-token.js';
import { CA_SECRET_POLICY_ENV, type CaSecretGrant } from '../../../lambdas/contract/ca-store.js';
import { certificateFingerprint, createRootCa } from '../../../lambdas/core/pki/index.js';
import { executionNameOf } from '../../../lambdas/core/rotation/execution-name.js';
import { handler as distributeBundle } from '../../../lambdas/handlers/distribute-bundle.js';
import { handler as preflight } from '../../../lambdas/handlers/preflight.js';
import { handler as reissueIntermediate } from '../../../lambdas/handlers/reissue-intermediate.js';
import { handler as stageRoot } from '../../../lambdas/handlers/stage-root.js';
import { handler as verifyTrust } from '../../../lambdas/handlers/verify-trust.js';
import { motoClientConfig } from '../../support/moto-endpoint.js';
import { awaitProxyTrust, type HandlerLab, startHandlerLab } from './handler-lab.js';

jest.setTimeout(240_000);

/** A role per grant, named after the function(s) the stack would name, in moto's account. */
const role = (name: string) => `arn:aws:iam::123456789012:role/meshtrust-${name}`;
const ROLES: Record<CaSecretGrant, string[]> = {
  rootRead: [role('preflight'), role('reissue-intermediate'), role('check-expiry')],
  rootWrite: [role('stage-root'), role('promote-root'), role('rollback')],
  intermediatesRead: [role('restart-workloads')],
  intermediatesWrite: [role('reissue-intermediate')],
  backupsRead: [role('rollback')],
  backupsWrite: [role('distribute-bundle'), role('reissue-intermediate')],
  backupsDelete: [role('promote-root'), role('rollback'), role('release-lock')],
  importedRootKeysRead: [role('reissue-intermediate')],
  importedRootKeysDelete: [role('promote-root')],
};

interface Statement {
  readonly Effect: string;
  readonly Principal: unknown;
  readonly Action: string[];
  readonly Condition?: { ArnNotEquals?: { 'aws:PrincipalArn'?: string[] } };
}

const client = new SecretsManagerClient(motoClientConfig());
let h: HandlerLab;

beforeAll(async () => {
  h = await startHandlerLab({ clusters: 1, workloadsPerCluster: 1, workloadCertTtlMs: 6_000 });
  // As the stack sets them (lib/rotation-functions.ts); startHandlerLab restores the environment at stop.
  for (const grant of Object.keys(CA_SECRET_POLICY_ENV) as CaSecretGrant[]) {
    process.env[CA_SECRET_POLICY_ENV[grant]] = ROLES[grant].join(',');
  }
});
afterAll(async () => {
  client.destroy();
  await h?.stop();
});

/** The secret's resource policy as Secrets Manager returns it; undefined when it has none. */
async function policyOf(secretId: string): Promise<Statement[] | undefined> {
  const { ResourcePolicy } = await client.send(new GetResourcePolicyCommand({ SecretId: secretId }));
  if (ResourcePolicy === undefined) return undefined;
  return (JSON.parse(ResourcePolicy) as { Statement: Statement[] }).Statement;
}

/** The roles a policy exempts from denying `action`; null: denied to everyone; undefined: not denied. */
function exemptFrom(statements: Statement[] | undefined, action: string): string[] | null | undefined {
  const denial = statements?.find((s) => s.Effect === 'Deny' && s.Action.includes(action));
  if (denial === undefined) return undefined;
  expect(denial.Principal).toBe('*');
  return denial.Condition?.ArnNotEquals?.['aws:PrincipalArn'] ?? null;
}

const sorted = (arns: string[]) => [...arns].sort();

describe('the resource policy of each CA secret a handler creates', () => {
  const executionId = () => h.executionId('policies');
  const cluster = () => h.lab.clusters[0]?.name ?? 'lab-1';
  let backupName: string;
  let distributeItem: Parameters<typeof distributeBundle>[0];

  it('is put by stage-root on the root secret it writes to, and leaves reading it to IAM', async () => {
    // Prepare: the root secret was imported without a policy (the CLI has none to give)
    expect(await policyOf(h.store.rootSecretName)).toBeUndefined();

    // Act
    await preflight({ executionId: executionId(), mode: 'scheduled', cluster: null });
    await stageRoot({ executionId: executionId() });

    // Assess
    const root = await policyOf(h.store.rootSecretName);
    expect(exemptFrom(root, 'secretsmanager:GetSecretValue')).toBeUndefined();
    expect(sorted(exemptFrom(root, 'secretsmanager:PutSecretValue') ?? [])).toEqual(sorted(ROLES.rootWrite));
    expect(sorted(exemptFrom(root, 'secretsmanager:UpdateSecretVersionStage') ?? [])).toEqual(
      sorted(ROLES.rootWrite),
    );
    expect(exemptFrom(root, 'secretsmanager:DeleteSecret')).toBeNull();
  });

  it("is on every cacerts backup and intermediate that a rotation's phases create, naming their roles only", async () => {
    // Prepare
    const checked = await preflight({ executionId: executionId(), mode: 'scheduled', cluster: null });
    const stagedRoot = await stageRoot({ executionId: executionId() });
    const item = {
      executionId: executionId(),
      mode: 'scheduled' as const,
      cluster: cluster(),
      currentRoot: checked.currentRoot,
      stagedRoot,
    };

    distributeItem = item;

    // Act
    await distributeBundle(item);
    await verifyTrust(item);
    await awaitProxyTrust(checked);
    await reissueIntermediate(item);

    // Assess
    backupName = h.store.backupSecretName(executionNameOf(executionId()), cluster());
    const backup = await policyOf(backupName);
    expect(sorted(exemptFrom(backup, 'secretsmanager:GetSecretValue') ?? [])).toEqual(
      sorted([role('distribute-bundle'), role('reissue-intermediate'), role('rollback')]),
    );
    expect(sorted(exemptFrom(backup, 'secretsmanager:PutSecretValue') ?? [])).toEqual(
      sorted(ROLES.backupsWrite),
    );
    expect(sorted(exemptFrom(backup, 'secretsmanager:DeleteSecret') ?? [])).toEqual(
      sorted(ROLES.backupsDelete),
    );

    const intermediate = await policyOf(h.store.intermediateSecretName(cluster()));
    expect(sorted(exemptFrom(intermediate, 'secretsmanager:GetSecretValue') ?? [])).toEqual(
      sorted([role('reissue-intermediate'), role('restart-workloads')]),
    );
    expect(exemptFrom(intermediate, 'secretsmanager:PutSecretValue')).toEqual([role('reissue-intermediate')]);
    expect(exemptFrom(intermediate, 'secretsmanager:DeleteSecret')).toBeNull();
    for (const statements of [backup, intermediate]) {
      expect(JSON.stringify(statements)).not.toContain(role('preflight'));
      expect(JSON.stringify(statements)).not.toContain(role('check-expiry'));
    }
  });

  it('is put again on a backup found without one (a run stopped between creating it and its policy)', async () => {
    // Prepare
    await client.send(new DeleteResourcePolicyCommand({ SecretId: backupName }));
    expect(await policyOf(backupName)).toBeUndefined();

    // Act: the same execution's distribute-bundle again finds its backup and keeps it
    await distributeBundle(distributeItem);

    // Assess
    expect(sorted(exemptFrom(await policyOf(backupName), 'secretsmanager:DeleteSecret') ?? [])).toEqual(
      sorted(ROLES.backupsDelete),
    );
  });

  it("is on an imported root's key secret when the store is given the roles", async () => {
    // Prepare
    const meshId = `${h.meshId}-imported`;
    const store = new CaSecretStore({ client, meshId, secretPolicy: ROLES });
    const root = await createRootCa({ commonName: 'meshtrust imported root' });

    // Act
    await store.importRoot({
      material: { ...root, fingerprint: certificateFingerprint(root.certificatePem) },
      token: clientRequestTokenFor(`adopt-${meshId}`, 'root'),
    });

    // Assess
    const stored = await store.readCurrentRoot();
    const keySecret = stored.material.key.kind === 'secret' ? stored.material.key.secretName : '';
    const policy = await policyOf(keySecret);
    expect(exemptFrom(policy, 'secretsmanager:GetSecretValue')).toEqual([role('reissue-intermediate')]);
    expect(exemptFrom(policy, 'secretsmanager:PutSecretValue')).toBeNull();
    expect(exemptFrom(policy, 'secretsmanager:DeleteSecret')).toEqual([role('promote-root')]);
  });
});
