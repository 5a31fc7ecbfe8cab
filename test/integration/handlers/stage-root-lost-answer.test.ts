// stage-root when KMS's answer to CreateKey is lost (the key made, the function told it failed) or when
// an earlier attempt stopped between creating the key and staging the root: the step converges on one
// root key and one staged root, as a first run would. KMS through the AWS fault proxy in front of moto.
import { KMSClient } from '@aws-sdk/client-kms';
import { type AwsFaultProxy, startAwsFaultProxy } from '../../../lab/aws-fault-proxy.js';
import { RootKeys } from '../../../lambdas/adapters/kms/root-keys.js';
import { clientRequestTokenFor } from '../../../lambdas/adapters/secrets/client-request-token.js';
import { handler as promoteRoot } from '../../../lambdas/handlers/promote-root.js';
import { handler as stageRoot } from '../../../lambdas/handlers/stage-root.js';
import { createFaultPlan, type FaultPlan } from '../../../rehearsal/fault-plan.js';
import { parseFault } from '../../../rehearsal/fault-spec.js';
import { rootKeysOfVersion, unnamedRootKey } from '../../support/kms-root-keys.js';
import { motoClientConfig, motoEndpoint } from '../../support/moto-endpoint.js';
import { type HandlerLab, startHandlerLab, withEnv } from './handler-lab.js';

let h: HandlerLab;
let proxy: AwsFaultProxy;
let plan: FaultPlan = createFaultPlan([]);
let kms: KMSClient;

beforeAll(async () => {
  h = await startHandlerLab({ clusters: 1, workloadsPerCluster: 1 });
  kms = new KMSClient({ ...motoClientConfig(), region: h.lab.region });
  proxy = await startAwsFaultProxy({
    target: motoEndpoint(),
    fault: () => undefined,
    answerLost: (request) => request.action === 'CreateKey' && plan.awsAnswerLost(request),
  });
});
afterAll(async () => {
  kms?.destroy();
  await proxy?.stop();
  await h?.stop();
});

/** The KMS key ARN the staged root of `versionId` says it is signed with. */
async function stagedKeyArn(versionId: string): Promise<string> {
  const { material } = await h.store.readRootVersion(versionId);
  return material.key.kind === 'kms' ? material.key.keyArn : `(${material.key.kind})`;
}

describe('stage-root with a lost CreateKey answer', () => {
  it('stages the root with the one key KMS made, and a re-run changes nothing', async () => {
    // Prepare: stage-root's first CreateKey is made by moto and its answer lost.
    const executionId = h.executionId();
    const version = clientRequestTokenFor(executionId, 'root');
    plan = createFaultPlan([parseFault('aws:lost:1@stage-root')]);
    plan.enterPhase('stage-root');

    // Act
    const staged = await withEnv({ AWS_ENDPOINT_URL_KMS: proxy.endpoint }, () => stageRoot({ executionId }));
    const again = await stageRoot({ executionId });

    // Assess: the answer was lost, and still one key exists for the root version, the staged root's.
    expect(plan.report()).toEqual([{ spec: 'aws:lost:1@stage-root', fired: 1 }]);
    const keyArn = await stagedKeyArn(staged.versionId);
    expect(await rootKeysOfVersion(kms, h.meshId, version)).toEqual([`${keyArn}:Enabled`]);
    expect(await new RootKeys({ client: kms, meshId: h.meshId }).find(version)).toBe(keyArn);
    expect(again).toEqual(staged);
    await promoteRoot({ executionId, stagedRoot: staged });
  });

  it('signs the root with the key an earlier attempt made and never named, as a first run would', async () => {
    // Prepare: an earlier invocation made the key (tagged for this root version) and stopped before its
    // alias, its certificate and its AWSPENDING version.
    const executionId = h.executionId();
    const version = clientRequestTokenFor(executionId, 'root');
    const earlier = await unnamedRootKey(kms, h.meshId, version);

    // Act
    const staged = await stageRoot({ executionId });

    // Assess
    expect(await stagedKeyArn(staged.versionId)).toBe(earlier);
    expect(await rootKeysOfVersion(kms, h.meshId, version)).toEqual([`${earlier}:Enabled`]);
    expect((await h.store.describeRoot()).pending).toBe(staged.versionId);
    await promoteRoot({ executionId, stagedRoot: staged });
  });

  it('signs the root with the key an earlier attempt named but never used', async () => {
    // Prepare: an earlier invocation made and named the key, then stopped before the certificate.
    const executionId = h.executionId();
    const version = clientRequestTokenFor(executionId, 'root');
    const named = await new RootKeys({ client: kms, meshId: h.meshId }).createOrFind(version, 'ecdsa-p256');

    // Act
    const staged = await stageRoot({ executionId });

    // Assess
    expect(await stagedKeyArn(staged.versionId)).toBe(named.keyArn);
    expect(await rootKeysOfVersion(kms, h.meshId, version)).toEqual([`${named.keyArn}:Enabled`]);
    await promoteRoot({ executionId, stagedRoot: staged });
  });
});
