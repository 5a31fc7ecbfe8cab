// The model lab's own waits during a run, which no orchestration can shorten: the delays it is set
// to play (a kubelet volume sync before istiod sees a cacerts change, istiod's push of new roots, a
// pod's start) and the pods it started, each from created to ready. `npm run bench`'s rotation section
// reads them from report.json to tell the rotation's own time from the lab's (bench/rotation-figures.ts).
import type { PodEvent } from '../lab/workloads/rollout-controller.js';

/** The delays the model lab plays, as configured for the run. */
export interface LabDelays {
  /** From a cacerts change to istiod seeing the files (the kubelet's volume sync). */
  readonly volumeSyncDelayMs: number;
  /** From istiod loading new roots to publishing them. */
  readonly pushDelayMs: number;
  /** How long a new pod stays Pending before it is Running and Ready. */
  readonly podStartDelayMs: number;
}

/** Pods starting at once: from the first one's creation to the last one's readiness (ISO dates). */
export interface PodStartSpan {
  readonly startedAt: string;
  readonly readyAt: string;
  /** Pods that became ready in the span. */
  readonly pods: number;
}

export interface LabWaits extends LabDelays {
  /** The pods the lab started while the execution ran, merged into spans where one was starting. */
  readonly podStarts: readonly PodStartSpan[];
}

/** One pod's start, epoch ms. */
export interface PodStart {
  readonly createdAt: number;
  readonly readyAt: number;
}

export interface PodStartRecorder {
  readonly onPodEvent: (cluster: string, event: PodEvent) => void;
  /** Every pod start recorded so far (created, then ready), in the order they became ready. */
  starts(): readonly PodStart[];
}

/** Records each pod from its creation to its readiness (a pod deleted before it was ready is dropped). */
export function recordPodStarts(now: () => number = Date.now): PodStartRecorder {
  const created = new Map<string, number>();
  const starts: PodStart[] = [];
  return {
    onPodEvent: (cluster, { type, pod }) => {
      const key = `${cluster}/${String(pod.metadata.uid ?? '')}`;
      if (type === 'created') created.set(key, now());
      else {
        const at = created.get(key);
        created.delete(key);
        if (type === 'ready' && at !== undefined) starts.push({ createdAt: at, readyAt: now() });
      }
    },
    starts: () => [...starts],
  };
}

/**
 * The starts that overlap [from, to] (epoch ms), cut to it and merged where they overlap: the time
 * during which at least one pod was starting, and how many.
 */
export function podStartSpans(starts: readonly PodStart[], from: number, to: number): PodStartSpan[] {
  const inside = starts
    .filter((start) => start.readyAt > from && start.createdAt < to)
    .map((start) => ({ createdAt: Math.max(from, start.createdAt), readyAt: Math.min(to, start.readyAt) }))
    .sort((a, b) => a.createdAt - b.createdAt);
  const spans: { startedAt: number; readyAt: number; pods: number }[] = [];
  for (const start of inside) {
    const last = spans.at(-1);
    if (last !== undefined && start.createdAt <= last.readyAt) {
      last.readyAt = Math.max(last.readyAt, start.readyAt);
      last.pods += 1;
    } else spans.push({ startedAt: start.createdAt, readyAt: start.readyAt, pods: 1 });
  }
  return spans.map((span) => ({
    startedAt: new Date(span.startedAt).toISOString(),
    readyAt: new Date(span.readyAt).toISOString(),
    pods: span.pods,
  }));
}
