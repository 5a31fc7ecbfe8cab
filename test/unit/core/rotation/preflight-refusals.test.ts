import {
  emptyFleetRefusal,
  rootKeyRefusal,
  rootStagesRefusal,
  startRefusal,
} from '../../../../lambdas/core/rotation/preflight-refusals.js';

describe('rootStagesRefusal', () => {
  const ROOT_SECRET = 'meshtrust/prod/root';
  const OWN_TOKEN = 'own-execution-root-token';

  it('has nothing to say of a current root and no pending one', () => {
    // Act, Assess
    expect(
      rootStagesRefusal({ stages: { current: 'v1' }, ownToken: OWN_TOKEN, rootSecretName: ROOT_SECRET }),
    ).toBeUndefined();
  });

  it("has nothing to say of this execution's own pending root (a re-run after stage-root)", () => {
    // Act, Assess
    expect(
      rootStagesRefusal({
        stages: { current: 'v1', pending: OWN_TOKEN },
        ownToken: OWN_TOKEN,
        rootSecretName: ROOT_SECRET,
      }),
    ).toBeUndefined();
  });

  it('refuses a store without a current root, naming the secret and meshtrust import-root', () => {
    // Act
    const refusal = rootStagesRefusal({ stages: {}, ownToken: OWN_TOKEN, rootSecretName: ROOT_SECRET });
    // Assess
    expect(refusal?.reason).toMatch(
      /^No current root CA is stored in meshtrust\/prod\/root, so there is nothing/,
    );
    expect(refusal?.reason).toMatch(/meshtrust import-root/);
    expect(refusal?.cluster).toBeUndefined();
  });

  it("refuses another execution's pending root, naming its version", () => {
    // Act
    const refusal = rootStagesRefusal({
      stages: { current: 'v1', pending: 'another-run' },
      ownToken: OWN_TOKEN,
      rootSecretName: ROOT_SECRET,
    });
    // Assess
    expect(refusal?.reason).toBe(
      'Another rotation is running or was left unfinished: meshtrust/prod/root has a pending root (version ' +
        'another-run). Let it finish, or roll it back (rollback drops AWSPENDING), then start again.',
    );
  });
});

describe('rootKeyRefusal', () => {
  it('lets intermediate mode sign with a root whose key is in KMS or imported', () => {
    // Act, Assess
    expect(rootKeyRefusal('intermediate', 'kms')).toBeUndefined();
    expect(rootKeyRefusal('intermediate', 'secret')).toBeUndefined();
  });

  it('lets a root rotation start from a root whose key is offline (it signs with the new root)', () => {
    // Act, Assess
    expect(rootKeyRefusal('scheduled', 'offline')).toBeUndefined();
    expect(rootKeyRefusal('emergency', 'offline')).toBeUndefined();
  });

  it('refuses intermediate mode over a root whose key was imported offline', () => {
    // Act
    const refusal = rootKeyRefusal('intermediate', 'offline');
    // Assess
    expect(refusal?.reason).toMatch(
      /^Intermediate mode signs the new intermediates with the current root, whose key/,
    );
    expect(refusal?.reason).toMatch(/Run a scheduled rotation/);
  });
});

describe('emptyFleetRefusal', () => {
  const config = { meshId: 'prod', clusterTagKey: 'meshtrust.io/mesh', clusterTagValue: 'prod' };

  it('has nothing to say of a fleet with a cluster', () => {
    // Act, Assess
    expect(emptyFleetRefusal([{ name: 'eu-1' }], config)).toBeUndefined();
  });

  it('refuses a mesh without clusters, naming the tag to set', () => {
    // Act, Assess
    expect(emptyFleetRefusal([], config)).toEqual({
      reason:
        'No EKS cluster belongs to mesh prod (tag meshtrust.io/mesh=prod, or CLUSTERS). Tag the clusters or list them.',
    });
  });
});

describe('startRefusal', () => {
  it('has nothing to say without problems', () => {
    // Act, Assess
    expect(startRefusal([])).toBeUndefined();
  });

  it('names every problem in one refusal, and the cluster when only one is named', () => {
    // Act
    const refusal = startRefusal([
      { problem: 'cluster eu-1: cacerts is missing', cluster: 'eu-1' },
      { problem: 'cluster eu-1: no istiod', cluster: 'eu-1' },
      { problem: 'the current root expires in 2 days' },
    ]);
    // Assess
    expect(refusal).toEqual({
      reason:
        'preflight refused to start the rotation; nothing was written. cluster eu-1: cacerts is missing. ' +
        'cluster eu-1: no istiod. the current root expires in 2 days.',
      cluster: 'eu-1',
    });
  });

  it('names no cluster when the problems are in two', () => {
    // Act
    const refusal = startRefusal([
      { problem: 'a', cluster: 'eu-1' },
      { problem: 'b', cluster: 'us-1' },
    ]);
    // Assess
    expect(refusal?.cluster).toBeUndefined();
  });

  it('names no cluster when every problem is the fleet’s', () => {
    // Act
    const refusal = startRefusal([{ problem: 'the soak is too long' }]);
    // Assess
    expect(refusal).toEqual({
      reason: 'preflight refused to start the rotation; nothing was written. the soak is too long.',
    });
  });
});
