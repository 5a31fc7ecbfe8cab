// preflight's bound on how large the rotation's state grows (every Map's answers stay in it, a rollback
// adds its own), against Step Functions' 256 KiB quota on a state, which no Catch survives.
import {
  SAFE_STATE_BYTES,
  STATE_PAYLOAD_QUOTA_BYTES,
  stateBytesAtWorst,
  stateSizeProblem,
} from '../../../../lambdas/core/plan/state-size-estimate.js';

const names = (count: number, prefix = 'lab-') =>
  Array.from({ length: count }, (_, index) => `${prefix}${index + 1}`);

describe('stateBytesAtWorst', () => {
  it('bounds a measured rollback from retire-root: 4 clusters, 18,007 bytes at rotation-rolled-back', () => {
    // Act: the rehearsal of 2 December 2026 (scheduled, --fail-at retire-root:lab-4): its preflight's
    // answer 4,564 bytes, its failure {"failure":{...}} 117.
    const bound = stateBytesAtWorst({ clusters: names(4), preflightBytes: 4_564, failureBytes: 117 });

    // Assess
    expect(bound).toBeGreaterThanOrEqual(18_007);
  });

  it("grows with each cluster's name, which its answers repeat", () => {
    // Act
    const short = stateBytesAtWorst({ clusters: ['a'], preflightBytes: 0 });
    const long = stateBytesAtWorst({ clusters: ['a'.repeat(41)], preflightBytes: 0 });

    // Assess
    expect(long - short).toBeGreaterThanOrEqual(40 * 12);
  });
});

describe('stateSizeProblem', () => {
  it('lets a fleet of 40 clusters start, whose worst case fits the safe share of the quota', () => {
    // Act
    const problem = stateSizeProblem({ clusters: names(40), preflightBytes: 40 * 900 });

    // Assess
    expect(problem).toBeUndefined();
  });

  it('refuses 64 clusters, which a rollback from retire-root took past the quota at 4.1 KB a cluster', () => {
    // Act
    const problem = stateSizeProblem({ clusters: names(64), preflightBytes: 64 * 900 });

    // Assess
    expect(64 * 4_100).toBeGreaterThan(STATE_PAYLOAD_QUOTA_BYTES);
    expect(problem).toMatch(
      new RegExp(
        `^The rotation's state could grow to [\\d,]+ bytes for 64 cluster\\(s\\) .*over ${SAFE_STATE_BYTES.toLocaleString('en-US')}, .*States\\.DataLimitExceeded, which no Catch takes`,
      ),
    );
    expect(problem).toContain('do not narrow the cluster selection');
  });
});
