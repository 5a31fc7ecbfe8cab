// `npm run bench`: parses the command line (a typo is refused with exit 2, like the operator CLI),
// runs the chosen sections with progress on stderr, prints the table on stdout, and writes
// bench/results.json and docs/performance.md, each whole or not at all.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { EnvironmentError, EXIT_CODES, type ExitCode, UsageError } from '../bin/cli/cli-errors.js';
import { runSingleCommand, withCliConventions } from '../bin/cli/commander-conventions.js';
import { integerBetween } from '../bin/cli/option-parsers.js';
import { exitCodeOfSignal, listenForStopSignals } from '../bin/cli/stop-signals.js';
import { createTerminal, type Terminal } from '../bin/cli/terminal.js';
import { writeFileAtomically } from '../lab/write-file-atomically.js';
import { PROJECT_ROOT } from '../lib/handler-entries.js';
import { renderPerformanceDoc, renderSummary } from './bench-report.js';
import {
  BENCH_SECTIONS,
  type BenchSection,
  type BenchSections,
  describeMachine,
  describeRevision,
  mergeResults,
  NOT_MEASURED_YET,
  readPreviousResults,
  type SectionRun,
  serializeResults,
} from './bench-results.js';
import { COST_CLUSTERS, COST_WORKLOADS, runCostSection } from './cost-bench.js';
import { watchCpuShare } from './cpu-share.js';
import { runHandlersSection } from './handler-bench.js';
import {
  LAB_IDLE_CLUSTERS,
  LAB_IDLE_DEFAULT_SECONDS,
  LAB_IDLE_WORKLOADS,
  runLabIdleSection,
} from './lab-idle-bench.js';
import { DISTRIBUTED_ASSEMBLY_DIRECTORY } from './maps-assembly.js';
import { PKI_ALGORITHMS, runPkiSection } from './pki-bench.js';
import { runRotationSection } from './rotation-bench.js';
import {
  parseRotationSizes,
  QUICK_ROTATION_SIZES,
  ROTATION_MAPS,
  ROTATION_MODES,
  ROTATION_SIZES,
  type RotationMaps,
  type RotationMode,
  type RotationSize,
  sizeName,
} from './rotation-figures.js';
import { WARM_REHEARSALS } from './warm-invocations.js';

export const RESULTS_FILE = 'bench/results.json';
export const PERFORMANCE_DOC = 'docs/performance.md';

export interface BenchOptions {
  readonly only: readonly BenchSection[];
  readonly intermediates: number;
  readonly runs: number;
  readonly idleSeconds: number;
  /** rotation: the sizes to rehearse; undefined: issue 14's grid, or QUICK_ROTATION_SIZES with --quick. */
  readonly rotationSizes?: readonly RotationSize[];
  /** rotation: the modes to rehearse at each size. */
  readonly rotationModes: readonly RotationMode[];
  /** rotation: the stack's per-cluster Maps, inline (the default stack) or Distributed. */
  readonly rotationMaps: RotationMaps;
  readonly quick: boolean;
  readonly write: boolean;
  /** Measure nothing: write the page again from results.json (after a change to its generator). */
  readonly page: boolean;
  /** Said of this run on the page and in results.json, e.g. what else shared the machine. */
  readonly note?: string;
}

export interface BenchIo {
  readonly terminal: Terminal;
  /** Where bench/ and docs/ are. */
  readonly projectRoot: string;
}

/** Runs one command line (process.argv shape) and resolves with its exit code; never throws. */
export async function runBenchCli(
  argv: readonly string[],
  io: BenchIo = { terminal: createTerminal(), projectRoot: PROJECT_ROOT },
): Promise<ExitCode> {
  const { terminal } = io;
  let exitCode: ExitCode = EXIT_CODES.ok;
  const program = new Command('npm run bench --')
    .description("Measure meshtrust's speed and size on this machine (issue 14; docs/performance.md).")
    .addOption(
      new Option('--only <sections>', `comma-separated sections to run: ${BENCH_SECTIONS.join(', ')}`)
        .argParser(sectionList)
        .default(BENCH_SECTIONS, 'all'),
    )
    .option(
      '--intermediates <n>',
      'pki: intermediates after the root, per key algorithm and side',
      integerBetween(1, 1000),
      100,
    )
    .option(
      '--runs <n>',
      'handlers: fresh processes per cold import (the median is shown)',
      integerBetween(1, 50),
      5,
    )
    .option(
      '--idle-seconds <n>',
      'lab-idle: how long the fleet idles with its prober on',
      integerBetween(10, 3600),
      LAB_IDLE_DEFAULT_SECONDS,
    )
    .option(
      '--rotation-sizes <sizes>',
      `rotation: comma-separated CLUSTERSxWORKLOADS to rehearse (default: ${ROTATION_SIZES.map(sizeName).join(',')})`,
      rotationSizeList,
    )
    .addOption(
      new Option(
        '--rotation-modes <modes>',
        `rotation: comma-separated modes to rehearse at each size: ${ROTATION_MODES.join(', ')}`,
      )
        .argParser(rotationModeList)
        .default(ROTATION_MODES, 'both'),
    )
    .addOption(
      new Option(
        '--rotation-maps <maps>',
        "rotation: the stack's per-cluster Maps: inline (the default stack), or distributed (synthesized with " +
          `-c distributedMaps=true into ${DISTRIBUTED_ASSEMBLY_DIRECTORY}, one child execution per cluster); each kept apart`,
      )
        .choices(ROTATION_MAPS)
        .default('inline'),
    )
    .option(
      '--quick',
      `a quick subset for CI: rotation at ${QUICK_ROTATION_SIZES.map(sizeName).join(',')} only`,
      false,
    )
    .option(
      '--note <text>',
      'a note kept with the figures of this run and shown with them, e.g. "a chaos run shared the machine"',
    )
    .option('--no-write', 'print only: leave bench/results.json and docs/performance.md as they are')
    .option(
      '--page',
      `write ${PERFORMANCE_DOC} from ${RESULTS_FILE} and measure nothing (after a change to its generator, bench/bench-report.ts)`,
      false,
    )
    .helpOption('-h, --help', 'show this help')
    .addHelpText(
      'after',
      [
        '',
        'Sections:',
        `  pki       root + N Istio-profile intermediates, ${PKI_ALGORITHMS.join(' and ')}: our PKI core in one`,
        '            node process against an openssl req/x509 loop, both timed as whole processes, after',
        '            `openssl verify` and a profile comparison show both made the same certificates',
        '  handlers  per Lambda function of the synthesized stack (cdk synth when cdk.out is stale, 1-2 min):',
        '            bundle and source map size, cold import in a fresh node process, warm invoke on a real',
        '            path: in a process of its own where one needs no network, otherwise in small emergency',
        `            model-engine rehearsals against moto and the lab, one that succeeds and one that rolls back`,
        `            (${WARM_REHEARSALS.length} x about a minute)`,
        `  cost      one emergency and one scheduled model-engine rehearsal of ${COST_CLUSTERS} clusters x ${COST_WORKLOADS} workloads,`,
        '            on inline and on Distributed Maps (6-10 min), each priced from its execution histories',
        "            (state transitions, Lambda GB-seconds at the template's memory and architecture), and the",
        '            standing monthly cost of a 10-cluster mesh against AWS Private CA; list prices from',
        '            bench/cost-prices.json (dated, never fetched)',
        `  lab-idle  the model lab at fleet size (${LAB_IDLE_CLUSTERS} x ${LAB_IDLE_WORKLOADS}, as the rehearsal starts it) idle with its`,
        '            prober on for --idle-seconds: handshakes and failures (none should fail: nothing rotates),',
        "            the pace the fleet got, and the lab's load: event-loop delay, certificates signed a second,",
        '            CPU, RSS',
        '  rotation  model-engine rehearsals of an emergency and a scheduled rotation at each size, each in a',
        '            child process: rotation time (soak apart), peak RSS of its process tree, handshakes, the',
        '            waits it cannot shorten (Wait states, istiod load, pod start) and the rest as overhead;',
        '            sizes beyond what the rehearsal takes are listed as not run, with why (10 x 100: ~5 min),',
        "            and so is a larger size of a mode whose smaller one preflight refused for Step Functions'",
        '            history limit in the same run (inline Maps: 100 x 10 refused, so 100 x 100 is not run);',
        '            --rotation-sizes and --rotation-modes pick some, e.g. --rotation-sizes 30x10 --rotation-modes',
        '            emergency; the others keep their previous figures; --rotation-maps distributed runs them on',
        '            Distributed Maps, measured and shown apart (100 x 10: ~10 min)',
        ...(NOT_MEASURED_YET.length === 0
          ? []
          : [`Not measured yet: ${NOT_MEASURED_YET.map((item) => item.name).join(', ')}.`]),
        '',
        'A full run takes about 80 minutes on 2 cores (RSA 4096 key generation, the cost rehearsals, the lab idling, the',
        `rotation rehearsals: about 50 minutes of it; --quick or --rotation-sizes for fewer; ${PERFORMANCE_DOC} gives`,
        `the last run's time). Writes ${RESULTS_FILE} and ${PERFORMANCE_DOC}; a run of some sections keeps the other`,
        "sections' previous figures; --page writes the page again from the figures kept.",
        'Exit codes: 0 ok, 1 a measurement or cross-check failed, 2 usage error, 3 environment problem,',
        '4 internal error, 130/143 interrupted.',
      ].join('\n'),
    )
    .allowExcessArguments(false)
    .action(async (options: BenchOptions, command: Command) => {
      exitCode = options.page ? await writePage(command, io) : await runBench(options, io);
    });
  withCliConventions(program, terminal);
  return runSingleCommand(program, argv, terminal, () => exitCode);
}

/** The options that choose or shape a measurement: --page measures nothing, so it refuses them. */
const MEASURING_OPTIONS = [
  ['only', '--only'],
  ['intermediates', '--intermediates'],
  ['runs', '--runs'],
  ['idleSeconds', '--idle-seconds'],
  ['rotationSizes', '--rotation-sizes'],
  ['rotationModes', '--rotation-modes'],
  ['rotationMaps', '--rotation-maps'],
  ['quick', '--quick'],
  ['note', '--note'],
  ['write', '--no-write'],
] as const;

/** --page: the page again from the figures kept, each section with its own date; nothing measured. */
async function writePage(command: Command, io: BenchIo): Promise<ExitCode> {
  const given = MEASURING_OPTIONS.filter(([key]) => command.getOptionValueSource(key) === 'cli').map(
    ([, flag]) => flag,
  );
  if (given.length > 0) {
    throw new UsageError(`--page writes ${PERFORMANCE_DOC} and measures nothing: drop ${given.join(', ')}`);
  }
  const results = await readPreviousResults(join(io.projectRoot, RESULTS_FILE));
  if (results === undefined) {
    throw new UsageError(
      `--page: no ${RESULTS_FILE} of this schema to write ${PERFORMANCE_DOC} from; run the bench first`,
    );
  }
  await writeFileAtomically(join(io.projectRoot, PERFORMANCE_DOC), renderPerformanceDoc(results));
  io.terminal.note(`wrote ${PERFORMANCE_DOC} from ${RESULTS_FILE}; nothing was measured`);
  return EXIT_CODES.ok;
}

function sectionList(value: string): BenchSection[] {
  return choices(
    value,
    BENCH_SECTIONS,
    'sections',
    NOT_MEASURED_YET.length === 0
      ? ''
      : ` (${NOT_MEASURED_YET.map((item) => item.name).join(', ')}: not measured yet)`,
  );
}

function rotationModeList(value: string): RotationMode[] {
  return choices(value, ROTATION_MODES, 'modes');
}

/** A comma-separated list of some of `known`, in their order; anything else refused, naming them. */
function choices<T extends string>(value: string, known: readonly T[], what: string, note = ''): T[] {
  const names = value
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  const unknown = names.filter((name) => !(known as readonly string[]).includes(name));
  if (names.length === 0 || unknown.length > 0) {
    throw new InvalidArgumentError(
      `expected ${what} from ${known.join(', ')}${unknown.length > 0 ? `, got ${unknown.join(', ')}` : ''}${note}.`,
    );
  }
  return known.filter((name) => names.includes(name));
}

function rotationSizeList(value: string): RotationSize[] {
  try {
    return parseRotationSizes(value);
  } catch (error) {
    throw new InvalidArgumentError(`${(error as Error).message}.`);
  }
}

async function runBench(options: BenchOptions, io: BenchIo): Promise<ExitCode> {
  const { terminal, projectRoot } = io;
  const startedAt = Date.now();
  const progress = (line: string) =>
    terminal.note(
      terminal.styleErr('dim', `[${((Date.now() - startedAt) / 1000).toFixed(0).padStart(4)} s] ${line}`),
    );
  const machine = await describeMachine();
  if (options.only.includes('pki') && machine.openssl === undefined) {
    throw new EnvironmentError(
      'openssl is not on PATH: the pki section compares against it (apt-get install openssl)',
    );
  }
  const stop = listenForStopSignals(progress, 'stopping the bench');
  const work = await mkdtemp(join(tmpdir(), 'meshtrust-bench-'));
  try {
    const run: {
      pki?: BenchSections['pki'];
      handlers?: BenchSections['handlers'];
      cost?: BenchSections['cost'];
      'lab-idle'?: BenchSections['lab-idle'];
      rotation?: BenchSections['rotation'];
    } = {};
    const measure = async <T>(section: () => Promise<T>): Promise<SectionRun<T>> => {
      const measuredAt = new Date();
      const loadAverageAtStart = Math.round((loadavg()[0] ?? 0) * 100) / 100;
      const revision = await describeRevision(projectRoot);
      const cpu = watchCpuShare();
      const figures = await section();
      const share = cpu();
      return {
        measuredAt: measuredAt.toISOString(),
        durationMs: Date.now() - measuredAt.getTime(),
        machine: { ...machine, loadAverageAtStart },
        ...(revision !== undefined && { revision }),
        ...(share !== undefined && { cpu: share }),
        ...(options.note !== undefined && { note: options.note }),
        figures,
      };
    };
    if (options.only.includes('pki')) {
      const workDirectory = join(work, 'pki');
      await mkdir(workDirectory);
      run.pki = await measure(() =>
        runPkiSection({
          intermediates: options.intermediates,
          algorithms: PKI_ALGORITHMS,
          workDirectory,
          progress,
          signal: stop.signal,
        }),
      );
    }
    if (options.only.includes('handlers')) {
      const workDirectory = join(work, 'handlers');
      await mkdir(workDirectory);
      run.handlers = await measure(() =>
        runHandlersSection({ projectRoot, workDirectory, runs: options.runs, progress, signal: stop.signal }),
      );
    }
    if (options.only.includes('cost')) {
      const workDirectory = join(work, 'cost');
      await mkdir(workDirectory);
      run.cost = await measure(() =>
        runCostSection({ projectRoot, workDirectory, progress, signal: stop.signal }),
      );
    }
    if (options.only.includes('lab-idle')) {
      run['lab-idle'] = await measure(() =>
        runLabIdleSection({ seconds: options.idleSeconds, progress, signal: stop.signal }),
      );
    }
    if (options.only.includes('rotation')) {
      const workDirectory = join(work, 'rotation');
      await mkdir(workDirectory);
      const previous = await readPreviousResults(join(projectRoot, RESULTS_FILE));
      const sizes = options.rotationSizes ?? (options.quick ? QUICK_ROTATION_SIZES : ROTATION_SIZES);
      run.rotation = await measure(() =>
        runRotationSection({
          projectRoot,
          workDirectory,
          sizes,
          modes: options.rotationModes,
          maps: options.rotationMaps,
          ...(options.note !== undefined && { note: options.note }),
          ...(previous?.sections.rotation !== undefined && { previous: previous.sections.rotation.figures }),
          progress,
          signal: stop.signal,
        }),
      );
    }
    for (const line of renderSummary(run)) terminal.out(line);
    if (options.write) {
      const resultsFile = join(projectRoot, RESULTS_FILE);
      const results = mergeResults(await readPreviousResults(resultsFile), run, new Date().toISOString());
      await writeFileAtomically(resultsFile, serializeResults(results));
      await writeFileAtomically(join(projectRoot, PERFORMANCE_DOC), renderPerformanceDoc(results));
      progress(`wrote ${RESULTS_FILE} and ${PERFORMANCE_DOC}`);
    }
    return EXIT_CODES.ok;
  } catch (error) {
    if (stop.signal.aborted) {
      terminal.note(`bench stopped by ${String(stop.signal.reason)}; nothing written`);
      return exitCodeOfSignal(String(stop.signal.reason));
    }
    throw error;
  } finally {
    stop.dispose();
    await rm(work, { recursive: true, force: true });
  }
}
