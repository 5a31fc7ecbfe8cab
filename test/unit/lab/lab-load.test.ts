// The lab's load figures (lab/lab-load.ts), from readings a fake clock and fake counters give: averages
// over the whole watch, the busiest interval, the event-loop delay in ms.
import {
  type DelayHistogram,
  describeLabLoad,
  type LabLoadSample,
  startLabLoadMonitor,
  summarizeLabLoad,
} from '../../../lab/lab-load.js';

const noDelay = { p50: 0, p99: 0, max: 0 };

function sample(
  atMs: number,
  cpuMicros: number,
  signed: number,
  handshakes: number,
  rssMiB = 100,
): LabLoadSample {
  return { atMs, cpuMicros, signed, handshakes, rssBytes: rssMiB * 2 ** 20 };
}

describe('summarizeLabLoad', () => {
  it('gives cores, signatures and handshakes a second over the whole watch', () => {
    // Prepare: 10 s with 5 s of CPU, 400 certificates signed, 300 handshakes
    const samples = [sample(1000, 2e6, 100, 50), sample(6000, 4e6, 200, 200), sample(11_000, 7e6, 500, 350)];

    // Act
    const load = summarizeLabLoad(samples, noDelay);

    // Assess
    expect(load.durationMs).toBe(10_000);
    expect(load.cpuCores).toBeCloseTo(0.5);
    expect(load.signedPerSecond).toBeCloseTo(40);
    expect(load.handshakesPerSecond).toBeCloseTo(30);
    expect(load.samples).toBe(3);
  });

  it('shows the busiest interval apart from the average', () => {
    // Prepare: a quiet 5 s, then a burst of 300 signatures and 3 s of CPU in the next 5 s
    const samples = [sample(0, 0, 0, 0), sample(5000, 5e5, 10, 0), sample(10_000, 3.5e6, 310, 0)];

    // Act
    const load = summarizeLabLoad(samples, noDelay);

    // Assess
    expect(load.peakSignedPerSecond).toBeCloseTo(60);
    expect(load.signedPerSecond).toBeCloseTo(31);
    expect(load.peakCpuCores).toBeCloseTo(0.6);
    expect(load.cpuCores).toBeCloseTo(0.35);
  });

  it('turns the event-loop delay into ms and keeps the peak RSS', () => {
    // Prepare
    const samples = [sample(0, 0, 0, 0, 300), sample(1000, 0, 0, 0, 700), sample(2000, 0, 0, 0, 500)];

    // Act
    const load = summarizeLabLoad(samples, { p50: 10_420_000, p99: 55_000_000, max: 1_234_000_000 });

    // Assess
    expect(load.eventLoopDelayMs).toEqual({ p50: 10.4, p99: 55, max: 1234 });
    expect(load.peakRssMiB).toBe(700);
  });

  it('reads no peak over readings taken less than a second apart', () => {
    // Prepare: 2 s at 0.5 cores, then 5 ms in which 10 ms of CPU and 3 signatures were counted
    const samples = [sample(0, 0, 0, 0), sample(2000, 1e6, 20, 0), sample(2005, 1.01e6, 23, 0)];

    // Act
    const load = summarizeLabLoad(samples, noDelay);

    // Assess
    expect(load.peakCpuCores).toBeCloseTo(0.5);
    expect(load.peakSignedPerSecond).toBeCloseTo(10);
  });

  it('gives zeros, not NaN, for a single reading', () => {
    // Prepare, Act
    const load = summarizeLabLoad([sample(0, 5e6, 10, 10)], noDelay);

    // Assess
    expect(load).toMatchObject({ durationMs: 0, cpuCores: 0, signedPerSecond: 0, peakCpuCores: 0 });
  });
});

describe('startLabLoadMonitor', () => {
  it('reads the counters, the clock and the CPU at start, on every tick and at stop', () => {
    // Prepare
    let now = 0;
    let cpu = 0;
    let signed = 0;
    let handshakes = 0;
    let tick: () => void = () => undefined;
    const histogram: DelayHistogram & { enabled: boolean } = {
      enabled: false,
      enable() {
        this.enabled = true;
      },
      disable() {
        this.enabled = false;
      },
      // perf_hooks' readings include the 10 ms between its timer's runs
      percentile: (p) => (p === 99 ? 30e6 : 10.5e6),
      max: 90e6,
    };
    let renewals = {
      renewals: 0,
      totalLateMs: 0,
      maxLateMs: 0,
      leastMarginMs: undefined,
      afterExpiry: 0,
    } as {
      renewals: number;
      totalLateMs: number;
      maxLateMs: number;
      leastMarginMs: number | undefined;
      afterExpiry: number;
    };
    const MiB = 2 ** 20;
    let held = { rss: 64 * MiB, heapUsed: 20 * MiB, heapTotal: 30 * MiB, external: 4 * MiB };
    const monitor = startLabLoadMonitor({
      signed: () => signed,
      handshakes: () => handshakes,
      renewals: () => renewals,
      clock: () => now,
      cpuUsage: () => ({ user: cpu * 0.8, system: cpu * 0.2 }),
      memory: () => ({ ...held }),
      delay: histogram,
      every: (_ms, take) => {
        tick = take;
        return () => {
          tick = () => undefined;
        };
      },
    });

    // Act: 4 s at 40 signatures and 0.25 cores, then 4 s at 10 and 1 core
    now = 4000;
    cpu = 1e6;
    signed = 160;
    handshakes = 80;
    held = { rss: 96 * MiB, heapUsed: 50 * MiB, heapTotal: 70 * MiB, external: 6 * MiB };
    tick();
    held = { rss: 80 * MiB, heapUsed: 55 * MiB, heapTotal: 60 * MiB, external: 5 * MiB };
    now = 4001;
    const look = monitor.current();
    now = 8000;
    cpu = 5e6;
    signed = 200;
    handshakes = 160;
    renewals = { renewals: 12, totalLateMs: 600, maxLateMs: 90, leastMarginMs: 1500, afterExpiry: 0 };
    const load = monitor.stop();
    tick();

    // Assess
    expect(look).toMatchObject({ durationMs: 4001, samples: 3 });
    expect(load).toMatchObject({ durationMs: 8000, samples: 3, peakRssMiB: 96 });
    // the parts are the peak reading's (4 s), not the largest of each
    expect(load.peakRssParts).toEqual({ heapUsedMiB: 50, heapTotalMiB: 70, externalMiB: 6, otherMiB: 20 });
    expect(load.renewals).toEqual({
      renewals: 12,
      totalLateMs: 600,
      maxLateMs: 90,
      leastMarginMs: 1500,
      afterExpiry: 0,
    });
    expect(load.cpuCores).toBeCloseTo(0.625);
    expect(load.peakCpuCores).toBeCloseTo(1);
    expect(load.signedPerSecond).toBeCloseTo(25);
    expect(load.peakSignedPerSecond).toBeCloseTo(40);
    expect(load.handshakesPerSecond).toBeCloseTo(20);
    expect(load.eventLoopDelayMs).toEqual({ p50: 0.5, p99: 20, max: 80 });
    expect(histogram.enabled).toBe(false);
    expect(monitor.current()).toBe(load);
  });
});

describe('describeLabLoad', () => {
  it('says CPU, signatures, handshakes, event-loop delay and memory in one line', () => {
    // Prepare
    const load = summarizeLabLoad([sample(0, 0, 0, 0, 400), sample(10_000, 4.2e6, 381, 300, 512)], {
      p50: 1e6,
      p99: 21e6,
      max: 120e6,
    });

    // Act
    const line = describeLabLoad(load);

    // Assess
    expect(line).toBe(
      '0.42 cores (peak 0.42), 38.1 certificates signed/s (peak 38.1), 30.0 handshakes/s, ' +
        'event loop delay p99 21 ms (max 120 ms), 512 MiB RSS at most',
    );
  });
});

describe('describeLabLoad with renewals', () => {
  it('adds how late the renewals came, the least life left and how many came after expiry', () => {
    // Prepare
    const renewals = {
      renewals: 1200,
      totalLateMs: 16_800,
      maxLateMs: 310,
      leastMarginMs: -250,
      afterExpiry: 2,
    };
    const load = summarizeLabLoad([sample(0, 0, 0, 0), sample(10_000, 1e6, 10, 10)], noDelay, renewals);

    // Act
    const line = describeLabLoad(load);

    // Assess
    expect(line).toMatch(
      /; 1,200 renewals late by 14 ms on average \(310 at most\), -0\.3 s of life left at least, 2 after expiry$/,
    );
  });

  it('says so when no renewal came during the watch', () => {
    // Prepare
    const renewals = { renewals: 0, totalLateMs: 0, maxLateMs: 0, leastMarginMs: undefined, afterExpiry: 0 };

    // Act
    const line = describeLabLoad(summarizeLabLoad([sample(0, 0, 0, 0)], noDelay, renewals));

    // Assess
    expect(line).toMatch(/; no renewals$/);
  });
});
