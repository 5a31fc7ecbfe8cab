import { type RootHeadroomInput, reviewRootHeadroom } from '../../../../lambdas/core/rotation/index.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const NOW = new Date('2026-06-01T00:00:00Z');
const FINGERPRINT = 'a'.repeat(64);

/** A review of a root expiring in `days`, with Istio's default waits: 12h14m (PCDS off) and a 24 h soak. */
function review(days: number, overrides: Partial<RootHeadroomInput> = {}) {
  return reviewRootHeadroom({
    mode: 'scheduled',
    root: { fingerprint: FINGERPRINT, notAfter: new Date(NOW.getTime() + days * DAY_MS) },
    rootSource: 'AWSCURRENT of meshtrust/prod/root',
    clusters: ['eu-1', 'us-1'],
    now: NOW,
    minRootHeadroomDays: 7,
    expiryWarningDays: 90,
    proxyTrustWaitSeconds: 44_074,
    soakSeconds: 86_400,
    ...overrides,
  });
}

describe('reviewRootHeadroom, scheduled mode', () => {
  it('replaces a root inside the warning window with a note, naming the CA store secret and the clusters', () => {
    // Act
    const result = review(30);
    // Assess
    expect(result.refusal).toBeUndefined();
    expect(result.note).toBe(
      `the current root ${FINGERPRINT} (AWSCURRENT of meshtrust/prod/root; root-cert.pem of eu-1, us-1) ` +
        'expires on 2026-07-01T00:00:00.000Z, in 30 days; this rotation replaces it',
    );
  });

  it('says nothing of a root beyond the warning window', () => {
    // Act, Assess
    expect(review(365)).toEqual({});
  });

  it('refuses a root that would not outlive the proxy trust wait and the soak by MIN_ROOT_HEADROOM_DAYS', () => {
    // Prepare: 7 days + 1 day 12h14m of waits is about 8.5 days
    // Act
    const result = review(8);
    // Assess
    expect(result.note).toBeUndefined();
    expect(result.refusal).toMatch(/in 8 days: a scheduled rotation leans on it until retire-root/);
    expect(result.refusal).toMatch(/\(36h14m34s; a rollback until then restores it\)/);
    expect(result.refusal).toMatch(/Rotate it now with mode emergency \(no soak\)/);
  });

  it('lets a root through that outlives the waits by the headroom, with a note', () => {
    // Act
    const result = review(9);
    // Assess
    expect(result.refusal).toBeUndefined();
    expect(result.note).toMatch(/in 9 days; this rotation replaces it$/);
  });

  it('counts a longer soak against the root', () => {
    // Act
    const result = review(30, { soakSeconds: 25 * 86_400 });
    // Assess
    expect(result.refusal).toMatch(/in 30 days: a scheduled rotation/);
  });
});

describe('reviewRootHeadroom, emergency mode', () => {
  it('never refuses: an emergency rotation is how an expiring root is replaced at once', () => {
    // Act
    const result = review(1, { mode: 'emergency' });
    // Assess
    expect(result.refusal).toBeUndefined();
    expect(result.note).toMatch(/in 1 days; this rotation replaces it$/);
  });

  it('notes a root that expires before the proxy trust wait ends, and what fails until the restarts', () => {
    // Act
    const result = review(0.25, { mode: 'emergency' });
    // Assess
    expect(result.refusal).toBeUndefined();
    expect(result.note).toMatch(/in 0 days, before the proxy trust wait \(12h14m34s\) ends: workloads/);
  });

  it('does not count the soak it does not have', () => {
    // Act, Assess
    expect(review(365, { mode: 'emergency', soakSeconds: 400 * 86_400 })).toEqual({});
  });
});

describe('reviewRootHeadroom, intermediate mode', () => {
  it('refuses to rekey under a root expiring within MIN_ROOT_HEADROOM_DAYS', () => {
    // Act
    const result = review(6, { mode: 'intermediate' });
    // Assess
    expect(result.refusal).toMatch(
      /in 6 days, less than the 7 an intermediate rekey needs: the new intermediate would expire with it/,
    );
    expect(result.refusal).toMatch(/Rotate the root instead \(mode emergency/);
  });

  it('rekeys under a root beyond the headroom, noting that the new intermediate expires with it', () => {
    // Act
    const result = review(8, { mode: 'intermediate' });
    // Assess
    expect(result.refusal).toBeUndefined();
    expect(result.note).toMatch(/in 8 days, and the new intermediate with it; plan the root rotation/);
  });

  it('ignores the waits of a root rotation', () => {
    // Act, Assess
    expect(review(8, { mode: 'intermediate', soakSeconds: 30 * 86_400 }).refusal).toBeUndefined();
  });
});

describe('reviewRootHeadroom, an expired root', () => {
  it('leaves it to the cacerts review, which refuses it in every mode', () => {
    // Act, Assess
    for (const mode of ['scheduled', 'emergency', 'intermediate'] as const) {
      expect(review(-1, { mode })).toEqual({});
    }
  });
});

describe('reviewRootHeadroom, MIN_ROOT_HEADROOM_DAYS=0', () => {
  it('refuses a scheduled rotation only when the root expires within its waits', () => {
    // Act, Assess
    expect(review(1, { minRootHeadroomDays: 0 }).refusal).toMatch(/a scheduled rotation leans on it/);
    expect(review(2, { minRootHeadroomDays: 0 }).refusal).toBeUndefined();
  });
});
