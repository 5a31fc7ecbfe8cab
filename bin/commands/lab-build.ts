// `meshtrust lab build`: builds the lab's real components (Kubernetes' control plane, etcd, Istio)
// from lab/go into the user's cache, or finds them there. The work is in lab/binaries/; this file is
// flags, progress display, Ctrl-C and exit code.
import type { Command } from 'commander';
import { formatDuration } from '../../lab/binaries/build-progress.js';
import { CACHE_DIR_ENV } from '../../lab/binaries/cache-location.js';
import { ensureLabBinaries, type LabBinaries } from '../../lab/binaries/lab-binaries.js';
import {
  LAB_BINARY_NAMES,
  type LabBinaryName,
  type LabComponentVersions,
} from '../../lab/binaries/lab-binary-names.js';
import { LabBuildError } from '../../lab/binaries/lab-build-errors.js';
import type { CliContext } from '../cli/cli-context.js';
import { EnvironmentError } from '../cli/cli-errors.js';
import { createLabBuildProgressView } from '../cli/lab-build-progress.js';
import type { Terminal } from '../cli/terminal.js';

export interface LabBuildCommandOptions {
  readonly force?: boolean;
  readonly json?: boolean;
}

/**
 * How long a first build takes, for --help. PLACEHOLDER until measured: replace N with the figure of a
 * cold build (empty Go module and build caches) on a 2-core machine. The only place it is written.
 */
export const FIRST_BUILD_DURATION = 'about 12 minutes on 2 cores';

export function registerLabBuildCommand(lab: Command, context: CliContext): Command {
  return lab
    .command('build')
    .description(
      `Build the lab's real components (${LAB_BINARY_NAMES.join(', ')}) from lab/go with the local Go ` +
        'toolchain into the user cache, or reuse them when the cache already holds this build.',
    )
    .option('--force', 'build again even when the cache holds these binaries')
    .option('--json', 'print where the binaries are, their versions and the build time as JSON')
    .addHelpText(
      'after',
      [
        '',
        `A first build compiles Kubernetes, etcd and Istio from source: ${FIRST_BUILD_DURATION}.`,
        "Later runs reuse the cache; after a version bump Go's module and build caches make it faster.",
        'Needs Go, the version lab/go/go.mod names.',
        '',
        `Cache: $${CACHE_DIR_ENV}, else $XDG_CACHE_HOME/meshtrust or ~/.cache/meshtrust;`,
        'binaries in lab-bin/<key>/, the go output in lab-bin/<key>.build.log.',
        'Ctrl-C stops the build and leaves nothing half-built in the cache.',
        '',
        'Docs: docs/lab.md',
      ].join('\n'),
    )
    .action(async (options: LabBuildCommandOptions) => {
      await runLabBuild(options, context);
    });
}

async function runLabBuild(options: LabBuildCommandOptions, context: CliContext): Promise<void> {
  const { terminal } = context;
  const view = createLabBuildProgressView(terminal.stderr);
  const stop = new AbortController();
  // The go commands are in our process group and get a terminal's Ctrl-C too; a signal sent to this
  // process alone would leave them building, so the abort stops them as well.
  const onSignal = (signal: NodeJS.Signals) => {
    if (stop.signal.aborted) return;
    view.stop();
    terminal.note(`${signal} received: stopping the build`);
    stop.abort(new Error(`${signal} received`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let binaries: LabBinaries<LabBinaryName, LabComponentVersions>;
  try {
    binaries = await ensureLabBinaries({
      env: context.env,
      signal: stop.signal,
      onProgress: (progress) => view.update(progress),
      ...(options.force ? { force: true } : {}),
    });
  } catch (error) {
    if (error instanceof LabBuildError) throw new EnvironmentError(error.message, { cause: error });
    throw error;
  } finally {
    view.stop();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }

  if (options.json) {
    terminal.out(JSON.stringify(describe(binaries), null, 2));
    return;
  }
  printSummary(terminal, binaries);
}

function describe(binaries: LabBinaries<LabBinaryName, LabComponentVersions>) {
  return {
    dir: binaries.dir,
    key: binaries.key,
    reused: binaries.reused,
    versions: binaries.versions,
    goVersion: binaries.goVersion,
    buildSeconds: binaries.buildSeconds,
    builtAt: binaries.builtAt,
    binaries: Object.fromEntries(LAB_BINARY_NAMES.map((name) => [name, binaries.path(name)])),
  };
}

function printSummary(terminal: Terminal, binaries: LabBinaries<LabBinaryName, LabComponentVersions>): void {
  const took = formatDuration(binaries.buildSeconds * 1000);
  const headline = binaries.reused
    ? `lab binaries from the cache (built ${binaries.builtAt} in ${took})`
    : `lab binaries built in ${took}`;
  const { kubernetes, etcd, istio } = binaries.versions;
  const row = (label: string, value: string) => terminal.out(`  ${label.padEnd(10)} ${value}`);
  terminal.out(terminal.styleOut('bold', headline));
  row('directory', binaries.dir);
  row('binaries', LAB_BINARY_NAMES.join(', '));
  row('versions', `kubernetes ${kubernetes}, etcd ${etcd}, istio ${istio}`);
  row('go', binaries.goVersion);
}
