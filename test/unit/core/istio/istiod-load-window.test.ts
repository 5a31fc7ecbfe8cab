// When istiod's still serving the old CA stops being the expected delay (a kubelet sync with its jitter,
// then istiod's reload) and becomes a cacerts write it missed; and when the write was made, from the
// answers of the Map that made it.
import { describe, expect, it } from '@jest/globals';
import {
  istiodLoadDueAt,
  istiodLoadWindowSeconds,
  latestCacertsWrite,
  missedWriteAdvice,
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

  it('passes over a rollback stage that wrote nothing, whose cacerts was written before the Map began', () => {
    // Prepare: lab-1 found restored (a resumed rollback), lab-2 written back now
    const answers = [
      { cluster: 'lab-1', changed: false },
      { cluster: 'lab-2', changed: true, cacertsWrittenBy: '2026-12-02T10:00:07.500Z' },
    ];
    // Act, Assess
    expect(latestCacertsWrite(answers)?.toISOString()).toBe('2026-12-02T10:00:07.500Z');
  });

  it('is unknown when no answer wrote: a rollback that found every cluster restored claims no write time', () => {
    // Act, Assess
    expect(
      latestCacertsWrite([
        { cluster: 'lab-1', changed: false },
        { cluster: 'remote-1', changed: false },
      ]),
    ).toBeUndefined();
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

describe('missedWriteAdvice', () => {
  it('says what makes istiod read the files, and what follows the retries of a rotation or of its rollback', () => {
    // Act
    const rotation = missedWriteAdvice('rotation');
    const rollback = missedWriteAdvice('rollback');

    // Assess
    for (const advice of [rotation, rollback]) {
      expect(advice).toContain('kubectl -n istio-system rollout restart deployment/istiod');
    }
    expect(rotation).toMatch(/rolls the run back\.$/);
    expect(rollback).toMatch(
      /RollbackFailed: then restart istiod and resume the rollback with meshtrust retry-rollback/,
    );
    expect(rollback).not.toContain('rolls the run back');
  });
});
