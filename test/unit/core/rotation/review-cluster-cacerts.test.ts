import { createIntermediateCa } from '../../../../lambdas/core/pki/index.js';
import { reviewClusterCacerts } from '../../../../lambdas/core/rotation/index.js';
import { cacertsOf, makeRotationFixtures, type RotationFixtures } from './rotation-fixtures.js';

const DAY_MS = 24 * 60 * 60 * 1000;
let f: RotationFixtures;
beforeAll(async () => {
  f = await makeRotationFixtures();
});

function review(files: Parameters<typeof reviewClusterCacerts>[0]['files'], overrides = {}) {
  return reviewClusterCacerts({
    cluster: 'c1',
    files,
    currentRoot: f.fpA,
    namespaces: ['shop'],
    now: new Date(),
    minIntermediateHeadroomDays: 7,
    ...overrides,
  });
}

describe('reviewClusterCacerts', () => {
  it('passes a healthy cluster and reduces it to fingerprints for the planner', async () => {
    // Prepare, Act
    const result = await review(f.start);
    // Assess
    expect(result.problems).toEqual([]);
    expect(result.trustState).toEqual({
      name: 'c1',
      trustedRoots: [f.fpA],
      intermediate: expect.stringMatching(/^[0-9a-f]{64}$/),
      intermediateIssuerRoot: f.fpA,
      namespaces: ['shop'],
    });
  });

  it('names a missing cacerts secret', async () => {
    // Prepare, Act
    const result = await review(undefined);
    // Assess
    expect(result.problems).toEqual([
      expect.stringMatching(
        /cluster c1 has no secret istio-system\/cacerts: istiod then signs with a self-signed root/,
      ),
    ]);
    expect(result.trustState).toBeUndefined();
  });

  it('names a missing key', async () => {
    // Prepare
    const { 'ca-key.pem': _dropped, ...withoutKey } = f.start;
    // Act
    const result = await review(withoutKey);
    // Assess
    expect(result.problems.join('\n')).toMatch(/cluster c1: ca-key\.pem: ca-key\.pem is missing/);
  });

  it('names a key that does not match the intermediate', async () => {
    // Prepare
    const mismatched = { ...f.start, 'ca-key.pem': f.intB.privateKeyPem };
    // Act
    const result = await review(mismatched);
    // Assess
    expect(result.problems.join('\n')).toMatch(/cluster c1: .*key/i);
    expect(result.problems.join('\n')).not.toContain('PRIVATE KEY');
  });

  it('names a chain that ends at another root than the current one', async () => {
    // Prepare: int_B chains to B, root-cert holds A and B: valid for istiod, wrong for this mesh
    const onOtherRoot = cacertsOf(f.intB, f.rootB, [f.rootA, f.rootB]);
    // Act
    const result = await review(onOtherRoot);
    // Assess
    expect(result.problems).toEqual([
      expect.stringMatching(/chains to root [0-9a-f]{64}, not to the mesh's current root/),
    ]);
  });

  it("names a root-cert that does not hold the mesh's current root", async () => {
    // Prepare
    const foreign = cacertsOf(f.intB, f.rootB, [f.rootB]);
    // Act
    const result = await review(foreign);
    // Assess
    expect(result.problems.join('\n')).toMatch(/root-cert\.pem does not hold the mesh's current root/);
  });

  it('names where the CA store holds the current root, when the cluster trusts another', async () => {
    // Prepare
    const foreign = cacertsOf(f.intB, f.rootB, [f.rootB]);
    // Act
    const result = await review(foreign, { currentRootSource: 'AWSCURRENT of meshtrust/prod/root' });
    // Assess
    expect(result.problems).toEqual([
      `cluster c1: root-cert.pem does not hold the mesh's current root ${f.fpA} (AWSCURRENT of meshtrust/prod/root); ` +
        'the cluster is not part of this mesh or the CA store holds another root. Fix root-cert.pem or import the right root',
      expect.stringMatching(
        new RegExp(
          `chains to root [0-9a-f]{64}, not to the mesh's current root ${f.fpA} \\(AWSCURRENT of meshtrust/prod/root\\)`,
        ),
      ),
    ]);
  });

  it('names an intermediate that expires within the headroom', async () => {
    // Prepare
    const shortLived = await createIntermediateCa({ cluster: 'c1', issuer: f.rootA, validityDays: 3 });
    // Act
    const result = await review(cacertsOf(shortLived, f.rootA, [f.rootA]));
    // Assess
    expect(result.problems).toEqual([expect.stringMatching(/expires on .* in 2 days, less than the 7/)]);
  });

  it('names an expired intermediate', async () => {
    // Prepare, Act
    const result = await review(f.start, { now: new Date(Date.now() + 400 * DAY_MS) });
    // Assess
    expect(result.problems.join('\n')).toMatch(/cluster c1: .*(expired|valid)/i);
  });

  it('names tls.crt, which makes istiod ignore the plug-in files', async () => {
    // Prepare, Act
    const result = await review(f.start, { otherKeys: ['tls.crt'] });
    // Assess
    expect(result.problems.join('\n')).toMatch(/tls\.crt/);
  });
});
