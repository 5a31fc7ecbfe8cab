// The mesh's root keys in moto as the tests see them, with the AWS APIs straight (not through
// lambdas/adapters/kms/root-keys.ts, which these helpers check): the keys of one root version, found by
// their tags, and a key made the way stage-root makes one but never named, as an attempt that stopped
// after CreateKey (or lost its answer) leaves it.
import {
  CreateKeyCommand,
  DescribeKeyCommand,
  type KMSClient,
  ListKeysCommand,
  ListResourceTagsCommand,
} from '@aws-sdk/client-kms';
import { MESH_TAG_KEY } from '../../lambdas/contract/resource-tags.js';
import {
  ROOT_KEY_KIND,
  ROOT_KEY_KIND_TAG_KEY,
  ROOT_KEY_VERSION_TAG_KEY,
} from '../../lambdas/contract/root-keys.js';

/** `<arn>:<state>` of every key tagged as mesh `meshId`'s root key of `version`, sorted. */
export async function rootKeysOfVersion(kms: KMSClient, meshId: string, version: string): Promise<string[]> {
  const found: string[] = [];
  let marker: string | undefined;
  do {
    const page = await kms.send(new ListKeysCommand({ ...(marker !== undefined && { Marker: marker }) }));
    for (const key of page.Keys ?? []) {
      const { Tags = [] } = await kms.send(new ListResourceTagsCommand({ KeyId: key.KeyId }));
      const tag = (name: string) => Tags.find((entry) => entry.TagKey === name)?.TagValue;
      if (tag(MESH_TAG_KEY) !== meshId || tag(ROOT_KEY_VERSION_TAG_KEY) !== version) continue;
      const { KeyMetadata } = await kms.send(new DescribeKeyCommand({ KeyId: key.KeyId }));
      found.push(`${KeyMetadata?.Arn}:${KeyMetadata?.KeyState}`);
    }
    marker = page.Truncated === true ? page.NextMarker : undefined;
  } while (marker !== undefined);
  return found.sort();
}

/** A P-256 signing key tagged as mesh `meshId`'s root key of `version`, with no alias; its ARN. */
export async function unnamedRootKey(kms: KMSClient, meshId: string, version: string): Promise<string> {
  const made = await kms.send(
    new CreateKeyCommand({
      KeySpec: 'ECC_NIST_P256',
      KeyUsage: 'SIGN_VERIFY',
      Tags: [
        { TagKey: MESH_TAG_KEY, TagValue: meshId },
        { TagKey: ROOT_KEY_KIND_TAG_KEY, TagValue: ROOT_KEY_KIND },
        { TagKey: ROOT_KEY_VERSION_TAG_KEY, TagValue: version },
      ],
    }),
  );
  const arn = made.KeyMetadata?.Arn;
  if (arn === undefined) throw new Error('moto CreateKey returned no key ARN');
  return arn;
}
