// Which phase the run is in, as the states it enters say, and the progress it reports: each phase's
// span, clusters done in a Map phase, the prober's counts, the lab's event-loop delay. Entering a phase
// labels the prober's rounds and sets off the faults given for it.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { FaultPlan } from './fault-plan.js';
import type { RehearsalFleet } from './fleet/rehearsal-fleet.js';
import type { RehearsalProgress } from './rehearsal-options.js';

type Json = Record<string, unknown>;

export interface PhaseSpan {
  readonly name: string;
  readonly startedAt: string;
  endedAt?: string;
}

export interface PhaseTracker {
  /** Every phase entered, in order; the last one open until stop(). */
  readonly phases: readonly PhaseSpan[];
  /** The phase the run is in (`initial` before the first state). */
  current(): string;
  /** Enters `name` unless the run is in it already: closes the open phase, labels traffic, sets off its faults. */
  enter(name: string): void;
  /** One cluster of a Map phase done. */
  mapIterationDone(map: string): void;
  /** A new execution counts its Maps' clusters afresh (a resumed rollback runs them again). */
  resetClusterCounts(): void;
  /** Reports progress now (it is also reported four times a second). */
  progress(): void;
  /** Closes the last phase, stops the periodic progress and the event-loop monitor. */
  stop(): void;
  /** The lab's event-loop delay over the run, in milliseconds. */
  eventLoopDelayMs(): { max: number; p99: number };
}

export function trackPhases(input: {
  readonly lab: Pick<RehearsalFleet, 'prober' | 'clusters'>;
  readonly definition: Json;
  readonly faults: FaultPlan;
  readonly onProgress?: (state: RehearsalProgress) => void;
}): PhaseTracker {
  const { lab, definition, faults, onProgress } = input;
  const prober = lab.prober;
  const phases: PhaseSpan[] = [];
  const clustersDone = new Map<string, number>();
  let currentPhase = 'initial';
  const progress = () => {
    const stats = prober.stats();
    onProgress?.({
      phase: currentPhase,
      clustersDone: clustersDone.get(currentPhase) ?? 0,
      clustersTotal: isMapPhase(definition, currentPhase) ? lab.clusters.length : 0,
      handshakes: stats.attempted,
      failures: stats.failed,
    });
  };
  // The lab runs in this process: a starved event loop delays certificate renewals, which the report
  // should be able to explain.
  const loopDelay = monitorEventLoopDelay({ resolution: 20 });
  loopDelay.enable();
  const ticker = setInterval(progress, 250);
  ticker.unref();
  return {
    phases,
    current: () => currentPhase,
    enter(name) {
      if (name === currentPhase) return;
      const now = new Date().toISOString();
      const open = phases[phases.length - 1];
      if (open !== undefined && open.endedAt === undefined) open.endedAt = now;
      phases.push({ name, startedAt: now });
      currentPhase = name;
      prober.setPhase(name);
      faults.enterPhase(name);
      progress();
    },
    mapIterationDone(map) {
      clustersDone.set(map, (clustersDone.get(map) ?? 0) + 1);
      progress();
    },
    resetClusterCounts: () => clustersDone.clear(),
    progress,
    stop() {
      const finalPhase = phases[phases.length - 1];
      if (finalPhase !== undefined) finalPhase.endedAt = new Date().toISOString();
      clearInterval(ticker);
      loopDelay.disable();
    },
    eventLoopDelayMs: () => ({
      max: Math.round(loopDelay.max / 1e6),
      p99: Math.round(loopDelay.percentile(99) / 1e6),
    }),
  };
}

function isMapPhase(definition: Json, name: string): boolean {
  return ((definition.States as Record<string, Json> | undefined)?.[name]?.Type ?? '') === 'Map';
}
