// `meshtrust rehearse` as an operator runs it, for the e2e tests: a child process on a cloud assembly
// synthesized once (--cdk-out), its exit code, output and report.json.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { RehearsalReport } from '../../lab/rehearsal/rehearsal-report.js';
import { PROJECT_ROOT } from '../../lib/handler-entries.js';

const run = promisify(execFile);

export interface Rehearsal {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly dir: string;
  readonly report: RehearsalReport;
}

export interface RehearseCliOptions {
  readonly cdkOut: string;
  readonly flags: readonly string[];
  readonly timeoutMs: number;
  /** The report folder is created in tmp and added here, for the caller to remove. */
  readonly outputDirs: string[];
}

export async function runRehearseCli(options: RehearseCliOptions): Promise<Rehearsal> {
  const dir = mkdtempSync(join(tmpdir(), 'meshtrust-rehearse-'));
  options.outputDirs.push(dir);
  const args = [
    '--import',
    'tsx',
    'bin/meshtrust.ts',
    'rehearse',
    '--cdk-out',
    options.cdkOut,
    '--out',
    dir,
    ...options.flags,
  ];
  let exitCode = 0;
  let stdout = '';
  let stderr = '';
  try {
    ({ stdout, stderr } = await run(process.execPath, args, {
      cwd: PROJECT_ROOT,
      timeout: options.timeoutMs,
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, NODE_OPTIONS: '' },
    }));
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    exitCode = typeof failed.code === 'number' ? failed.code : -1;
    stdout = failed.stdout ?? '';
    stderr = failed.stderr ?? '';
  }
  let report: RehearsalReport;
  try {
    report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as RehearsalReport;
  } catch (error) {
    throw new Error(`no report.json (exit ${exitCode}); stderr:\n${stderr.slice(-4000)}`, { cause: error });
  }
  return { exitCode, stdout, stderr, dir, report };
}

/** The checks that failed, with their detail: the most telling first assertion of a run. */
export function failedChecks(report: RehearsalReport): string[] {
  return report.checks.filter((check) => !check.ok).map((check) => `${check.name}: ${check.detail}`);
}
