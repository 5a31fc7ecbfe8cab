// Node prints every process warning (`process.emitWarning`: a library's deprecation or support notice,
// such as the AWS SDK's "NodeVersionSupportWarning" under Node.js 20) to stderr the moment it is
// emitted. In a rehearsal that is the terminal, between the progress lines. While a rehearsal runs,
// warnings go to a log file of its report instead, beside the functions' own logs (whose containers'
// stderr is piped there already, function-pool.ts), and the terminal keeps only our progress and summary.
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

/** The report's log of this process's warnings, in its logs/ folder. */
export const PROCESS_WARNINGS_LOG = 'rehearsal-warnings.log';

export interface RoutedWarnings {
  /** How many warnings went to the file so far. */
  count(): number;
  /** Gives warnings back to the listeners they had before (Node's printer among them). */
  release(): void;
}

/**
 * Until `release`, every process warning is appended to `file` (its folder made on the first one)
 * instead of reaching the listeners it had: Node's own printer is one of them, installed at startup
 * (unless --no-warnings), so taking them off is what keeps a warning off stderr.
 */
export function routeProcessWarnings(file: string): RoutedWarnings {
  const previous = process.listeners('warning');
  process.removeAllListeners('warning');
  let count = 0;
  const toFile = (warning: Error & { code?: string }) => {
    count += 1;
    const code = warning.code === undefined ? '' : ` [${warning.code}]`;
    mkdirSync(dirname(file), { recursive: true });
    appendFileSync(file, `${new Date().toISOString()} ${warning.name}${code}: ${warning.message}\n`);
  };
  process.on('warning', toFile);
  let released = false;
  return {
    count: () => count,
    release: () => {
      if (released) return;
      released = true;
      process.off('warning', toFile);
      for (const listener of previous) process.on('warning', listener);
    },
  };
}
