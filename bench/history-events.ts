// What the rotation section reads of an execution's history.json, and the spans it measures in it;
// declared apart so that rotation-figures.ts and overhead-by-state.ts both read them without a cycle.

/** One event of history.json (the fields read here). */
export interface RotationHistoryEvent {
  readonly type: string;
  readonly timestamp: number;
  readonly index?: number;
  readonly state?: { readonly name: string; readonly type?: string };
}

/** A span of time, ms since the epoch. */
export interface Interval {
  readonly from: number;
  readonly to: number;
}
