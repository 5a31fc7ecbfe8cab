// The rotation section's arithmetic and its rendering, from a report and history given here: the sizes
// it parses, the rotation time without the soak, the waits it cannot shorten merged where they overlap,
// the overhead, the growth from 10 to 100 clusters, and what the table and the page say. No timing.
import { renderPerformanceDoc, renderSummary } from '../../../bench/bench-report.js';
import { type MachineInfo, mergeResults, type SectionRun } from '../../../bench/bench-results.js';
import { parseProcStat, sumTree } from '../../../bench/process-tree-memory.js';
import {
  growthRatios,
  mergeRotationFigures,
  parseRotationSizes,
  type RotationHistoryEvent,
  type RotationReport,
  type RotationRunFigures,
  type RotationSectionFigures,
  rotationTimes,
  sizeNotRunReason,
  unionMs,
} from '../../../bench/rotation-figures.js';
import {
  rotationBoundLines,
  rotationFailureLines,
  rotationGrowthTable,
  rotationLateRenewalLines,
  rotationMemoryLines,
  rotationNoteLines,
  rotationNotRunLines,
  rotationTargetLines,
} from '../../../bench/rotation-report.js';
import type { KubeObject } from '../../../lab/kube/kube-object.js';
import { podStartSpans, recordPodStarts } from '../../../rehearsal/lab-waits.js';
import { rotationRun } from '../../support/rotation-run.js';
import { stateEvent, T0 } from '../../support/state-event.js';

const at = (ms: number) => new Date(T0 + ms).toISOString();
const state = stateEvent;

/**
 * A scheduled rotation of 30 s: 0-2 s preflight, a 10 s await-proxy-trust Wait (5-15 s), a soak of 8 s
 * (20-28 s), the end at 30 s. So 22 s of rotation.
 */
const HISTORY: RotationHistoryEvent[] = [
  { type: 'ExecutionStarted', timestamp: T0 },
  state('StateEntered', 'preflight', 'Task', 0),
  state('StateExited', 'preflight', 'Task', 2000),
  state('StateEntered', 'await-proxy-trust', 'Wait', 5000),
  state('StateExited', 'await-proxy-trust', 'Wait', 15_000),
  state('StateEntered', 'soak', 'Wait', 20_000),
  state('StateExited', 'soak', 'Wait', 28_000),
  { type: 'ExecutionSucceeded', timestamp: T0 + 30_000 },
];

/**
 * Two clusters: a root change in each at 3 s (istiod: 2 s sync + 0.3 s push, 3-5.3 s, overlapping the
 * Wait from 5 s), an intermediate write at 16 s (16-18 s, no push), a write before the execution
 * (ignored); pods starting 18-19 s and 18.5-19.5 s (merged: 18-19.5 s).
 */
const LAB_WAITS: NonNullable<RotationReport['labWaits']> = {
  volumeSyncDelayMs: 2000,
  pushDelayMs: 300,
  podStartDelayMs: 200,
  podStarts: [{ startedAt: at(18_000), readyAt: at(19_500) }],
};

const REPORT: Pick<RotationReport, 'timeline' | 'labWaits'> = {
  timeline: [
    { at: at(-5000), cluster: 'lab-1', phase: 'initial', roots: ['A'] },
    { at: at(-5000), cluster: 'lab-2', phase: 'initial', roots: ['A'] },
    { at: at(3000), cluster: 'lab-1', phase: 'distribute-bundle', roots: ['A', 'B'] },
    { at: at(3000), cluster: 'lab-2', phase: 'distribute-bundle', roots: ['A', 'B'] },
    { at: at(16_000), cluster: 'lab-1', phase: 'reissue-intermediate', roots: ['A', 'B'] },
  ],
  labWaits: LAB_WAITS,
};

describe('parseRotationSizes', () => {
  it('takes CLUSTERSxWORKLOADS, comma-separated, each once and in order', () => {
    expect(parseRotationSizes('1x10, 3x10,1x10,10x100')).toEqual([
      { clusters: 1, workloads: 10 },
      { clusters: 3, workloads: 10 },
      { clusters: 10, workloads: 100 },
    ]);
  });

  it.each(['', '10', '10x', 'x10', '0x10', '10by100', '1x10,2x'])('refuses %j', (value) => {
    expect(() => parseRotationSizes(value)).toThrow(RangeError);
  });

  it('says why a size beyond what the rehearsal takes is not run', () => {
    expect(sizeNotRunReason({ clusters: 10, workloads: 100 })).toBeUndefined();
    expect(sizeNotRunReason({ clusters: 100, workloads: 10 })).toBeUndefined();
    expect(sizeNotRunReason({ clusters: 101, workloads: 10 })).toContain('at most 100 clusters');
    expect(sizeNotRunReason({ clusters: 10, workloads: 300 })).toContain('at most 200 workloads');
  });
});

describe('unionMs', () => {
  it('merges overlaps, cuts to the window and takes out the excluded time', () => {
    const within = { from: 0, to: 100 };
    expect(
      unionMs(
        [
          { from: 10, to: 30 },
          { from: 20, to: 40 },
          { from: 90, to: 150 },
        ],
        within,
      ),
    ).toBe(40);
    expect(unionMs([{ from: 10, to: 40 }], within, [{ from: 30, to: 60 }])).toBe(20);
    expect(unionMs([], within)).toBe(0);
  });
});

describe('rotationTimes', () => {
  it('takes the soak out, merges the waits and gives the rest as overhead', () => {
    // Act
    const times = rotationTimes(REPORT, HISTORY);

    // Assess
    expect(times.executionMs).toBe(30_000);
    expect(times.soakMs).toBe(8000);
    expect(times.rotationMs).toBe(22_000);
    expect(times.waits).toEqual({
      configuredMs: 10_000,
      // 3-5.3 s (both clusters at once) and 16-18 s.
      istiodLoadMs: 4300,
      podStartMs: 1500,
      // 3-15 s, 16-18 s, 18-19.5 s.
      unavoidableMs: 15_500,
    });
    expect(times.overhead).toBeCloseTo(6500 / 22_000, 10);
    // preflight 0-2 s; 2-3, 15-16, 19.5-20 and 28-30 s between states (the soak and the waits taken out)
    expect(times.overheadByState).toEqual([
      { state: 'between states', ms: 4500 },
      { state: 'preflight', ms: 2000 },
    ]);
  });

  it('leaves the overhead out when the lab recorded no waits', () => {
    const { labWaits: _, ...report } = REPORT;

    const times = rotationTimes(report, HISTORY);

    expect(times.rotationMs).toBe(22_000);
    expect(times.waits).toBeUndefined();
    expect(times.overhead).toBeUndefined();
  });

  it('pairs Wait states inside Map iterations by their index', () => {
    const history: RotationHistoryEvent[] = [
      { type: 'ExecutionStarted', timestamp: T0 },
      state('StateEntered', 'rollback-await-proxy-trust-in-cluster', 'Wait', 1000, 0),
      state('StateEntered', 'rollback-await-proxy-trust-in-cluster', 'Wait', 1000, 1),
      state('StateExited', 'rollback-await-proxy-trust-in-cluster', 'Wait', 3000, 1),
      state('StateExited', 'rollback-await-proxy-trust-in-cluster', 'Wait', 6000, 0),
      { type: 'ExecutionFailed', timestamp: T0 + 10_000 },
    ];

    const times = rotationTimes({ timeline: [], labWaits: { ...LAB_WAITS, podStarts: [] } }, history);

    expect(times.soakMs).toBe(0);
    expect(times.waits?.configuredMs).toBe(5000);
    expect(times.overhead).toBeCloseTo(0.5, 10);
  });
});

describe('lab-waits', () => {
  it('records each pod from created to ready and merges the starts inside a window', () => {
    // Prepare
    let now = 0;
    const recorder = recordPodStarts(() => now);
    const pod = (uid: string): KubeObject => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: uid, uid },
    });

    // Act
    recorder.onPodEvent('lab-1', { type: 'created', pod: pod('a') });
    now = 100;
    recorder.onPodEvent('lab-1', { type: 'created', pod: pod('b') });
    recorder.onPodEvent('lab-2', { type: 'created', pod: pod('a') });
    now = 300;
    recorder.onPodEvent('lab-1', { type: 'ready', pod: pod('a') });
    now = 350;
    recorder.onPodEvent('lab-2', { type: 'deleted', pod: pod('a') });
    now = 400;
    recorder.onPodEvent('lab-1', { type: 'ready', pod: pod('b') });

    // Assess
    expect(recorder.starts()).toEqual([
      { createdAt: 0, readyAt: 300 },
      { createdAt: 100, readyAt: 400 },
    ]);
    expect(podStartSpans([...recorder.starts(), { createdAt: 1000, readyAt: 1200 }], 50, 1100)).toEqual([
      { startedAt: new Date(50).toISOString(), readyAt: new Date(400).toISOString(), pods: 2 },
      { startedAt: new Date(1000).toISOString(), readyAt: new Date(1100).toISOString(), pods: 1 },
    ]);
  });
});

describe('process-tree-memory', () => {
  it('reads pid, parent and resident pages from /proc/<pid>/stat, a name with spaces included', () => {
    const stat =
      '4242 (node (tsx) x) S 4200 4242 4242 0 -1 4194560 1 0 0 0 5 6 0 0 20 0 11 0 100 1000000 2560 18446744073709551615';
    expect(parseProcStat(stat)).toEqual({ pid: 4242, ppid: 4200, rssPages: 2560 });
  });

  it('sums a process and its descendants only', () => {
    const processes = [
      { pid: 1, ppid: 0, rssPages: 1000 },
      { pid: 10, ppid: 1, rssPages: 100 },
      { pid: 11, ppid: 10, rssPages: 20 },
      { pid: 12, ppid: 11, rssPages: 3 },
      { pid: 20, ppid: 1, rssPages: 500 },
    ];
    expect(sumTree(processes, 10, 4096)).toEqual({ bytes: 123 * 4096, processes: 3 });
    expect(sumTree(processes, 99, 4096)).toEqual({ bytes: 0, processes: 0 });
  });
});

/** Emergency 10 x 10 as rotationRun has it, and 100 x 10 with `hundred` over it. */
function tenAndHundredClusters(hundred: Partial<RotationRunFigures>): RotationSectionFigures {
  return mergeRotationFigures(
    undefined,
    [
      rotationRun({ clusters: 10, workloadsPerCluster: 10 }),
      rotationRun({ clusters: 100, workloadsPerCluster: 10, ...hundred }),
    ],
    [],
  );
}

describe('growthRatios', () => {
  it('gives 10/1 where both ran and lists 100/10 either way', () => {
    const runs = [
      rotationRun({ clusters: 1, workloadsPerCluster: 10, rotationMs: 20_000 }),
      rotationRun({ clusters: 10, workloadsPerCluster: 10, rotationMs: 30_000 }),
      rotationRun({ clusters: 10, workloadsPerCluster: 100, rotationMs: 60_000 }),
    ];

    const growth = growthRatios(runs);

    expect(growth).toContainEqual({
      mode: 'emergency',
      workloadsPerCluster: 10,
      fromClusters: 1,
      toClusters: 10,
      fromMs: 20_000,
      toMs: 30_000,
      ratio: 1.5,
    });
    expect(growth).toContainEqual({
      mode: 'emergency',
      workloadsPerCluster: 100,
      fromClusters: 10,
      toClusters: 100,
      fromMs: 60_000,
    });
    expect(growth.filter((entry) => entry.toClusters === 100)).toHaveLength(4);
  });
});

describe('rotations on Distributed Maps', () => {
  const distributed = (overrides: Partial<RotationRunFigures>) =>
    rotationRun({ maps: 'distributed', workloadsPerCluster: 10, ...overrides });

  it('grow against their own Maps only, listed once measured', () => {
    // Prepare: inline 10 x 10 in 30 s; Distributed 10 x 10 in 40 s and 100 x 10 in 280 s
    const runs = [
      rotationRun({ clusters: 10, workloadsPerCluster: 10, rotationMs: 30_000 }),
      distributed({ clusters: 10, rotationMs: 40_000 }),
      distributed({ clusters: 100, rotationMs: 280_000 }),
    ];

    // Act
    const growth = growthRatios(runs);

    // Assess
    expect(growth).toContainEqual({
      mode: 'emergency',
      maps: 'distributed',
      workloadsPerCluster: 10,
      fromClusters: 10,
      toClusters: 100,
      fromMs: 40_000,
      toMs: 280_000,
      ratio: 7,
    });
    expect(growth).toContainEqual({
      mode: 'emergency',
      workloadsPerCluster: 10,
      fromClusters: 10,
      toClusters: 100,
      fromMs: 30_000,
    });
    // Distributed: emergency x 10 measured; scheduled and x 100 never run, so not listed
    expect(growth.filter((entry) => entry.maps === 'distributed')).toHaveLength(1);
  });

  it('are kept apart from inline rotations of the same mode and size, and named as such', () => {
    // Prepare
    const previous = mergeRotationFigures(
      undefined,
      [
        rotationRun({
          clusters: 100,
          workloadsPerCluster: 10,
          result: 'FAILED',
          error: 'PreconditionFailed',
        }),
        rotationRun({ clusters: 10, workloadsPerCluster: 10 }),
      ],
      [],
    );

    // Act
    const merged = mergeRotationFigures(
      previous,
      [distributed({ clusters: 10 }), distributed({ clusters: 100, rotationMs: 400_000 })],
      [],
    );
    const text = renderSummary({ rotation: section(merged) }).join('\n');

    // Assess
    expect(merged.runs.map((run) => [run.maps ?? 'inline', run.clusters, run.result])).toEqual([
      ['inline', 10, 'SUCCEEDED'],
      ['inline', 100, 'FAILED'],
      ['distributed', 10, 'SUCCEEDED'],
      ['distributed', 100, 'SUCCEEDED'],
    ]);
    expect(text).toMatch(/emergency, 100 x 10 \(Distributed Maps\) +SUCCEEDED +400\.0 s/);
    expect(text).toMatch(/emergency, x 10: 100\/10 clusters \(Distributed Maps\) +60\.0 s +400\.0 s +6\.67x/);
    expect(rotationTargetLines(merged)[2]).toContain(
      'emergency x 10 missed (the 100-cluster rotation FAILED, above); ',
    );
    expect(rotationTargetLines(merged)[2]).toContain(
      'emergency x 10 on Distributed Maps met (6.67x, rehearsal process 700 MiB, 2,300 MiB in all)',
    );
  });
});

describe('mergeRotationFigures', () => {
  it('replaces the mode and size measured now and keeps the others with their dates', () => {
    // Prepare
    const previous = mergeRotationFigures(
      undefined,
      [
        rotationRun({ clusters: 1, workloadsPerCluster: 10, measuredAt: '2026-11-01T00:00:00.000Z' }),
        rotationRun({ clusters: 3, workloadsPerCluster: 10, measuredAt: '2026-11-01T00:00:00.000Z' }),
      ],
      [{ mode: 'emergency', clusters: 30, workloadsPerCluster: 10, reason: 'too many' }],
    );
    const fresh = rotationRun({ clusters: 3, workloadsPerCluster: 10, rotationMs: 1234 });

    // Act
    const merged = mergeRotationFigures(previous, [fresh], []);

    // Assess
    expect(merged.runs.map((run) => [run.clusters, run.measuredAt])).toEqual([
      [1, '2026-11-01T00:00:00.000Z'],
      [3, '2026-12-01T12:00:00.000Z'],
    ]);
    expect(merged.notRun).toHaveLength(1);
  });

  it('drops a size listed as not run for a cluster limit the rehearsal no longer has, keeps other reasons', () => {
    // Prepare: what results.json said when the rehearsal took at most 20 clusters
    const limit =
      'the model lab and `meshtrust rehearse --clusters` take at most 20 clusters (lab/lab-options.ts)';
    const previous: RotationSectionFigures = {
      runs: [],
      notRun: [
        { mode: 'scheduled', clusters: 30, workloadsPerCluster: 10, reason: limit },
        { mode: 'scheduled', clusters: 100, workloadsPerCluster: 100, reason: 'failed: out of memory' },
      ],
      growth: [],
    };

    // Act
    const merged = mergeRotationFigures(
      previous,
      [rotationRun({ clusters: 30, workloadsPerCluster: 10 })],
      [],
    );

    // Assess: scheduled 30 x 10 is now listed as not run yet, with the command that runs it
    expect(merged.notRun).toEqual([previous.notRun[1]]);
    expect(rotationNotRunLines(merged).join('\n')).toContain(
      'scheduled 30 x 10: not run yet (`npm run bench -- --only rotation --rotation-sizes 30x10',
    );
  });
});

const MACHINE: MachineInfo = {
  cpuModel: 'Test CPU',
  cpuCount: 2,
  memoryGiB: 24,
  os: 'linux x64 6.0',
  node: 'v22.0.0',
  nodeOpenssl: '3.0.15',
  loadAverageAtStart: 0.1,
};

function section(figures: RotationSectionFigures): SectionRun<RotationSectionFigures> {
  return {
    measuredAt: '2026-12-01T12:00:00.000Z',
    durationMs: 600_000,
    machine: MACHINE,
    cpu: { seconds: 600, benchCores: 1.2, otherCores: 0.6 },
    figures,
  };
}

const FIGURES = mergeRotationFigures(
  undefined,
  [
    rotationRun({}),
    rotationRun({
      mode: 'scheduled',
      executionMs: 150_000,
      soakMs: 80_000,
      rotationMs: 70_000,
      soakSeconds: 77,
      overhead: 0.08,
      cpu: { benchCores: 1, otherCores: 0.1 },
    }),
  ],
  [
    {
      mode: 'emergency',
      clusters: 30,
      workloadsPerCluster: 10,
      reason: 'the model lab takes at most 20 clusters',
    },
  ],
);

describe('rotation report', () => {
  it('shows each rotation with its soak apart, its waits, overhead, handshakes and memory', () => {
    // Act
    const text = renderSummary({ rotation: section(FIGURES) }).join('\n');

    // Assess
    expect(text).toMatch(
      /emergency, 10 x 100 +SUCCEEDED +60\.0 s +- +45\.0 s +4\.0 s +3\.0 s +15% +0 of 12,000 +700 MiB +1,500 MiB \(12 proc\.\) +2,300 MiB \(14 proc\.\) +77\.0 s +0\.60 cores/,
    );
    expect(text).toMatch(/scheduled, 10 x 100 +SUCCEEDED +70\.0 s +80\.0 s /);
    expect(text).toMatch(/emergency, x 100: 100\/10 clusters +60\.0 s +not run +not measured/);
    expect(text).toContain('not run: emergency 30 x 10: the model lab takes at most 20 clusters');
    expect(text).toContain(
      'note: other work ran on this machine during 1 of 2 rehearsals (emergency 10 x 100: 0.60 cores)',
    );
  });

  it('reads the figures against the targets and says what bounds a missed one', () => {
    // Act
    const lines = rotationTargetLines(FIGURES);
    const text = renderSummary({ rotation: section(FIGURES) }).join('\n');

    // Assess
    expect(lines[0]).toBe(
      'target (issue 14): emergency rekey of 10 x 100 in <= 20 s of rotation with 0 failed handshakes of >= 10,000: missed (60.0 s, 0 of 12,000 handshakes failed)',
    );
    expect(lines[1]).toBe(
      'target (issue 14): orchestration overhead <= 10%: missed (1 of 2 rotations within it; largest 15%, emergency 10 x 100)',
    );
    expect(lines[2]).toContain(
      '100 clusters <= 10x the rotation time of 10, the rehearsal process under 1,024 MiB: emergency x 10 not run;',
    );
    expect(text).toContain(
      "bound: emergency 10 x 100's 60.0 s: configured waits (Wait states, soak apart) 45.0 s (75%), " +
        'orchestration overhead 9.0 s (15%), istiod load 4.0 s (7%), pod start 3.0 s (5%); the waits overlap by 1.0 s',
    );
  });

  it("splits a missed emergency rotation's overhead by the state in progress, on the page too", () => {
    // Prepare: the 9 s of overhead, kept by state
    const overheadByState = [
      { state: 'restart-workloads', ms: 4000 },
      { state: 'verify-trust', ms: 2000 },
      { state: 'between states', ms: 1500 },
      { state: 'preflight', ms: 1000 },
      { state: 'stage-root', ms: 500 },
    ];
    const figures = mergeRotationFigures(undefined, [rotationRun({ overheadByState })], []);

    // Act
    const bounds = rotationBoundLines(figures);
    const page = renderPerformanceDoc(
      mergeResults(undefined, { rotation: section(figures) }, '2026-12-01T13:00:00.000Z'),
    );

    // Assess
    expect(bounds).toContain(
      "emergency 10 x 100's orchestration overhead of 9.0 s, by the state in progress: restart-workloads 4.0 s, " +
        'verify-trust 2.0 s, between states 1.5 s, preflight 1.0 s, stage-root 0.5 s',
    );
    expect(page).toContain(
      '; its overhead by the state in progress: restart-workloads 4.0 s, verify-trust 2.0 s, between states 1.5 s, ' +
        'preflight 1.0 s, 1 other states 0.5 s.',
    );
  });

  it('says the handshakes of an emergency rotation short of the target are the lab probe pace, and only then', () => {
    // Prepare: 5,000 handshakes over a rehearsal of 160 s around 60 s of rotation; and one with enough
    const short = mergeRotationFigures(
      undefined,
      [rotationRun({ handshakes: { attempted: 5000, failed: 0 }, rehearsalMs: 160_000 })],
      [],
    );
    const enough = mergeRotationFigures(
      undefined,
      [rotationRun({ handshakes: { attempted: 10_000, failed: 0 } })],
      [],
    );

    // Act
    const shortBounds = rotationBoundLines(short);
    const enoughBounds = rotationBoundLines(enough);

    // Assess
    expect(shortBounds[0]).toBe(
      "emergency 10 x 100's 5,000 handshakes: the lab's probes over the rehearsal's 160.0 s, lab start and " +
        'checks included (31.3 a second), which lab/lab-pace.ts holds to at most 40 a second so that the ' +
        "lab's one process keeps up with its renewals (the idle fleet above); at that pace 10,000 take 250.0 s, " +
        'where this rehearsal with a rotation of 20 s would have lasted 120.0 s',
    );
    expect(enoughBounds.some((line) => line.includes('handshakes:'))).toBe(false);
    expect(enoughBounds.length).toBe(shortBounds.length - 1);
  });

  it("splits the rehearsal process's memory at its peak by what held it, for the runs that kept it", () => {
    // Prepare
    const labPeakRss = { rssMiB: 974, heapUsedMiB: 410, heapTotalMiB: 520, externalMiB: 60, otherMiB: 394 };
    const figures = mergeRotationFigures(
      undefined,
      [rotationRun({ labPeakRss }), rotationRun({ mode: 'scheduled' })],
      [],
    );

    // Act
    const page = renderPerformanceDoc(
      mergeResults(undefined, { rotation: section(figures) }, '2026-12-01T13:00:00.000Z'),
    );

    // Assess: one line, the emergency run's
    expect(rotationMemoryLines(figures)).toEqual([
      "emergency 10 x 100: 974 MiB: V8's heap 520 MiB (410 MiB of it in objects, live or not yet collected), " +
        'external 60 MiB (Buffers, ArrayBuffers), the rest 394 MiB (code, stacks, native allocations: OpenSSL, libuv)',
    ]);
    expect(page).toContain("- emergency 10 x 100: 974 MiB: V8's heap 520 MiB");
  });

  it('says what grew from 10 to 100 clusters when the growth misses its target, largest first', () => {
    // Prepare: 60 s at 10 clusters, 900 s at 100 (15x), overhead 9 s -> 700 s
    const figures = tenAndHundredClusters({
      rotationMs: 900_000,
      waits: { configuredMs: 150_000, istiodLoadMs: 40_000, podStartMs: 30_000, unavoidableMs: 200_000 },
    });

    // Act
    const lines = rotationBoundLines(figures);

    // Assess
    expect(lines).toEqual([
      'emergency x 10, 100/10 clusters (15.00x, 60.0 s -> 900.0 s): orchestration overhead 9.0 s -> 700.0 s (77.8x), ' +
        'configured waits 45.0 s -> 150.0 s (3.3x), istiod load 4.0 s -> 40.0 s (10.0x), pod start 3.0 s -> 30.0 s (10.0x)',
    ]);
  });

  it('calls the growth missed when the 100-cluster rotation failed, and gives its error', () => {
    // Prepare: a verification that kept failing
    const failed = 'VerificationFailed: lab-7 still trusts only the old root';
    const figures = tenAndHundredClusters({ result: 'FAILED', error: failed, rotationMs: 61_000 });

    // Act
    const target = rotationTargetLines(figures)[2];
    const failures = rotationFailureLines(figures);

    // Assess
    expect(target).toContain('emergency x 10 missed (the 100-cluster rotation FAILED, above)');
    expect(rotationGrowthTable(figures).rows).toContainEqual([
      'emergency, x 10: 100/10 clusters',
      '60.0 s',
      'FAILED',
      'not measured',
    ]);
    expect(failures).toEqual([`emergency 100 x 10 FAILED after 61.0 s: ${failed}`]);
  });

  it('says preflight refused a size for the history limit, and every larger size of its mode and Maps', () => {
    // Prepare: preflight refuses inline emergency 100 x 10 (the execution history limit)
    const refused =
      'PreconditionFailed: preflight refused to start the rotation; nothing was written. This rotation could ' +
      "exceed Step Functions' execution history limit: at worst it records 23396 events";
    const figures = tenAndHundredClusters({ result: 'FAILED', error: refused, rotationMs: 61_000 });

    // Act
    const target = rotationTargetLines(figures)[2];
    const growth = rotationGrowthTable(figures).rows;
    const notRun = rotationNotRunLines(figures);

    // Assess: 100 x 100 emergency is refused by the measured 100 x 10; scheduled was never refused
    expect(target).toContain(
      "emergency x 10 refused by preflight (Step Functions' execution history limit, emergency 100 x 10, above)",
    );
    expect(target).toContain(
      "emergency x 100 refused by preflight (Step Functions' execution history limit, emergency 100 x 10, above)",
    );
    // The refusal (no wait, so 100% overhead by the arithmetic) is not judged against the overhead target.
    expect(rotationTargetLines(figures)[1]).toContain('(0 of 1 rotations within it; largest 15%');
    expect(target).toContain('scheduled x 10 not run');
    expect(growth).toContainEqual([
      'emergency, x 100: 100/10 clusters',
      'not run',
      'refused (history limit)',
      'not measured',
    ]);
    expect(notRun).toContain(
      "emergency 100 x 100: refused: preflight refused emergency 100 x 10 for Step Functions' execution " +
        'history limit (below), and a fleet at least as large records at least as many events; the stack ' +
        'synthesized with Distributed Maps runs it (`--rotation-maps distributed`)',
    );
    expect(notRun).toContain(
      'scheduled 100 x 100: not run yet (`npm run bench -- --only rotation --rotation-sizes 100x100`)',
    );
  });

  /** 10 -> 100 clusters in 60 s -> 300 s (5x, within its target), the rehearsal process at `rehearsalMiB`. */
  function hundredClustersHolding(rehearsalMiB: number, labPeakRss: RotationRunFigures['labPeakRss']) {
    return tenAndHundredClusters({
      rotationMs: 300_000,
      labPeakRss,
      peakRss: {
        bytes: 3000 * 2 ** 20,
        processes: 14,
        groups: {
          rehearsal: { bytes: rehearsalMiB * 2 ** 20, processes: 1 },
          functions: { bytes: (2900 - rehearsalMiB) * 2 ** 20, processes: 12 },
          moto: { bytes: 100 * 2 ** 20, processes: 1 },
          other: { bytes: 0, processes: 0 },
        },
      },
    });
  }

  it('says what held the memory of a 100-cluster rehearsal over its target, from its own reading', () => {
    // Prepare: the rehearsal process at 1,400 MiB, most of it outside V8's heap
    const figures = hundredClustersHolding(1400, {
      rssMiB: 1283,
      heapUsedMiB: 503,
      heapTotalMiB: 571,
      externalMiB: 73,
      otherMiB: 639,
    });

    // Act, Assess: only the memory is said, with what held it
    expect(rotationBoundLines(figures)).toEqual([
      'emergency x 10, 100/10 clusters: the rehearsal process peaked at 1,400 MiB (target under 1,024 MiB); ' +
        "at its lab's highest reading (1,283 MiB) V8's heap held 571 MiB and memory outside it 712 MiB " +
        "(most outside V8's heap: Buffers, code, malloc's arenas; docs/workflow.md, slice 7)",
    ]);
  });

  it("says so when V8's heap held most of a 100-cluster rehearsal's memory over its target", () => {
    // Prepare: the rehearsal process at 1,048 MiB, 637 of the 922 MiB of its lab's highest reading in V8's heap
    const figures = hundredClustersHolding(1048, {
      rssMiB: 922,
      heapUsedMiB: 560,
      heapTotalMiB: 637,
      externalMiB: 40,
      otherMiB: 245,
    });

    // Act, Assess
    expect(rotationBoundLines(figures)).toEqual([
      'emergency x 10, 100/10 clusters: the rehearsal process peaked at 1,048 MiB (target under 1,024 MiB); ' +
        "at its lab's highest reading (922 MiB) V8's heap held 637 MiB and memory outside it 285 MiB " +
        "(most in V8's heap: the lab's objects; docs/workflow.md, slice 7)",
    ]);
  });

  it("does not say what held a peak its lab's readings did not see", () => {
    // Prepare: the rehearsal process at 1,039 MiB, its lab's highest reading 800 MiB (the run's end peaked)
    const figures = hundredClustersHolding(1039, {
      rssMiB: 800,
      heapUsedMiB: 420,
      heapTotalMiB: 478,
      externalMiB: 69,
      otherMiB: 253,
    });

    // Act, Assess
    expect(rotationBoundLines(figures)).toEqual([
      'emergency x 10, 100/10 clusters: the rehearsal process peaked at 1,039 MiB (target under 1,024 MiB); ' +
        "its lab's highest reading (800 MiB) was 239 MiB below it: the peak came where the lab does not " +
        "read (its start, or the run's end: checks and report), so what held it is not known from these " +
        'figures (docs/workflow.md, slice 7)',
    ]);
  });

  it('says nothing of a growth within its target', () => {
    // Prepare: 60 s -> 300 s (5x), the rehearsal process at 700 MiB
    const figures = tenAndHundredClusters({ rotationMs: 300_000 });

    // Act, Assess
    expect(rotationBoundLines(figures)).toEqual([]);
  });

  it('says each note given with --note once, with the rotations it was given for', () => {
    // Prepare
    const shared = 'a chaos run (npm run chaos) shared the machine';
    const figures = mergeRotationFigures(
      undefined,
      [
        rotationRun({ clusters: 30, workloadsPerCluster: 10, note: shared }),
        rotationRun({ clusters: 100, workloadsPerCluster: 10, note: shared }),
        rotationRun({ clusters: 3, workloadsPerCluster: 10 }),
      ],
      [],
    );

    // Act
    const lines = rotationNoteLines(figures);

    // Assess
    expect(lines).toEqual([`emergency 30 x 10, emergency 100 x 10: ${shared}`]);
  });

  it('names each run whose lab renewed a certificate after it expired, and no run that kept time', () => {
    // Prepare
    const figures = mergeRotationFigures(
      undefined,
      [
        rotationRun({
          clusters: 80,
          workloadsPerCluster: 10,
          labRenewals: {
            renewals: 9_000,
            totalLateMs: 90_000,
            maxLateMs: 3_450,
            leastMarginMs: -800,
            afterExpiry: 4,
          },
        }),
        rotationRun({
          clusters: 3,
          workloadsPerCluster: 10,
          labRenewals: {
            renewals: 300,
            totalLateMs: 3_000,
            maxLateMs: 90,
            leastMarginMs: 7_000,
            afterExpiry: 0,
          },
        }),
        rotationRun({ clusters: 1, workloadsPerCluster: 10 }),
      ],
      [],
    );

    // Act
    const lines = rotationLateRenewalLines(figures);

    // Assess
    expect(lines).toEqual([
      'emergency 80 x 10: the lab renewed 4 of 9,000 certificates after they expired (up to 3.5 s late): ' +
        'the lab fell behind, so its failed handshakes may be its own',
    ]);
  });

  it('lists every size of the grid that never ran, with the flag that runs it', () => {
    const lines = rotationNotRunLines(FIGURES);

    expect(lines).toContain('emergency 30 x 10: the model lab takes at most 20 clusters');
    expect(lines).toContain(
      'emergency 1 x 10, scheduled 1 x 10: not run yet (`npm run bench -- --only rotation --rotation-sizes 1x10`)',
    );
    // 30 and 100 clusters are sizes the rehearsal takes (lab/lab-options.ts LAB_MAX_CLUSTERS)
    expect(lines).toContain(
      'scheduled 30 x 10: not run yet (`npm run bench -- --only rotation --rotation-sizes 30x10`)',
    );
    expect(lines.join('\n')).not.toContain('at most 100 clusters');
  });

  it('puts the section on the page with the definition of overhead', () => {
    // Act
    const doc = renderPerformanceDoc(
      mergeResults(undefined, { rotation: section(FIGURES) }, '2026-12-01T13:00:00.000Z'),
    );

    // Assess
    expect(doc).toContain('## Rotation at scale');
    expect(doc).toContain(
      '| emergency, 10 x 100 | SUCCEEDED | 60.0 s | - | 45.0 s | 4.0 s | 3.0 s | 15% | 0 of 12,000 | 700 MiB | 1,500 MiB (12 proc.) | 2,300 MiB (14 proc.) | 77.0 s | 0.60 cores |',
    );
    expect(doc).toContain(
      '- **overhead**: the rotation time less the time in which at least one of those waits',
    );
    expect(doc).toContain(
      'Target (issue 14): orchestration overhead <= 10%: missed (1 of 2 rotations within it',
    );
    expect(doc).toContain("What bounds it: emergency 10 x 100's 60.0 s: configured waits");
    expect(doc).toContain('Every figure issue 14 asks for has a section above');
  });
});
