// preflight's bound on how large the rotation's state grows (preflight's answer, what each Map keeps of
// its answers, a rollback's own), against Step Functions' 256 KiB quota on a state, which no Catch survives.
import {
  FAILURE_BYTES_AT_MOST,
  KEPT_PER_CLUSTER,
  keptBytesPerCluster,
  SAFE_STATE_BYTES,
  STATE_PAYLOAD_QUOTA_BYTES,
  stateBytesAtWorst,
  stateSizeProblem,
} from '../../../../lambdas/core/plan/state-size-estimate.js';

const names = (count: number, prefix = 'lab-') =>
  Array.from({ length: count }, (_, index) => `${prefix}${index + 1}`);

describe('stateBytesAtWorst', () => {
  it('bounds a measured rollback from retire-root: 4 clusters, 8,461 bytes at release-lock-after-rollback', () => {
    // Act: the rehearsal of 2 December 2026, 11:12 UTC (scheduled, --fail-at retire-root:lab-4, the state
    // trimmed): its preflight's answer 4,564 bytes, its failure {"failure":{...}} 117.
    const bound = stateBytesAtWorst({ clusters: names(4), preflightBytes: 4_564, failureBytes: 117 });

    // Assess
    expect(bound).toBeGreaterThanOrEqual(8_461);
  });

  it("bounds each Map's kept answer by its widest values, and grows with the cluster's name once per Map", () => {
    // Act
    const short = keptBytesPerCluster('a');
    const long = keptBytesPerCluster('a'.repeat(41));
    const written = JSON.stringify({
      cluster: 'a',
      skipped: false,
      changed: false,
      cacertsWrittenBy: '2026-12-02T11:12:27.441Z',
    });

    // Assess
    expect(long - short).toBe(40 * KEPT_PER_CLUSTER.length);
    // Four cacerts writes (each longer than a real one), the wait, six names, and a comma each.
    expect(short).toBeGreaterThan(
      4 * (written.length + 1) + 6 * (JSON.stringify({ cluster: 'a' }).length + 1),
    );
    expect(short).toBeLessThan(700);
  });

  it('counts both errors a failed rollback carries when it does not know them', () => {
    // Act
    const known = stateBytesAtWorst({ clusters: ['a'], preflightBytes: 0, failureBytes: 0 });
    const unknown = stateBytesAtWorst({ clusters: ['a'], preflightBytes: 0 });

    // Assess
    expect(unknown - known).toBe(2 * FAILURE_BYTES_AT_MOST);
  });
});

describe('stateSizeProblem', () => {
  it('lets 64 clusters start, which the untrimmed state took past the quota at 4.1 KB a cluster', () => {
    // Act: preflight's answer at 1.2 KB a cluster (4,564 bytes measured for 4).
    const problem = stateSizeProblem({ clusters: names(64), preflightBytes: 64 * 1_200 });

    // Assess
    expect(64 * 4_100).toBeGreaterThan(STATE_PAYLOAD_QUOTA_BYTES);
    expect(problem).toBeUndefined();
  });

  it("refuses a fleet whose preflight answer and kept answers pass the quota's safe share", () => {
    // Act
    const problem = stateSizeProblem({ clusters: names(120), preflightBytes: 120 * 1_200 });

    // Assess
    expect(problem).toMatch(
      new RegExp(
        `^The rotation's state could grow to [\\d,]+ bytes for 120 cluster\\(s\\) .*over ${SAFE_STATE_BYTES.toLocaleString('en-US')}, .*States\\.DataLimitExceeded, which no Catch takes`,
      ),
    );
    expect(problem).toContain('do not narrow the cluster selection');
  });
});
