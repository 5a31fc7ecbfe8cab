// A state's event in an execution's history as bench/rotation-figures.ts reads it, `ms` after T0: for
// the bench's unit tests, which write histories by hand.
import type { RotationHistoryEvent } from '../../bench/rotation-figures.js';

export const T0 = Date.parse('2026-12-01T12:00:00.000Z');

export function stateEvent(
  type: string,
  name: string,
  stateType: string,
  ms: number,
  index?: number,
): RotationHistoryEvent {
  return {
    type,
    timestamp: T0 + ms,
    state: { name, type: stateType },
    ...(index !== undefined && { index }),
  };
}
