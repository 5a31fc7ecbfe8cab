// Where a rotation's orchestration overhead went, from its history: every instant of the execution
// outside the waits it cannot shorten (bench/rotation-figures.ts) is given to the state in progress
// then, so the parts add up to the overhead. A state inside a Map iteration is preferred to its Map (an
// inline Map's time is its iterations'); a Distributed Map's iterations run in child executions the
// parent's history does not hold, so its time stays the Map's. Instants shared by states of different
// names (Map iterations at different steps) are split evenly between them; an instant with no state in
// progress is Step Functions moving from one state to the next.

import type { Interval, RotationHistoryEvent } from './history-events.js';

/** The part of the overhead no state was in progress for. */
export const BETWEEN_STATES = 'between states';

export interface StateOverhead {
  /** A state's name, or BETWEEN_STATES. */
  readonly state: string;
  readonly ms: number;
}

/** States that only hold others (their time is their children's) or wait (a wait, not overhead). */
const NOT_ATTRIBUTED = new Set(['Parallel', 'Wait']);

interface StateSpan extends Interval {
  readonly name: string;
  readonly outer: boolean;
}

/** Each state's time, entered to exited (or failed), Map iterations paired by index. */
function stateSpans(history: readonly RotationHistoryEvent[]): StateSpan[] {
  const open = new Map<string, number>();
  const spans: StateSpan[] = [];
  for (const event of history) {
    const state = event.state;
    if (state === undefined || NOT_ATTRIBUTED.has(state.type ?? '')) continue;
    const key = `${state.name}#${event.index ?? ''}`;
    if (event.type === 'StateEntered') open.set(key, event.timestamp);
    else if (event.type === 'StateExited' || event.type === 'StateFailed') {
      const from = open.get(key);
      open.delete(key);
      if (from !== undefined) {
        spans.push({ name: state.name, outer: state.type === 'Map', from, to: event.timestamp });
      }
    }
  }
  return spans;
}

/**
 * The overhead of `window` (its time outside `excluded`) by the state in progress, largest first; the
 * parts sum to the window's length less the excluded time.
 */
export function overheadByState(
  history: readonly RotationHistoryEvent[],
  window: Interval,
  excluded: readonly Interval[],
): StateOverhead[] {
  type Edge = { at: number; delta: 1 | -1; span?: StateSpan };
  const edges: Edge[] = [];
  const clip = (interval: Interval) => ({
    from: Math.max(window.from, interval.from),
    to: Math.min(window.to, interval.to),
  });
  for (const hole of excluded.map(clip)) {
    if (hole.to <= hole.from) continue;
    edges.push({ at: hole.from, delta: 1 }, { at: hole.to, delta: -1 });
  }
  for (const span of stateSpans(history)) {
    const { from, to } = clip(span);
    if (to <= from) continue;
    edges.push({ at: from, delta: 1, span }, { at: to, delta: -1, span });
  }
  edges.sort((a, b) => a.at - b.at);
  const totals = new Map<string, number>();
  const add = (name: string, ms: number) => totals.set(name, (totals.get(name) ?? 0) + ms);
  const active = new Map<StateSpan, true>();
  let holes = 0;
  let at = window.from;
  const attribute = (until: number) => {
    const length = until - at;
    if (length <= 0 || holes > 0) return;
    const spans = [...active.keys()];
    const inner = spans.filter((span) => !span.outer);
    const names = [...new Set((inner.length > 0 ? inner : spans).map((span) => span.name))];
    if (names.length === 0) add(BETWEEN_STATES, length);
    for (const name of names) add(name, length / names.length);
  };
  for (const edge of edges) {
    attribute(edge.at);
    at = Math.max(at, edge.at);
    if (edge.span === undefined) holes += edge.delta;
    else if (edge.delta === 1) active.set(edge.span, true);
    else active.delete(edge.span);
  }
  attribute(window.to);
  return [...totals]
    .map(([state, ms]) => ({ state, ms }))
    .filter((part) => part.ms > 0)
    .sort((a, b) => b.ms - a.ms || a.state.localeCompare(b.state));
}
