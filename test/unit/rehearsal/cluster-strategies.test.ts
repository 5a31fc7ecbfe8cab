import { clusterStrategies, describeClusterStrategy } from '../../../rehearsal/cluster-strategies.js';

/** A top-level state's exit with its output, as the rehearsal's history.json records it. */
const exited = (name: string, type: string, output: unknown) => ({
  type: 'StateExited',
  state: { name, type, output },
});

/** restart-workloads' per-cluster Task's exit in iteration `index`: its answer is the output's `progress`. */
const restartExit = (index: number, progress: Record<string, unknown>) => ({
  type: 'StateExited',
  index,
  state: {
    name: 'restart-workloads-in-cluster',
    type: 'Task',
    output: { cluster: progress.cluster, progress },
  },
});
/** The Map's own exit: the state keeps only each cluster's name (lambdas/contract/map-answers.ts). */
const restartMapExit = (clusters: string[]) =>
  exited('restart-workloads', 'Map', { restarted: clusters.map((cluster) => ({ cluster })) });

const preflightExit = exited('preflight', 'Task', {
  mode: 'scheduled',
  preflight: {
    clusters: [
      { name: 'lab-1', strategy: 'resign' },
      { name: 'lab-2', strategy: 'restart' },
    ],
  },
});

describe('clusterStrategies: what preflight chose and restart-workloads answered, from the history', () => {
  it("reads each cluster's strategy from preflight's output and restart-workloads' resign figures", () => {
    // Prepare
    const history = [
      { type: 'ExecutionStarted' },
      preflightExit,
      // lab-2 restarted in two invocations: its last answer counts.
      restartExit(0, { cluster: 'lab-2', strategy: 'restart', restarted: 2, done: false }),
      restartExit(1, {
        cluster: 'lab-1',
        strategy: 'resign',
        restarted: 1,
        done: true,
        resign: { pods: 4, moved: 3, waitedSeconds: 95, fallback: 1, fallbackWorkloads: ['shop/app-02'] },
      }),
      restartExit(0, { cluster: 'lab-2', strategy: 'restart', restarted: 4, done: true }),
      restartMapExit(['lab-2', 'lab-1']),
      // Exits after the Map's (a later execution's) are not this run's answers.
      {
        type: 'StateExited',
        index: 0,
        state: {
          name: 'restart-workloads-in-cluster',
          output: { progress: { cluster: 'lab-1', restarted: 9 } },
        },
      },
    ];

    // Act
    const strategies = clusterStrategies(history);

    // Assess
    expect(strategies).toEqual([
      {
        cluster: 'lab-1',
        strategy: 'resign',
        restartWorkloads: {
          strategy: 'resign',
          restarted: 1,
          resign: { pods: 4, moved: 3, waitedSeconds: 95, fallback: 1, fallbackWorkloads: ['shop/app-02'] },
        },
      },
      { cluster: 'lab-2', strategy: 'restart', restartWorkloads: { strategy: 'restart', restarted: 4 } },
    ]);
  });

  it('reads an answer without strategy or resign figures (restart-workloads before issue 17)', () => {
    // Prepare
    const history = [
      preflightExit,
      restartExit(0, { cluster: 'lab-1', restarted: 2 }),
      restartMapExit(['lab-1']),
    ];

    // Act
    const [lab1, lab2] = clusterStrategies(history);

    // Assess
    expect(lab1).toEqual({ cluster: 'lab-1', strategy: 'resign', restartWorkloads: { restarted: 2 } });
    expect(lab2).toEqual({ cluster: 'lab-2', strategy: 'restart' });
  });

  it('has the strategies alone when restart-workloads never finished, and nothing without preflight', () => {
    // Act
    const stopped = clusterStrategies([preflightExit, restartExit(0, { cluster: 'lab-1', restarted: 2 })]);
    const refused = clusterStrategies([
      { type: 'ExecutionStarted' },
      { type: 'StateEntered', state: { name: 'preflight' } },
    ]);

    // Assess
    expect(stopped.map((entry) => entry.restartWorkloads)).toEqual([undefined, undefined]);
    expect(refused).toEqual([]);
  });
});

describe('clusterStrategies with Distributed Maps: each cluster restarted in a child execution', () => {
  /** A child's own exit of its per-cluster Task: at the top of the child, so without an index. */
  const childRestart = (progress: Record<string, unknown>) => ({
    map: 'restart-workloads',
    events: [
      { type: 'ExecutionStarted' },
      { ...restartExit(0, { ...progress, done: false }), index: undefined },
      { ...restartExit(0, progress), index: undefined },
      { type: 'ExecutionSucceeded' },
    ],
  });

  it("reads each cluster's last answer from its child once the Map exited, and none from another Map's children", () => {
    // Arrange: the parent records the Map, not its children's states
    const history = [preflightExit, restartMapExit(['lab-1', 'lab-2'])];
    const children = [
      childRestart({ cluster: 'lab-2', strategy: 'restart', restarted: 4, done: true }),
      childRestart({ cluster: 'lab-1', strategy: 'resign', restarted: 1, done: true }),
      {
        ...childRestart({ cluster: 'lab-1', strategy: 'restart', restarted: 9, done: true }),
        map: 'rollback-restart',
      },
    ];

    // Act
    const strategies = clusterStrategies(history, children);
    const withoutChildren = clusterStrategies(history);

    // Assess
    expect(strategies.map((entry) => [entry.cluster, entry.restartWorkloads])).toEqual([
      ['lab-1', { strategy: 'resign', restarted: 1 }],
      ['lab-2', { strategy: 'restart', restarted: 4 }],
    ]);
    expect(withoutChildren.map((entry) => entry.restartWorkloads)).toEqual([undefined, undefined]);
  });

  it('reads no child while the Map has not exited', () => {
    // Act
    const strategies = clusterStrategies(
      [preflightExit],
      [childRestart({ cluster: 'lab-1', strategy: 'resign', restarted: 1, done: true })],
    );

    // Assess
    expect(strategies.map((entry) => entry.restartWorkloads)).toEqual([undefined, undefined]);
  });
});

describe('describeClusterStrategy', () => {
  it('says the strategy, the restarts and, for resign, the wait', () => {
    expect(
      describeClusterStrategy({
        cluster: 'lab-1',
        strategy: 'resign',
        restartWorkloads: {
          restarted: 0,
          resign: { pods: 4, moved: 4, waitedSeconds: 12, fallback: 0, fallbackWorkloads: [] },
        },
      }),
    ).toBe('lab-1 resign: 0 workload(s) restarted; 4 of 4 proxies moved in 12 s, 0 fallback');
    expect(describeClusterStrategy({ cluster: 'lab-2', strategy: 'restart' })).toBe(
      'lab-2 restart: restart-workloads did not finish',
    );
  });
});
