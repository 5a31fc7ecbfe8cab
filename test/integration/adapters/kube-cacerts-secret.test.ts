// The cacerts adapter against a lab cluster that authenticates EKS tokens and applies RBAC: what the
// rotation reads and writes in istio-system/cacerts, and how refusals reach the state machine.

import { ROTATOR_GROUP } from '../../../lab/eks/lab-identities.js';
import { authorizeLabRequest } from '../../../lab/lab-rbac.js';
import {
  type CacertsSnapshot,
  fenceCacerts,
  ROLLED_BACK_ANNOTATION,
  readCacerts,
  writeCacerts,
} from '../../../lambdas/adapters/kube/cacerts-secret.js';
import { CacertsConflict } from '../../../lambdas/adapters/kube/kube-errors.js';
import { CACERTS_KEYS, type CacertsFiles } from '../../../lambdas/core/pki/index.js';
import { PreconditionFailed, TransientError } from '../../../lambdas/core/rotation-errors.js';
import { type LabCluster, type SeededMesh, seedMesh, startLabCluster } from './kube-lab-cluster.js';

let lab: LabCluster;
let seeded: SeededMesh;
/** A cluster whose RBAC, unlike deploy/kubernetes/rbac.yaml, also lets the rotator create secrets in istio-system. */
let permissive: LabCluster;
let permissiveSeed: SeededMesh;

beforeAll(async () => {
  permissive = await startLabCluster({
    name: 'lab-permissive',
    podStartDelayMs: 20,
    authorize: (identity, request) =>
      authorizeLabRequest(identity, request) ||
      (identity.groups.includes(ROTATOR_GROUP) &&
        request.resource === 'secrets' &&
        request.namespace === 'istio-system' &&
        request.verb === 'create'),
  });
  permissiveSeed = await seedMesh(permissive.store, permissive.name);
  lab = await startLabCluster({ name: 'lab-cacerts', podStartDelayMs: 20 });
  seeded = await seedMesh(lab.store, lab.name);
});

afterAll(async () => {
  await lab?.stop();
  await permissive?.stop();
});

function storedData(): Record<string, string> {
  return lab.store.get('Secret', 'istio-system', 'cacerts').data;
}

function withRootCert(files: CacertsFiles, rootCertPem: string): CacertsFiles {
  return { ...files, 'root-cert.pem': rootCertPem };
}

describe('readCacerts', () => {
  it('returns the four files decoded with the resourceVersion of the stored secret', async () => {
    // Prepare
    const client = lab.clientAs(lab.identities.rotator);
    // Act
    const snapshot = await readCacerts(client);
    // Assess
    expect(snapshot?.files).toEqual(seeded.cacerts);
    expect(snapshot?.otherKeys).toEqual([]);
    expect(snapshot?.resourceVersion).toBe(
      lab.store.get('Secret', 'istio-system', 'cacerts').metadata.resourceVersion,
    );
  });

  it('lists keys beyond the four, such as tls.crt that overrides the plug-in CA', async () => {
    // Prepare
    const client = lab.clientAs(lab.identities.rotator);
    lab.store.patch('Secret', 'istio-system', 'cacerts', 'merge', {
      data: { 'tls.crt': Buffer.from('x').toString('base64') },
    });
    // Act
    const snapshot = await readCacerts(client);
    lab.store.patch('Secret', 'istio-system', 'cacerts', 'merge', { data: { 'tls.crt': null } });
    // Assess
    expect(snapshot?.otherKeys).toEqual(['tls.crt']);
  });
});

describe('writeCacerts', () => {
  it('replaces the files over the resourceVersion read, and reads back what it wrote', async () => {
    // Prepare
    const client = lab.clientAs(lab.identities.rotator);
    const before = await readCacerts(client);
    const files = withRootCert(
      seeded.cacerts,
      `${seeded.cacerts['root-cert.pem']}${seeded.cacerts['ca-cert.pem']}`,
    );
    // Act
    const result = await writeCacerts(client, files, { expectedResourceVersion: before?.resourceVersion });
    const after = await readCacerts(client);
    // Assess
    expect(result.written).toBe(true);
    expect(result.resourceVersion).not.toBe(before?.resourceVersion);
    expect(after).toEqual({ files, otherKeys: [], resourceVersion: result.resourceVersion });
    expect(lab.store.get('Secret', 'istio-system', 'cacerts').metadata.labels).toEqual({
      'app.kubernetes.io/managed-by': 'meshtrust',
    });
  });

  it('writes nothing when the secret already holds the files (idempotent re-run)', async () => {
    // Prepare
    const client = lab.clientAs(lab.identities.rotator);
    const current = await readCacerts(client);
    const files = current?.files as CacertsFiles;
    // Act
    const result = await writeCacerts(client, files, { expectedResourceVersion: current?.resourceVersion });
    // Assess
    expect(result).toEqual({ resourceVersion: current?.resourceVersion, written: false });
  });

  it('refuses a stale resourceVersion with CacertsConflict, a TransientError, and writes nothing', async () => {
    // Prepare
    const client = lab.clientAs(lab.identities.rotator);
    const read = await readCacerts(client);
    const concurrent = withRootCert(seeded.cacerts, seeded.cacerts['root-cert.pem']);
    await writeCacerts(client, concurrent, { expectedResourceVersion: read?.resourceVersion });
    const dataBefore = storedData();
    const mine = withRootCert(
      seeded.cacerts,
      `${seeded.cacerts['root-cert.pem']}${seeded.cacerts['cert-chain.pem']}`,
    );
    // Act
    const write = writeCacerts(client, mine, { expectedResourceVersion: read?.resourceVersion });
    // Assess
    await expect(write).rejects.toBeInstanceOf(CacertsConflict);
    await expect(write).rejects.toBeInstanceOf(TransientError);
    await expect(write).rejects.toMatchObject({
      name: 'TransientError',
      cluster: 'lab-cacerts',
      expectedResourceVersion: read?.resourceVersion,
      message: expect.stringContaining('Read it again and recompute'),
    });
    expect(storedData()).toEqual(dataBefore);
  });

  it('turns the 409 of a PUT that loses the race after its own check into CacertsConflict', async () => {
    // Prepare: another writer changes the secret between our check (GET) and our PUT.
    const client = lab.clientAs(lab.identities.rotator);
    const read = await readCacerts(client);
    const realRead = client.api.read;
    client.api.read = async <T>(...args: Parameters<typeof realRead<T>>) => {
      const secret = await realRead<T>(...args);
      lab.store.patch('Secret', 'istio-system', 'cacerts', 'merge', {
        metadata: { annotations: { touched: 'yes' } },
      });
      return secret;
    };
    const mine = withRootCert(
      seeded.cacerts,
      `${seeded.cacerts['root-cert.pem']}${seeded.cacerts['ca-cert.pem']}`,
    );
    const dataBefore = storedData();
    // Act
    const write = writeCacerts(client, mine, { expectedResourceVersion: read?.resourceVersion });
    // Assess
    await expect(write).rejects.toBeInstanceOf(CacertsConflict);
    expect(storedData()).toEqual(dataBefore);
  });

  it('never writes tls.crt or tls.key, and refuses to write while they override the plug-in CA', async () => {
    // Prepare
    const client = lab.clientAs(lab.identities.rotator);
    lab.store.patch('Secret', 'istio-system', 'cacerts', 'merge', {
      data: { 'tls.key': Buffer.from('x').toString('base64') },
    });
    const read = await readCacerts(client);
    const files = withRootCert(
      seeded.cacerts,
      `${seeded.cacerts['root-cert.pem']}${seeded.cacerts['ca-cert.pem']}`,
    );
    const dataBefore = storedData();
    // Act
    const write = writeCacerts(client, files, { expectedResourceVersion: read?.resourceVersion });
    // Assess
    await expect(write).rejects.toBeInstanceOf(PreconditionFailed);
    await expect(write).rejects.toThrow(/tls\.key/);
    expect(storedData()).toEqual(dataBefore);
    lab.store.patch('Secret', 'istio-system', 'cacerts', 'merge', { data: { 'tls.key': null } });
    expect(Object.keys(storedData()).sort()).toEqual([...CACERTS_KEYS].sort());
  });

  it('refuses files missing a key before sending anything', async () => {
    // Prepare
    const client = lab.clientAs(lab.identities.rotator);
    const read = await readCacerts(client);
    const incomplete = { ...seeded.cacerts, 'ca-key.pem': '' };
    const versionBefore = lab.store.resourceVersion;
    // Act
    const write = writeCacerts(client, incomplete, { expectedResourceVersion: read?.resourceVersion });
    // Assess
    await expect(write).rejects.toThrow(/without ca-key\.pem/);
    expect(lab.store.resourceVersion).toBe(versionBefore);
  });
});

describe('who may read and write cacerts', () => {
  it('refuses the viewer with PreconditionFailed that points at the access entry and rbac.yaml', async () => {
    // Prepare
    const client = lab.clientAs(lab.identities.viewer);
    const read = await readCacerts(lab.clientAs(lab.identities.rotator));
    const dataBefore = storedData();
    // Act
    const write = writeCacerts(client, seeded.cacerts, { expectedResourceVersion: read?.resourceVersion });
    // Assess
    await expect(write).rejects.toBeInstanceOf(PreconditionFailed);
    await expect(write).rejects.toMatchObject({ name: 'PreconditionFailed', cluster: 'lab-cacerts' });
    await expect(write).rejects.toThrow(/forbidden.*deploy\/kubernetes\/rbac\.yaml/s);
    await expect(write).rejects.toThrow(/EKS access entry in cluster lab-cacerts/);
    expect(storedData()).toEqual(dataBefore);
  });

  it('refuses an identity without access entry (outsider) with PreconditionFailed', async () => {
    // Prepare
    const client = lab.clientAs(lab.identities.outsider);
    // Act
    const read = readCacerts(client);
    // Assess
    await expect(read).rejects.toBeInstanceOf(PreconditionFailed);
    await expect(read).rejects.toThrow(
      /Could not read secret istio-system\/cacerts in cluster lab-cacerts: forbidden/,
    );
  });

  it('refuses a token made for another cluster (401) with PreconditionFailed naming the cluster', async () => {
    // Prepare
    const client = lab.clientAs(lab.identities.rotator, 'some-other-cluster');
    // Act
    const read = readCacerts(client);
    // Assess
    await expect(read).rejects.toBeInstanceOf(PreconditionFailed);
    await expect(read).rejects.toThrow(/401 Unauthorized.*EKS access entry in cluster lab-cacerts/s);
  });
});

describe('writeCacerts without expectedResourceVersion (create)', () => {
  it('is refused by the shipped RBAC, which grants no create: PreconditionFailed, nothing written', async () => {
    // Prepare
    const client = lab.clientAs(lab.identities.rotator);
    const versionBefore = lab.store.resourceVersion;
    // Act
    const create = writeCacerts(client, seeded.cacerts);
    // Assess
    await expect(create).rejects.toBeInstanceOf(PreconditionFailed);
    await expect(create).rejects.toThrow(
      /create secret istio-system\/cacerts in cluster lab-cacerts: forbidden/,
    );
    expect(lab.store.resourceVersion).toBe(versionBefore);
  });

  it('creates the secret when absent and no resourceVersion is expected, and conflicts when it exists', async () => {
    // Prepare
    const client = permissive.clientAs(permissive.identities.rotator);
    const saved = permissive.store.get('Secret', 'istio-system', 'cacerts');
    permissive.store.delete('Secret', 'istio-system', 'cacerts');
    // Act
    const absent = await readCacerts(client).catch((e: unknown) => e);
    const created = await writeCacerts(client, permissiveSeed.cacerts).catch((e: unknown) => e);
    const readBack = await readCacerts(client).catch((e: unknown) => e);
    const again = await writeCacerts(client, permissiveSeed.cacerts).catch((e: unknown) => e);
    // Put the seeded secret back before judging, so that a failure here does not cascade.
    if (permissive.store.tryGet('Secret', 'istio-system', 'cacerts')) {
      permissive.store.delete('Secret', 'istio-system', 'cacerts');
    }
    permissive.store.create({
      ...saved,
      metadata: { ...saved.metadata, resourceVersion: undefined, uid: undefined },
    });
    // Assess
    expect(absent).toBeUndefined();
    expect(created).toMatchObject({ written: true });
    expect((readBack as CacertsSnapshot | undefined)?.files).toEqual(permissiveSeed.cacerts);
    expect(again).toBeInstanceOf(CacertsConflict);
  });

  it('keeps Secret data out of every error and its causes', async () => {
    // Prepare: a create that meets an existing secret carried the whole data in its request.
    const client = permissive.clientAs(permissive.identities.rotator);
    // Act
    const error = await writeCacerts(client, permissiveSeed.cacerts).catch((e: unknown) => e);
    // Assess
    expect(error).toBeInstanceOf(CacertsConflict);
    const chain: string[] = [];
    for (let e: unknown = error; e !== undefined; e = (e as { cause?: unknown }).cause) {
      chain.push(String((e as Error).message), JSON.stringify(e));
    }
    const text = chain.join('\n');
    expect(text).toContain('AlreadyExists');
    expect(text).not.toContain('PRIVATE KEY');
    expect(text).not.toContain(
      Buffer.from(permissiveSeed.cacerts['ca-key.pem']).toString('base64').slice(0, 40),
    );
  });
});

describe('fenceCacerts (the rollback’s fence against its run’s late forward writes)', () => {
  it('annotates the Secret over the resourceVersion read, data untouched, so a write that read before conflicts', async () => {
    // Prepare: a forward write read the Secret before the rollback fenced it.
    const client = lab.clientAs(lab.identities.rotator);
    const readBefore = await readCacerts(client);
    const dataBefore = storedData();
    const late = withRootCert(
      seeded.cacerts,
      `${seeded.cacerts['root-cert.pem']}${seeded.cacerts['ca-cert.pem']}`,
    );
    // Act
    const fenced = await fenceCacerts(client, 'rotate-fenced');
    const write = writeCacerts(client, late, { expectedResourceVersion: readBefore?.resourceVersion });
    // Assess
    expect(fenced).toEqual({ resourceVersion: expect.any(String), written: true });
    expect(fenced?.resourceVersion).not.toBe(readBefore?.resourceVersion);
    await expect(write).rejects.toBeInstanceOf(CacertsConflict);
    expect(storedData()).toEqual(dataBefore);
    expect(await readCacerts(client)).toMatchObject({ rolledBack: 'rotate-fenced' });
  });

  it('writes nothing when the Secret carries the fence already, and writeCacerts keeps it', async () => {
    // Prepare
    const client = lab.clientAs(lab.identities.rotator);
    const fenced = await readCacerts(client);
    const seededRoot = seeded.cacerts['root-cert.pem'];
    const next =
      fenced?.files['root-cert.pem'] === seededRoot
        ? withRootCert(seeded.cacerts, `${seededRoot}${seeded.cacerts['ca-cert.pem']}`)
        : seeded.cacerts;
    // Act
    const again = await fenceCacerts(client, 'rotate-fenced');
    const written = await writeCacerts(client, next, {
      expectedResourceVersion: fenced?.resourceVersion,
    });
    // Assess
    expect(again).toEqual({ resourceVersion: fenced?.resourceVersion, written: false });
    expect(written.written).toBe(true);
    expect(lab.store.get('Secret', 'istio-system', 'cacerts').metadata.annotations).toMatchObject({
      [ROLLED_BACK_ANNOTATION]: 'rotate-fenced',
    });
  });
});
