// A root key made while AWS loses answers (the rehearsal's --fault aws:lost): KMS made the write, its
// answer never came back, and the SDK retried. Through the fault proxy in front of moto.
import { randomUUID } from 'node:crypto';
import { DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { type AwsFaultProxy, startAwsFaultProxy } from '../../../lab/aws-fault-proxy.js';
import { RootKeys } from '../../../lambdas/adapters/kms/root-keys.js';
import { createFaultPlan, type FaultPlan } from '../../../rehearsal/fault-plan.js';
import { parseFault } from '../../../rehearsal/fault-spec.js';
import { rootKeysOfVersion, unnamedRootKey } from '../../support/kms-root-keys.js';
import { motoClientConfig, motoEndpoint } from '../../support/moto-endpoint.js';

let proxy: AwsFaultProxy;
let plan: FaultPlan;
let losing: ReadonlySet<string> = new Set();
/** Every KMS action that reached the proxy, in order. */
let sent: string[] = [];
const direct = new KMSClient(motoClientConfig());
/** Quick retries: the waits are not what these cases prove. */
const retry = { attempts: 4, baseDelayMs: 1, maxDelayMs: 5 };

beforeAll(async () => {
  plan = createFaultPlan([]);
  proxy = await startAwsFaultProxy({
    target: motoEndpoint(),
    fault: () => undefined,
    answerLost: (request) => {
      sent.push(request.action);
      return losing.has(request.action) && plan.awsAnswerLost(request);
    },
  });
});

afterAll(async () => {
  direct.destroy();
  await proxy.stop();
});

/** A mesh of its own, a root version and RootKeys through the proxy, with `actions` losing their first answer. */
function lose(actions: readonly string[], options: { readonly searchLimit?: number } = {}) {
  plan = createFaultPlan([parseFault('aws:lost:4@stage-root')]);
  plan.enterPhase('stage-root');
  losing = new Set(actions);
  sent = [];
  const meshId = `lost-${randomUUID().slice(0, 8)}`;
  const client = new KMSClient({ ...motoClientConfig(), endpoint: proxy.endpoint });
  const keys = new RootKeys({ client, meshId, retry, ...options });
  return { meshId, version: randomUUID(), client, keys };
}

async function aliasTarget(keys: RootKeys, version: string): Promise<string | undefined> {
  return (await direct.send(new DescribeKeyCommand({ KeyId: keys.aliasFor(version) }))).KeyMetadata?.Arn;
}

describe('RootKeys.createOrFind with a lost answer', () => {
  it('keeps its own key when CreateAlias was made and its answer lost (the retry finds the alias)', async () => {
    // Prepare: CreateAlias alone loses its answer.
    const { keys, version, client } = lose(['CreateAlias']);

    // Act
    const ref = await keys.createOrFind(version, 'ecdsa-p256');
    const state = (await direct.send(new DescribeKeyCommand({ KeyId: keys.aliasFor(version) }))).KeyMetadata;

    // Assess
    expect(plan.report()).toEqual([{ spec: 'aws:lost:4@stage-root', fired: 1 }]);
    expect(state?.Arn).toBe(ref.keyArn);
    expect(state?.KeyState).toBe('Enabled');
    client.destroy();
  });

  it('makes one key when CreateKey was made and its answer lost: the next attempt finds it by its tags', async () => {
    // Prepare: CreateKey loses its answer (KMS made the key), and CreateAlias too.
    const { keys, version, client, meshId } = lose(['CreateKey', 'CreateAlias']);

    // Act
    const ref = await keys.createOrFind(version, 'ecdsa-p256');

    // Assess: CreateKey was sent once (neither the SDK nor the adapter sent it again), the key it made
    // was adopted and named, and it is the only key of the version.
    expect(plan.report()).toEqual([{ spec: 'aws:lost:4@stage-root', fired: 2 }]);
    expect(sent.filter((action) => action === 'CreateKey')).toEqual(['CreateKey']);
    expect(ref).toEqual({ keyArn: expect.any(String), created: true, adopted: true });
    expect(await rootKeysOfVersion(direct, meshId, version)).toEqual([`${ref.keyArn}:Enabled`]);
    expect(await aliasTarget(keys, version)).toBe(ref.keyArn);
    client.destroy();
  });

  it('adopts the key an earlier attempt made and never named (the step stopped after CreateKey)', async () => {
    // Prepare: nothing is lost now; an earlier invocation made the key and stopped.
    const { keys, version, client, meshId } = lose([]);
    const earlier = await unnamedRootKey(direct, meshId, version);

    // Act
    const ref = await keys.createOrFind(version, 'ecdsa-p256');
    const again = await keys.createOrFind(version, 'ecdsa-p256');

    // Assess
    expect(ref).toEqual({ keyArn: earlier, created: true, adopted: true });
    expect(again).toEqual({ keyArn: earlier, created: false });
    expect(sent).not.toContain('CreateKey');
    expect(await rootKeysOfVersion(direct, meshId, version)).toEqual([`${earlier}:Enabled`]);
    expect(await aliasTarget(keys, version)).toBe(earlier);
    client.destroy();
  });

  it('keeps the oldest of two keys made for one version and names the other, which signed nothing', async () => {
    // Prepare: a CreateKey retried blind (as before this look existed) left two keys of the version.
    const { keys, version, client, meshId } = lose([]);
    const first = await unnamedRootKey(direct, meshId, version);
    const second = await unnamedRootKey(direct, meshId, version);
    const [oldest, other] = (await Promise.all([first, second].map((arn) => keyCreated(arn))))
      .sort((a, b) => a.at - b.at || a.id.localeCompare(b.id))
      .map((key) => key.arn);

    // Act
    const ref = await keys.createOrFind(version, 'ecdsa-p256');

    // Assess: the alias names the oldest; the other is left for the operator (stage-root's key policy
    // lets it disable no key) and named in the result, which stage-root's audit event carries.
    expect(ref).toEqual({ keyArn: oldest, created: true, adopted: true, unnamedKeys: [other] });
    expect(await rootKeysOfVersion(direct, meshId, version)).toEqual(
      [`${oldest}:Enabled`, `${other}:Enabled`].sort(),
    );
    expect(await aliasTarget(keys, version)).toBe(oldest);
    expect(sent).not.toContain('DisableKey');
    client.destroy();
  });

  it('refuses, making no key, when there are more unaliased keys than it may look through', async () => {
    // Prepare: at least one unaliased key in moto, and a search limit of none.
    const { keys, version, client, meshId } = lose([], { searchLimit: 0 });
    await unnamedRootKey(direct, `other-${meshId}`, randomUUID());

    // Act
    const act = keys.createOrFind(version, 'ecdsa-p256');

    // Assess
    await expect(act).rejects.toMatchObject({ name: 'PreconditionFailed' });
    await expect(act).rejects.toThrow(/keys with no alias in this account and region, more than the 0/);
    expect(sent).not.toContain('CreateKey');
    expect(await rootKeysOfVersion(direct, meshId, version)).toEqual([]);
    client.destroy();
  });
});

async function keyCreated(arn: string): Promise<{ arn: string; id: string; at: number }> {
  const { KeyMetadata } = await direct.send(new DescribeKeyCommand({ KeyId: arn }));
  return { arn, id: KeyMetadata?.KeyId ?? '', at: KeyMetadata?.CreationDate?.getTime() ?? 0 };
}
