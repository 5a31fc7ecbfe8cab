// `meshtrust lab`: starts the lab fleet (and moto_server as its AWS account), writes the files that
// point awscli, kubectl and meshtrust at it, serves probe requests, and runs until SIGINT/SIGTERM.

import { once } from 'node:events';
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { describeLabBuildProgress } from '../../lab/binaries/build-progress.js';
import { ensureLabBinaries } from '../../lab/binaries/lab-binaries.js';
import type { MtlsProber } from '../../lab/istio/mtls-prober.js';
import {
  type LabAttachHandlers,
  type LabControlServer,
  type LabProbeReport,
  startLabControlServer,
} from '../../lab/lab-control-server.js';
import { LabError, LabOptionsError } from '../../lab/lab-errors.js';
import {
  describeLabEngine,
  ENV_FILE,
  FLEET_DIR,
  KUBECONFIG_FILE,
  LAB_FILE,
  type LabDescription,
  type LabEngineDescription,
  LabFilesError,
  type LabFilesSource,
  markLabStopped,
  readLabDescription,
  writeLabFiles,
} from '../../lab/lab-files.js';
import { limitLabHeapGrowth } from '../../lab/lab-heap-growth.js';
import {
  ISTIO_LAB_MAX_CLUSTERS,
  LAB_MAX_CLUSTERS,
  LAB_MAX_WORKLOADS,
  LAB_TOPOLOGIES,
  type LabTopology,
} from '../../lab/lab-options.js';
import { makeDirectory } from '../../lab/make-directory.js';
import {
  killMotoServerNow,
  type MotoServer,
  MotoServerError,
  startMotoServer,
} from '../../lab/moto-server.js';
import { isProcessAlive } from '../../lab/process-alive.js';
import { meshKeyAlias, seedCaStore } from '../../lab/seed-ca-store.js';
import { type Lab, startLab } from '../../lab/start-lab.js';
import { rootSecretName } from '../../lambdas/adapters/secrets/secret-names.js';
import { parseGoDuration } from '../../lambdas/core/istio/go-values.js';
import {
  ISTIO_DEFAULT_CERT_TTL_SECONDS,
  SECRET_TTL_METADATA,
} from '../../lambdas/core/istio/istio-settings.js';
import type { CaMaterial } from '../../lambdas/core/pki/index.js';
import { labAttachHandlers } from '../../rehearsal/fleet/attach-protocol.js';
import { modelRehearsalFleet } from '../../rehearsal/fleet/model-fleet.js';
import type { CliContext } from '../cli/cli-context.js';
import { EnvironmentError, UsageError } from '../cli/cli-errors.js';
import {
  addEngineOptions,
  type EngineCommandOptions,
  istioEngineSettings,
  modelIstioVersion,
  modelPcds,
  refuseClustersBeyondEngine,
  refuseIstioFlagsOnModel,
  refuseIstioVersionBeyondEngine,
} from '../cli/engine-options.js';
import { integerBetween, matching, oneOf } from '../cli/option-parsers.js';
import { listenForStopSignals } from '../cli/stop-signals.js';
import type { Terminal } from '../cli/terminal.js';

export interface LabCommandOptions extends EngineCommandOptions {
  readonly clusters: number;
  readonly workloads: number;
  readonly out?: string;
  readonly region: string;
  readonly meshId: string;
  readonly moto: boolean;
  readonly topology: LabTopology;
}

export function registerLabCommand(program: Command, context: CliContext): Command {
  const command = program
    .command('lab')
    .description(
      'Start a local lab fleet: N clusters that look like EKS clusters running Istio (root A installed), with ' +
        'moto_server as the AWS account. Writes DIR/lab.json, DIR/kubeconfig and DIR/env, then runs until Ctrl-C.',
    )
    .option('--out <dir>', 'directory for lab.json, kubeconfig and env (required; created if missing)')
    .option(
      '--clusters <n>',
      `number of clusters, named lab-1 .. lab-N (istio engine: at most ${ISTIO_LAB_MAX_CLUSTERS})`,
      integerBetween(1, LAB_MAX_CLUSTERS),
      3,
    )
    .option('--workloads <n>', 'injected workloads per cluster', integerBetween(1, LAB_MAX_WORKLOADS), 10)
    .option(
      '--region <region>',
      'AWS region the lab pretends to be',
      matching(/^[a-z]{2}(-[a-z]+)+-\d$/, 'a region such as eu-west-1'),
      'us-east-1',
    )
    .option(
      '--mesh-id <id>',
      'mesh id (tag meshtrust.io/mesh, secret names)',
      matching(/^[A-Za-z0-9._-]{1,128}$/, '1-128 letters, digits, ".", "_" or "-"'),
      'lab',
    )
    .option('--no-moto', 'do not start moto_server (no Secrets Manager: only EKS and Kubernetes work)')
    .option(
      '--topology <topology>',
      'multi-primary (every cluster its own istiod and cacerts) or primary-remote (lab-2 a remote of lab-1: no ' +
        "istiod, no cacerts, its pods signed by lab-1's istiod; rotate it with REMOTE_CLUSTERS=lab-2=lab-1)",
      oneOf(LAB_TOPOLOGIES),
      'multi-primary',
    );
  return addEngineOptions(command)
    .addHelpText(
      'after',
      '\nExample:\n  meshtrust lab --clusters 3 --workloads 20 --out ./my-lab\n  source ./my-lab/env && kubectl --context lab-1 get ns\n' +
        '  meshtrust lab --engine istio --clusters 2 --workloads 3 --proxy-env PROXY_CONFIG_XDS_AGENT=true --out ./istio-lab\n\n' +
        'On Ctrl-C the lab stops; lab.json is marked "stopped" and the env files (credentials) are removed.',
    )
    .action(async (options: LabCommandOptions) => {
      await runLab(options, context);
    });
}

async function runLab(options: LabCommandOptions, context: CliContext): Promise<void> {
  const { terminal } = context;
  if (options.out === undefined || options.out === '') {
    throw new UsageError('say where the lab files go: --out DIR (e.g. meshtrust lab --out ./my-lab)');
  }
  const dir = resolve(options.out);
  await refuseIfRunning(dir);
  // Before starting anything: an unusable directory should cost a second, not a fleet start.
  await makeDirectory(dir).catch((error: unknown) => {
    throw asCliError(error, dir);
  });
  const progress = createProgress(terminal);
  // This process hosts the lab until it is stopped, at a fleet's size.
  limitLabHeapGrowth();
  const signals = listenForStopSignals((line) => terminal.note(line), 'stopping the lab');
  const throwIfStopRequested = () => {
    if (signals.signal.aborted) throw new StopRequested();
  };
  let moto: MotoServer | undefined;
  let lab: ServedLab | undefined;
  let control: LabControlServer | undefined;
  const killMotoOnExit = () => moto && killMotoServerNow(moto.pid);
  process.once('exit', killMotoOnExit);
  const stopEverything = async () => {
    await control?.stop();
    await lab?.stop();
    await moto?.stop();
  };

  try {
    let description: LabDescription;
    try {
      refuseIstioFlagsOnModel(options);
      refuseIstioVersionBeyondEngine(options);
      refuseClustersBeyondEngine(options);
      if (options.moto) {
        progress('starting moto_server (the lab account: Secrets Manager, KMS, ...)');
        moto = await startMotoServer();
        throwIfStopRequested();
      }
      lab =
        options.engine === 'istio'
          ? await startIstioEngine(options, dir, progress)
          : await startModelEngine(options, progress);
      throwIfStopRequested();
      if (moto) {
        progress(
          `seeding moto: KMS key ${meshKeyAlias(options.meshId)}, ${rootSecretName(options.meshId)} (root A), one intermediate per cluster`,
        );
        await seedCaStore({
          endpoint: moto.endpoint,
          region: lab.source.region,
          credentials: lab.source.identities.rotator.credentials,
          meshId: lab.source.meshId,
          root: lab.rootA,
          intermediates: lab.intermediates,
        });
      }
      const running = lab;
      control = await startLabControlServer({
        probe: (rounds) => running.probe(rounds),
        status: () => running.status(),
        ...(running.attach === undefined ? {} : { attach: running.attach }),
      });
      progress(`writing ${LAB_FILE}, ${KUBECONFIG_FILE} and ${ENV_FILE} to ${dir}`);
      description = await writeLabFiles(lab.source, {
        dir,
        control,
        engine: lab.engine,
        ...(moto ? { moto: { endpoint: moto.endpoint, pid: moto.pid } } : {}),
      });
    } catch (error) {
      await stopEverything();
      if (error instanceof StopRequested) {
        terminal.note('stopped before the lab was ready');
        return;
      }
      throw asCliError(error, dir);
    }

    progress('ready');
    printHowTo(terminal, description);

    if (!signals.signal.aborted) await once(signals.signal, 'abort');
    progress('stopping the lab');
    await stopEverything();
    await markLabStopped(dir);
    terminal.note(`lab stopped; ${LAB_FILE} says "stopped", the env files with credentials are removed`);
  } finally {
    signals.dispose();
    process.removeListener('exit', killMotoOnExit);
  }
}

/** What `meshtrust lab` serves, whichever engine runs it. */
interface ServedLab {
  readonly source: LabFilesSource;
  /** Root A with its key, to seed the CA store (never written to a file). */
  readonly rootA: CaMaterial;
  readonly engine: LabEngineDescription;
  readonly intermediates: ReadonlyArray<{ readonly cluster: string; readonly material: CaMaterial }>;
  probe(rounds: number): Promise<LabProbeReport>;
  status(): unknown;
  /** What `rehearse --lab DIR` asks of the lab. */
  readonly attach?: LabAttachHandlers;
  stop(): Promise<void>;
}

async function startModelEngine(
  options: LabCommandOptions,
  progress: (step: string) => void,
): Promise<ServedLab> {
  progress(
    `starting ${options.clusters} cluster(s) with ${options.workloads} workload(s) each; waiting until settled`,
  );
  const lab: Lab = await startLab({
    clusters: options.clusters,
    workloadsPerCluster: options.workloads,
    region: options.region,
    meshId: options.meshId,
    pcds: modelPcds(options),
    topology: options.topology,
    ...(modelIstioVersion(options) !== undefined && { istioVersion: modelIstioVersion(options) }),
  });
  return {
    ...servedBy(lab),
    engine: { name: 'model', istio: lab.options.istioVersion },
    attach: labAttachHandlers(modelRehearsalFleet(lab), options.workloads),
    status: () => ({
      engine: 'model',
      meshId: lab.meshId,
      clusters: lab.clusters.map((c) => c.name),
      prober: lab.prober.stats(),
    }),
    stop: () => lab.stop(),
  };
}

async function startIstioEngine(
  options: LabCommandOptions,
  dir: string,
  progress: (step: string) => void,
): Promise<ServedLab> {
  const settings = istioEngineSettings(options);
  // Before anything starts: a lifetime the proxies could not use is refused now.
  const workloadCertTtlMs = istioWorkloadCertTtlMs(settings.proxyEnv[SECRET_TTL_METADATA]);
  const binaries = await ensureLabBinaries({
    onProgress: (step) => progress(`lab build: ${describeLabBuildProgress(step)}`),
  });
  progress(
    `starting ${options.clusters} cluster(s) on real Kubernetes ${binaries.versions.kubernetes} and Istio (istio engine), ` +
      `${options.workloads} workload(s) each`,
  );
  const fleetDir = join(dir, FLEET_DIR);
  // Imported here: the istio engine's modules bring @kubernetes/client-node, which a model lab would
  // hold for nothing (rehearsal/fleet/start-rehearsal-fleet.ts).
  const { startIstioLab } = await import('../../lab/istio-install/start-istio-lab.js');
  const { istioRehearsalFleet } = await import('../../rehearsal/fleet/istio-fleet.js');
  const lab = await startIstioLab({
    binaries,
    dir: fleetDir,
    clusters: options.clusters,
    workloadsPerCluster: options.workloads,
    region: options.region,
    meshId: options.meshId,
    istiodEnv: settings.istiodEnv,
    proxyMetadata: settings.proxyEnv,
    istiodReplicas: settings.istiodReplicas,
    volumeSyncPeriodMs: settings.volumeSyncDelaySeconds * 1000,
    waitForOtherLabMs: options.waitForLab * 1000,
    topology: options.topology,
    onProgress: progress,
  });
  return {
    ...servedBy(lab),
    engine: lab.engine,
    // `rehearse --lab DIR` sees the fleet as a rehearsal's own istio fleet: cacerts through the API
    // servers, istiod's refusals from its log. The certificate lifetime is what the proxies ask for
    // (SECRET_TTL, Istio's default 24h when --proxy-env does not set it): a rehearsal soaks that long.
    attach: labAttachHandlers(
      istioRehearsalFleet(lab, {
        workloadCertTtlMs,
        volumeSyncDelayMs: settings.volumeSyncDelaySeconds * 1000,
      }),
      options.workloads,
    ),
    status: () => ({ engine: lab.engine, meshId: lab.meshId, clusters: lab.clusters.map((c) => c.name) }),
    stop: async () => {
      await lab.stop();
      // The fleet's folder holds the clusters' keys (test material, but keys): gone with the lab.
      await rm(fleetDir, { recursive: true, force: true });
    },
  };
}

/** pilot-agent's SECRET_TTL in ms; Istio's default when unset (a value Go cannot parse is refused). */
function istioWorkloadCertTtlMs(secretTtl: string | undefined): number {
  if (secretTtl === undefined) return ISTIO_DEFAULT_CERT_TTL_SECONDS * 1000;
  const ms = parseGoDuration(secretTtl);
  if (ms === undefined || ms <= 0) {
    throw new UsageError(
      `--proxy-env ${SECRET_TTL_METADATA}=${secretTtl} is not a duration Go accepts (e.g. 60s, 5m)`,
    );
  }
  return ms;
}

/** What both engines' labs serve alike: their files, root A, intermediates and the prober's rounds. */
function servedBy(
  lab: {
    readonly rootA: CaMaterial;
    readonly clusters: readonly { readonly name: string; readonly initialIntermediate: CaMaterial }[];
    readonly prober: MtlsProber;
  } & LabFilesSource,
): Pick<ServedLab, 'source' | 'rootA' | 'intermediates' | 'probe'> {
  return {
    source: lab,
    rootA: lab.rootA,
    // A remote cluster (topology primary-remote) has no intermediate of its own.
    intermediates: lab.clusters.flatMap((cluster) =>
      'primary' in cluster && cluster.primary !== undefined
        ? []
        : [{ cluster: cluster.name, material: cluster.initialIntermediate }],
    ),
    probe: (rounds) =>
      collectRounds(rounds, async () => {
        const result = await lab.prober.runRound();
        return {
          ...result,
          failures: result.failures.map((failure) => ({ ...failure, at: failure.at.toISOString() })),
        };
      }),
  };
}

async function collectRounds(
  rounds: number,
  round: () => Promise<{
    attempted: number;
    failed: number;
    failures: ReadonlyArray<LabProbeReport['failures'][number]>;
  }>,
): Promise<LabProbeReport> {
  let attempted = 0;
  let failed = 0;
  const failures: LabProbeReport['failures'][number][] = [];
  for (let i = 0; i < rounds; i++) {
    const result = await round();
    attempted += result.attempted;
    failed += result.failed;
    failures.push(...result.failures);
  }
  return { rounds, attempted, failed, failures };
}

async function refuseIfRunning(dir: string): Promise<void> {
  let existing: LabDescription;
  try {
    existing = await readLabDescription(dir);
  } catch {
    return; // no lab there (or an unreadable leftover that writeLabFiles replaces)
  }
  if (existing.state === 'running' && isProcessAlive(existing.pid)) {
    throw new EnvironmentError(
      `A lab is already running from ${dir} (pid ${existing.pid}). Stop it first (Ctrl-C in its terminal, or ` +
        `kill -INT ${existing.pid}) or choose another --out directory.`,
    );
  }
}

class StopRequested extends Error {
  constructor() {
    super('stop requested');
    this.name = 'StopRequested';
  }
}

function createProgress(terminal: Terminal): (step: string) => void {
  const startedAt = Date.now();
  return (step) => {
    const seconds = ((Date.now() - startedAt) / 1000).toFixed(1).padStart(5);
    terminal.note(`${terminal.styleErr('dim', `[${seconds}s]`)} ${step}`);
  };
}

function printHowTo(terminal: Terminal, lab: LabDescription): void {
  const bold = (text: string) => terminal.styleOut('bold', text);
  const first = lab.clusters[0]?.name ?? 'lab-1';
  const lines = [
    '',
    `${bold('meshtrust lab is running')} (${describeLabEngine(lab.engine)}): mesh ${lab.meshId}, ${lab.clusters.length} cluster(s) (${lab.clusters
      .map((cluster) => cluster.name)
      .join(', ')}) in ${lab.region}`,
    '',
    `Files in ${lab.dir}:`,
    `  ${LAB_FILE.padEnd(12)} what runs where: endpoints, clusters, CA files, identities (no credentials)`,
    `  ${ENV_FILE.padEnd(12)} rotator credentials and endpoints as export lines (mode 0600)`,
    `  ${KUBECONFIG_FILE.padEnd(12)} one context per cluster, user = aws eks get-token (as update-kubeconfig writes)`,
    `  ${'viewer.env'.padEnd(12)} verifier.env, expiry-check.env, outsider.env: the read-only, the gates', the expiry check's and the unmapped identity`,
    '',
    'Try:',
    `  source ${lab.files.env}`,
    `  kubectl --context ${first} get ns`,
    `  kubectl --context ${first} -n istio-system get secret cacerts`,
    '  aws eks list-clusters',
    ...(lab.moto ? [`  aws secretsmanager describe-secret --secret-id ${rootSecretName(lab.meshId)}`] : []),
    `  meshtrust lab probe --lab ${lab.dir}`,
    '',
    'Ctrl-C stops the lab.',
  ];
  for (const line of lines) terminal.out(line);
}

function asCliError(error: unknown, dir: string): unknown {
  if (error instanceof LabOptionsError) return new UsageError(error.message, { cause: error });
  if (error instanceof MotoServerError) {
    return new EnvironmentError(`${error.message} Or run without moto: meshtrust lab --no-moto ...`, {
      cause: error,
    });
  }
  if (error instanceof LabFilesError) return new EnvironmentError(error.message, { cause: error });
  if (error instanceof LabError)
    return new EnvironmentError(`the lab did not start: ${error.message}`, { cause: error });
  const code = (error as NodeJS.ErrnoException).code;
  if (
    code === 'EACCES' ||
    code === 'EPERM' ||
    code === 'EROFS' ||
    code === 'ENOSPC' ||
    code === 'ENOTDIR' ||
    code === 'ENOENT' ||
    code === 'EEXIST'
  ) {
    return new EnvironmentError(
      `cannot write the lab files to ${dir} (${code}); choose another --out directory`,
      {
        cause: error,
      },
    );
  }
  return error;
}
