import { combineTimeliness, NO_RENEWALS, withRenewal } from '../../../lab/istio/renewal-timeliness.js';

describe('withRenewal', () => {
  it('adds a renewal held late but before expiry: its lateness and the life left', () => {
    // Act
    const after = withRenewal(NO_RENEWALS, { dueAtMs: 1_000, heldAtMs: 1_250, oldExpiresAtMs: 2_000 });

    // Assess
    expect(after).toEqual({
      renewals: 1,
      totalLateMs: 250,
      maxLateMs: 250,
      leastMarginMs: 750,
      afterExpiry: 0,
    });
  });

  it('counts a renewal held after the old notAfter, with a negative margin', () => {
    // Prepare
    const once = withRenewal(NO_RENEWALS, { dueAtMs: 1_000, heldAtMs: 1_100, oldExpiresAtMs: 2_000 });

    // Act
    const twice = withRenewal(once, { dueAtMs: 1_000, heldAtMs: 2_400, oldExpiresAtMs: 2_000 });

    // Assess
    expect(twice).toEqual({
      renewals: 2,
      totalLateMs: 1_500,
      maxLateMs: 1_400,
      leastMarginMs: -400,
      afterExpiry: 1,
    });
  });

  it('takes a renewal held before it was due (a clock step) as on time, not early', () => {
    // Act
    const after = withRenewal(NO_RENEWALS, { dueAtMs: 1_000, heldAtMs: 900, oldExpiresAtMs: 2_000 });

    // Assess
    expect(after.totalLateMs).toBe(0);
    expect(after.maxLateMs).toBe(0);
  });
});

describe('combineTimeliness', () => {
  it('sums counts and lateness, and keeps the largest lateness and the least margin', () => {
    // Prepare
    const one = withRenewal(NO_RENEWALS, { dueAtMs: 0, heldAtMs: 30, oldExpiresAtMs: 1_000 });
    const other = withRenewal(withRenewal(NO_RENEWALS, { dueAtMs: 0, heldAtMs: 10, oldExpiresAtMs: 500 }), {
      dueAtMs: 0,
      heldAtMs: 700,
      oldExpiresAtMs: 600,
    });

    // Act
    const all = combineTimeliness([one, NO_RENEWALS, other]);

    // Assess
    expect(all).toEqual({
      renewals: 3,
      totalLateMs: 740,
      maxLateMs: 700,
      leastMarginMs: -100,
      afterExpiry: 1,
    });
  });

  it('gives no margin when no istiod renewed anything', () => {
    expect(combineTimeliness([NO_RENEWALS, NO_RENEWALS])).toEqual(NO_RENEWALS);
    expect(combineTimeliness([])).toEqual(NO_RENEWALS);
  });
});
