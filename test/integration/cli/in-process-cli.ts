import type { CliContext } from '../../../bin/cli/cli-context.js';
import { EXIT_CODES } from '../../../bin/cli/cli-errors.js';
import { runCli } from '../../../bin/cli/program.js';
import { createTerminal } from '../../../bin/cli/terminal.js';

export interface CliRun {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `meshtrust <args>` in this process, as an operator's shell would with `env`, and captures what
 * it prints (no TTY, so no colours).
 */
export async function runMeshtrustInProcess(
  args: readonly string[],
  env: NodeJS.ProcessEnv = { ...process.env },
): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const context: CliContext = {
    terminal: createTerminal(
      { write: (text: string) => (stdout += text) },
      { write: (text: string) => (stderr += text) },
      {},
    ),
    env,
    exitCode: EXIT_CODES.ok,
  };
  const exitCode = await runCli(['node', 'meshtrust', ...args], context);
  return { exitCode, stdout, stderr };
}
