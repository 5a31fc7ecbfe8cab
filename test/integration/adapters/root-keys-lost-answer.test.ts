// A root key made while AWS loses answers (the rehearsal's --fault aws:lost): KMS made the write, its
// answer never came back, and the SDK retried. Through the fault proxy in front of moto.
import { randomUUID } from 'node:crypto';
import { DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { type AwsFaultProxy, startAwsFaultProxy } from '../../../lab/aws-fault-proxy.js';
import { RootKeys } from '../../../lambdas/adapters/kms/root-keys.js';
import { createFaultPlan, type FaultPlan } from '../../../rehearsal/fault-plan.js';
import { parseFault } from '../../../rehearsal/fault-spec.js';
import { motoClientConfig, motoEndpoint } from '../../support/moto-endpoint.js';

let proxy: AwsFaultProxy;
let plan: FaultPlan;
let losing: ReadonlySet<string> = new Set();

beforeAll(async () => {
  plan = createFaultPlan([]);
  proxy = await startAwsFaultProxy({
    target: motoEndpoint(),
    fault: () => undefined,
    answerLost: (request) => losing.has(request.action) && plan.awsAnswerLost(request),
  });
});

afterAll(async () => {
  await proxy.stop();
});

describe('RootKeys.createOrFind with a lost answer', () => {
  it('keeps its own key when CreateAlias was made and its answer lost (the retry finds the alias)', async () => {
    // Prepare: CreateAlias alone loses its answer.
    plan = createFaultPlan([parseFault('aws:lost:1@stage-root')]);
    plan.enterPhase('stage-root');
    losing = new Set(['CreateAlias']);
    const client = new KMSClient({ ...motoClientConfig(), endpoint: proxy.endpoint });
    const keys = new RootKeys({ client, meshId: `lost-${randomUUID().slice(0, 8)}` });
    const version = randomUUID();

    // Act
    const ref = await keys.createOrFind(version, 'ecdsa-p256');
    const direct = new KMSClient(motoClientConfig());
    const state = (await direct.send(new DescribeKeyCommand({ KeyId: keys.aliasFor(version) }))).KeyMetadata;

    // Assess
    expect(plan.report()).toEqual([{ spec: 'aws:lost:1@stage-root', fired: 1 }]);
    expect(state?.Arn).toBe(ref.keyArn);
    expect(state?.KeyState).toBe('Enabled');
    client.destroy();
    direct.destroy();
  });
});
