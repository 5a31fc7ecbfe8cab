import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  keyMatchesLeaf,
  ProxyIdentityUnsettled,
  readProxyIdentity,
} from '../../../lab/istio-install/proxy-identity.js';
import { PROXY_OUTPUT_CERTS_DIR } from '../../../lab/node-agent/istio-pod-runtime.js';
import { makeTestCa, type TestCa } from '../../support/test-ca.js';

let oldPair: TestCa;
let newPair: TestCa;
let rootfs: string;

/** Writes the files as pilot-agent's OUTPUT_CERTS does, the chain with a root after the leaf. */
async function writeProxyFiles(chain: TestCa, key: TestCa): Promise<void> {
  const dir = join(rootfs, PROXY_OUTPUT_CERTS_DIR);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'cert-chain.pem'), chain.certificatePem + oldPair.certificatePem);
  await writeFile(join(dir, 'key.pem'), key.privateKeyPem);
  await writeFile(join(dir, 'root-cert.pem'), oldPair.certificatePem);
}

beforeAll(async () => {
  [oldPair, newPair] = await Promise.all([makeTestCa('old leaf'), makeTestCa('new leaf')]);
});

beforeEach(async () => {
  rootfs = await mkdtemp(join(tmpdir(), 'proxy-identity-'));
});

afterEach(async () => {
  await rm(rootfs, { recursive: true, force: true });
});

describe('keyMatchesLeaf', () => {
  it("is true for the leaf's own key, false for another key or a file not yet whole", () => {
    expect(keyMatchesLeaf(newPair.privateKeyPem, newPair.certificatePem + oldPair.certificatePem)).toBe(true);
    expect(keyMatchesLeaf(newPair.privateKeyPem, oldPair.certificatePem + newPair.certificatePem)).toBe(
      false,
    );
    expect(keyMatchesLeaf(newPair.privateKeyPem.slice(0, 40), newPair.certificatePem)).toBe(false);
    expect(keyMatchesLeaf(newPair.privateKeyPem, '')).toBe(false);
  });
});

describe('readProxyIdentity', () => {
  it('returns what the files hold when the key is the leaf’s', async () => {
    await writeProxyFiles(newPair, newPair);

    const identity = await readProxyIdentity(rootfs);

    expect(identity.keyPem).toBe(newPair.privateKeyPem);
    expect(identity.certChainPem.startsWith(newPair.certificatePem)).toBe(true);
    expect(identity.trustBundlePem).toBe(oldPair.certificatePem);
  });

  it('reads again while pilot-agent is half-way through a renewal (new key, old chain), and returns the whole pair', async () => {
    await writeProxyFiles(oldPair, newPair);

    const read = readProxyIdentity(rootfs);
    await new Promise((resolve) => setTimeout(resolve, 60));
    await writeProxyFiles(newPair, newPair);

    const identity = await read;
    expect(keyMatchesLeaf(identity.keyPem, identity.certChainPem)).toBe(true);
    expect(identity.keyPem).toBe(newPair.privateKeyPem);
  });

  it('gives up on a pair that never matches, naming the folder and never the key', async () => {
    await writeProxyFiles(oldPair, newPair);

    const error = await readProxyIdentity(rootfs).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(ProxyIdentityUnsettled);
    expect((error as Error).message).toContain(join(rootfs, PROXY_OUTPUT_CERTS_DIR));
    expect((error as Error).message).not.toContain('PRIVATE KEY');
    expect((error as Error).message).not.toContain(newPair.privateKeyPem.split('\n')[1]);
  });
});
