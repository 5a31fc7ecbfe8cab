import {
  admitWave,
  type DisruptionBudget,
  type HeldWorkload,
} from '../../../../lambdas/core/rotation/disruption-budget.js';
import {
  compareWorkloadPositions,
  invocationDeadline,
  mayStartWave,
  type RestartCursor,
  remainingWaves,
  runRestartWaves,
  type WaveRunner,
  type WorkloadPosition,
  waveStartedAtMs,
  waveTakenUp,
  waveWait,
} from '../../../../lambdas/core/rotation/restart-progress.js';

const deployment = (namespace: string, name: string): WorkloadPosition => ({
  namespace,
  kind: 'Deployment',
  name,
});

/** `count` Deployments in namespace shop, sorted as the adapter lists them. */
function shop(count: number): WorkloadPosition[] {
  return Array.from({ length: count }, (_, i) => deployment('shop', `web-${String(i).padStart(3, '0')}`));
}

const MINUTE = 60_000;
const T0 = Date.parse('2026-12-01T03:00:00.000Z');

/**
 * A cluster on a fake clock: restarting a workload takes `restartMs`, a workload's rollout finishes
 * `rolloutMs` after it was restarted. Records every restart. With `budgets`, admission is the real
 * rule (admitWave) over budgets whose allowance is `allowed` less the pods down now (one per workload
 * rolling out under it), as the disruption controller would report them.
 */
class SimulatedCluster implements WaveRunner<WorkloadPosition, WorkloadPosition, HeldWorkload> {
  clock = T0;
  readonly restarts: string[] = [];
  /** The times the simulated disruption budgets allowed nothing, by budget name. */
  readonly budgetsAtZero: string[] = [];
  private readonly rolledOutAt = new Map<string, number>();
  private readonly restartedAtByKey = new Map<string, number>();

  constructor(
    private readonly rolloutMs: number,
    private readonly restartMs = 100,
    private readonly budgets: readonly {
      name: string;
      covers: readonly string[];
      /** Allowed disruptions with every pod healthy, over time: (clock) => allowed. */
      allowed: (clock: number) => number;
    }[] = [],
  ) {}

  now(): number {
    return this.clock;
  }

  async admit(wave: readonly WorkloadPosition[]) {
    const state = (w: WorkloadPosition) => {
      const at = this.rolledOutAt.get(key(w));
      return at === undefined ? 'pending' : at > this.clock ? 'rolling' : 'done';
    };
    const budgets: DisruptionBudget[] = this.budgets.map((budget) => {
      const down = wave.filter((w) => budget.covers.includes(w.name) && state(w) === 'rolling').length;
      const allowed = Math.max(0, budget.allowed(this.clock) - down);
      if (allowed === 0) this.budgetsAtZero.push(budget.name);
      return {
        namespace: 'shop',
        name: budget.name,
        selector: { matchExpressions: [{ key: 'app', operator: 'In', values: [...budget.covers] }] },
        spec: 'maxUnavailable: 1',
        disruptionsAllowed: allowed,
        currentHealthy: 3 - down,
        desiredHealthy: 2,
        expectedPods: 3,
        stale: false,
      };
    });
    return admitWave(
      wave.map((workload) => ({ workload, podLabels: { app: workload.name }, state: state(workload) })),
      budgets,
    );
  }

  async pause(until: number): Promise<void> {
    this.clock = Math.min(until, this.clock + 5_000);
  }

  async restart(workloads: readonly WorkloadPosition[]): Promise<number> {
    let restarted = 0;
    for (const workload of workloads) {
      this.clock += this.restartMs;
      if (this.rolledOutAt.has(key(workload))) continue; // carries the restart id already
      this.rolledOutAt.set(key(workload), this.clock + this.rolloutMs);
      this.restartedAtByKey.set(key(workload), this.clock);
      this.restarts.push(key(workload));
      restarted++;
    }
    return restarted;
  }

  async restartedBefore(wave: readonly WorkloadPosition[]): Promise<number | undefined> {
    const times = wave.flatMap((w) => {
      const at = this.restartedAt(w);
      return at === undefined ? [] : [at];
    });
    return times.length === 0 ? undefined : Math.min(...times);
  }

  async behind(wave: readonly WorkloadPosition[], until: number): Promise<readonly WorkloadPosition[]> {
    const ready = Math.max(...wave.map((w) => this.rolledOutAt.get(key(w)) ?? Infinity));
    this.clock = Math.max(this.clock, Math.min(until, ready));
    return wave.filter((w) => (this.rolledOutAt.get(key(w)) ?? Infinity) > this.clock);
  }

  /** When the workload was restarted. */
  restartedAt(w: WorkloadPosition): number | undefined {
    return this.restartedAtByKey.get(key(w));
  }

  /** What an operator's fix (deleting a stuck pod) does: every rollout under way finishes `inMs` from now. */
  finishRolloutsIn(inMs: number): void {
    for (const [k, at] of this.rolledOutAt) {
      if (at > this.clock) this.rolledOutAt.set(k, this.clock + inMs);
    }
  }
}

const key = (w: WorkloadPosition) => `${w.namespace}/${w.name}`;

/**
 * Invokes like the state machine's loop: each invocation gets `budgetMs` (less the reserve) from the
 * clock, the cursor of the one before, and the waves remaining after it, until done or late.
 */
async function restartOverInvocations(
  workloads: readonly WorkloadPosition[],
  cluster: SimulatedCluster,
  options: {
    budgetMs: number;
    reserveMs: number;
    rolloutTimeoutMs: number;
    waveSize: number | 'all';
    /** The execution's start (a resumed rollback's); absent as the restart handler's tests before it. */
    executionStartedAt?: number;
    /** The first invocation's cursor (a Retry's: the failed invocation's); {} by default. */
    cursor?: RestartCursor;
  },
) {
  let cursor: RestartCursor = options.cursor ?? {};
  const invocations: {
    restarted: number;
    wavesFinished: number;
    cursor: RestartCursor;
    waitingOn: readonly string[];
  }[] = [];
  for (let i = 0; i < 1000; i++) {
    const deadline = invocationDeadline(cluster.now(), options.budgetMs, options.reserveMs);
    const waves = remainingWaves(workloads, cursor, options.waveSize);
    const outcome = await runRestartWaves(
      waves,
      cursor,
      {
        deadline,
        rolloutTimeoutMs: options.rolloutTimeoutMs,
        ...(options.executionStartedAt !== undefined && { executionStartedAt: options.executionStartedAt }),
      },
      cluster,
    );
    invocations.push({
      restarted: outcome.restarted,
      wavesFinished: outcome.wavesFinished,
      cursor,
      waitingOn: (outcome.waitingOn ?? []).map((held) => `${held.workload.name}:${held.budget.name}`),
    });
    if (outcome.done || outcome.late !== undefined || outcome.held !== undefined) {
      return { invocations, last: outcome };
    }
    cursor = outcome.cursor;
    cluster.clock += 200; // Step Functions: Choice, then the next invocation
  }
  throw new Error('the restart never ended');
}

describe('compareWorkloadPositions', () => {
  it('orders by namespace, then kind, then name, as the adapter lists workloads', () => {
    // Prepare
    const positions = [
      { namespace: 'b', kind: 'Deployment', name: 'a' },
      { namespace: 'a', kind: 'StatefulSet', name: 'a' },
      { namespace: 'a', kind: 'Deployment', name: 'z' },
      { namespace: 'a', kind: 'DaemonSet', name: 'z' },
    ];
    // Act
    const sorted = [...positions].sort(compareWorkloadPositions);
    // Assess
    expect(sorted.map((p) => `${p.namespace}/${p.kind}/${p.name}`)).toEqual([
      'a/DaemonSet/z',
      'a/Deployment/z',
      'a/StatefulSet/a',
      'b/Deployment/a',
    ]);
  });

  it('compares field by field, so namespace a sorts before a-b (joined text would not)', () => {
    // Prepare, Act, Assess
    expect(compareWorkloadPositions(deployment('a', 'x'), deployment('a-b', 'x'))).toBeLessThan(0);
    expect('a/x' < 'a-b/x').toBe(false);
  });
});

describe('remainingWaves', () => {
  it('cuts every workload into waves when the restart starts', () => {
    // Prepare, Act
    const waves = remainingWaves(shop(5), {}, 2);
    // Assess
    expect(waves.map((wave) => wave.map((w) => w.name))).toEqual([
      ['web-000', 'web-001'],
      ['web-002', 'web-003'],
      ['web-004'],
    ]);
  });

  it('goes on after the cursor, leaving out the waves finished before', () => {
    // Prepare, Act
    const waves = remainingWaves(shop(5), { resumeAfter: deployment('shop', 'web-001') }, 2);
    // Assess
    expect(waves.map((wave) => wave.map((w) => w.name))).toEqual([['web-002', 'web-003'], ['web-004']]);
  });

  it('does not skip a workload when one before the cursor was deleted meanwhile (a position, not an index)', () => {
    // Prepare: web-000 and web-001 finished; web-000 is gone since
    const now = shop(5).slice(1);
    // Act
    const waves = remainingWaves(now, { resumeAfter: deployment('shop', 'web-001') }, 2);
    // Assess
    expect(waves.flat().map((w) => w.name)).toEqual(['web-002', 'web-003', 'web-004']);
  });

  it('restarts whatever remains in one wave in emergency mode', () => {
    // Prepare, Act
    const waves = remainingWaves(shop(5), { resumeAfter: deployment('shop', 'web-000') }, 'all');
    // Assess
    expect(waves).toHaveLength(1);
    expect(waves[0]).toHaveLength(4);
  });

  it('has nothing left after the last workload', () => {
    // Prepare, Act, Assess
    expect(remainingWaves(shop(3), { resumeAfter: deployment('shop', 'web-002') }, 2)).toEqual([]);
  });
});

describe('invocationDeadline', () => {
  it('keeps the reserve at the end of the remaining time', () => {
    // Prepare, Act, Assess
    expect(invocationDeadline(T0, 15 * MINUTE, 30_000)).toBe(T0 + 15 * MINUTE - 30_000);
  });

  it('is now when less than the reserve remains', () => {
    // Prepare, Act, Assess
    expect(invocationDeadline(T0, 10_000, 30_000)).toBe(T0);
  });

  it('refuses a remaining time that is not a number of ms', () => {
    // Prepare, Act, Assess
    expect(() => invocationDeadline(T0, Number.NaN, 0)).toThrow(/remaining time .* got NaN/);
    expect(() => invocationDeadline(T0, 1000, -1)).toThrow(/reserved .* got -1/);
  });
});

describe('mayStartWave', () => {
  it('starts waves while the deadline is ahead', () => {
    // Prepare, Act, Assess
    expect(mayStartWave(T0, T0 + 1, true)).toBe(true);
  });

  it('starts none at the deadline once the invocation moved the restart on', () => {
    // Prepare, Act, Assess
    expect(mayStartWave(T0 + 1, T0 + 1, true)).toBe(false);
  });

  it('starts one past the deadline when the invocation has not moved the restart on yet', () => {
    // Prepare, Act, Assess
    expect(mayStartWave(T0 + 5, T0, false)).toBe(true);
  });
});

describe('waveWait', () => {
  it("waits to the wave's rollout timeout when it comes before the invocation's deadline, and fails then", () => {
    // Prepare, Act, Assess
    expect(waveWait(T0, 10 * MINUTE, T0 + 14 * MINUTE)).toEqual({
      until: T0 + 10 * MINUTE,
      ifNotDone: 'fail',
    });
  });

  it('waits to the deadline when the invocation ends first, and leaves the wave to the next one', () => {
    // Prepare, Act, Assess
    expect(waveWait(T0, 10 * MINUTE, T0 + 4 * MINUTE)).toEqual({
      until: T0 + 4 * MINUTE,
      ifNotDone: 'resume-later',
    });
  });
});

describe('waveTakenUp', () => {
  const options = { deadline: T0 + 15 * MINUTE, rolloutTimeoutMs: 10 * MINUTE, executionStartedAt: T0 + 700 };

  it("counts a restart in the execution's first second as this execution's (restartedAt has whole seconds)", () => {
    // Prepare: restarted at T0 + 900 ms, its restartedAt says T0
    // Act
    const taken = waveTakenUp(T0 + 5_000, T0, options);
    // Assess
    expect(taken).toEqual({ startedAt: T0, wait: { until: T0 + 10 * MINUTE, ifNotDone: 'fail' } });
  });

  it('takes up a wave restarted before the execution started afresh, to be handed on if still behind', () => {
    // Prepare, Act
    const taken = waveTakenUp(T0 + 5_000, T0 - 1_000, options);
    // Assess
    expect(taken).toEqual({
      startedAt: T0 + 5_000,
      wait: { until: T0 + 5_000 + 10 * MINUTE, ifNotDone: 'resume-later' },
    });
  });
});

describe('waveStartedAtMs', () => {
  it('reads the start of a wave in flight, and nothing without one', () => {
    // Prepare, Act, Assess
    expect(waveStartedAtMs({ waveStartedAt: '2026-12-01T03:00:00.000Z' })).toBe(T0);
    expect(waveStartedAtMs({})).toBeUndefined();
  });

  it('refuses text that is not a time', () => {
    // Prepare, Act, Assess
    expect(() => waveStartedAtMs({ waveStartedAt: 'soon' })).toThrow(/ISO 8601 time, got "soon"/);
  });
});

describe('runRestartWaves over invocations', () => {
  it('restarts a 200-workload cluster whose waves take 2 minutes across 15-minute invocations, each workload once', async () => {
    // Prepare
    const workloads = shop(200);
    const cluster = new SimulatedCluster(2 * MINUTE);
    // Act
    const { invocations, last } = await restartOverInvocations(workloads, cluster, {
      budgetMs: 15 * MINUTE,
      reserveMs: 30_000,
      rolloutTimeoutMs: 10 * MINUTE,
      waveSize: 5,
    });
    // Assess
    expect(last.done).toBe(true);
    expect(last.late).toBeUndefined();
    expect(cluster.restarts).toHaveLength(200);
    expect(new Set(cluster.restarts).size).toBe(200);
    // 40 waves of about 2 minutes, far more than one invocation holds: about 7 finish in each, and the
    // one started shortly before the deadline is waited for by the next invocation.
    expect(invocations.length).toBeGreaterThan(5);
    expect(invocations.reduce((sum, i) => sum + i.wavesFinished, 0)).toBe(40);
    expect(invocations.reduce((sum, i) => sum + i.restarted, 0)).toBe(200);
  });

  it('goes on waiting for a wave that outlasted its invocation, without restarting it again', async () => {
    // Prepare: a 12-minute rollout, a 5-minute budget, a 20-minute rollout timeout
    const cluster = new SimulatedCluster(12 * MINUTE);
    // Act
    const { invocations, last } = await restartOverInvocations(shop(3), cluster, {
      budgetMs: 5 * MINUTE,
      reserveMs: 30_000,
      rolloutTimeoutMs: 20 * MINUTE,
      waveSize: 'all',
    });
    // Assess
    expect(last.done).toBe(true);
    expect(cluster.restarts).toHaveLength(3);
    expect(invocations.map((i) => i.restarted)).toEqual([3, 0, 0]);
    // The second and third invocations got the wave's start, so its timeout counted from then.
    expect(invocations[1]?.cursor.waveStartedAt).toBe(new Date(T0).toISOString());
    expect(invocations[2]?.cursor.waveStartedAt).toBe(invocations[1]?.cursor.waveStartedAt);
  });

  it('reports a wave late at its rollout timeout counted from its start, not from each invocation', async () => {
    // Prepare: rollouts that take an hour, a 10-minute timeout, 4-minute invocations
    const cluster = new SimulatedCluster(60 * MINUTE);
    // Act
    const { invocations, last } = await restartOverInvocations(shop(2), cluster, {
      budgetMs: 4 * MINUTE,
      reserveMs: 30_000,
      rolloutTimeoutMs: 10 * MINUTE,
      waveSize: 5,
    });
    // Assess
    expect(last.done).toBe(false);
    expect(last.late?.map((w) => w.name)).toEqual(['web-000', 'web-001']);
    expect(invocations).toHaveLength(3);
    expect(cluster.clock - T0).toBeLessThan(11 * MINUTE);
  });

  it('reports a late wave retried after VerificationFailed late at once: its timeout counts from its first restart', async () => {
    // Prepare: rollouts that take an hour, a 10-minute timeout; the first invocation finds the wave late
    const cluster = new SimulatedCluster(60 * MINUTE);
    const first = await restartOverInvocations(shop(2), cluster, {
      budgetMs: 15 * MINUTE,
      reserveMs: 30_000,
      rolloutTimeoutMs: 10 * MINUTE,
      waveSize: 5,
    });
    expect(first.last.late?.map((w) => w.name)).toEqual(['web-000', 'web-001']);
    cluster.clock += 15_000; // the state machine's Retry waits, then invokes with the same input
    const retriedAt = cluster.clock;
    // Act: the retry, from the cursor the failed invocation was given
    const retry = await restartOverInvocations(shop(2), cluster, {
      budgetMs: 15 * MINUTE,
      reserveMs: 30_000,
      rolloutTimeoutMs: 10 * MINUTE,
      waveSize: 5,
    });
    // Assess: late again, restarting nothing, without waiting another 10 minutes
    expect(retry.last.late?.map((w) => w.name)).toEqual(['web-000', 'web-001']);
    expect(retry.invocations.map((i) => i.restarted)).toEqual([0]);
    expect(cluster.restarts).toHaveLength(2);
    expect(cluster.clock - retriedAt).toBeLessThan(MINUTE);
  });

  it("gives a wave a resumed rollback finds restarted by the failed run a fresh timeout from the resume: the operator's fix lets it finish", async () => {
    // Prepare: the failed run restarted the wave, whose rollouts never became ready (a stuck pod), and
    // failed late; half an hour later the operator has deleted the stuck pod and resumed the rollback,
    // under the failed run's restart id. The rollouts finish 2 minutes into the resume.
    const cluster = new SimulatedCluster(60 * MINUTE);
    const options = { budgetMs: 15 * MINUTE, reserveMs: 30_000, rolloutTimeoutMs: 10 * MINUTE, waveSize: 5 };
    const failed = await restartOverInvocations(shop(2), cluster, options);
    expect(failed.last.late?.map((w) => w.name)).toEqual(['web-000', 'web-001']);
    cluster.clock += 30 * MINUTE;
    const resumedAt = cluster.clock;
    cluster.finishRolloutsIn(2 * MINUTE);
    // Act
    const resumed = await restartOverInvocations(shop(2), cluster, {
      ...options,
      executionStartedAt: resumedAt,
    });
    // Assess: done, nothing restarted twice, after waiting for the rollouts the fix let finish
    expect(resumed.last).toMatchObject({ done: true, restarted: 0, wavesFinished: 1 });
    expect(resumed.last.late).toBeUndefined();
    expect(cluster.restarts).toHaveLength(2);
    expect(cluster.clock - resumedAt).toBeGreaterThanOrEqual(2 * MINUTE);
    expect(cluster.clock - resumedAt).toBeLessThan(options.rolloutTimeoutMs);
  });

  it('bounds that fresh timeout: a wave still stuck is handed on, then late once, and a Retry does not start it over', async () => {
    // Prepare: as above, but nothing was fixed: the rollouts stay stuck
    const cluster = new SimulatedCluster(24 * 60 * MINUTE);
    const options = { budgetMs: 15 * MINUTE, reserveMs: 30_000, rolloutTimeoutMs: 10 * MINUTE, waveSize: 5 };
    await restartOverInvocations(shop(2), cluster, options);
    cluster.clock += 30 * MINUTE;
    const resumedAt = cluster.clock;
    // Act: the resumed run's invocations, then the state machine's Retry of the one that failed late
    const resumed = await restartOverInvocations(shop(2), cluster, {
      ...options,
      executionStartedAt: resumedAt,
    });
    const lateAt = cluster.clock;
    const failedInput = resumed.invocations.at(-1)?.cursor;
    cluster.clock += 15_000;
    const retriedAt = cluster.clock;
    const retry = await restartOverInvocations(shop(2), cluster, {
      ...options,
      executionStartedAt: resumedAt,
      ...(failedInput !== undefined && { cursor: failedInput }),
    });
    // Assess: the invocation that took the wave up waited one timeout and handed it on with its start;
    // the next one reported it late at once; the Retry, from that cursor, late at once again.
    expect(resumed.invocations.map((i) => i.cursor.waveStartedAt)).toEqual([
      undefined,
      new Date(resumedAt).toISOString(),
    ]);
    expect(resumed.last.late?.map((w) => w.name)).toEqual(['web-000', 'web-001']);
    expect(lateAt - resumedAt).toBeGreaterThanOrEqual(10 * MINUTE);
    expect(lateAt - resumedAt).toBeLessThan(11 * MINUTE);
    expect(retry.last.late?.map((w) => w.name)).toEqual(['web-000', 'web-001']);
    expect(cluster.clock - retriedAt).toBeLessThan(MINUTE);
    expect(cluster.restarts).toHaveLength(2);
  });

  it('moves on even in an invocation that starts with less time than its reserve', async () => {
    // Prepare: every invocation starts past its deadline
    const cluster = new SimulatedCluster(1_000);
    // Act
    const { last } = await restartOverInvocations(shop(4), cluster, {
      budgetMs: 10_000,
      reserveMs: 30_000,
      rolloutTimeoutMs: 10 * MINUTE,
      waveSize: 2,
    });
    // Assess
    expect(last.done).toBe(true);
    expect(cluster.restarts).toHaveLength(4);
  });

  it('is done at once when nothing remains after the cursor', async () => {
    // Prepare
    const cluster = new SimulatedCluster(1_000);
    // Act
    const outcome = await runRestartWaves(
      [],
      { resumeAfter: deployment('shop', 'web-004') },
      {
        deadline: T0 + MINUTE,
        rolloutTimeoutMs: MINUTE,
      },
      cluster,
    );
    // Assess
    expect(outcome).toMatchObject({ done: true, restarted: 0, wavesFinished: 0 });
    expect(cluster.restarts).toEqual([]);
  });
});

describe('runRestartWaves under PodDisruptionBudgets', () => {
  it('restarts two workloads of one wave under a budget allowing one disruption one after the other', async () => {
    // Prepare: web-000 and web-001 share a budget that allows one disruption; web-002 has none
    const cluster = new SimulatedCluster(MINUTE, 100, [
      { name: 'web', covers: ['web-000', 'web-001'], allowed: () => 1 },
    ]);
    const [first, second, free] = shop(3) as [WorkloadPosition, WorkloadPosition, WorkloadPosition];
    // Act
    const { last } = await restartOverInvocations(shop(3), cluster, {
      budgetMs: 15 * MINUTE,
      reserveMs: 30_000,
      rolloutTimeoutMs: 10 * MINUTE,
      waveSize: 'all',
    });
    // Assess: the second waited for the first's rollout; the free one did not wait
    expect(last.done).toBe(true);
    expect(cluster.restarts).toHaveLength(3);
    const firstAt = cluster.restartedAt(first) as number;
    expect(cluster.restartedAt(second)).toBeGreaterThanOrEqual(firstAt + MINUTE);
    expect(cluster.restartedAt(free)).toBeLessThan(firstAt + MINUTE);
  });

  it('restarts both at once when the budget allows two disruptions', async () => {
    // Prepare
    const cluster = new SimulatedCluster(MINUTE, 100, [
      { name: 'web', covers: ['web-000', 'web-001'], allowed: () => 2 },
    ]);
    const [first, second] = shop(2) as [WorkloadPosition, WorkloadPosition];
    // Act
    const { last } = await restartOverInvocations(shop(2), cluster, {
      budgetMs: 15 * MINUTE,
      reserveMs: 30_000,
      rolloutTimeoutMs: 10 * MINUTE,
      waveSize: 'all',
    });
    // Assess
    expect(last.done).toBe(true);
    expect((cluster.restartedAt(second) as number) - (cluster.restartedAt(first) as number)).toBeLessThan(
      MINUTE,
    );
  });

  it('waits while a budget allows no disruption and restarts once it allows one, across invocations', async () => {
    // Prepare: the budget allows nothing for the first 9 minutes (a node drain); 4-minute invocations
    const cluster = new SimulatedCluster(MINUTE, 100, [
      { name: 'web', covers: ['web-000'], allowed: (clock) => (clock - T0 < 9 * MINUTE ? 0 : 1) },
    ]);
    // Act
    const { invocations, last } = await restartOverInvocations(shop(1), cluster, {
      budgetMs: 4 * MINUTE,
      reserveMs: 30_000,
      rolloutTimeoutMs: 20 * MINUTE,
      waveSize: 5,
    });
    // Assess: held in the first two invocations (the wave's start carried on), restarted in the third
    expect(last.done).toBe(true);
    expect(invocations.map((i) => i.restarted)).toEqual([0, 0, 1]);
    // The first two handed the wave on saying what held it; the third restarted it
    expect(invocations.map((i) => i.waitingOn)).toEqual([['web-000:web'], ['web-000:web'], []]);
    expect(invocations[1]?.cursor.waveStartedAt).toBe(new Date(T0).toISOString());
    expect((cluster.restartedAt(shop(1)[0] as WorkloadPosition) as number) - T0).toBeGreaterThanOrEqual(
      9 * MINUTE,
    );
  });

  it("reports the workloads still held at the wave's rollout timeout, naming their budget, and restarts them not", async () => {
    // Prepare: a budget that never allows a disruption (minAvailable equal to the replicas)
    const cluster = new SimulatedCluster(MINUTE, 100, [
      { name: 'web', covers: ['web-001'], allowed: () => 0 },
    ]);
    // Act
    const { last } = await restartOverInvocations(shop(2), cluster, {
      budgetMs: 4 * MINUTE,
      reserveMs: 30_000,
      rolloutTimeoutMs: 10 * MINUTE,
      waveSize: 5,
    });
    // Assess
    expect(last.done).toBe(false);
    expect(last.held?.map((held) => [held.workload.name, held.budget.name])).toEqual([['web-001', 'web']]);
    expect(cluster.restarts).toEqual(['shop/web-000']);
    expect(cluster.clock - T0).toBeGreaterThanOrEqual(10 * MINUTE);
    expect(cluster.clock - T0).toBeLessThan(11 * MINUTE);
  });
});
