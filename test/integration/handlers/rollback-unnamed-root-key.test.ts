// rollback's drop-pending-root when stage-root made a KMS key for the run's root version and the run
// ended before naming it (an attempt stopped or killed between CreateKey and CreateAlias, every retry of
// CreateAlias failing, or a key made twice): the key carries the root version's tags and no alias. It is
// a live signing key nobody tracks unless the rollback finds it by its tags, as stage-root does, and
// retires it; the current root's key and keys of other root versions stay as they are. moto for KMS.
import {
  CreateAliasCommand,
  DeleteAliasCommand,
  DescribeKeyCommand,
  KMSClient,
  TagResourceCommand,
} from '@aws-sdk/client-kms';
import { RootKeys } from '../../../lambdas/adapters/kms/root-keys.js';
import { clientRequestTokenFor } from '../../../lambdas/adapters/secrets/client-request-token.js';
import {
  ROOT_KEY_DELETION_WINDOW_DAYS,
  ROOT_KEY_VERSION_TAG_KEY,
} from '../../../lambdas/contract/root-keys.js';
import { handler as promoteRoot } from '../../../lambdas/handlers/promote-root.js';
import { handler as rollback } from '../../../lambdas/handlers/rollback.js';
import { handler as stageRoot } from '../../../lambdas/handlers/stage-root.js';
import { rootKeysOfVersion, unnamedRootKey } from '../../support/kms-root-keys.js';
import { motoClientConfig } from '../../support/moto-endpoint.js';
import { type HandlerLab, startHandlerLab } from './handler-lab.js';

let h: HandlerLab;
let kms: KMSClient;
/** The current root's KMS key (a rotation promoted before the tests), named by its alias. */
let currentRootKey: string;
/** A key tagged with another rotation's root version, with no alias: not the rollback's to retire. */
let otherVersionKey: string;

beforeAll(async () => {
  h = await startHandlerLab({ clusters: 1, workloadsPerCluster: 1 });
  kms = new KMSClient({ ...motoClientConfig(), region: h.lab.region });
  const first = h.executionId();
  await promoteRoot({ executionId: first, stagedRoot: await stageRoot({ executionId: first }) });
  const current = (await h.store.readCurrentRoot()).material.key;
  if (current.kind !== 'kms') throw new Error(`the promoted root's key is ${current.kind}, not kms`);
  currentRootKey = current.keyArn;
  otherVersionKey = await unnamedRootKey(kms, h.meshId, clientRequestTokenFor(h.executionId(), 'root'));
});
afterAll(async () => {
  kms?.destroy();
  await h?.stop();
});

async function keyState(keyArn: string): Promise<string | undefined> {
  return (await kms.send(new DescribeKeyCommand({ KeyId: keyArn }))).KeyMetadata?.KeyState;
}

/** Days from now to an ISO date. */
const daysUntil = (iso: string | undefined) => (Date.parse(iso ?? '') - Date.now()) / (24 * 3600 * 1000);

describe('rollback of a root key stage-root made but never named', () => {
  it('disables the key tagged with the run root version and schedules its deletion; a retry changes nothing', async () => {
    // Prepare: stage-root made this run's key (tagged with its root version) and stopped before its
    // alias, its certificate and its AWSPENDING version; then the run rolled back.
    const executionId = h.executionId();
    const version = clientRequestTokenFor(executionId, 'root');
    const unnamed = await unnamedRootKey(kms, h.meshId, version);
    expect(await new RootKeys({ client: kms, meshId: h.meshId }).find(version)).toBeUndefined();

    // Act
    const dropped = await rollback({ executionId, stage: 'drop-pending-root' });
    const again = await rollback({ executionId, stage: 'drop-pending-root' });

    // Assess: the key is disabled and pending deletion, named in the answer; the retry finds nothing.
    expect(dropped).toMatchObject({
      changed: true,
      retiredUnnamedKeys: [{ kind: 'kms', id: unnamed, changed: true }],
    });
    // At the configured window (the lab sets none: the default), as promote-root retires a root's key.
    const days = daysUntil(dropped.retiredUnnamedKeys?.[0]?.deletionDate);
    expect(days).toBeGreaterThan(ROOT_KEY_DELETION_WINDOW_DAYS.default - 1);
    expect(days).toBeLessThanOrEqual(ROOT_KEY_DELETION_WINDOW_DAYS.default);
    expect(dropped.retiredKey).toBeUndefined();
    expect(await rootKeysOfVersion(kms, h.meshId, version)).toEqual([`${unnamed}:PendingDeletion`]);
    expect(again).toMatchObject({ changed: false });
    expect(again.retiredUnnamedKeys).toBeUndefined();
    // Nothing else: the current root's key and another version's key are still enabled.
    expect(await keyState(currentRootKey)).toBe('Enabled');
    expect(await keyState(otherVersionKey)).toBe('Enabled');
  });

  it('retires both the aliased key of the staged root and another key of its version that no alias names', async () => {
    // Prepare: the run staged its root with its named key; a second key of the version was made too
    // (a CreateKey retried blind, which stage-root names in rootKeysUnnamed but may not disable).
    const executionId = h.executionId();
    const version = clientRequestTokenFor(executionId, 'root');
    const staged = await stageRoot({ executionId });
    const named = await new RootKeys({ client: kms, meshId: h.meshId }).find(version);
    const extra = await unnamedRootKey(kms, h.meshId, version);

    // Act
    const dropped = await rollback({ executionId, stage: 'drop-pending-root' });

    // Assess
    expect(dropped).toMatchObject({
      changed: true,
      droppedVersionId: staged.versionId,
      retiredKey: { kind: 'kms', id: named, changed: true },
      retiredUnnamedKeys: [{ kind: 'kms', id: extra, changed: true }],
    });
    expect(await rootKeysOfVersion(kms, h.meshId, version)).toEqual(
      [`${named}:PendingDeletion`, `${extra}:PendingDeletion`].sort(),
    );
    expect((await h.store.describeRoot()).pending).toBeUndefined();
    expect(await keyState(currentRootKey)).toBe('Enabled');
    expect(await keyState(otherVersionKey)).toBe('Enabled');
  });

  it("never retires the current root's key, even with its alias removed and tagged with the run's version", async () => {
    // Prepare: someone removed the current root's alias and retagged its key with this run's version.
    const executionId = h.executionId();
    const version = clientRequestTokenFor(executionId, 'root');
    const current = await h.store.readCurrentRoot();
    const rootKeys = new RootKeys({ client: kms, meshId: h.meshId });
    const alias = rootKeys.aliasFor(current.ref.versionId);
    expect(await rootKeys.find(current.ref.versionId)).toBe(currentRootKey);
    await kms.send(new DeleteAliasCommand({ AliasName: alias }));
    await kms.send(
      new TagResourceCommand({
        KeyId: currentRootKey,
        Tags: [{ TagKey: ROOT_KEY_VERSION_TAG_KEY, TagValue: version }],
      }),
    );
    try {
      // Act
      const dropped = await rollback({ executionId, stage: 'drop-pending-root' });

      // Assess
      expect(dropped).toMatchObject({ changed: false });
      expect(await keyState(currentRootKey)).toBe('Enabled');
    } finally {
      await kms.send(
        new TagResourceCommand({
          KeyId: currentRootKey,
          Tags: [{ TagKey: ROOT_KEY_VERSION_TAG_KEY, TagValue: current.ref.versionId }],
        }),
      );
      await kms.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: currentRootKey }));
    }
  });
});
