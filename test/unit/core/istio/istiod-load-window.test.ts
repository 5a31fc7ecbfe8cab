// When istiod's still serving the old CA stops being the expected delay (a kubelet sync with its jitter,
// then istiod's reload) and becomes a cacerts write it missed; and when the write was made, from the
// answers of the Map that made it.
import { describe, expect, it } from '@jest/globals';
import {
  istiodLoadDueAt,
  istiodLoadWindowSeconds,
  latestCacertsWrite,
} from '../../../../lambdas/core/istio/istiod-load-window.js';

describe('istiodLoadWindowSeconds', () => {
  it("is the kubelet's sync period and half of it again (its resync jitter), plus 30 s", () => {
    // Act, Assess
    expect(istiodLoadWindowSeconds(60)).toBe(120);
    expect(istiodLoadWindowSeconds(1)).toBe(32);
    expect(istiodLoadWindowSeconds(5 * 60)).toBe(480);
  });
});

describe('istiodLoadDueAt', () => {
  it('is the window after the write, and unknown when the write time is', () => {
    // Prepare
    const writtenBy = new Date('2026-12-02T10:00:00.000Z');
    // Act, Assess
    expect(istiodLoadDueAt(writtenBy, 60)?.toISOString()).toBe('2026-12-02T10:02:00.000Z');
    expect(istiodLoadDueAt(undefined, 60)).toBeUndefined();
  });
});

describe('latestCacertsWrite', () => {
  it("takes the latest primary's write, skipping remotes, which write nothing", () => {
    // Prepare
    const answers = [
      { cluster: 'lab-1', cacertsWrittenBy: '2026-12-02T10:00:03.000Z' },
      { cluster: 'remote-1', skipped: true },
      { cluster: 'lab-2', cacertsWrittenBy: '2026-12-02T10:00:07.500Z' },
    ];
    // Act, Assess
    expect(latestCacertsWrite(answers)?.toISOString()).toBe('2026-12-02T10:00:07.500Z');
  });

  it("is unknown when a primary's answer does not say when it wrote, or there is none", () => {
    // Act, Assess
    expect(
      latestCacertsWrite([
        { cluster: 'lab-1', cacertsWrittenBy: '2026-12-02T10:00:03.000Z' },
        { cluster: 'lab-2' },
      ]),
    ).toBeUndefined();
    expect(latestCacertsWrite([{ cluster: 'remote-1', skipped: true }])).toBeUndefined();
    expect(latestCacertsWrite([])).toBeUndefined();
    expect(latestCacertsWrite(undefined)).toBeUndefined();
  });
});
