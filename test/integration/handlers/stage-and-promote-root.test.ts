// stage-root and promote-root against moto: they touch only the CA store.
import { DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { handler as promoteRoot } from '../../../lambdas/handlers/promote-root.js';
import { handler as stageRoot } from '../../../lambdas/handlers/stage-root.js';
import { motoClientConfig } from '../../support/moto-endpoint.js';
import { expectNoKeyMaterial, type HandlerLab, startHandlerLab } from './handler-lab.js';

let h: HandlerLab;
const client = new SecretsManagerClient(motoClientConfig());

beforeAll(async () => {
  h = await startHandlerLab({ clusters: 1, workloadsPerCluster: 1 });
});
afterAll(async () => {
  client.destroy();
  await h?.stop();
});

async function versionsOfRoot(): Promise<Record<string, string[]>> {
  const described = await client.send(new DescribeSecretCommand({ SecretId: h.store.rootSecretName }));
  return described.VersionIdsToStages ?? {};
}

describe('stage-root handler', () => {
  it('stores a new root as AWSPENDING and returns its version and fingerprint only', async () => {
    // Prepare
    const executionId = h.executionId();
    // Act
    const staged = await stageRoot({ executionId });
    // Assess
    expect(staged).toEqual({
      secretArn: expect.stringContaining(h.store.rootSecretName),
      versionId: expect.any(String),
      fingerprint: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(staged.fingerprint).not.toBe(h.currentRoot.fingerprint);
    expect((await versionsOfRoot())[staged.versionId]).toEqual(['AWSPENDING']);
    expectNoKeyMaterial(staged);
    await promoteRoot({ executionId, stagedRoot: staged }); // leave no pending root to the next test
  });

  it('returns the same root on a re-run, with no second version', async () => {
    // Prepare
    const executionId = h.executionId();
    const first = await stageRoot({ executionId });
    const versionsBefore = Object.keys(await versionsOfRoot()).length;
    // Act
    const again = await stageRoot({ executionId });
    // Assess
    expect(again).toEqual(first);
    expect(Object.keys(await versionsOfRoot())).toHaveLength(versionsBefore);
    await promoteRoot({ executionId, stagedRoot: first });
  });

  it('refuses while another execution has a pending root', async () => {
    // Prepare
    const running = h.executionId();
    const staged = await stageRoot({ executionId: running });
    // Act
    const second = stageRoot({ executionId: h.executionId() });
    // Assess
    await expect(second).rejects.toMatchObject({ name: 'PreconditionFailed', phase: 'stage-root' });
    await expect(second).rejects.toThrow(/already has a pending root/);
    await promoteRoot({ executionId: running, stagedRoot: staged });
  });

  it('refuses an event without executionId and says which field', async () => {
    // Prepare, Act
    const act = stageRoot({ execution: 'x' });
    // Assess
    await expect(act).rejects.toMatchObject({ name: 'PreconditionFailed' });
    await expect(act).rejects.toThrow(/executionId/);
  });
});

describe('promote-root handler', () => {
  it('makes the staged root current and the old one previous; a re-run changes nothing', async () => {
    // Prepare
    const executionId = h.executionId();
    const before = await h.store.describeRoot();
    const staged = await stageRoot({ executionId });
    // Act
    const promoted = await promoteRoot({ executionId, stagedRoot: staged });
    const again = await promoteRoot({ executionId, stagedRoot: staged });
    // Assess
    expect(promoted).toEqual({
      secretArn: staged.secretArn,
      currentVersionId: staged.versionId,
      previousVersionId: before.current,
      fingerprint: staged.fingerprint,
    });
    expect(again.currentVersionId).toBe(staged.versionId);
    const stages = await h.store.describeRoot();
    expect(stages).toMatchObject({ current: staged.versionId, previous: before.current });
    expect(stages.pending).toBeUndefined();
    expectNoKeyMaterial(promoted);
  });

  it('refuses a staged root whose fingerprint is not what the execution recorded', async () => {
    // Prepare
    const executionId = h.executionId();
    const staged = await stageRoot({ executionId });
    // Act
    const act = promoteRoot({ executionId, stagedRoot: { ...staged, fingerprint: 'f'.repeat(64) } });
    // Assess
    await expect(act).rejects.toThrow(/someone changed the CA store/);
    expect((await h.store.describeRoot()).pending).toBe(staged.versionId);
    await promoteRoot({ executionId, stagedRoot: staged });
  });
});
