// Whether a chaos case ended as it must, read from what its rehearsal wrote (report.json) and what the
// runner saw of the process (exit code, processes left behind, key scan). Pure, like a cdk-nag rule:
// every check is a finding with a name, and the case passes when none failed. The expectations are
// the matrix's (state-graph.ts), not the rehearsal's own; the end state is checked against what each
// kind of end must leave, so a step that stops without undoing its write fails here even when the
// definition routes it that way.
import type { RehearsalReport } from '../rehearsal/rehearsal-report.js';
import type { ExpectedEnd } from './chaos-matrix.js';
import type { RehearsalMode } from './state-graph.js';

export interface ProcessLeft {
  readonly pid: number;
  readonly command: string;
}

/** What the runner knows of the case's process besides its report. */
export interface RunFacts {
  readonly exitCode: number | null;
  /** The case outlived its time limit and was killed. */
  readonly timedOut: boolean;
  /** Processes the case started that were still alive after it ended (then killed by the runner). */
  readonly processesLeft: readonly ProcessLeft[];
  /** Files of the report folder holding a private key (relative paths). */
  readonly filesWithKeys: readonly string[];
}

export interface CaseFinding {
  readonly check: string;
  readonly ok: boolean;
  readonly detail: string;
}

export interface CaseVerdict {
  readonly passed: boolean;
  readonly findings: readonly CaseFinding[];
}

/** The part of report.json a verdict reads (an older or partial report may lack some of it). */
export type JudgedReport = Pick<
  RehearsalReport,
  'result' | 'ok' | 'checks' | 'totals' | 'clusters' | 'mode' | 'cluster'
> &
  Partial<
    Pick<RehearsalReport, 'error' | 'endState' | 'faults' | 'interrupted' | 'handshakeFailures' | 'labLoad'>
  >;

export function judgeCase(
  expected: ExpectedEnd & { readonly mode: RehearsalMode },
  report: JudgedReport | undefined,
  run: RunFacts,
): CaseVerdict {
  const findings: CaseFinding[] = [
    {
      check: 'ended-in-time',
      ok: !run.timedOut,
      detail: run.timedOut ? 'killed at its time limit' : `exit ${run.exitCode}`,
    },
    {
      check: 'no-process-left',
      ok: run.processesLeft.length === 0,
      detail:
        run.processesLeft.length === 0
          ? 'nothing it started outlived it'
          : `left running: ${run.processesLeft.map((left) => `${left.pid} ${left.command.slice(0, 80)}`).join('; ')}`,
    },
    {
      check: 'no-private-key-in-report',
      ok: run.filesWithKeys.length === 0,
      detail:
        run.filesWithKeys.length === 0 ? 'none found' : `private key in ${run.filesWithKeys.join(', ')}`,
    },
  ];
  if (report === undefined) {
    findings.push({ check: 'report-written', ok: false, detail: `no report.json (exit ${run.exitCode})` });
    return verdict(findings);
  }
  const errorName = report.error?.name;
  findings.push(
    {
      check: 'end-as-expected',
      ok: report.result === expected.result && (expected.error === undefined || errorName === expected.error),
      detail: `expected ${describeEnd(expected.result, expected.error)}, got ${describeEnd(report.result, errorName)}`,
    },
    {
      check: 'no-failed-handshake',
      ok: report.totals.handshakes.failed === 0 && report.totals.handshakes.attempted > 0,
      detail: handshakeDetail(report),
    },
    {
      // The rehearsal's own checks (handshakes in every phase, istiod took every write, workloads on the
      // final intermediate, byte-identical after a rollback, every fault fired, ...), and its exit code.
      check: 'rehearsal-checks-pass',
      ok: report.ok && report.checks.every((check) => check.ok) && run.exitCode === 0,
      detail: rehearsalChecksDetail(report, run.exitCode),
    },
    endStateFinding(expected.mode, report),
  );
  const faults = report.faults ?? [];
  if (faults.length > 0) {
    const silent = faults.filter((fault) => fault.fired === 0);
    findings.push({
      check: 'every-fault-fired',
      ok: silent.length === 0,
      detail:
        silent.length === 0
          ? faults.map((fault) => `${fault.spec} ${fault.fired}x`).join(', ')
          : `never fired: ${silent.map((fault) => fault.spec).join(', ')}`,
    });
  }
  return verdict(findings);
}

/**
 * `50 failed of 224`, and when some failed, what they were (error and phase, most first) and whether
 * the model lab fell behind meanwhile (a renewal after its certificate expired: its own failure, not
 * the product's), so a failed case says where to look without its report folder.
 */
function handshakeDetail(report: JudgedReport): string {
  const { failed, attempted } = report.totals.handshakes;
  const counts = `${failed} failed of ${attempted}`;
  if (failed === 0) return counts;
  const kinds = new Map<string, number>();
  for (const failure of report.handshakeFailures ?? []) {
    const code = failure.error.split(':')[0] ?? failure.error;
    const key = `${code} in ${failure.phase}`;
    kinds.set(key, (kinds.get(key) ?? 0) + 1);
  }
  const what = [...kinds]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 4)
    .map(([key, count]) => `${count} ${key}`);
  const load = report.labLoad;
  const late = load?.renewals?.afterExpiry ?? 0;
  const lab =
    load === undefined
      ? []
      : [
          late > 0
            ? `the lab fell behind: ${late} renewal(s) after expiry, event loop delay max ${load.eventLoopDelayMs.max} ms`
            : `the lab kept time (no renewal after expiry, event loop delay max ${load.eventLoopDelayMs.max} ms)`,
        ];
  return [counts, ...what, ...lab].join('; ');
}

function verdict(findings: CaseFinding[]): CaseVerdict {
  return { passed: findings.every((finding) => finding.ok), findings };
}

function describeEnd(result: string, error: string | undefined): string {
  return result === 'FAILED' && error !== undefined ? `FAILED ${error}` : result;
}

function rehearsalChecksDetail(report: JudgedReport, exitCode: number | null): string {
  const failed = report.checks.filter((check) => !check.ok);
  if (failed.length > 0) return failed.map((check) => `${check.name}: ${check.detail}`).join('; ');
  if (report.interrupted !== undefined) return `interrupted by ${report.interrupted.signal}`;
  if (exitCode !== 0) return `every check passed, yet exit ${exitCode} (the key scan fails after the report)`;
  return `${report.checks.length} checks passed`;
}

/**
 * What each end must leave, from report.endState:
 * - ROLLED_BACK: every cluster as at start, no root pending;
 * - SUCCEEDED: scheduled/emergency every cluster on root B alone with a new intermediate; intermediate
 *   roots unchanged and only the rekeyed cluster on a new intermediate; no root pending either way;
 * - FAILED by a failed rollback (RollbackFailed): every cluster named, so the operator knows where each
 *   stands (it may be part-way: that is what the error says);
 * - any other FAILED (the run stopped): the fleet is whole on one side, every cluster as at start with
 *   nothing pending, or every cluster past the point of no return on root B alone.
 */
export function endStateFinding(mode: RehearsalMode, report: JudgedReport): CaseFinding {
  const check = 'end-state-consistent';
  const state = report.endState;
  if (state === undefined) return { check, ok: false, detail: 'the report has no endState' };
  const clusters = state.clusters;
  const named = new Set(clusters.map((cluster) => cluster.cluster));
  const missing = report.clusters.filter((cluster) => !named.has(cluster));
  if (missing.length > 0) return { check, ok: false, detail: `endState lacks ${missing.join(', ')}` };
  const describe = clusters
    .map(
      (cluster) =>
        `${cluster.cluster} ${cluster.asAtStart ? 'as at start' : 'changed'} (${cluster.roots.join('+')}, ${cluster.intermediate})`,
    )
    .concat(state.pendingRoot ? 'root pending' : 'no root pending')
    .join('; ');
  const asAtStart = clusters.every((cluster) => cluster.asAtStart) && !state.pendingRoot;
  const onRootB = clusters.every(
    (cluster) => cluster.roots.length === 1 && cluster.roots[0] === 'B' && cluster.intermediate === 'new',
  );
  let ok: boolean;
  switch (report.result) {
    case 'ROLLED_BACK':
      ok = asAtStart;
      break;
    case 'SUCCEEDED':
      ok =
        !state.pendingRoot &&
        (mode === 'intermediate'
          ? clusters.every(
              (cluster) =>
                cluster.roots.join('+') === 'A' &&
                (cluster.intermediate === 'new') === (cluster.cluster === report.cluster),
            )
          : onRootB);
      break;
    case 'FAILED':
      ok = report.error?.name === 'RollbackFailed' ? true : asAtStart || (onRootB && !state.pendingRoot);
      break;
    default:
      ok = false;
  }
  return { check, ok, detail: describe };
}
