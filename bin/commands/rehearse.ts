// `meshtrust rehearse`: the state machine that would be deployed, run end to end against a local lab
// fleet, with real mTLS handshakes all along; a live progress line, a summary and a report directory.
// The work is in rehearsal/run-rehearsal.ts; this file is flags, display and exit code.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { type Command, Option } from 'commander';
import { LAB_OTHER_ACCOUNT_ID } from '../../lab/eks/lab-identities.js';
import {
  clusterNamePrefixProblem,
  EKS_CLUSTER_NAME_MAX,
  LAB_CLUSTER_NAME_PREFIX,
} from '../../lab/lab-cluster-names.js';
import { LabError, LabOptionsError } from '../../lab/lab-errors.js';
import { KUBECONFIG_FILE, markLabStopped, writeLabFiles } from '../../lab/lab-files.js';
import { limitLabHeapGrowth } from '../../lab/lab-heap-growth.js';
import { describeLabLoad } from '../../lab/lab-load.js';
import {
  ISTIO_LAB_MAX_CLUSTERS,
  LAB_MAX_CLUSTERS,
  LAB_MAX_WORKLOADS,
  LAB_OTHER_REGION,
  LAB_TOPOLOGIES,
  type LabTopology,
  ROOT_CERT_STYLES,
  type RootCertStyle,
} from '../../lab/lab-options.js';
import { describeLabPace } from '../../lab/lab-pace.js';
import { MotoServerError } from '../../lab/moto-server.js';
import { PROJECT_ROOT } from '../../lib/handler-entries.js';
import { hasOwnApp } from '../../rehearsal/cloud-assembly.js';
import { describeClusterStrategy } from '../../rehearsal/cluster-strategies.js';
import { describeEndState } from '../../rehearsal/end-state.js';
import { type FailAt, parseFailAt } from '../../rehearsal/fail-at.js';
import { FAULT_GRAMMAR, type Fault, parseFault } from '../../rehearsal/fault-spec.js';
import { ISTIO_REHEARSAL_SECRET_TTL } from '../../rehearsal/fleet/start-rehearsal-fleet.js';
import { PROCESS_WARNINGS_LOG, routeProcessWarnings } from '../../rehearsal/process-warnings.js';
import { createProgressDisplay } from '../../rehearsal/progress-display.js';
import {
  CloudAssemblyError,
  PrivateKeyInReportError,
  RehearsalInterruptedError,
  RehearsalOptionsError,
  ReportDirectoryError,
} from '../../rehearsal/rehearsal-errors.js';
import type { RehearsalMode, RehearsalReport } from '../../rehearsal/rehearsal-report.js';
import { type RehearsalOutcome, runRehearsal } from '../../rehearsal/run-rehearsal.js';
import { describeWorkloadMove } from '../../rehearsal/workload-moves.js';
import { REPORT_FILES } from '../../rehearsal/write-report-files.js';
import type { CliContext } from '../cli/cli-context.js';
import { CliError, EnvironmentError, EXIT_CODES, UsageError } from '../cli/cli-errors.js';
import {
  addEngineOptions,
  type EngineCommandOptions,
  istioEngineSettings,
  modelIstioVersion,
  refuseClustersBeyondEngine,
  refuseIstioFlagsOnModel,
  refuseIstioVersionBeyondEngine,
} from '../cli/engine-options.js';
import { integerBetween } from '../cli/option-parsers.js';
import { exitCodeOfSignal, listenForStopSignals } from '../cli/stop-signals.js';
import type { Terminal } from '../cli/terminal.js';

/** --approve-delay's bound: an hour, so a slip of the keyboard can't hold a run in a gate for days. */
const MAX_APPROVE_DELAY_SECONDS = 3600;

/** The error of an execution refused at acquire-lock because another one holds the rotation lock. */
const ROTATION_LOCKED = 'RotationLocked';

export interface RehearseCommandOptions extends EngineCommandOptions {
  readonly clusters: number;
  readonly workloads: number;
  readonly mode: RehearsalMode;
  readonly cluster?: string;
  readonly failAt: readonly string[];
  readonly retryRollback?: boolean;
  readonly retryPromotion?: boolean;
  readonly fault: readonly string[];
  readonly approve: 'auto' | 'manual';
  readonly approveDelay?: number;
  readonly out?: string;
  readonly keepLab?: boolean;
  readonly json?: boolean;
  readonly cdkOut?: string;
  readonly rootCertStyle: RootCertStyle;
  readonly topology: LabTopology;
  readonly otherAccountClusters: number;
  readonly otherRegionClusters: number;
  readonly clusterNamePrefix?: string;
  readonly discoverClusters?: boolean;
  readonly lab?: string;
}

/** Flags the running lab decides when --lab DIR is given (option name as commander keys it, flag). */
const LAB_DECIDES = [
  ['clusters', '--clusters'],
  ['workloads', '--workloads'],
  ['engine', '--engine'],
  ['topology', '--topology'],
  ['otherAccountClusters', '--other-account-clusters'],
  ['otherRegionClusters', '--other-region-clusters'],
  ['clusterNamePrefix', '--cluster-name-prefix'],
  ['rootCertStyle', '--root-cert-style'],
  ['keepLab', '--keep-lab'],
  ['fault', '--fault'],
  ['istiodEnv', '--istiod-env'],
  ['proxyEnv', '--proxy-env'],
  ['volumeSyncDelay', '--volume-sync-delay'],
  ['istiodReplicas', '--istiod-replicas'],
  ['istioVersion', '--istio-version'],
  ['waitForLab', '--wait-for-lab'],
] as const;

export function registerRehearseCommand(program: Command, context: CliContext): Command {
  const command = program
    .command('rehearse')
    .description(
      'Run the real synthesized rotation state machine against a local lab fleet (moto_server as AWS), with ' +
        'real mTLS handshakes throughout; write a report and exit 0 only if the result is as expected and ' +
        'no handshake failed.',
    )
    .option(
      '--clusters <n>',
      `lab clusters, named lab-1 .. lab-N unless --cluster-name-prefix (istio engine: at most ${ISTIO_LAB_MAX_CLUSTERS})`,
      integerBetween(1, LAB_MAX_CLUSTERS),
      3,
    )
    .option('--workloads <n>', 'injected workloads per cluster', integerBetween(1, LAB_MAX_WORKLOADS), 10)
    .addOption(
      new Option('--mode <mode>', 'rotation mode')
        .choices(['scheduled', 'emergency', 'intermediate'])
        .default('scheduled'),
    )
    .option('--cluster <name>', "the cluster to rekey in intermediate mode (default the lab's first, lab-1)")
    .option(
      '--fail-at <state>',
      'make a step fail: STATE[:CLUSTER][:once] (once: a TransientError that Retry absorbs; otherwise a failure ' +
        'that rolls back); repeatable, e.g. a second one on a rollback state to fail the rollback itself',
      (value: string, previous: string[]) => [...previous, value],
      [],
    )
    .option(
      '--retry-rollback',
      'when the run ends in RollbackFailed, stop the --fail-at failures that fired (the cause is fixed) and resume its ' +
        'rollback in a new execution, as meshtrust retry-rollback does, again while a --fail-at that had not fired ' +
        "fails the resumed one; the result is then the last resumed run's (expected ROLLED_BACK). With --lab: " +
        'a killed earlier run on the lab that had written is rolled back first, then this run rotates',
    )
    .option(
      '--retry-promotion',
      'when the run stops in promote-root (its new root still pending, every cluster trusting only it), stop the ' +
        '--fail-at failures that fired and finish it in a new execution, as meshtrust retry-promotion does; the ' +
        "result is then the finishing run's (expected SUCCEEDED). With --lab a killed earlier run that stopped in " +
        'promote-root is finished first without it: there is no other way on',
    )
    .option(
      '--fault <spec>',
      'make the Kubernetes API of a lab cluster, AWS (moto), the EKS API or STS (ACCOUNT: only AssumeRole into ' +
        "that account's roles) misbehave from the start of PHASE on; repeatable. The model engine plays every " +
        'kind; the istio engine every aws, eks and sts kind, kube 5xx, conflict, slow and down (a proxy in front ' +
        'of the real kube-apiserver), stuck of Deployments (the node agent holds the pod unready) and istiod-drop ' +
        "(the node agent's volume sync keeps the change from istiod's files). " +
        `${FAULT_GRAMMAR}. PHASE: a Task or Map state. docs/rehearsal.md says what ` +
        'each does and how the run should end (absorbed by the retries, or rolled back for stuck, sts denied and ' +
        'istiod-drop); the run fails a check if one never fired',
      (value: string, previous: string[]) => [...previous, value],
      [],
    )
    .addOption(
      new Option('--approve <how>', 'answer approval gates (if the stack has them)')
        .choices(['auto', 'manual'])
        .default('auto'),
    )
    .option(
      '--approve-delay <seconds>',
      'with --approve auto: answer each approval gate this long after it opens (default at once), as an operator ' +
        'who takes a while would; the execution waits in the gate meanwhile (the chaos kill cases kill a run there)',
      integerBetween(0, MAX_APPROVE_DELAY_SECONDS),
    )
    .option(
      '--lab <dir>',
      'rotate the lab `meshtrust lab --out DIR` runs (its moto_server, clusters and prober) instead of starting ' +
        'one: nothing is seeded, the run starts from the state the lab is in, and the lab keeps running; the ' +
        'lab decides clusters, workloads, engine and topology (those flags are refused with it). A model or ' +
        'istio lab. An earlier run on it that was killed is found from DIR and its execution stopped (StopExecution), ' +
        'so the lock can be taken over; if it had written, --retry-rollback rolls it back first',
    )
    .option('--out <dir>', 'report directory (default rehearsals/<timestamp>/)')
    .option('--keep-lab', 'leave the lab running afterwards and print its kubeconfig (Ctrl-C stops it)')
    .option('--json', 'print the summary as JSON on stdout')
    .addOption(
      new Option(
        '--root-cert-style <style>',
        "how each cluster's original root-cert.pem is written, as tools and operators leave it (both engines)",
      )
        .choices([...ROOT_CERT_STYLES])
        .default('canonical'),
    )
    .addOption(
      new Option(
        '--topology <topology>',
        "multi-primary, or primary-remote (lab-2 a remote of lab-1: no istiod, no cacerts; the functions get REMOTE_CLUSTERS=lab-2=lab-1, as the stack's remoteClusters would set it)",
      )
        .choices([...LAB_TOPOLOGIES])
        .default('multi-primary'),
    )
    .option(
      '--other-account-clusters <n>',
      `place the last N lab clusters in a second account (${LAB_OTHER_ACCOUNT_ID}; model engine): its EKS API ` +
        "answers for them only to that account's callers, and its roles meshtrust-<mesh>-rotator, -verifier and " +
        "-expiry-check, each trusting the stack's role of its kind, are their only access entries; the functions " +
        'get them by ARN in CLUSTERS and those roles in CLUSTER_ACCOUNT_ROLES, as a stack listing them would',
      integerBetween(0, LAB_MAX_CLUSTERS),
      0,
    )
    .option(
      '--other-region-clusters <n>',
      `place the last N lab clusters in a second region (${LAB_OTHER_REGION}; model engine): its EKS API answers ` +
        'for them only to requests signed for that region and they accept only tokens presigned for its STS; ' +
        'the functions get them by ARN in CLUSTERS (with --other-account-clusters, a cluster among the last ' +
        'of both is in the other account and region)',
      integerBetween(0, LAB_MAX_CLUSTERS),
      0,
    )
    .option(
      '--cluster-name-prefix <prefix>',
      `name the lab clusters PREFIX1 .. PREFIXN instead of ${LAB_CLUSTER_NAME_PREFIX}1 .. (model engine), each a name EKS ` +
        `takes: letters, digits, "-" and "_", at most ${EKS_CLUSTER_NAME_MAX} characters; a long one rehearses what the ` +
        "stack keeps per cluster (secret names, the state's answers) at EKS's longest names",
    )
    .option(
      '--discover-clusters',
      'give the functions the cluster list of a stack that discovers its clusters by the mesh tag, one entry per ' +
        `account of the lab: CLUSTERS=* (the stack's account and region) and, with --other-account-clusters, ` +
        `arn:aws:eks:<region>:${LAB_OTHER_ACCOUNT_ID}:cluster/* (found there as that account's roles), instead of ` +
        'naming each cluster',
    )
    .option(
      '--cdk-out <dir>',
      "run this cloud assembly as it is (default: ./cdk.out; in a checkout synthesized again when older than its sources, in the installed package your app's `cdk synth` output)",
    );
  return addEngineOptions(command, {
    proxyEnvNote: `; the rehearsal sets SECRET_TTL=${ISTIO_REHEARSAL_SECRET_TTL} unless given`,
  })
    .addHelpText(
      'after',
      '\nExamples:\n  npm run rehearse\n  npm run rehearse -- --mode emergency --clusters 5\n' +
        '  npm run rehearse -- --fail-at reissue-intermediate:lab-2     # watch the rollback\n' +
        '  npm run rehearse -- --fail-at distribute-bundle:lab-1:once   # watch Retry\n' +
        '  npm run rehearse -- --fail-at reissue-intermediate:lab-2 --fail-at rollback-restore:lab-1 --retry-rollback\n' +
        '  npm run rehearse -- --fault kube:lab-2:5xx:3@distribute-bundle --fault aws:throttle:3@stage-root\n' +
        '  npm run rehearse -- --clusters 3 --other-account-clusters 1   # lab-3 in another account\n' +
        '  npm run rehearse -- --clusters 2 --other-account-clusters 1 --discover-clusters   # found by tag in both accounts\n' +
        '  npm run rehearse -- --clusters 2 --other-account-clusters 1 --fault sts:222222222222:throttle:5@distribute-bundle\n' +
        '  npm run rehearse -- --engine istio --clusters 2 --workloads 2 --proxy-env PROXY_CONFIG_XDS_AGENT=true\n' +
        '  meshtrust lab --out ./my-lab &   npm run rehearse -- --lab ./my-lab --mode emergency   # rotate a running lab\n\n' +
        'Docs: docs/rehearsal.md',
    )
    .action(async (options: RehearseCommandOptions, command: Command) => {
      if (options.lab !== undefined) refuseLabDecidedFlags(options.lab, command);
      context.exitCode = await rehearse(options, context);
    });
}

/**
 * The assembly named by --cdk-out; else none in a checkout (the rehearsal synthesizes the repository's
 * app when cdk.out is stale), and ./cdk.out in the installed package, which has no app of its own.
 */
function assemblyToRun(cdkOut: string | undefined): string | undefined {
  if (cdkOut !== undefined) return resolve(cdkOut);
  if (hasOwnApp(PROJECT_ROOT)) return undefined;
  const directory = resolve('cdk.out');
  if (!existsSync(join(directory, 'manifest.json'))) {
    throw new UsageError(
      `no cloud assembly in ${directory}: installed meshtrust has no app of its own to synthesize. Run \`npx cdk synth\` on your app (one stack, with MeshTrustRotation or MeshTrustStack) and rehearse in its directory, or name its assembly with --cdk-out DIR`,
    );
  }
  return directory;
}

/** With --lab the running lab decides its fleet: a flag that would shape it is refused, not ignored. */
function refuseLabDecidedFlags(dir: string, command: Command): void {
  if (dir === '') throw new UsageError('--lab wants the directory of a running lab: --lab DIR');
  const given = LAB_DECIDES.filter(([key]) => command.getOptionValueSource(key) === 'cli').map(
    ([, flag]) => flag,
  );
  if (given.length > 0) {
    throw new UsageError(
      `${given.join(', ')} cannot go with --lab ${dir}: the running lab decides its clusters, workloads, ` +
        'engine, topology and settings, and keeps running afterwards; drop them (or rehearse without --lab)',
    );
  }
}

async function rehearse(options: RehearseCommandOptions, context: CliContext) {
  const { terminal } = context;
  let failAt: FailAt[];
  let faults: Fault[];
  try {
    failAt = options.failAt.map(parseFailAt);
    faults = options.fault.map(parseFault);
  } catch (error) {
    throw new UsageError((error as Error).message, { cause: error });
  }
  if (options.cluster !== undefined && options.mode !== 'intermediate') {
    throw new UsageError('--cluster applies to --mode intermediate only');
  }
  if (options.approveDelay !== undefined && options.approve !== 'auto') {
    throw new UsageError(
      '--approve-delay applies to --approve auto only: with manual, you answer when you answer',
    );
  }
  refuseIstioFlagsOnModel(options);
  refuseIstioVersionBeyondEngine(options);
  refuseClustersBeyondEngine(options);
  refuseOtherAccountClusters(options);
  refuseClusterNamePrefix(options);
  const cdkOut = assemblyToRun(options.cdkOut);
  const istioVersion = options.engine === 'model' ? modelIstioVersion(options) : undefined;
  const outDir = resolve(options.out ?? join('rehearsals', new Date().toISOString().replace(/[:.]/g, '-')));
  const display = createProgressDisplay(terminal.stderr);
  // This process hosts the lab (or, with --lab, the run's state machine) for minutes at a fleet's size.
  limitLabHeapGrowth();
  const stop = listenForStopSignals(
    (line) => display.note(line),
    'interrupting the rehearsal; what it has so far goes into a report marked interrupted',
  );
  // Library warnings (the AWS SDK's Node.js version notice) go to the report's logs, not between the
  // progress lines.
  const warnings = routeProcessWarnings(join(outDir, REPORT_FILES.logs, PROCESS_WARNINGS_LOG));
  let outcome: RehearsalOutcome;
  try {
    outcome = await runRehearsal({
      projectRoot: PROJECT_ROOT,
      ...(cdkOut === undefined ? {} : { cdkOut }),
      clusters: options.clusters,
      workloads: options.workloads,
      mode: options.mode,
      ...(options.cluster === undefined ? {} : { cluster: options.cluster }),
      ...(failAt.length === 0 ? {} : { failAt }),
      ...(options.retryRollback === true && { retryRollback: true }),
      ...(options.retryPromotion === true && { retryPromotion: true }),
      ...(faults.length === 0 ? {} : { faults }),
      ...(options.discoverClusters === true && { discoverClusters: true }),
      approve: options.approve,
      ...(options.approveDelay === undefined ? {} : { approveDelaySeconds: options.approveDelay }),
      askApproval: (gate) => askApproval(gate, terminal, display, stop.signal),
      outDir,
      ...(options.lab === undefined ? {} : { labDir: resolve(options.lab) }),
      keepLab: options.keepLab === true,
      ...(options.lab === undefined && { engine: options.engine, rootCertStyle: options.rootCertStyle }),
      ...((options.topology !== 'multi-primary' ||
        options.otherAccountClusters > 0 ||
        options.otherRegionClusters > 0 ||
        options.clusterNamePrefix !== undefined ||
        istioVersion !== undefined) && {
        lab: {
          ...(options.topology !== 'multi-primary' && { topology: options.topology }),
          ...(options.clusterNamePrefix !== undefined && { clusterNamePrefix: options.clusterNamePrefix }),
          ...(options.otherAccountClusters > 0 && { otherAccountClusters: options.otherAccountClusters }),
          ...(options.otherRegionClusters > 0 && { otherRegionClusters: options.otherRegionClusters }),
          ...(istioVersion !== undefined && { istioVersion }),
        },
      }),
      istio: istioEngineSettings(options),
      waitForLabMs: options.waitForLab * 1000,
      onProgress: (state) => display.update(state),
      onNote: (line) => display.note(line),
      signal: stop.signal,
    });
  } catch (error) {
    display.stop();
    throw asCliError(error);
  } finally {
    warnings.release();
    stop.dispose();
  }
  display.stop();
  const { report } = outcome;
  if (options.json === true) terminal.out(JSON.stringify(summaryJson(report, outDir), null, 2));
  else printSummary(report, outDir, terminal);
  if (options.lab !== undefined) {
    terminal.note(
      `the lab in ${resolve(options.lab)} keeps running: source ${join(resolve(options.lab), 'env')} to inspect it`,
    );
  }
  if (report.interrupted !== undefined) {
    terminal.note(
      `interrupted by ${report.interrupted.signal} in phase ${report.interrupted.phase}: partial report in ${outDir}`,
    );
    return exitCodeOfSignal(report.interrupted.signal);
  }

  if (outcome.kept !== undefined) {
    const description = await writeLabFiles(outcome.kept.fleet.files, {
      dir: join(outDir, 'lab'),
      engine: outcome.kept.fleet.engine,
      moto: { endpoint: outcome.kept.moto.endpoint, pid: outcome.kept.moto.pid },
    });
    terminal.note(
      `lab kept running: export KUBECONFIG=${description.files.kubeconfig}; source ${description.files.env}` +
        `  (${KUBECONFIG_FILE} has one context per cluster). Ctrl-C stops it.`,
    );
    await new Promise<void>((done) => {
      process.once('SIGINT', () => done());
      process.once('SIGTERM', () => done());
    });
    await outcome.kept.stop();
    // lab.json says "stopped" and the env files with the (now dead) credentials go.
    await markLabStopped(description.dir);
    terminal.note('lab stopped');
  }
  return report.ok ? EXIT_CODES.ok : EXIT_CODES.checkFailed;
}

async function askApproval(
  gate: string,
  terminal: Terminal,
  display: { note(line: string): void },
  signal: AbortSignal,
): Promise<boolean> {
  if (process.stdin.isTTY !== true) {
    display.note(`${gate}: --approve manual needs a terminal to ask on; rejecting`);
    return false;
  }
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    // An interrupt stops the question too (the run is being aborted): no answer, no approval.
    const answer = await prompt.question(`\napprove ${gate}? [y/N] `, { signal }).catch(() => '');
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    prompt.close();
    terminal.note('');
  }
}

/** --cluster-name-prefix: the model lab's, and names EKS takes for every cluster (exit 2, naming the flag). */
function refuseClusterNamePrefix(options: RehearseCommandOptions): void {
  const prefix = options.clusterNamePrefix;
  if (prefix === undefined) return;
  if (options.engine !== 'model') {
    throw new UsageError('--cluster-name-prefix is played by the model engine only, for now');
  }
  const problem = clusterNamePrefixProblem(prefix, options.clusters);
  if (problem !== undefined) throw new UsageError(`--cluster-name-prefix ${problem}`);
}

/** --other-account-clusters: at most --clusters, and the model lab's (exit 2, naming the flag). */
function refuseOtherAccountClusters(options: RehearseCommandOptions): void {
  for (const [flag, count] of [
    ['--other-account-clusters', options.otherAccountClusters],
    ['--other-region-clusters', options.otherRegionClusters],
  ] as const) {
    if (count === 0) continue;
    if (options.engine !== 'model') {
      throw new UsageError(`${flag} is played by the model engine only, for now`);
    }
    if (count > options.clusters) {
      throw new UsageError(
        `${flag} ${count} is more than the lab's ${options.clusters} cluster(s) (--clusters)`,
      );
    }
  }
}

function summaryJson(report: RehearsalReport, outDir: string) {
  return {
    ok: report.ok,
    result: report.result,
    expectedResult: report.expectedResult,
    mode: report.mode,
    clusters: report.clusters,
    ...(report.accounts === undefined ? {} : { accounts: report.accounts }),
    durationMs: report.durationMs,
    handshakes: report.totals.handshakes,
    phases: report.phases.map((phase) => ({ name: phase.name, handshakes: phase.handshakes })),
    checks: report.checks,
    strategies: report.strategies,
    ...(report.error === undefined ? {} : { error: report.error }),
    ...(report.failedChildren === undefined ? {} : { failedChildren: report.failedChildren }),
    ...(report.faults === undefined ? {} : { faults: report.faults }),
    ...(report.interrupted === undefined ? {} : { interrupted: report.interrupted }),
    ...(report.labLoad === undefined ? {} : { labLoad: report.labLoad }),
    outDir,
  };
}

/** Each account with its clusters; for another account, each role assumed there and by which phases' sessions. */
function describeAccounts(accounts: NonNullable<RehearsalReport['accounts']>): string[] {
  return accounts.flatMap((entry, i) => [
    `  ${i === 0 ? 'accounts  ' : '          '}  ${entry.account} ${entry.clusters.join(', ')}: ${entry.stack ? "the stack's" : `another, reached as ${entry.assumedRoles?.length ?? 0} role(s) of it`}`,
    ...(entry.assumedRoles ?? []).map(
      (assumed) =>
        `                ${assumed.role} by ${assumed.sessions.map((session) => session.replace(/^meshtrust-/, '')).join(', ')}`,
    ),
  ]);
}

/** Workloads the summary lists (issuer at the start -> at the end, restarted); report.html has them all. */
const SUMMARY_WORKLOADS = 12;

function printSummary(report: RehearsalReport, outDir: string, terminal: Terminal): void {
  const style = (ok: boolean, text: string) => terminal.styleOut(ok ? 'green' : 'red', text);
  const lines = [
    '',
    `${terminal.styleOut('bold', 'meshtrust rehearse')}: ${report.mode}${report.cluster ? ` ${report.cluster}` : ''} on ${report.clusters.length} cluster(s), ${(report.durationMs / 1000).toFixed(1)} s`,
    `  result      ${style(report.result === report.expectedResult, report.result)} (expected ${report.expectedResult})${report.error ? ` ${report.error.name}` : ''}`,
    // Another rotation of the mesh held the lock: this one stopped at acquire-lock, before any write.
    ...(report.error?.name === ROTATION_LOCKED ? [`  refused     ${report.error.cause}`] : []),
    // A Distributed Map's error names no cluster: the children that failed do.
    ...(report.failedChildren ?? []).map(
      (child, i) =>
        `  ${i === 0 ? 'failed in ' : '          '}  ${child.map} ${child.cluster ?? '(no cluster)'}: ${child.status}${child.error === undefined ? '' : ` ${child.error}`}${child.cause === undefined ? '' : `: ${child.cause.slice(0, 160)}`}`,
    ),
    `  handshakes  ${report.totals.handshakes.attempted} attempted, ${style(report.totals.handshakes.failed === 0, `${report.totals.handshakes.failed} failed`)}`,
    // Clusters of another account: where each is, and the roles of that account it was reached as.
    ...((report.accounts?.length ?? 0) > 1 ? describeAccounts(report.accounts ?? []) : []),
    // The model lab shares this process: whether it kept up, and the pace its fleet size gave it.
    ...(report.labLoad === undefined
      ? []
      : [
          `  lab load    ${describeLabLoad(report.labLoad)}`,
          `  lab pace    ${describeLabPace(report.labLoad.pace)}`,
          // A proxy of the lab served an expired certificate: its failed handshakes are the lab's.
          ...((report.labLoad.renewals?.afterExpiry ?? 0) > 0
            ? [
                `  ${style(false, 'lab behind')}  ${report.labLoad.renewals?.afterExpiry} certificate(s) of the lab expired before their renewal: the lab fell behind, so a failed handshake may be its own (docs/lab.md, "Time")`,
              ]
            : []),
        ]),
    '',
    '  phase                    handshakes  failed',
    ...report.phases.map(
      (phase) =>
        `  ${phase.name.padEnd(24)} ${String(phase.handshakes.attempted).padStart(10)}  ${String(phase.handshakes.failed).padStart(6)}`,
    ),
    ...(report.strategies.length === 0
      ? []
      : [
          '',
          ...report.strategies.map(
            (entry, i) => `  ${i === 0 ? 'strategy  ' : '          '}  ${describeClusterStrategy(entry)}`,
          ),
        ]),
    ...(report.workloadMoves.length === 0
      ? []
      : [
          '',
          ...report.workloadMoves
            .slice(0, SUMMARY_WORKLOADS)
            .map((move, i) => `  ${i === 0 ? 'workloads ' : '          '}  ${describeWorkloadMove(move)}`),
          ...(report.workloadMoves.length > SUMMARY_WORKLOADS
            ? [`              and ${report.workloadMoves.length - SUMMARY_WORKLOADS} more in report.html`]
            : []),
        ]),
    '',
    ...report.checks.map(
      (check) => `  ${style(check.ok, check.ok ? 'pass' : 'FAIL')}  ${check.name}: ${check.detail}`,
    ),
    // After a failed rollback, where each cluster stands is what the operator needs first.
    ...(report.result === 'FAILED' && report.endState !== undefined
      ? [
          '',
          ...describeEndState(report.endState).map(
            (line, i) => `  ${i === 0 ? 'end state ' : '          '}  ${line}`,
          ),
        ]
      : []),
    '',
    `  report      ${join(outDir, 'report.html')}`,
    `  ${style(report.ok, report.ok ? 'OK' : report.interrupted ? 'NOT OK (interrupted)' : 'NOT OK')}`,
  ];
  for (const line of lines) terminal.out(line);
}

function asCliError(error: unknown): unknown {
  if (error instanceof CliError) return error;
  if (error instanceof RehearsalOptionsError || error instanceof LabOptionsError) {
    return new UsageError(error.message, { cause: error });
  }
  if (
    error instanceof MotoServerError ||
    error instanceof CloudAssemblyError ||
    error instanceof ReportDirectoryError ||
    error instanceof LabError
  ) {
    return new EnvironmentError(error.message, { cause: error });
  }
  if (error instanceof RehearsalInterruptedError) {
    return new CliError(error.message, exitCodeOfSignal(error.signal), { cause: error });
  }
  if (error instanceof PrivateKeyInReportError) {
    return new CliError(error.message, EXIT_CODES.checkFailed, { cause: error });
  }
  return error;
}
