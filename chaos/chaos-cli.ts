// `npm run chaos`: parses the command line (a typo is refused with exit 2, like the operator CLI and
// the bench), derives the matrix from the synthesized state machine, runs the chosen cases one after
// another (on the model engine; istio/ cases on the istio engine) with progress on stderr, prints the
// table on stdout, and writes
// chaos/results.json whole or not at all. Exit 1 when any case failed.
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { describeMachine, describeRevision } from '../bench/bench-results.js';
import { renderText } from '../bench/text-table.js';
import { EXIT_CODES, type ExitCode, UsageError } from '../bin/cli/cli-errors.js';
import { runSingleCommand, withCliConventions } from '../bin/cli/commander-conventions.js';
import { integerBetween } from '../bin/cli/option-parsers.js';
import { exitCodeOfSignal, listenForStopSignals } from '../bin/cli/stop-signals.js';
import { createTerminal, type Terminal } from '../bin/cli/terminal.js';
import { labClusterNames } from '../lab/lab-cluster-names.js';
import { writeFileAtomically } from '../lab/write-file-atomically.js';
import { PROJECT_ROOT } from '../lib/handler-entries.js';
import { ensureCloudAssembly, readCloudAssembly } from '../rehearsal/cloud-assembly.js';
import { definitionTasks } from '../rehearsal/definition-tasks.js';
import { distributedMapsOf } from '../rehearsal/distributed-map-definition.js';
import { failAtStates as listedFailAtStates } from '../rehearsal/fail-at.js';
import { GATE_ANSWER_HOLD_ENV } from '../rehearsal/gate-answer-hold.js';
import {
  type CfnTemplate,
  referencedLogicalIds,
  resolveDefinition,
} from '../rehearsal/resolve-definition.js';
import {
  approvalGateKillCases,
  GATE_ANSWER_DELAY_SECONDS,
  GATE_ANSWER_HOLD_SECONDS,
  runsWithGates,
  withDelayedGateAnswers,
} from './approval-gate-kill-cases.js';
import { type HeldAssembly, holdChaosAssembly } from './chaos-lock.js';
import { type ChaosCase, chaosMatrix, selectCases } from './chaos-matrix.js';
import {
  type CaseResult,
  caseResult,
  describeExpected,
  mergeResults,
  parseResults,
  renderSummary,
  serializeResults,
} from './chaos-results.js';
import { CI_CASE_IDS, ciCases } from './ci-cases.js';
import { istioEngineCases } from './istio-engine-cases.js';
import { describeKill, isKillCase } from './kill-cases.js';
import { RESULTS_PAGE, renderResultsPage } from './results-page.js';
import { runCase } from './run-case.js';
import { KillLabs, runKillCase } from './run-kill-case.js';
import type { Definition } from './state-graph.js';

export const RESULTS_FILE = 'chaos/results.json';
/** The chaos run's own cloud assembly (gitignored like every cdk.out): a synth elsewhere can't swap it mid-run. */
export const CHAOS_CDK_OUT = 'chaos/cdk.out';
/**
 * The same stack synthesized with approval on (cdk context approval=true), for the kill cases inside an
 * approval gate (approval-gate-kill-cases.ts): chaos/cdk.out has no gates. Gitignored (cdk.out.*).
 */
export const CHAOS_APPROVAL_CDK_OUT = 'chaos/cdk.out.approval';

export interface ChaosOptions {
  readonly only: readonly string[];
  readonly ci: boolean;
  readonly list: boolean;
  readonly clusters: number;
  readonly workloads: number;
  readonly timeout: number;
  readonly cdkOut?: string;
  readonly keepReports: boolean;
  readonly write: boolean;
  readonly page: boolean;
}

export interface ChaosIo {
  readonly terminal: Terminal;
  /** Where chaos/ and the project's sources are. */
  readonly projectRoot: string;
}

/** Runs one command line (process.argv shape) and resolves with its exit code; never throws. */
export async function runChaosCli(
  argv: readonly string[],
  io: ChaosIo = { terminal: createTerminal(), projectRoot: PROJECT_ROOT },
): Promise<ExitCode> {
  const { terminal } = io;
  let exitCode: ExitCode = EXIT_CODES.ok;
  const program = new Command('npm run chaos --')
    .description(
      'Run the reliability matrix: every fault point, --fault kind and failure inside rollback, for each ' +
        'mode, each case a real rehearsal on the model engine, and where they apply on the istio engine too ' +
        '(issue 15; docs/reliability.md).',
    )
    .addOption(
      new Option(
        '--only <patterns>',
        'comma-separated case ids to run; * matches any text, a pattern without * any id containing it',
      )
        .argParser((value: string, previous: string[]) => [...previous, ...patternList(value)])
        .default([], 'every case'),
    )
    .option(
      '--ci',
      `the fixed subset CI runs instead of every case: one of each kind (${CI_CASE_IDS.length} cases, about 5 minutes; chaos/ci-cases.ts)`,
      false,
    )
    .option('--list', 'print the matrix (case, expected end, rehearse flags) and run nothing', false)
    .option('--clusters <n>', 'lab clusters per case', integerBetween(2, 5), 2)
    .option('--workloads <n>', 'workloads per cluster', integerBetween(1, 20), 2)
    .option('--timeout <seconds>', 'time limit of one case', integerBetween(60, 3600), 480)
    .option(
      '--cdk-out <dir>',
      `a cloud assembly to run as it is (default ${CHAOS_CDK_OUT} and, for the approval gate kill cases, ` +
        `${CHAOS_APPROVAL_CDK_OUT}, each synthesized when older than its sources); with it, the gate cases are ` +
        "its own gates' (none when it was synthesized without approval); one with Distributed Maps runs only with " +
        `--no-write (${RESULTS_FILE} holds the default stack's results)`,
    )
    .option('--keep-reports', "keep every case's report folder (a failed case's is always kept)", false)
    .option('--no-write', `print only: leave ${RESULTS_FILE} and ${RESULTS_PAGE} as they are`)
    .option(
      '--page',
      `write ${RESULTS_PAGE} (every case's last result, the count run and never run) from ${RESULTS_FILE} and run nothing`,
      false,
    )
    .helpOption('-h, --help', 'show this help')
    .addHelpText(
      'after',
      [
        '',
        'Cases (ids are mode/kind/what; see --list):',
        '  baseline    nothing injected: SUCCEEDED',
        '  fail-at     a permanent failure after each Task state the mode runs (a Map also on one cluster):',
        '              ROLLED_BACK byte-identical after the first write, else FAILED with the fleet untouched',
        '              (or, after promote-root, wholly on root B)',
        '  transient   the same states failing once (:once): Retry absorbs it, SUCCEEDED',
        '  fault       each --fault kind (kube 5xx, conflict, slow, down; aws throttle, 5xx, lost, slow; eks',
        '              throttle, 5xx, slow; sts throttle, 5xx): SUCCEEDED; kube istiod-drop, stuck: ROLLED_BACK',
        '  rollback    the latest failure that rolls back, then one inside the rollback: FAILED RollbackFailed',
        '              when permanent, ROLLED_BACK when once',
        '  kill        (ids kill/mode/state) on a model lab, rehearse --lab SIGKILLed in each Task, Map or Wait',
        '              state of the forward path (a Map once one cluster is in it), then the next run (with',
        '              --retry-rollback when refused): SUCCEEDED, only the newest root in every cacerts (intermediate',
        '              mode: --cluster alone on a new intermediate, same root), nothing written twice; and',
        '              kill/MODE/STATE+ROLLBACK-STATE also kills the resumed rollback, then resumes again;',
        `              kill/MODE/approve-reissue, approve-retire: the same in each approval gate, on ${CHAOS_APPROVAL_CDK_OUT}`,
        `              (the stack with approval on), the killed run's gates answered ${GATE_ANSWER_DELAY_SECONDS} s late`,
        '              (--approve-delay) so its execution is waiting in the gate when it dies',
        '              (.../answer-held: answered at once, killed once answer-approval wrote its approval record',
        `              and the gate's answer is held ${GATE_ANSWER_HOLD_SECONDS} s, ${GATE_ANSWER_HOLD_ENV});`,
        '              kill/MODE/WAIT/mid-wait halfway through a wait; .../pcds/mid-wait on a lab with PCDS on',
        '  istio/...   the baseline, the fail-at cases that roll back, the faults the istio engine plays and the',
        '              late sibling again with --engine istio (real kube-apiserver, etcd, istiod and pilot-agent per',
        '              cluster; the first run builds the lab binaries: meshtrust lab build)',
        'The states and expected ends come from the synthesized definition. Every case must also show',
        '0 failed handshakes, pass all the rehearsal checks, leave no process and no private key.',
        '',
        'Cases run one at a time (each rehearsal loads both cores of a small machine; a starved lab fails',
        'its own handshakes). About a minute each on the model engine, 2-5 minutes a kill case, 3-4 minutes on',
        'the istio engine: the model cases take about 3 hours, the kill cases 2.5 and the istio/ cases 4.5 more.',
        `Writes ${RESULTS_FILE} and ${RESULTS_PAGE}; a run of some cases keeps the other cases' previous results.`,
        'Exit codes: 0 every case passed, 1 a case failed, 2 usage error, 3 environment problem,',
        '4 internal error, 130/143 interrupted.',
      ].join('\n'),
    )
    .allowExcessArguments(false)
    .action(async (options: ChaosOptions) => {
      exitCode = await runChaos(options, io);
    });
  withCliConventions(program, terminal);
  return runSingleCommand(program, argv, terminal, () => exitCode);
}

function patternList(value: string): string[] {
  return value
    .split(',')
    .map((pattern) => pattern.trim())
    .filter((pattern) => pattern !== '');
}

/**
 * The matrix of the synthesized definition, for a fleet of `clusters`: the fault cases, then the kill
 * cases, then the kill cases inside the approval gates of `approvalTemplate` (the stack synthesized with
 * approval on) that the first has not.
 */
export function matrixOf(
  template: CfnTemplate,
  clusters: number,
  approvalTemplate?: CfnTemplate,
): ChaosCase[] {
  const input = matrixInput(template, clusters);
  const modelCases = chaosMatrix(input);
  const cases = [...modelCases, ...withDelayedGateAnswers(input), ...istioEngineCases(modelCases)];
  if (approvalTemplate === undefined) return cases;
  const ids = new Set(cases.map((chaosCase) => chaosCase.id));
  const gateCases = approvalGateKillCases(matrixInput(approvalTemplate, clusters));
  return [...cases, ...gateCases.filter((chaosCase) => !ids.has(chaosCase.id))];
}

function matrixInput(template: CfnTemplate, clusters: number) {
  const definition = placeholderDefinition(template);
  return { definition, failAtStates: failAtStates(definition), clusters: labClusterNames(clusters) };
}

/** The definition with each ARN a placeholder, and the STATE names `rehearse --fail-at` accepts. */
function placeholderDefinition(template: CfnTemplate): Definition {
  // Read before any resource exists, as the rehearsal checks --fail-at: each ARN a placeholder.
  const placeholders = Object.fromEntries(
    referencedLogicalIds(template).map((id) => [id, `arn:aws:lambda:::function:${id}`]),
  );
  return resolveDefinition(template, { arns: placeholders }) as Definition;
}

function failAtStates(definition: Definition): readonly string[] {
  return listedFailAtStates(definitionTasks(definition as never)).listed;
}

async function runChaos(options: ChaosOptions, io: ChaosIo): Promise<ExitCode> {
  const { terminal, projectRoot } = io;
  if (options.ci && options.only.length > 0) {
    throw new UsageError('--ci runs its own fixed cases: drop --only, or drop --ci to pick cases');
  }
  if (options.page) {
    const clashing = [
      options.only.length > 0 ? '--only' : undefined,
      options.ci ? '--ci' : undefined,
      options.list ? '--list' : undefined,
      options.write ? undefined : '--no-write',
    ].filter((flag) => flag !== undefined);
    if (clashing.length > 0) {
      throw new UsageError(`--page writes ${RESULTS_PAGE} and runs nothing: drop ${clashing.join(', ')}`);
    }
  }
  const startedAt = Date.now();
  const clock = () => {
    const seconds = Math.round((Date.now() - startedAt) / 1000);
    return `${String(Math.floor(seconds / 60)).padStart(3)}:${String(seconds % 60).padStart(2, '0')}`;
  };
  const progress = (line: string) => terminal.note(terminal.styleErr('dim', `[${clock()}] ${line}`));
  const stop = listenForStopSignals(progress, 'stopping the case under way; results so far are written');
  let killLabs: KillLabs | undefined;
  // The gate cases run another stack: a lab of their own, never one an ungated case rotated.
  let gateLabs: KillLabs | undefined;
  let held: HeldAssembly | undefined;
  try {
    // chaos/cdk.out and chaos/results.json are shared by every run: one run at a time (chaos-lock.ts).
    held = await holdChaosAssembly({
      projectRoot,
      defaultCdkOut: CHAOS_CDK_OUT,
      ...(options.cdkOut === undefined ? {} : { cdkOut: options.cdkOut }),
      write: options.write,
      onProgress: progress,
      signal: stop.signal,
      ensure: async () =>
        options.cdkOut === undefined
          ? ensureCloudAssembly({
              projectRoot,
              directory: join(projectRoot, CHAOS_CDK_OUT),
              onProgress: progress,
              signal: stop.signal,
            })
          : { ...(await readCloudAssembly(options.cdkOut)), reused: true },
    });
    const { assembly } = held;
    // chaos/results.json holds the default stack's results (inline Maps), one per case id: a Distributed
    // assembly's cases carry the same ids and would replace them without a word.
    if (
      options.write &&
      !options.list &&
      distributedMapsOf(placeholderDefinition(assembly.template) as never).length > 0
    ) {
      throw new UsageError(
        `--cdk-out ${options.cdkOut}: its stack runs Distributed Maps, and ${RESULTS_FILE} holds the results of ` +
          "the default stack (inline Maps) under the same case ids: add --no-write (with --keep-reports to keep every case's report)",
      );
    }
    // Still under the lock: chaos/cdk.out.approval is shared by runs as chaos/cdk.out is.
    const approvalAssembly =
      options.cdkOut === undefined
        ? await ensureCloudAssembly({
            projectRoot,
            directory: join(projectRoot, CHAOS_APPROVAL_CDK_OUT),
            context: { approval: 'true' },
            onProgress: progress,
            signal: stop.signal,
          })
        : undefined;
    const matrix = matrixOf(assembly.template, options.clusters, approvalAssembly?.template);
    if (options.page) {
      const results = parseResults(
        await readFile(join(projectRoot, RESULTS_FILE), 'utf8').catch(() => undefined),
      );
      if (results === undefined) {
        throw new UsageError(
          `--page: no ${RESULTS_FILE} of this schema to write ${RESULTS_PAGE} from; run some cases first`,
        );
      }
      await writeFileAtomically(join(projectRoot, RESULTS_PAGE), renderResultsPage(results, matrix));
      progress(
        `wrote ${RESULTS_PAGE} from ${RESULTS_FILE} (${results.cases.length} of ${matrix.length} cases)`,
      );
      return EXIT_CODES.ok;
    }
    const selected = options.ci ? ciCases(matrix) : selectCases(matrix, options.only);
    if (selected.length === 0) {
      throw new UsageError(
        `--only ${options.only.join(',')} matches none of the ${matrix.length} cases; npm run chaos -- --list shows them`,
      );
    }
    if (options.list) {
      for (const line of renderText({
        columns: ['case', 'expected', 'rehearse flags'],
        rows: selected.map((chaosCase) => [
          chaosCase.id,
          describeExpected(chaosCase.expected),
          isKillCase(chaosCase) ? describeKill(chaosCase) : chaosCase.flags.join(' '),
        ]),
      }))
        terminal.out(line);
      terminal.out(`${selected.length} of ${matrix.length} case(s)`);
      return EXIT_CODES.ok;
    }
    progress(
      `${selected.length} of ${matrix.length} case(s), ${options.clusters} clusters x ${options.workloads} ` +
        `workloads each, on ${assembly.directory}${assembly.reused ? ' (reused)' : ''}` +
        (selected.some(runsWithGates) && approvalAssembly !== undefined
          ? ` and, for the gate cases, ${approvalAssembly.directory}${approvalAssembly.reused ? ' (reused)' : ''}`
          : ''),
    );
    const revision = await describeRevision(projectRoot);
    const work = await mkdtemp(join(tmpdir(), 'meshtrust-chaos-'));
    killLabs = new KillLabs({ ...options, projectRoot, work, note: progress });
    gateLabs = new KillLabs({ ...options, projectRoot, work, note: progress });
    const topLevelStatesOf = (template: CfnTemplate) =>
      new Set(Object.keys(placeholderDefinition(template).States ?? {}));
    const topLevelStates = topLevelStatesOf(assembly.template);
    const approvalTopLevelStates =
      approvalAssembly === undefined ? undefined : topLevelStatesOf(approvalAssembly.template);
    const run: CaseResult[] = [];
    const kept: string[] = [];
    let environmentFailed = false;
    for (const [index, chaosCase] of selected.entries()) {
      if (stop.signal.aborted) break;
      const caseDir = join(
        work,
        `${String(index + 1).padStart(3, '0')}-${chaosCase.id.replace(/[^A-Za-z0-9.:+-]+/g, '_')}`,
      );
      await mkdir(caseDir, { recursive: true });
      const counter = `[${index + 1}/${selected.length}]`;
      progress(`${counter} ${chaosCase.id}: expecting ${describeExpected(chaosCase.expected)}`);
      const measuredAt = new Date().toISOString();
      const withGates = runsWithGates(chaosCase) ? approvalAssembly : undefined;
      const settings = {
        projectRoot,
        cdkOut: (withGates ?? assembly).directory,
        clusters: options.clusters,
        workloads: options.workloads,
        timeoutMs: options.timeout * 1000,
        signal: stop.signal,
      };
      // One lab at a time: the other set's is stopped before this one's starts or is reused.
      const labs = withGates === undefined ? killLabs : gateLabs;
      if (isKillCase(chaosCase)) await (withGates === undefined ? gateLabs : killLabs).stop();
      const outcome = isKillCase(chaosCase)
        ? await runKillCase(
            chaosCase,
            {
              ...settings,
              labDir: await labs.labFor(chaosCase.mode, chaosCase.labFlags),
              topLevelStates:
                (withGates === undefined ? undefined : approvalTopLevelStates) ?? topLevelStates,
            },
            caseDir,
          )
        : await runCase(chaosCase, settings, caseDir);
      // A failed kill case may leave its lab anywhere: the next one starts from a new lab.
      if (isKillCase(chaosCase) && !outcome.verdict.passed) await labs.stop();
      if (outcome.interrupted) {
        progress(`${counter} ${chaosCase.id}: interrupted, not counted (its folder: ${caseDir})`);
        kept.push(caseDir);
        break;
      }
      const result = caseResult(chaosCase, outcome, measuredAt, revision);
      run.push(result);
      const got =
        outcome.report === undefined ? `no report, exit ${outcome.facts.exitCode}` : outcome.report.result;
      const handshakes = outcome.report?.totals.handshakes;
      progress(
        `${counter} ${chaosCase.id}: ${result.passed ? 'pass' : terminal.styleErr('red', 'FAIL')} ${got}` +
          `${handshakes === undefined ? '' : `, ${handshakes.failed} of ${handshakes.attempted} handshakes failed`}` +
          `, ${(outcome.durationMs / 1000).toFixed(1)} s`,
      );
      for (const line of result.failed) progress(`    ${line}`);
      if (!result.passed || options.keepReports) kept.push(caseDir);
      else await rm(caseDir, { recursive: true, force: true });
      // The environment, not the product: every following case would fail the same way.
      if (outcome.facts.exitCode === EXIT_CODES.environment) {
        progress(`${chaosCase.id} exited 3 (environment: moto_server, the assembly or a folder): stopping`);
        environmentFailed = true;
        break;
      }
    }
    await killLabs.stop();
    await gateLabs.stop();
    for (const line of renderSummary(run, matrix.length)) terminal.out(line);
    if (kept.length > 0) progress(`report folders kept: ${work}`);
    else await rm(work, { recursive: true, force: true });
    if (options.write && run.length > 0) {
      const resultsFile = join(projectRoot, RESULTS_FILE);
      const previous = parseResults(await readFile(resultsFile, 'utf8').catch(() => undefined));
      const results = mergeResults({
        previous,
        run,
        matrix,
        settings: { engine: 'model', clusters: options.clusters, workloads: options.workloads },
        machine: await describeMachine(),
        generatedAt: new Date().toISOString(),
      });
      await writeFileAtomically(resultsFile, serializeResults(results));
      await writeFileAtomically(join(projectRoot, RESULTS_PAGE), renderResultsPage(results, matrix));
      progress(
        `wrote ${RESULTS_FILE} and ${RESULTS_PAGE} (${results.cases.length} of ${matrix.length} cases)`,
      );
    }
    if (stop.signal.aborted) return exitCodeOfSignal(String(stop.signal.reason));
    if (environmentFailed) return EXIT_CODES.environment;
    return run.every((result) => result.passed) ? EXIT_CODES.ok : EXIT_CODES.checkFailed;
  } catch (error) {
    if (stop.signal.aborted) {
      terminal.note(`chaos stopped by ${String(stop.signal.reason)}`);
      return exitCodeOfSignal(String(stop.signal.reason));
    }
    throw error;
  } finally {
    await killLabs?.stop();
    await gateLabs?.stop();
    await held?.release();
    stop.dispose();
  }
}
