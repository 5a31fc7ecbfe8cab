// How each workload went through the rotation, from what the lab saw itself: the certificate its proxy
// held and the pods' UIDs (the lab's Kubernetes API) before the execution started and after the settle
// window. Pairs start and end by workload, since a restart gives the pods new names and UIDs, and turns
// that into the checks of issue 17's proof: a `resign` cluster restarted no pod, and every workload of a
// rotated cluster moved from its start intermediate to its final one. Pure: the rehearsal reads, this
// judges, with the lab's own rules rather than the product's.

import type { ClusterStrategy } from './cluster-strategies.js';
import type { WorkloadCertificate } from './fleet/rehearsal-fleet.js';

/** One pod of a workload as the lab saw it: its name, UID and the issuer of the certificate it held. */
export interface ObservedPod {
  /** namespace/pod */
  readonly pod: string;
  readonly uid: string;
  /** SHA-256 of the intermediate that signed its certificate. */
  readonly issuer: string;
}

export interface WorkloadMove {
  readonly cluster: string;
  /** `namespace/Kind/name` of the controller that owns its pods. */
  readonly workload: string;
  /** Its ready pods before the execution started. */
  readonly start: readonly ObservedPod[];
  /** Its ready pods at the end (after the settle window). */
  readonly end: readonly ObservedPod[];
  /** A pod at the end that was not there at the start (a new UID), or a pod of the start gone. */
  readonly restarted: boolean;
}

/** What the rehearsal's checks return (rehearsal-report.ts's ReportCheck). */
interface Check {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

/** Start and end observations paired by cluster and workload, in the order first seen. */
export function workloadMoves(
  start: readonly WorkloadCertificate[],
  end: readonly WorkloadCertificate[],
): WorkloadMove[] {
  const byWorkload = new Map<
    string,
    { cluster: string; workload: string; start: ObservedPod[]; end: ObservedPod[] }
  >();
  const add = (held: WorkloadCertificate, when: 'start' | 'end') => {
    const key = `${held.cluster}\u0000${held.workload}`;
    const entry = byWorkload.get(key) ?? {
      cluster: held.cluster,
      workload: held.workload,
      start: [],
      end: [],
    };
    entry[when].push({ pod: held.pod, uid: held.uid, issuer: held.issuer });
    byWorkload.set(key, entry);
  };
  for (const held of start) add(held, 'start');
  for (const held of end) add(held, 'end');
  return [...byWorkload.values()].map((entry) => {
    const startUids = new Set(entry.start.map((pod) => pod.uid));
    const endUids = new Set(entry.end.map((pod) => pod.uid));
    const restarted =
      entry.end.some((pod) => !startUids.has(pod.uid)) || entry.start.some((pod) => !endUids.has(pod.uid));
    return { ...entry, restarted };
  });
}

/** restart-workloads' count of workloads it restarted because they had not moved by the deadline. */
export function fallbackRestarts(strategy: ClusterStrategy): number | undefined {
  const answer = strategy.restartWorkloads;
  if (answer === undefined) return undefined;
  // Before restart-workloads reported resign figures, every workload it restarted counted.
  return answer.resign?.fallback ?? answer.restarted;
}

/**
 * Every cluster that preflight set to `resign` and where restart-workloads restarted nothing as a
 * fallback kept every pod: each pod at the end was there at the start, and none of the start is gone.
 * A cluster with fallback restarts is named, not judged (those restarts are the design's, and the
 * report lists them). No check when no cluster is `resign`.
 */
export function resignNoPodsRestartedCheck(
  strategies: readonly ClusterStrategy[],
  moves: readonly WorkloadMove[],
): Check | undefined {
  const resign = strategies.filter((entry) => entry.strategy === 'resign');
  if (resign.length === 0) return undefined;
  const fellBack = resign.filter((entry) => (fallbackRestarts(entry) ?? 0) > 0);
  const judged = resign.filter((entry) => !fellBack.includes(entry));
  const problems: string[] = [];
  let pods = 0;
  for (const { cluster } of judged) {
    const ofCluster = moves.filter((move) => move.cluster === cluster);
    pods += ofCluster.reduce((sum, move) => sum + move.end.length, 0);
    if (ofCluster.length === 0) problems.push(`${cluster}: no pod observed`);
    for (const move of ofCluster.filter((entry) => entry.restarted)) {
      problems.push(
        `${cluster}/${move.workload}: pods ${uids(move.start)} at the start, ${uids(move.end)} at the end`,
      );
    }
  }
  const excused =
    fellBack.length === 0
      ? ''
      : `; not judged, restart-workloads restarted workloads that did not move by its deadline: ${fellBack
          .map((entry) => `${entry.cluster} (${fallbackRestarts(entry)})`)
          .join(', ')}`;
  return {
    name: 'resign-no-pods-restarted',
    ok: problems.length === 0,
    detail:
      problems.length === 0
        ? `${judged.length === 0 ? 'no resign cluster without fallback restarts' : `${pods} pod(s) in ${judged.map((entry) => entry.cluster).join(', ')}, every UID as at the start`}${excused}`
        : `${problems.length} restarted: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? '; ...' : ''}${excused}`,
  };
}

/**
 * Every workload of each cluster that rotated (`clusters`) moved: every pod at the start held a
 * certificate of the cluster's start intermediate, every pod at the end one of its final intermediate,
 * and the two differ. A cluster with no workload observed fails too: it would prove nothing.
 */
export function workloadsMovedCheck(input: {
  readonly clusters: readonly string[];
  readonly initial: readonly { readonly cluster: string; readonly caCert?: string }[];
  readonly final: readonly { readonly cluster: string; readonly caCert?: string }[];
  readonly moves: readonly WorkloadMove[];
}): Check {
  const problems: string[] = [];
  let checked = 0;
  for (const cluster of input.clusters) {
    const from = input.initial.find((entry) => entry.cluster === cluster)?.caCert;
    const to = input.final.find((entry) => entry.cluster === cluster)?.caCert;
    const ofCluster = input.moves.filter((move) => move.cluster === cluster);
    if (ofCluster.length === 0) {
      problems.push(`${cluster}: no workload observed`);
      continue;
    }
    if (from === undefined || to === undefined || from === to) {
      problems.push(`${cluster}: intermediate ${short(from)} at the start, ${short(to)} at the end`);
      continue;
    }
    for (const move of ofCluster) {
      checked += 1;
      const fromStart = move.start.length > 0 && move.start.every((pod) => pod.issuer === from);
      const toFinal = move.end.length > 0 && move.end.every((pod) => pod.issuer === to);
      if (!fromStart || !toFinal) {
        problems.push(`${cluster}/${move.workload}: ${issuers(move.start)} -> ${issuers(move.end)}`);
      }
    }
  }
  return {
    name: 'workloads-moved-to-new-intermediate',
    ok: problems.length === 0,
    detail:
      problems.length === 0
        ? `${checked} workload(s) in ${input.clusters.join(', ')}, each from its cluster's start intermediate to its final one`
        : `expected each workload to move from its cluster's start intermediate to its final one: ${problems
            .slice(0, 5)
            .join('; ')}${problems.length > 5 ? `; and ${problems.length - 5} more` : ''}`,
  };
}

/** The first 8 hex digits of a fingerprint, as the report shows them; `none` for an absent one. */
export function short(fingerprint: string | undefined): string {
  return fingerprint === undefined || fingerprint === '' ? 'none' : fingerprint.slice(0, 8);
}

function issuers(pods: readonly ObservedPod[]): string {
  return pods.length === 0 ? 'no pod' : [...new Set(pods.map((pod) => short(pod.issuer)))].join('+');
}

function uids(pods: readonly ObservedPod[]): string {
  return pods.length === 0 ? 'none' : pods.map((pod) => pod.uid.slice(0, 8)).join(', ');
}

/** `lab-1 shop/Deployment/app-01: 1a2b3c4d -> 5e6f7a8b, restarted no`, for the summary. */
export function describeWorkloadMove(move: WorkloadMove): string {
  return `${move.cluster} ${move.workload}: ${issuers(move.start)} -> ${issuers(move.end)}, restarted ${
    move.restarted ? 'yes' : 'no'
  }`;
}
