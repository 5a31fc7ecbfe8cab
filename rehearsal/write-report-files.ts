// The files of one rehearsal in its --out directory. Public material only: certificates and
// fingerprints, never ca-key.pem; the key scan (private-key-scan.ts) checks that afterwards. The
// directory is made and proved writable before anything starts; each file appears whole (written
// atomically), report.json last, so a reader that finds it finds every other file complete.
import { mkdir, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { CacertsSnapshot } from '../lab/cacerts-snapshot.js';
import { makeDirectory } from '../lab/make-directory.js';
import { writeFileAtomically } from '../lab/write-file-atomically.js';
import type { FunctionLogLine } from './function-pool.js';
import { jsonArrayFileChunks } from './json-array-file-chunks.js';
import { ReportDirectoryError } from './rehearsal-errors.js';
import type { RehearsalReport } from './rehearsal-report.js';
import { renderReportHtml } from './report-html.js';

export interface ReportFiles {
  readonly report: RehearsalReport;
  /** The execution's events, as aws-local-stepfunctions gave them. */
  readonly history: readonly unknown[];
  /** A Distributed Map's child executions, each with its own events; children.json only when any. */
  readonly children?: readonly unknown[];
  readonly functionLogs: readonly FunctionLogLine[];
  readonly initial: readonly CacertsSnapshot[];
  readonly final: readonly CacertsSnapshot[];
}

export const REPORT_FILES = {
  json: 'report.json',
  html: 'report.html',
  history: 'history.json',
  children: 'children.json',
  audit: 'audit.jsonl',
  logs: 'logs',
} as const;

const PUBLIC_CACERTS_FILES = ['ca-cert.pem', 'cert-chain.pem', 'root-cert.pem'] as const;

/**
 * Creates the report directory (parents too) and writes and removes a file in it, so that a directory
 * that cannot hold the report is refused before the run, not after it. `discard` removes what it
 * created while still empty (for a run refused before it started).
 */
export async function prepareReportDirectory(directory: string): Promise<{ discard(): Promise<void> }> {
  let created: string[] = [];
  const discard = async () => {
    for (const dir of created.reverse()) {
      if (
        !(await rmdir(dir).then(
          () => true,
          () => false,
        ))
      )
        return;
    }
  };
  try {
    created = await makeDirectory(directory);
    const probe = join(directory, `.write-check.${process.pid}`);
    await writeFileAtomically(probe, '');
    await rm(probe);
  } catch (error) {
    await discard();
    throw new ReportDirectoryError(directory, (error as Error).message, { cause: error });
  }
  return { discard };
}

export async function writeReportFiles(directory: string, files: ReportFiles): Promise<void> {
  await mkdir(directory, { recursive: true });
  await writeFileAtomically(join(directory, REPORT_FILES.html), renderReportHtml(files.report));
  await writeFileAtomically(join(directory, REPORT_FILES.history), jsonArrayFileChunks(files.history));
  if (files.children !== undefined && files.children.length > 0) {
    await writeFileAtomically(join(directory, REPORT_FILES.children), jsonArrayFileChunks(files.children));
  }
  await writeFileAtomically(
    join(directory, REPORT_FILES.audit),
    auditLines(files.functionLogs)
      .map((line) => `${line}\n`)
      .join(''),
  );
  const logs = join(directory, REPORT_FILES.logs);
  await mkdir(logs, { recursive: true });
  const byHandler = new Map<string, string[]>();
  for (const entry of files.functionLogs) {
    const lines = byHandler.get(entry.handlerName) ?? [];
    lines.push(`${entry.at.toISOString()} ${entry.stream} ${entry.line}`);
    byHandler.set(entry.handlerName, lines);
  }
  for (const [handler, lines] of byHandler) {
    await writeFileAtomically(join(logs, `${handler}.log`), `${lines.join('\n')}\n`);
  }
  for (const [stage, snapshots] of [
    ['initial', files.initial],
    ['final', files.final],
  ] as const) {
    for (const snapshot of snapshots) {
      const dir = join(directory, stage, snapshot.cluster);
      await mkdir(dir, { recursive: true });
      for (const name of PUBLIC_CACERTS_FILES) {
        const content = snapshot.files[name];
        if (content !== undefined) await writeFileAtomically(join(dir, name), content);
      }
    }
  }
  await writeFileAtomically(join(directory, REPORT_FILES.json), `${JSON.stringify(files.report, null, 2)}\n`);
}

/** The functions' audit events: JSON lines with `audit: true` (lambdas/adapters/audit/audit-event.ts). */
export function auditLines(logs: readonly FunctionLogLine[]): string[] {
  return logs
    .filter((entry) => entry.stream === 'stdout' && entry.line.startsWith('{'))
    .filter((entry) => {
      try {
        return (JSON.parse(entry.line) as { audit?: unknown }).audit === true;
      } catch {
        return false;
      }
    })
    .map((entry) => entry.line);
}
