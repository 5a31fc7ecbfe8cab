// When pilot-agent renews at the latest, from the mesh's proxy metadata: lifetime x (1 - (ratio - |jitter|)),
// the ratio clamped to [0, 1]; a value Go cannot parse leaves the default, a non-finite one the worst case.
import { describe, expect, it } from '@jest/globals';
import { proxyRenewal } from '../../../../lambdas/core/istio/proxy-renewal.js';

describe('proxyRenewal', () => {
  it("gives 0.51 with pilot-agent's defaults (0.5, jitter 0.01), not marked as configured", () => {
    expect(proxyRenewal({})).toEqual({ latestFraction: 0.51, configured: false, problems: [] });
  });

  it('follows SECRET_GRACE_PERIOD_RATIO and its jitter, whatever the jitter sign', () => {
    const fraction = (metadata: Record<string, string>) => proxyRenewal(metadata).latestFraction;
    expect(fraction({ SECRET_GRACE_PERIOD_RATIO: '0.2', SECRET_GRACE_PERIOD_RATIO_JITTER: '0' })).toBeCloseTo(
      0.8,
    );
    expect(fraction({ SECRET_GRACE_PERIOD_RATIO: '0.8' })).toBeCloseTo(0.21);
    expect(fraction({ SECRET_GRACE_PERIOD_RATIO_JITTER: '-0.1' })).toBeCloseTo(0.6);
    expect(proxyRenewal({ SECRET_GRACE_PERIOD_RATIO: '2e-1' })).toMatchObject({
      configured: true,
      problems: [],
    });
  });

  it('clamps as rotateTime does: a ratio below the jitter renews at expiry, above 1 at once', () => {
    expect(
      proxyRenewal({ SECRET_GRACE_PERIOD_RATIO: '0.1', SECRET_GRACE_PERIOD_RATIO_JITTER: '0.2' })
        .latestFraction,
    ).toBe(1);
    expect(
      proxyRenewal({ SECRET_GRACE_PERIOD_RATIO: '3', SECRET_GRACE_PERIOD_RATIO_JITTER: '0' }).latestFraction,
    ).toBe(0);
  });

  it("keeps the default and says so for a value Go's ParseFloat refuses", () => {
    const renewal = proxyRenewal({ SECRET_GRACE_PERIOD_RATIO: '50%' });
    expect(renewal.latestFraction).toBeCloseTo(0.51);
    expect(renewal.problems).toEqual([
      'SECRET_GRACE_PERIOD_RATIO "50%" is not a number Go parses; pilot-agent uses 0.5',
    ]);
  });

  it('assumes renewal only at expiry for NaN or Inf, and says so', () => {
    const renewal = proxyRenewal({ SECRET_GRACE_PERIOD_RATIO_JITTER: 'NaN' });
    expect(renewal.latestFraction).toBe(1);
    expect(renewal.problems).toEqual([
      'SECRET_GRACE_PERIOD_RATIO_JITTER "NaN" is not finite; meshtrust assumes renewal only at expiry',
    ]);
  });
});
