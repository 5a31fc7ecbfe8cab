// The overhead by the state in progress, from histories written here: each instant outside the waits goes
// to one state (or is split), the parts add up to the overhead, and an instant with no state is Step
// Functions between states. No timing.
import { BETWEEN_STATES, overheadByState } from '../../../bench/overhead-by-state.js';
import { stateEvent, T0 } from '../../support/state-event.js';

const state = stateEvent;
const WINDOW = { from: T0, to: T0 + 20_000 };
const total = (parts: readonly { ms: number }[]) => parts.reduce((sum, part) => sum + part.ms, 0);

describe('overheadByState', () => {
  it('gives each instant outside the waits to the state in progress, the gaps to between states', () => {
    // Prepare: preflight 0-2 s, a Wait 3-13 s (excluded twice: a wait and istiod's load 12-14 s), a Task
    // 14-19 s with a pod start 15-17 s inside it
    const history = [
      state('StateEntered', 'preflight', 'Task', 0),
      state('StateExited', 'preflight', 'Task', 2000),
      state('StateEntered', 'await-proxy-trust', 'Wait', 3000),
      state('StateExited', 'await-proxy-trust', 'Wait', 13_000),
      state('StateEntered', 'restart-workloads', 'Task', 14_000),
      state('StateExited', 'restart-workloads', 'Task', 19_000),
    ];
    const excluded = [
      { from: T0 + 3000, to: T0 + 13_000 },
      { from: T0 + 12_000, to: T0 + 14_000 },
      { from: T0 + 15_000, to: T0 + 17_000 },
    ];

    // Act
    const parts = overheadByState(history, WINDOW, excluded);

    // Assess: 20 s less 11 s of waits (3-14 s merged) less 2 s of pod start
    expect(parts).toEqual([
      { state: 'restart-workloads', ms: 3000 },
      { state: BETWEEN_STATES, ms: 2000 },
      { state: 'preflight', ms: 2000 },
    ]);
    expect(total(parts)).toBe(7000);
  });

  it("prefers a Map iteration's states to the Map and splits instants shared by two names", () => {
    // Prepare: an inline Map 0-10 s; iteration 0 runs a Task 1-9 s, iteration 1 a Task 1-5 s and then a
    // Pass 5-7 s
    const history = [
      state('StateEntered', 'reissue-map', 'Map', 0),
      state('StateEntered', 'reissue', 'Task', 1000, 0),
      state('StateEntered', 'reissue', 'Task', 1000, 1),
      state('StateExited', 'reissue', 'Task', 5000, 1),
      state('StateEntered', 'reissued', 'Pass', 5000, 1),
      state('StateExited', 'reissued', 'Pass', 7000, 1),
      state('StateFailed', 'reissue', 'Task', 9000, 0),
      state('StateExited', 'reissue-map', 'Map', 10_000),
    ];

    // Act
    const parts = overheadByState(history, { from: T0, to: T0 + 10_000 }, []);

    // Assess: the Map alone 0-1 s and 9-10 s; reissue alone 1-5 s and 7-9 s; 5-7 s split in two
    expect(parts).toEqual([
      { state: 'reissue', ms: 7000 },
      { state: 'reissue-map', ms: 2000 },
      { state: 'reissued', ms: 1000 },
    ]);
  });

  it("keeps a Distributed Map's time the Map's (its iterations are in child executions)", () => {
    const history = [
      state('StateEntered', 'distribute-bundle', 'Map', 1000),
      state('StateExited', 'distribute-bundle', 'Map', 8000),
    ];

    const parts = overheadByState(history, { from: T0, to: T0 + 10_000 }, [
      { from: T0 + 2000, to: T0 + 4000 },
    ]);

    expect(parts).toEqual([
      { state: 'distribute-bundle', ms: 5000 },
      { state: BETWEEN_STATES, ms: 3000 },
    ]);
  });
});
