// How each cluster's workloads were to move to the new intermediate, as the execution history says:
// the strategy preflight chose (its output, `$.preflight.clusters`), and what restart-workloads answered
// last for the cluster (its per-cluster Task's last exit, `progress`: the Map's own output keeps only the
// cluster's name, lambdas/contract/map-answers.ts): how many workloads it restarted and, for
// `resign`, what it waited for. Read from the history the rehearsal recorded, as an operator reads an
// execution's, so the report states what the product decided; the lab judges what happened on its own.
// With Distributed Maps, each cluster's restart-workloads ran in a child execution of its own: its
// answer is in that child's events (children.json), as an operator finds it through the Map Run.
import { clusterTaskName, WORKFLOW_STATES } from '../lib/workflow-states.js';

/** One cluster's strategy and, when restart-workloads finished, its last answer. */
export interface ClusterStrategy {
  readonly cluster: string;
  /** What preflight chose (`resign` or `restart`); absent when preflight gave no strategy. */
  readonly strategy?: string;
  /** restart-workloads' last answer for the cluster; absent when its Map did not finish. */
  readonly restartWorkloads?: RestartWorkloadsFigures;
}

export interface RestartWorkloadsFigures {
  /** The strategy restart-workloads applied, when its answer says. */
  readonly strategy?: string;
  /** Workloads it restarted (for `resign`: the fallback restarts). */
  readonly restarted: number;
  /** For `resign`: the proxies it waited for and what came of the wait. */
  readonly resign?: ResignFigures;
}

export interface ResignFigures {
  readonly pods: number;
  readonly moved: number;
  readonly waitedSeconds: number;
  /** Workloads restarted because they had not moved by the deadline. */
  readonly fallback: number;
  readonly fallbackWorkloads: readonly string[];
  /** Pods that had not moved by the deadline and that no restart can move (bare pods, Jobs). */
  readonly unmovedUnmanaged?: readonly string[];
}

type Json = Record<string, unknown>;

/**
 * Per cluster preflight named, in its order: its strategy and restart-workloads' answer, from the first
 * execution's preflight and restart-workloads exits (a resumed rollback runs neither). Empty when
 * preflight did not finish.
 */
export function clusterStrategies(
  history: readonly unknown[],
  children: readonly ChildEvents[] = [],
): ClusterStrategy[] {
  const preflight = exitOutput(history, 'preflight');
  const planned = asArray(asObject(preflight?.preflight)?.clusters);
  const answers = lastRestartAnswers(history, children);
  return planned.flatMap((item) => {
    const entry = asObject(item);
    const cluster = typeof entry?.name === 'string' ? entry.name : undefined;
    if (cluster === undefined) return [];
    const answer = answers.get(cluster);
    const figures = answer === undefined ? undefined : restartWorkloadsFigures(answer);
    return [
      {
        cluster,
        ...(typeof entry?.strategy === 'string' ? { strategy: entry.strategy } : {}),
        ...(figures === undefined ? {} : { restartWorkloads: figures }),
      },
    ];
  });
}

function restartWorkloadsFigures(answer: Json): RestartWorkloadsFigures | undefined {
  if (typeof answer.restarted !== 'number') return undefined;
  const resign = asObject(answer.resign);
  const numbers = ['pods', 'moved', 'waitedSeconds', 'fallback'] as const;
  const resignFigures: ResignFigures | undefined =
    resign !== undefined && numbers.every((key) => typeof resign[key] === 'number')
      ? {
          pods: resign.pods as number,
          moved: resign.moved as number,
          waitedSeconds: resign.waitedSeconds as number,
          fallback: resign.fallback as number,
          fallbackWorkloads: strings(resign.fallbackWorkloads),
          ...(Array.isArray(resign.unmovedUnmanaged)
            ? { unmovedUnmanaged: strings(resign.unmovedUnmanaged) }
            : {}),
        }
      : undefined;
  return {
    ...(typeof answer.strategy === 'string' ? { strategy: answer.strategy } : {}),
    restarted: answer.restarted,
    ...(resignFigures === undefined ? {} : { resign: resignFigures }),
  };
}

/** A Distributed Map's child execution: which Map started it, and its own events. */
export interface ChildEvents {
  readonly map: string;
  readonly events: readonly unknown[];
}

/**
 * restart-workloads' last answer per cluster, from its per-cluster Task's exits (each holds the answer as
 * `progress`) up to the Map's first exit, inline in the history or, Distributed, at the top of each of
 * its children (only the forward run has that Map: a resumed rollback restarts in rollback-restart);
 * none when the Map never finished.
 */
function lastRestartAnswers(
  history: readonly unknown[],
  children: readonly ChildEvents[],
): Map<string, Json> {
  const map = WORKFLOW_STATES.restartWorkloads;
  const perCluster = clusterTaskName(map);
  const last = new Map<string, Json>();
  const take = (exited: Json | undefined) => {
    if (exited?.name !== perCluster) return;
    const answer = asObject(asObject(exited.output)?.progress);
    if (typeof answer?.cluster === 'string') last.set(answer.cluster, answer);
  };
  for (const item of history) {
    const event = asObject(item);
    if (event?.type !== 'StateExited') continue;
    const exited = asObject(event.state);
    if (event.index === undefined) {
      if (exited?.name !== map) continue;
      for (const child of children.filter((candidate) => candidate.map === map)) {
        for (const childItem of child.events) {
          const childEvent = asObject(childItem);
          if (childEvent?.type === 'StateExited' && childEvent.index === undefined)
            take(asObject(childEvent.state));
        }
      }
      return last;
    }
    take(exited);
  }
  return new Map();
}

/** The output of the first top-level exit of `state` in the history. */
function exitOutput(history: readonly unknown[], state: string): Json | undefined {
  for (const item of history) {
    const event = asObject(item);
    if (event?.type !== 'StateExited' || event.index !== undefined) continue;
    const exited = asObject(event.state);
    if (exited?.name === state) return asObject(exited.output);
  }
  return undefined;
}

function asObject(value: unknown): Json | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : undefined;
}

function strings(value: unknown): string[] {
  return asArray(value).filter((item): item is string => typeof item === 'string');
}

function asArray(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value : [];
}

/** `lab-1 resign: 0 workload(s) restarted; 8 of 8 proxies moved in 12 s, 0 fallback`, for the summary. */
export function describeClusterStrategy(entry: ClusterStrategy): string {
  const answer = entry.restartWorkloads;
  const head = `${entry.cluster} ${entry.strategy ?? 'no strategy'}`;
  if (answer === undefined) return `${head}: restart-workloads did not finish`;
  const resign = answer.resign;
  return `${head}: ${answer.restarted} workload(s) restarted${
    resign === undefined
      ? ''
      : `; ${resign.moved} of ${resign.pods} proxies moved in ${resign.waitedSeconds} s, ${resign.fallback} fallback`
  }`;
}
