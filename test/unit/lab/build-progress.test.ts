// A lab build runs for many minutes; its progress line must say how far it is and how long is left.
import {
  describeLabBuildProgress,
  estimateRemainingMs,
  formatDuration,
} from '../../../lab/binaries/build-progress.js';

describe('describeLabBuildProgress', () => {
  it('says packages done of all, time elapsed and the estimate while compiling', () => {
    // Act
    const line = describeLabBuildProgress({
      phase: 'compile',
      done: 412,
      total: 1530,
      elapsedMs: 190_000,
      etaMs: 480_000,
      message: 'compiling packages',
    });

    // Assess
    expect(line).toBe('compile 412/1530 packages, 3m10s elapsed, about 8m left');
  });

  it('leaves the estimate out while there is none, and gives other phases their message', () => {
    // Act / Assess
    expect(
      describeLabBuildProgress({ phase: 'compile', done: 3, total: 1530, elapsedMs: 4000, message: '' }),
    ).toBe('compile 3/1530 packages, 4s elapsed');
    expect(
      describeLabBuildProgress({
        phase: 'download',
        done: 12,
        total: 0,
        elapsedMs: 65_000,
        message: 'downloading modules (12 so far)',
      }),
    ).toBe('download: downloading modules (12 so far), 1m05s elapsed');
  });
});

describe('estimateRemainingMs', () => {
  it('extrapolates the rate so far', () => {
    // 100 of 400 packages in 60 s: 300 more at the same rate take 180 s.
    expect(estimateRemainingMs(100, 400, 60_000)).toBe(180_000);
  });

  it('gives no estimate from too few packages or too little time, nor when done', () => {
    expect(estimateRemainingMs(5, 400, 60_000)).toBeUndefined();
    expect(estimateRemainingMs(100, 400, 2000)).toBeUndefined();
    expect(estimateRemainingMs(400, 400, 60_000)).toBeUndefined();
  });
});

describe('formatDuration', () => {
  it('uses seconds, then minutes and seconds, then hours and minutes', () => {
    expect(formatDuration(45_400)).toBe('45s');
    expect(formatDuration(190_000)).toBe('3m10s');
    expect(formatDuration(3_720_000)).toBe('1h02m');
  });
});
