// One rotation of the bench's rotation section as a rehearsal gives it: emergency 10 x 100, succeeded,
// 60 s of rotation with 15% overhead, each field replaceable. For the bench's unit tests.
import type { RotationRunFigures } from '../../bench/rotation-figures.js';

export function rotationRun(overrides: Partial<RotationRunFigures>): RotationRunFigures {
  return {
    mode: 'emergency',
    clusters: 10,
    workloadsPerCluster: 100,
    measuredAt: '2026-12-01T12:00:00.000Z',
    result: 'SUCCEEDED',
    failedChecks: [],
    handshakes: { attempted: 12_000, failed: 0 },
    executionMs: 60_000,
    soakMs: 0,
    rotationMs: 60_000,
    waits: { configuredMs: 45_000, istiodLoadMs: 4000, podStartMs: 3000, unavoidableMs: 51_000 },
    overhead: 0.15,
    rehearsalMs: 300_000,
    peakRss: {
      bytes: 2300 * 2 ** 20,
      processes: 14,
      groups: {
        rehearsal: { bytes: 700 * 2 ** 20, processes: 1 },
        functions: { bytes: 1500 * 2 ** 20, processes: 12 },
        moto: { bytes: 90 * 2 ** 20, processes: 1 },
        other: { bytes: 0, processes: 0 },
      },
    },
    workloadCertTtlMs: 77_000,
    labEventLoopP99Ms: 20,
    cpu: { benchCores: 1.2, otherCores: 0.6 },
    ...overrides,
  };
}
