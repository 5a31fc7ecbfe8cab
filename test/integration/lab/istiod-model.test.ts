// The lab's istiod: takes a cacerts update only when the real istiod would, drops the others silently
// (counted), publishes the root set to every namespace after the push delay, and gives injected pods
// SPIFFE certificates that openssl verifies against the pushed bundle, renewed before they expire.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  type IstiodModel,
  ROOT_CERT_CONFIGMAP_KEY,
  ROOT_CERT_CONFIGMAP_NAME,
  startIstiodModel,
} from '../../../lab/istio/istiod-model.js';
import { KubeObjectStore } from '../../../lab/kube/object-store.js';
import { cacertsSecret, seedNamespaces } from '../../../lab/seed-cluster.js';
import {
  assembleCacerts,
  type CacertsFiles,
  type CaMaterial,
  certificateFingerprint,
  createIntermediateCa,
  createRootCa,
  describeCertificate,
  TrustBundle,
} from '../../../lambdas/core/pki/index.js';

const run = promisify(execFile);
const pushDelayMs = 300;
const workloadCertTtlMs = 2000;

let rootA: CaMaterial;
let rootB: CaMaterial;
let rootC: CaMaterial;
let intermediateA: CaMaterial;
let intermediateB: CaMaterial;
let store: KubeObjectStore;
let istiod: IstiodModel;
let scratch: string;

function cacertsOf(intermediate: CaMaterial, issuer: CaMaterial, roots: CaMaterial[]): CacertsFiles {
  return assembleCacerts({
    intermediate,
    chainAbove: [issuer.certificatePem],
    trustedRoots: TrustBundle.of(roots.map((root) => root.certificatePem)),
  });
}

async function writeCacerts(files: Record<string, string>): Promise<string> {
  const written = store.update(cacertsSecret(files));
  await istiod.idle();
  return written.metadata.resourceVersion as string;
}

function rootConfigMap(namespace: string): string | undefined {
  return store.tryGet('ConfigMap', namespace, ROOT_CERT_CONFIGMAP_NAME)?.data?.[ROOT_CERT_CONFIGMAP_KEY];
}

async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function createPod(namespace: string, name: string, serviceAccountName?: string): void {
  store.create({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace },
    spec: {
      ...(serviceAccountName ? { serviceAccountName } : {}),
      containers: [{ name: 'app', image: 'app:1' }],
    },
  });
}

const bundleOf = (...roots: CaMaterial[]) => TrustBundle.of(roots.map((root) => root.certificatePem)).toPem();

beforeAll(async () => {
  [rootA, rootB, rootC] = await Promise.all([
    createRootCa({ commonName: 'Root A' }),
    createRootCa({ commonName: 'Root B' }),
    createRootCa({ commonName: 'Root C' }),
  ]);
  [intermediateA, intermediateB] = await Promise.all([
    createIntermediateCa({ cluster: 'lab-1', issuer: rootA }),
    createIntermediateCa({ cluster: 'lab-1', issuer: rootB }),
  ]);
  scratch = await mkdtemp(join(tmpdir(), 'istiod-model-'));
});

beforeEach(async () => {
  store = new KubeObjectStore();
  seedNamespaces(store);
  store.create(cacertsSecret(cacertsOf(intermediateA, rootA, [rootA])));
  istiod = await startIstiodModel({ clusterName: 'lab-1', store, pushDelayMs, workloadCertTtlMs });
});

afterEach(() => {
  istiod.stop();
});

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe('cacerts updates istiod takes', () => {
  it('loads the cacerts present at start and publishes root A to every namespace at once', () => {
    // Prepare: beforeEach seeded cacerts {intermediate A, root A}

    // Act: istiod started

    // Assess
    expect(istiod.current()?.caCertFingerprint).toBe(certificateFingerprint(intermediateA.certificatePem));
    expect(istiod.current()?.rootFingerprints).toEqual([certificateFingerprint(rootA.certificatePem)]);
    for (const namespace of store.list('Namespace').items) {
      expect(rootConfigMap(namespace.metadata.name)).toBe(bundleOf(rootA));
    }
  });

  it('accepts root-cert A+B (a superset) and then a B-signed intermediate under A+B', async () => {
    // Prepare
    const before = istiod.acceptedUpdates;

    // Act
    await writeCacerts(cacertsOf(intermediateA, rootA, [rootA, rootB]));
    const rootsAfterBundle = istiod.current()?.rootFingerprints;
    const resourceVersion = await writeCacerts(cacertsOf(intermediateB, rootB, [rootA, rootB]));

    // Assess
    expect(rootsAfterBundle).toEqual(
      [rootA, rootB].map((root) => certificateFingerprint(root.certificatePem)),
    );
    expect(istiod.acceptedUpdates).toBe(before + 2);
    expect(istiod.current()?.caCertFingerprint).toBe(certificateFingerprint(intermediateB.certificatePem));
    expect(istiod.current()?.resourceVersion).toBe(resourceVersion);
    expect(istiod.rejections()).toEqual([]);
  });
});

describe('cacerts updates istiod drops silently, keeping its CA', () => {
  let intermediateC: CaMaterial;
  const cases: [string, () => Record<string, string>, string][] = [
    [
      'a cacerts without ca-key.pem',
      () => {
        const { 'ca-key.pem': _key, ...rest } = cacertsOf(intermediateA, rootA, [rootA, rootB]);
        return rest;
      },
      'cacerts-keys-present',
    ],
    [
      'a cacerts that also holds tls.crt and tls.key',
      () => ({
        ...cacertsOf(intermediateA, rootA, [rootA, rootB]),
        'tls.crt': intermediateA.certificatePem,
        'tls.key': 'not a key',
      }),
      'cacerts-no-tls-override',
    ],
    [
      'a broken chain: a B-signed intermediate while root-cert holds only A',
      () => cacertsOf(intermediateB, rootB, [rootA]),
      'cacerts-chain-verifies',
    ],
    [
      "a ca-key.pem that is another intermediate's key",
      () => ({
        ...cacertsOf(intermediateA, rootA, [rootA]),
        'ca-key.pem': intermediateB.privateKeyPem,
      }),
      'cacerts-key-matches-cert',
    ],
    [
      'a root change from {A} to {C}, neither subset nor superset, though valid in itself',
      () => cacertsOf(intermediateC, rootC, [rootC]),
      'root-transition-superset-or-subset',
    ],
  ];
  beforeAll(async () => {
    intermediateC = await createIntermediateCa({ cluster: 'lab-1', issuer: rootC });
  });

  it.each(cases)('refuses %s, counts it and keeps intermediate A and root A', async (_name, files, rule) => {
    // Prepare
    const before = istiod.current();
    const acceptedBefore = istiod.acceptedUpdates;

    // Act
    const resourceVersion = await writeCacerts(files());

    // Assess
    expect(istiod.current()).toEqual(before);
    expect(istiod.acceptedUpdates).toBe(acceptedBefore);
    expect(istiod.rejections()).toHaveLength(1);
    expect(istiod.rejections()[0]).toMatchObject({ resourceVersion, rules: expect.arrayContaining([rule]) });
    expect(istiod.rejections()[0].at).toBeInstanceOf(Date);
    expect(rootConfigMap('shop')).toBe(bundleOf(rootA));
  });
});

describe('root ConfigMap istio-ca-root-cert', () => {
  it('carries the new root set only after the push delay, in every namespace', async () => {
    // Prepare
    const namespaces = store.list('Namespace').items.map((namespace) => namespace.metadata.name);

    // Act
    const writtenAt = Date.now();
    await writeCacerts(cacertsOf(intermediateA, rootA, [rootA, rootB]));
    const rightAfter = namespaces.map(rootConfigMap);
    const bundleRightAfter = istiod.pushedRootCertPem();
    await waitFor(() => namespaces.every((namespace) => rootConfigMap(namespace) === bundleOf(rootA, rootB)));
    const elapsed = Date.now() - writtenAt;

    // Assess
    expect(rightAfter.every((pem) => pem === bundleOf(rootA))).toBe(true);
    expect(bundleRightAfter).toBe(bundleOf(rootA));
    expect(elapsed).toBeGreaterThanOrEqual(pushDelayMs - 20);
    expect(istiod.pushedRootCertPem()).toBe(bundleOf(rootA, rootB));
  });

  it('is published into a namespace created later and restored when someone deletes it', async () => {
    // Prepare
    store.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'late-comer' } });

    // Act
    const inNewNamespace = rootConfigMap('late-comer');
    store.delete('ConfigMap', 'shop', ROOT_CERT_CONFIGMAP_NAME);

    // Assess
    expect(inNewNamespace).toBe(bundleOf(rootA));
    expect(rootConfigMap('shop')).toBe(bundleOf(rootA));
  });
});

describe('workload certificates', () => {
  it('gives an injected pod a SPIFFE certificate that openssl verifies against its bundle, and none to others', async () => {
    // Prepare
    createPod('shop', 'web-1', 'web');
    createPod('tools', 'debug-1');

    // Act
    await waitFor(() => istiod.identityOf('shop', 'web-1') !== undefined);
    await istiod.idle();
    const identity = istiod.identityOf('shop', 'web-1');
    const chainFile = join(scratch, 'chain.pem');
    const bundleFile = join(scratch, 'bundle.pem');
    await writeFile(chainFile, identity?.certChainPem ?? '');
    await writeFile(bundleFile, identity?.trustBundlePem ?? '');
    const leafPem = identity?.certChainPem.split(/(?<=-----END CERTIFICATE-----\n)/)[0] ?? '';
    await writeFile(join(scratch, 'leaf.pem'), leafPem);
    const verified = await run('openssl', [
      'verify',
      '-x509_strict',
      '-purpose',
      'sslclient',
      '-CAfile',
      bundleFile,
      '-untrusted',
      chainFile,
      join(scratch, 'leaf.pem'),
    ]);

    // Assess
    expect(verified.stdout).toContain(': OK');
    const leaf = describeCertificate(leafPem);
    expect(leaf.subjectAlternativeNames).toEqual(['url:spiffe://cluster.local/ns/shop/sa/web']);
    expect(leaf.isCa).toBe(false);
    expect(leaf.extendedKeyUsage).toEqual(expect.arrayContaining(['serverAuth', 'clientAuth']));
    expect(identity?.issuerFingerprint).toBe(certificateFingerprint(intermediateA.certificatePem));
    expect(identity?.rootFingerprint).toBe(certificateFingerprint(rootA.certificatePem));
    expect(identity?.certChainPem).not.toContain(rootA.certificatePem.trim());
    // X.509 has whole seconds: istiod rounds notAfter up, never below the TTL.
    const lifetime = (identity?.expiresAt.getTime() ?? 0) - (identity?.issuedAt.getTime() ?? 0);
    expect(lifetime).toBeGreaterThanOrEqual(workloadCertTtlMs);
    expect(lifetime).toBeLessThan(workloadCertTtlMs + 1000);
    expect(istiod.identityOf('tools', 'debug-1')).toBeUndefined();
    expect(istiod.identities().map((summary) => summary.podName)).toEqual(['web-1']);
  });

  it('renews a certificate at half its life from the intermediate istiod holds then', async () => {
    // Prepare
    createPod('payments', 'pay-1');
    await waitFor(() => istiod.identityOf('payments', 'pay-1') !== undefined);
    const first = istiod.identityOf('payments', 'pay-1');
    await writeCacerts(cacertsOf(intermediateA, rootA, [rootA, rootB]));
    await writeCacerts(cacertsOf(intermediateB, rootB, [rootA, rootB]));

    // Act
    await waitFor(
      () => istiod.identityOf('payments', 'pay-1')?.issuedAt !== first?.issuedAt,
      workloadCertTtlMs,
    );
    const renewed = istiod.identityOf('payments', 'pay-1');

    // Assess
    expect(first?.issuerFingerprint).toBe(certificateFingerprint(intermediateA.certificatePem));
    expect(renewed?.issuerFingerprint).toBe(certificateFingerprint(intermediateB.certificatePem));
    expect(renewed?.rootFingerprint).toBe(certificateFingerprint(rootB.certificatePem));
    const renewedAfterMs = (renewed?.issuedAt.getTime() ?? 0) - (first?.issuedAt.getTime() ?? 0);
    expect(renewedAfterMs).toBeGreaterThanOrEqual(workloadCertTtlMs / 2 - 20);
    expect(renewedAfterMs).toBeLessThan(workloadCertTtlMs);
  });

  it('gives a restarted pod (a new pod) a certificate from the new intermediate at once', async () => {
    // Prepare
    createPod('shop', 'cart-1');
    await waitFor(() => istiod.identityOf('shop', 'cart-1') !== undefined);
    await writeCacerts(cacertsOf(intermediateA, rootA, [rootA, rootB]));
    await writeCacerts(cacertsOf(intermediateB, rootB, [rootA, rootB]));

    // Act
    store.delete('Pod', 'shop', 'cart-1');
    const forgotten = istiod.identityOf('shop', 'cart-1');
    createPod('shop', 'cart-2');
    await waitFor(() => istiod.identityOf('shop', 'cart-2') !== undefined, 1000);

    // Assess
    expect(forgotten).toBeUndefined();
    expect(istiod.identityOf('shop', 'cart-2')?.issuerFingerprint).toBe(
      certificateFingerprint(intermediateB.certificatePem),
    );
  });
});
