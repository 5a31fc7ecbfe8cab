// The files of one rehearsal in its --out directory. Public material only: certificates and
// fingerprints, never ca-key.pem; the key scan (private-key-scan.ts) checks that afterwards.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CacertsSnapshot } from '../cacerts-snapshot.js';
import type { FunctionLogLine } from './function-pool.js';
import type { RehearsalReport } from './rehearsal-report.js';
import { renderReportHtml } from './report-html.js';

export interface ReportFiles {
  readonly report: RehearsalReport;
  /** The execution's events, as aws-local-stepfunctions gave them. */
  readonly history: readonly unknown[];
  readonly functionLogs: readonly FunctionLogLine[];
  readonly initial: readonly CacertsSnapshot[];
  readonly final: readonly CacertsSnapshot[];
}

export const REPORT_FILES = {
  json: 'report.json',
  html: 'report.html',
  history: 'history.json',
  audit: 'audit.jsonl',
  logs: 'logs',
} as const;

const PUBLIC_CACERTS_FILES = ['ca-cert.pem', 'cert-chain.pem', 'root-cert.pem'] as const;

export async function writeReportFiles(directory: string, files: ReportFiles): Promise<void> {
  await mkdir(directory, { recursive: true });
  await writeFile(join(directory, REPORT_FILES.json), `${JSON.stringify(files.report, null, 2)}\n`);
  await writeFile(join(directory, REPORT_FILES.html), renderReportHtml(files.report));
  await writeFile(join(directory, REPORT_FILES.history), `${JSON.stringify(files.history, null, 2)}\n`);
  await writeFile(
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
    await writeFile(join(logs, `${handler}.log`), `${lines.join('\n')}\n`);
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
        if (content !== undefined) await writeFile(join(dir, name), content);
      }
    }
  }
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
