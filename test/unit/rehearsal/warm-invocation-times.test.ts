import { summarizeInvocationTimes } from '../../../rehearsal/warm-invocation-times.js';

describe('summarizeInvocationTimes', () => {
  it('gives each handler its count, median, nearest-rank p90 and maximum, to a hundredth of a ms', () => {
    // Prepare: ten times 1..10 ms (unsorted), and an even count of two
    const times = {
      'verify-trust': [10, 3, 1, 7, 2, 9, 4, 8, 6, 5],
      preflight: [2.004, 5.116],
    };

    // Act
    const summary = summarizeInvocationTimes(times);

    // Assess
    expect(summary['verify-trust']).toEqual({ count: 10, medianMs: 5.5, p90Ms: 9, maxMs: 10 });
    expect(summary.preflight).toEqual({ count: 2, medianMs: 3.56, p90Ms: 5.12, maxMs: 5.12 });
  });

  it('takes the middle time of an odd count and leaves out a handler without any time', () => {
    // Act
    const summary = summarizeInvocationTimes({ 'stage-root': [30, 10, 20], rollback: [] });

    // Assess
    expect(summary['stage-root']).toEqual({ count: 3, medianMs: 20, p90Ms: 30, maxMs: 30 });
    expect(Object.keys(summary)).toEqual(['stage-root']);
  });
});
