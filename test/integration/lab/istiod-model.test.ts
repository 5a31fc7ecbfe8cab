// The lab's istiod: takes a cacerts update only when the real istiod of its Istio version would, by its
// own statement of istiod's rules (lab/istio/istiod-cacerts-rules.ts), drops the others silently
// (counted), publishes root-cert.pem to every namespace after the push delay, and gives injected pods
// SPIFFE certificates that openssl verifies against the pushed bundle, renewed before they expire.

import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
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
import { admitPod } from '../../../lab/workloads/sidecar-injection.js';
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

/** A pod created as through the API server: the lab's sidecar injector admits it first. */
function createPod(namespace: string, name: string, serviceAccountName?: string): void {
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace },
    spec: {
      ...(serviceAccountName ? { serviceAccountName } : {}),
      containers: [{ name: 'app', image: 'app:1' }],
    },
  };
  store.create(admitPod(pod, store.tryGet('Namespace', undefined, namespace)));
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
        const { 'ca-key.pem': _key, ...rest } = cacertsOf(intermediateA, rootA, [rootA]);
        return rest;
      },
      'istiod-files-readable',
    ],
    [
      'a cacerts that also holds tls.crt (so istiod reads tls.crt, tls.key and ca.crt) without ca.crt',
      () => ({
        ...cacertsOf(intermediateA, rootA, [rootA]),
        'tls.crt': intermediateA.certificatePem,
        'tls.key': 'not a key',
      }),
      'istiod-files-readable',
    ],
    [
      'a broken chain: a B-signed intermediate while root-cert holds only A',
      () => cacertsOf(intermediateB, rootB, [rootA]),
      'istiod-chain-verifies',
    ],
    [
      "a ca-key.pem that is another intermediate's key",
      () => ({
        ...cacertsOf(intermediateA, rootA, [rootA]),
        'ca-key.pem': intermediateB.privateKeyPem,
      }),
      'istiod-key-matches',
    ],
    [
      'a ca-key.pem whose first block is EC PARAMETERS (openssl ecparam -genkey), which Go does not read',
      () => ({
        ...cacertsOf(intermediateA, rootA, [rootA]),
        'ca-key.pem': `-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n${intermediateA.privateKeyPem}`,
      }),
      'istiod-key-matches',
    ],
    [
      'a cert-chain.pem that does not start with ca-cert.pem (istiod would load it; the lab is stricter)',
      () => {
        const files = cacertsOf(intermediateA, rootA, [rootA]);
        return { ...files, 'cert-chain.pem': rootA.certificatePem + files['ca-cert.pem'] };
      },
      'lab-ca-cert-heads-chain',
    ],
    [
      'a root change from {A} to {C}, neither subset nor superset, though valid in itself',
      () => cacertsOf(intermediateC, rootC, [rootC]),
      'istiod-root-bytes-contained',
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

describe('a cacerts update dropped by the fault hook (--fault kube:CLUSTER:istiod-drop)', () => {
  it('ignores the changes it is told to, keeping its CA, and takes the next one', async () => {
    // Prepare
    istiod.stop();
    let drops = 1;
    istiod = await startIstiodModel({
      clusterName: 'lab-1',
      store,
      pushDelayMs,
      workloadCertTtlMs,
      dropsCacertsUpdate: () => {
        drops -= 1;
        return drops >= 0;
      },
    });
    const before = istiod.acceptedUpdates;

    // Act
    await writeCacerts(cacertsOf(intermediateA, rootA, [rootA, rootB]));
    const afterDropped = istiod.current()?.rootFingerprints;
    await writeCacerts(cacertsOf(intermediateA, rootA, [rootA]));
    await writeCacerts(cacertsOf(intermediateA, rootA, [rootA, rootB]));

    // Assess: the first change was asked about even though istiod had loaded its CA at start.
    expect(afterDropped).toEqual([certificateFingerprint(rootA.certificatePem)]);
    expect(istiod.acceptedUpdates).toBe(before + 2);
    expect(istiod.current()?.rootFingerprints).toHaveLength(2);
    expect(istiod.rejections()).toEqual([]);
  });
});

describe('a cacerts update of metadata alone (the rollback’s meshtrust.io/rolled-back fence)', () => {
  it('reaches no mounted file, as kubelet writes data keys only: istiod reloads nothing, then takes a data change', async () => {
    // Prepare
    const before = istiod.current();
    const acceptedBefore = istiod.acceptedUpdates;
    const secret = store.get('Secret', 'istio-system', 'cacerts');
    // Act
    store.update({
      ...secret,
      metadata: { ...secret.metadata, annotations: { 'meshtrust.io/rolled-back': 'rotate-b' } },
    });
    await istiod.idle();
    const afterFence = istiod.current();
    await writeCacerts(cacertsOf(intermediateA, rootA, [rootA, rootB]));
    // Assess
    expect(afterFence).toEqual(before);
    expect(istiod.acceptedUpdates).toBe(acceptedBefore + 1);
    expect(istiod.current()?.rootFingerprints).toHaveLength(2);
  });
});

describe('a cacerts with tls.crt and tls.key', () => {
  it('makes istiod read tls.crt, tls.key and ca.crt instead of the plug-in files', async () => {
    // Prepare: plug-in files unchanged (intermediate A), a second intermediate under A in the tls keys
    const other = await createIntermediateCa({ cluster: 'lab-1', issuer: rootA });
    const files = {
      ...cacertsOf(intermediateA, rootA, [rootA]),
      'tls.crt': other.certificatePem,
      'tls.key': other.privateKeyPem,
      'ca.crt': cacertsOf(intermediateA, rootA, [rootA])['root-cert.pem'],
    };

    // Act
    await writeCacerts(files);

    // Assess
    expect(istiod.rejections()).toEqual([]);
    expect(istiod.current()).toMatchObject({
      layout: 'kubernetes-tls',
      caCertFingerprint: certificateFingerprint(other.certificatePem),
    });
  });
});

/** A scenario: cacerts writes after the start state {intermediate A, root-cert A}; the last one is judged. */
interface RootScenario {
  readonly name: string;
  readonly writes: () => Record<string, string>[];
  /** 'accepted', or the rule that drops the last write, per Istio version. */
  readonly expected: Record<'1.29' | '1.30', string>;
}

const crlf = (text: string) => text.replace(/\n/g, '\r\n');

describe.each(['1.29', '1.30'] as const)('root-cert.pem rules of Istio %s', (istioVersion) => {
  let intermediateA2: CaMaterial;
  let intermediateBUnderB: CaMaterial;
  let rootX: CaMaterial;
  beforeAll(async () => {
    [intermediateA2, rootX] = await Promise.all([
      createIntermediateCa({ cluster: 'lab-1', issuer: rootA }),
      createRootCa({ commonName: 'Root X, unrelated' }),
    ]);
    intermediateBUnderB = intermediateB;
  });
  const A = () => rootA.certificatePem;
  const B = () => rootB.certificatePem;
  const withRoots = (intermediate: CaMaterial, issuer: CaMaterial, rootCert: string) => ({
    ...cacertsOf(intermediate, issuer, [issuer]),
    'root-cert.pem': rootCert,
  });
  const scenarios: RootScenario[] = [
    {
      name: 'a valid intermediate change, root-cert.pem byte-identical',
      writes: () => [withRoots(intermediateA2, rootA, A())],
      expected: { '1.29': 'accepted', '1.30': 'accepted' },
    },
    {
      name: 'root-cert.pem = B only (with a B intermediate): a swap',
      writes: () => [withRoots(intermediateBUnderB, rootB, B())],
      expected: { '1.29': 'istiod-root-bytes-contained', '1.30': 'istiod-root-certificate-subset' },
    },
    {
      name: 'a superset: B appended to the bytes of A',
      writes: () => [withRoots(intermediateA, rootA, A() + B())],
      expected: { '1.29': 'accepted', '1.30': 'accepted' },
    },
    {
      name: 'a subset: A+B, then a B intermediate, then root-cert.pem = B alone',
      writes: () => [
        withRoots(intermediateA, rootA, A() + B()),
        withRoots(intermediateBUnderB, rootB, A() + B()),
        withRoots(intermediateBUnderB, rootB, B()),
      ],
      expected: { '1.29': 'accepted', '1.30': 'accepted' },
    },
    {
      name: 'the same certificate re-encoded with CRLF line ends',
      writes: () => [withRoots(intermediateA, rootA, crlf(A()))],
      expected: { '1.29': 'istiod-root-bytes-contained', '1.30': 'accepted' },
    },
    {
      name: 'A+B written with CRLF line ends: the right set in other bytes',
      writes: () => [withRoots(intermediateA, rootA, crlf(A() + B()))],
      expected: { '1.29': 'istiod-root-bytes-contained', '1.30': 'accepted' },
    },
    {
      name: 'A+B, then the same two re-ordered as B+A',
      writes: () => [withRoots(intermediateA, rootA, A() + B()), withRoots(intermediateA, rootA, B() + A())],
      expected: { '1.29': 'istiod-root-bytes-contained', '1.30': 'accepted' },
    },
    {
      name: 'an extra unrelated root X appended',
      writes: () => [withRoots(intermediateA, rootA, A() + rootX.certificatePem)],
      expected: { '1.29': 'accepted', '1.30': 'accepted' },
    },
    {
      name: 'a bad chain: a B intermediate while root-cert.pem stays A',
      writes: () => [withRoots(intermediateBUnderB, rootB, A())],
      expected: { '1.29': 'istiod-chain-verifies', '1.30': 'istiod-chain-verifies' },
    },
  ];

  it.each(scenarios.map((scenario) => [scenario.name, scenario] as const))('%s', async (_name, scenario) => {
    // Prepare
    istiod.stop();
    istiod = await startIstiodModel({
      clusterName: 'lab-1',
      store,
      pushDelayMs,
      workloadCertTtlMs,
      istioVersion,
    });
    const writes = scenario.writes();

    // Act
    for (const files of writes) await writeCacerts(files);

    // Assess
    const expected = scenario.expected[istioVersion];
    if (expected === 'accepted') {
      expect(istiod.rejections()).toEqual([]);
      expect(istiod.acceptedUpdates).toBe(1 + writes.length);
      expect(
        Buffer.from(istiod.current()?.rootCertPem ?? '').equals(
          Buffer.from(writes[writes.length - 1]['root-cert.pem']),
        ),
      ).toBe(true);
    } else {
      expect(istiod.rejections().map((rejection) => rejection.rules)).toEqual([[expected]]);
      expect(istiod.acceptedUpdates).toBe(writes.length);
    }
  });

  it('takes no root-cert.pem change at all with ISTIO_MULTIROOT_MESH off, only intermediate changes', async () => {
    // Prepare
    istiod.stop();
    istiod = await startIstiodModel({
      clusterName: 'lab-1',
      store,
      pushDelayMs,
      workloadCertTtlMs,
      istioVersion,
      multiRootMesh: false,
    });

    // Act
    await writeCacerts(withRoots(intermediateA, rootA, A() + B()));
    await writeCacerts(withRoots(intermediateA, rootA, crlf(A())));
    await writeCacerts(withRoots(intermediateA2, rootA, A()));

    // Assess
    expect(istiod.rejections().map((rejection) => rejection.rules)).toEqual([
      ['istiod-multiroot-off'],
      ['istiod-multiroot-off'],
    ]);
    expect(istiod.current()?.caCertFingerprint).toBe(certificateFingerprint(intermediateA2.certificatePem));
    expect(istiod.current()?.rootFingerprints).toEqual([certificateFingerprint(rootA.certificatePem)]);
  });
});

describe("the model's statement of istiod's rules", () => {
  it('imports none of the product PKI validators or rotation code, only the @peculiar/x509 door', async () => {
    // Prepare
    const sources = await Promise.all(
      ['lab/istio/istiod-cacerts-rules.ts', 'lab/istio/istiod-model.ts'].map((file) =>
        readFile(file, 'utf8'),
      ),
    );

    // Act
    const imports = sources.flatMap((source) =>
      [...source.matchAll(/from '([^']+)'/g)].map((match) => match[1]),
    );

    // Assess
    expect(imports.filter((specifier) => specifier.includes('lambdas/'))).toEqual([
      '../../lambdas/core/pki/x509.js',
      '../../lambdas/core/pki/x509.js',
    ]);
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

  it('publishes the roots istiod holds when a push fires, not those of an earlier reload', async () => {
    // Prepare: every value shop's ConfigMap takes
    const seen: string[] = [];
    const unwatch = store.watch(
      { kind: 'ConfigMap', namespace: 'shop', name: ROOT_CERT_CONFIGMAP_NAME },
      (event) => {
        const pem = event.object.data?.[ROOT_CERT_CONFIGMAP_KEY];
        if (typeof pem === 'string') seen.push(pem);
      },
    );

    // Act: a second reload lands before the first reload's push fires
    try {
      await writeCacerts(cacertsOf(intermediateA, rootA, [rootA, rootB]));
      await writeCacerts(cacertsOf(intermediateA, rootA, [rootA, rootB, rootC]));
      await waitFor(() => rootConfigMap('shop') === bundleOf(rootA, rootB, rootC));
      await new Promise((resolve) => setTimeout(resolve, pushDelayMs * 2));
    } finally {
      unwatch();
    }

    // Assess
    expect(seen).not.toContain(bundleOf(rootA, rootB));
    expect(seen.at(-1)).toBe(bundleOf(rootA, rootB, rootC));
    expect(istiod.pushedRootCertPem()).toBe(bundleOf(rootA, rootB, rootC));
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

  it('records a renewal that came on time with the life its old certificate had left', async () => {
    // Prepare
    createPod('payments', 'pay-2');
    await waitFor(() => istiod.identityOf('payments', 'pay-2') !== undefined);
    const first = istiod.identityOf('payments', 'pay-2');

    // Act
    await waitFor(
      () => istiod.identityOf('payments', 'pay-2')?.issuedAt !== first?.issuedAt,
      workloadCertTtlMs * 2,
    );
    const timeliness = istiod.renewalTimeliness();

    // Assess: renewed at half its life, with about half of it left
    expect(timeliness.renewals).toBe(1);
    expect(timeliness.afterExpiry).toBe(0);
    expect(timeliness.leastMarginMs).toBeGreaterThan(0);
    expect(timeliness.maxLateMs).toBeLessThan(workloadCertTtlMs / 2);
  });

  it('counts a renewal held after the old certificate expired when its event loop was held up', async () => {
    // Prepare
    createPod('payments', 'pay-3');
    await waitFor(() => istiod.identityOf('payments', 'pay-3') !== undefined);
    const first = istiod.identityOf('payments', 'pay-3');
    const expiresAtMs = first?.expiresAt.getTime() ?? 0;

    // Act: the loop blocked past the certificate's notAfter, as a starved machine holds up the lab
    while (Date.now() < expiresAtMs + 200) {
      /* busy */
    }
    await waitFor(() => istiod.identityOf('payments', 'pay-3')?.issuedAt !== first?.issuedAt);
    const timeliness = istiod.renewalTimeliness();

    // Assess
    expect(timeliness.renewals).toBe(1);
    expect(timeliness.afterExpiry).toBe(1);
    expect(timeliness.leastMarginMs).toBeLessThanOrEqual(-200);
    expect(timeliness.maxLateMs).toBeGreaterThanOrEqual(200);
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
