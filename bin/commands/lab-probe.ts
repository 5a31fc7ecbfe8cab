// `meshtrust lab probe`: asks a running lab (through its control endpoint) for full rounds of mTLS
// handshakes between workloads and reports attempted/failed with every failure. Exit 1 on any failure.
import type { Command } from 'commander';
import {
  callLabControl,
  LabControlError,
  type LabProbeReport,
  MAX_PROBE_ROUNDS,
} from '../../lab/lab-control-server.js';
import { LAB_DIR_ENV, LabFilesError, readLabControlAccess } from '../../lab/lab-files.js';
import type { CliContext } from '../cli/cli-context.js';
import { EnvironmentError, EXIT_CODES, UsageError } from '../cli/cli-errors.js';
import { integerBetween } from '../cli/option-parsers.js';

export interface LabProbeCommandOptions {
  readonly lab?: string;
  readonly rounds: number;
  readonly json?: boolean;
}

export function registerLabProbeCommand(lab: Command, context: CliContext): Command {
  return lab
    .command('probe')
    .description(
      'Run full rounds of mTLS handshakes between workloads of a running lab (same and cross cluster) and ' +
        'report every failure. Exit code 1 when any handshake failed.',
    )
    .option('--lab <dir>', `directory of the running lab (default: $${LAB_DIR_ENV}, set by DIR/env)`)
    .option('--rounds <n>', 'probe rounds to run', integerBetween(1, MAX_PROBE_ROUNDS), 1)
    .option('--json', 'print the report as JSON')
    .action(async (options: LabProbeCommandOptions) => {
      await runLabProbe(options, context);
    });
}

async function runLabProbe(options: LabProbeCommandOptions, context: CliContext): Promise<void> {
  const { terminal } = context;
  const dir = options.lab ?? context.env[LAB_DIR_ENV];
  if (dir === undefined || dir === '') {
    throw new UsageError(
      `say which lab to probe: --lab DIR (or \`source DIR/env\`, which sets ${LAB_DIR_ENV})`,
    );
  }
  let report: LabProbeReport;
  try {
    const access = await readLabControlAccess(dir);
    report = (await callLabControl(access, 'POST', '/v1/probe', {
      rounds: options.rounds,
    })) as LabProbeReport;
  } catch (error) {
    if (error instanceof LabFilesError || error instanceof LabControlError) {
      throw new EnvironmentError(error.message, { cause: error });
    }
    throw error;
  }

  if (report.failed > 0) context.exitCode = EXIT_CODES.checkFailed;
  if (options.json) {
    terminal.out(JSON.stringify(report, null, 2));
    return;
  }
  const verdict =
    report.failed === 0
      ? terminal.styleOut('green', 'all handshakes succeeded')
      : terminal.styleOut('red', `${report.failed} handshake(s) failed`);
  terminal.out(
    `${report.rounds} round(s): ${report.attempted} attempted, ${report.failed} failed: ${verdict}`,
  );
  for (const failure of report.failures) {
    terminal.out(
      `  ${failure.from} -> ${failure.to} [${failure.phase}] ${failure.side} side: ${failure.error}`,
    );
  }
}
