// chaos/results.json and the table printed at the end, from the same rows. A run of some cases
// (--only) replaces those and keeps the other cases' previous results, each with its own date and
// revision, so the file builds up the whole matrix over several runs and never mixes results without
// saying when and on what code each was taken. Pure apart from the reads in chaos-cli.ts.
import type { MachineInfo, Revision } from '../bench/bench-results.js';
import { formatDuration, renderText, type Table } from '../bench/text-table.js';
import type { RehearsalReport } from '../rehearsal/rehearsal-report.js';
import type { CaseKind, ChaosCase, ExpectedEnd } from './chaos-matrix.js';
import type { CaseVerdict, RunFacts } from './judge-case.js';
import { KILLED_MID_WAIT } from './judge-kill-case.js';
import type { RehearsalMode } from './state-graph.js';

export const RESULTS_SCHEMA = 1;

export interface ChaosSettings {
  readonly engine: 'model';
  readonly clusters: number;
  readonly workloads: number;
}

export interface CaseOutcome {
  readonly exitCode: number | null;
  readonly result?: string;
  readonly error?: string;
  readonly handshakes?: { readonly attempted: number; readonly failed: number };
  /** After a rollback: every cluster's cacerts byte for byte as at the start (the rehearsal's check). */
  readonly byteIdentical?: boolean;
  readonly faultsFired?: readonly { readonly spec: string; readonly fired: number }[];
}

export interface CaseResult {
  readonly id: string;
  readonly mode: RehearsalMode;
  readonly kind: CaseKind;
  readonly flags: readonly string[];
  readonly expected: ExpectedEnd;
  readonly passed: boolean;
  /** The findings that failed, `check: detail`; empty when it passed. */
  readonly failed: readonly string[];
  /** A mid-wait kill case: where each of its kills landed in its wait, passed or not (killed-mid-wait). */
  readonly killedMidWait?: readonly string[];
  readonly outcome: CaseOutcome;
  readonly measuredAt: string;
  readonly durationMs: number;
  readonly revision?: Revision;
}

export interface ChaosResults {
  readonly schema: typeof RESULTS_SCHEMA;
  readonly generatedAt: string;
  readonly settings: ChaosSettings;
  readonly machine: MachineInfo;
  /** How many cases the matrix had when the file was written; `cases` holds those ever run. */
  readonly matrixCases: number;
  readonly cases: readonly CaseResult[];
}

export function caseResult(
  chaosCase: ChaosCase,
  run: {
    readonly verdict: CaseVerdict;
    readonly facts: RunFacts;
    readonly report?: RehearsalReport;
    readonly durationMs: number;
  },
  measuredAt: string,
  revision: Revision | undefined,
): CaseResult {
  const { report } = run;
  const killedMidWait = run.verdict.findings
    .filter((finding) => finding.check === KILLED_MID_WAIT)
    .map((finding) => finding.detail);
  const byteIdentical = report?.checks.find((check) => check.name === 'cacerts-byte-identical-to-start');
  const outcome: CaseOutcome = {
    exitCode: run.facts.exitCode,
    ...(report === undefined
      ? {}
      : {
          result: report.result,
          ...(report.error === undefined ? {} : { error: report.error.name }),
          handshakes: report.totals.handshakes,
          ...(byteIdentical === undefined ? {} : { byteIdentical: byteIdentical.ok }),
          ...(report.faults === undefined
            ? {}
            : { faultsFired: report.faults.map((fault) => ({ spec: fault.spec, fired: fault.fired })) }),
        }),
  };
  return {
    id: chaosCase.id,
    mode: chaosCase.mode,
    kind: chaosCase.kind,
    flags: chaosCase.flags,
    expected: chaosCase.expected,
    passed: run.verdict.passed,
    failed: run.verdict.findings
      .filter((finding) => !finding.ok)
      .map((finding) => `${finding.check}: ${finding.detail}`),
    ...(killedMidWait.length === 0 ? {} : { killedMidWait }),
    outcome,
    measuredAt,
    durationMs: run.durationMs,
    ...(revision === undefined ? {} : { revision }),
  };
}

/**
 * This run's cases over the previous file's, in matrix order. Previous results survive only for cases
 * still in the matrix and taken with the same settings (fleet size): others would not be comparable.
 */
export function mergeResults(input: {
  readonly previous: ChaosResults | undefined;
  readonly run: readonly CaseResult[];
  readonly matrix: readonly ChaosCase[];
  readonly settings: ChaosSettings;
  readonly machine: MachineInfo;
  readonly generatedAt: string;
}): ChaosResults {
  const comparable =
    input.previous !== undefined &&
    JSON.stringify(input.previous.settings) === JSON.stringify(input.settings);
  const byId = new Map(
    (comparable ? (input.previous?.cases ?? []) : []).map((result) => [result.id, result]),
  );
  for (const result of input.run) byId.set(result.id, result);
  const cases = input.matrix
    .map((chaosCase) => byId.get(chaosCase.id))
    .filter((result): result is CaseResult => result !== undefined);
  return {
    schema: RESULTS_SCHEMA,
    generatedAt: input.generatedAt,
    settings: input.settings,
    machine: input.machine,
    matrixCases: input.matrix.length,
    cases,
  };
}

/** The previous results.json, or undefined when there is none or it is of another schema. */
export function parseResults(text: string | undefined): ChaosResults | undefined {
  if (text === undefined) return undefined;
  try {
    const parsed = JSON.parse(text) as Partial<ChaosResults>;
    return parsed.schema === RESULTS_SCHEMA && Array.isArray(parsed.cases)
      ? (parsed as ChaosResults)
      : undefined;
  } catch {
    return undefined;
  }
}

export function serializeResults(results: ChaosResults): string {
  return `${JSON.stringify(results, null, 2)}\n`;
}

export function describeExpected(expected: ExpectedEnd): string {
  return expected.result === 'FAILED' && expected.error !== undefined
    ? `FAILED ${expected.error}`
    : expected.result;
}

export function resultsTable(results: readonly CaseResult[]): Table {
  return {
    columns: ['case', 'expected', 'got', 'handshakes', 'failed', 'byte-identical', 'time', 'verdict'],
    numeric: [3, 4, 6],
    rows: results.map((result) => {
      const { outcome } = result;
      const got =
        outcome.result === undefined
          ? `no report (exit ${outcome.exitCode})`
          : describeExpected({
              result: outcome.result as ExpectedEnd['result'],
              ...(outcome.error === undefined ? {} : { error: outcome.error }),
            });
      return [
        result.id,
        describeExpected(result.expected),
        got,
        outcome.handshakes === undefined ? '-' : String(outcome.handshakes.attempted),
        outcome.handshakes === undefined ? '-' : String(outcome.handshakes.failed),
        outcome.byteIdentical === undefined ? '-' : outcome.byteIdentical ? 'yes' : 'NO',
        formatDuration(result.durationMs),
        result.passed ? 'pass' : 'FAIL',
      ];
    }),
  };
}

/** The end of a run: the table, where each mid-wait kill landed, each failed case's findings, and the count. */
export function renderSummary(run: readonly CaseResult[], matrixCases: number): string[] {
  const failed = run.filter((result) => !result.passed);
  return [
    ...renderText(resultsTable(run)),
    ...run.flatMap((result) => (result.killedMidWait ?? []).map((line) => `${result.id}: ${line}`)),
    ...failed.flatMap((result) => [`${result.id}:`, ...result.failed.map((line) => `  ${line}`)]),
    `${run.length - failed.length} of ${run.length} case(s) passed (the matrix has ${matrixCases})`,
  ];
}
