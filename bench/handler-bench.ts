// The handlers section: for every Lambda function of the synthesized stack, its deployed asset as the
// CDK made it (bundle size, a source map inside it or not), the time a fresh node process takes to
// import the bundle (median of N cold starts) and the time of a warm invocation: on a network-free real
// path in a process of its own where one exists, otherwise in small rehearsals (warm-invocations.ts).
import { fork } from 'node:child_process';
import { cp, mkdir, readdir, readFile, stat, symlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureCloudAssembly } from '../rehearsal/cloud-assembly.js';
import type { CfnTemplate } from '../rehearsal/resolve-definition.js';
import { resolveEnvironment, type TokenValues, templateFunctions } from '../rehearsal/template-functions.js';
import type { InvocationTimes } from '../rehearsal/warm-invocation-times.js';
import { BenchCheckFailed } from './bench-errors.js';
import { type ProfileSummary, summarizeCpuProfile } from './cpu-profile-summary.js';
import {
  type BundleProfile,
  buildForProfile,
  type HandlersProfile,
  handlerEntryOf,
  ownersOf,
  type ProfileBuild,
  profileBundle,
} from './handler-profile.js';
import { importCosts } from './import-profile.js';
import { rehearseArgs } from './rehearse-args.js';
import { bundleBytesWithLiteralSchemaKeys } from './sdk-schema-keys.js';
import { median } from './text-table.js';
import { runTimedProcess } from './timed-process.js';
import {
  WARM_INVOCATIONS,
  WARM_NOT_INVOKED,
  WARM_NOT_MEASURED,
  WARM_REHEARSALS,
  type WarmInvocation,
  type WarmRehearsal,
} from './warm-invocations.js';

const SECTION = 'handlers';
const PROBE = fileURLToPath(new URL('./handler-probe.mjs', import.meta.url));
const PROBE_TIMEOUT_MS = 60_000;
const STAND_IN_REGION = 'us-east-1';
const STAND_IN_ACCOUNT = '000000000000';

/** A function of the stack as the bench runs it: its asset, and its environment with stand-ins. */
export interface BenchedFunction {
  /** `preflight`, `record-approval`, ... */
  readonly handlerName: string;
  readonly functionName: string;
  /** The asset directory: what is zipped and deployed. */
  readonly bundleDirectory: string;
  /** The file the runtime loads, e.g. index.mjs. */
  readonly bundleFile: string;
  readonly exportName: string;
  readonly memorySize: number;
  /** The template's variables with every token resolved to a stand-in. */
  readonly environment: Readonly<Record<string, string>>;
}

export interface SourceMapFigures {
  /** `file`: a .map file inside the asset (deployed with the code); `inline`: inside the bundle. */
  readonly location: 'file' | 'inline' | 'none';
  readonly bytes: number;
  /** NODE_OPTIONS has --enable-source-maps: node then reads the map when it loads the bundle. */
  readonly enabledAtRunTime: boolean;
}

export type WarmInvokeFigures =
  | {
      readonly measured: true;
      /** Median of `invocations` warm calls. */
      readonly medianMs: number;
      /** In a process of its own: the first call after the import, not among `invocations`. */
      readonly firstMs?: number;
      /** In the rehearsal: 90% of the calls took at most this. */
      readonly p90Ms?: number;
      readonly invocations: number;
      readonly path: string;
    }
  | { readonly measured: false; readonly reason: string };

export interface HandlerFigures {
  readonly handler: string;
  readonly functionName: string;
  readonly bundleBytes: number;
  /** Every file of the asset directory. */
  readonly assetBytes: number;
  readonly sourceMap: SourceMapFigures;
  readonly coldImportMs: { readonly median: number; readonly runs: readonly number[] };
  readonly warmInvoke: WarmInvokeFigures;
}

export interface HandlersSectionFigures {
  readonly stackName: string;
  /** True when an up-to-date cdk.out was measured as it was; false when the bench synthesized it. */
  readonly assemblyReused: boolean;
  /** Fresh processes per cold import. */
  readonly importRuns: number;
  readonly handlers: readonly HandlerFigures[];
  /** What each bundle is made of, and the floor of the handlers that reach clusters (handler-profile.ts). */
  readonly profile?: HandlersProfile;
}

export interface HandlerBenchOptions {
  /** Fresh processes per cold import (the median is reported). */
  readonly runs: number;
  /** Warm invocations timed after the first. @default 50 */
  readonly invocations?: number;
  /** @default WARM_INVOCATIONS */
  readonly warmInvocations?: Readonly<Record<string, WarmInvocation>>;
  /** Time the other handlers' warm invocations in rehearsals (WARM_REHEARSALS). @default true */
  readonly rehearse?: boolean;
  readonly progress: (line: string) => void;
  readonly signal?: AbortSignal;
}

export async function runHandlersSection(
  options: HandlerBenchOptions & { readonly projectRoot: string; readonly workDirectory: string },
): Promise<HandlersSectionFigures> {
  const assembly = await ensureCloudAssembly({
    projectRoot: options.projectRoot,
    onProgress: (line) => options.progress(`handlers: ${line}`),
    ...(options.signal !== undefined && { signal: options.signal }),
  });
  const tokens = standInTokens(assembly.template);
  const functions = templateFunctions(assembly.template, assembly.directory);
  // Measured from a copy: another run (a rehearsal, a test) may synthesize cdk.out again meanwhile.
  // Bundles leave @aws-sdk/* out because the Lambda runtime provides it; the copies find it, as cdk.out
  // does, in the project's node_modules, so loading the SDK is part of the cold import as on Lambda.
  await symlink(
    join(options.projectRoot, 'node_modules'),
    join(options.workDirectory, 'node_modules'),
    'dir',
  );
  const copies = new Map<string, string>();
  for (const fn of functions) {
    if (copies.has(fn.bundleDirectory)) continue;
    const copy = join(options.workDirectory, basename(fn.bundleDirectory));
    await cp(fn.bundleDirectory, copy, { recursive: true });
    copies.set(fn.bundleDirectory, copy);
  }
  const benched: BenchedFunction[] = functions.map((fn) => ({
    handlerName: fn.handlerName,
    functionName: fn.functionName,
    bundleDirectory: copies.get(fn.bundleDirectory) ?? fn.bundleDirectory,
    bundleFile: fn.bundleFile,
    exportName: fn.exportName,
    memorySize: fn.memorySize,
    environment: resolveEnvironment(fn, tokens),
  }));
  let handlers: HandlerFigures[] = [];
  for (const [index, fn] of benched.entries()) {
    options.progress(`handlers: ${fn.handlerName} (${index + 1}/${benched.length})`);
    handlers.push(await measureHandler(fn, options));
  }
  if (options.rehearse !== false && handlers.some((handler) => !handler.warmInvoke.measured)) {
    const rehearsed: RehearsedTimes[] = [];
    for (const rehearsal of WARM_REHEARSALS) {
      rehearsed.push({
        path: rehearsal.path,
        times: await rehearsedWarmInvocations(rehearsal, { ...options, cdkOut: assembly.directory }),
      });
    }
    handlers = handlers.map((handler) => withRehearsedWarmInvoke(handler, rehearsed));
  }
  return {
    stackName: assembly.stackName,
    assemblyReused: assembly.reused,
    importRuns: options.runs,
    handlers,
    profile: await profileHandlers(benched, options),
  };
}

/** The fields of the rehearsal's report.json read here. */
interface WarmRehearsalReport {
  readonly result: string;
  readonly warmInvocations?: Readonly<Record<string, InvocationTimes>>;
}

/** One rehearsal's warm invocation times per handler, and what it ran. */
export interface RehearsedTimes {
  readonly path: string;
  readonly times: Readonly<Record<string, InvocationTimes>>;
}

/** One of WARM_REHEARSALS of the assembly measured; its warm invocations per handler. */
async function rehearsedWarmInvocations(
  rehearsal: WarmRehearsal,
  options: HandlerBenchOptions & {
    readonly projectRoot: string;
    readonly workDirectory: string;
    readonly cdkOut: string;
  },
): Promise<Readonly<Record<string, InvocationTimes>>> {
  const { clusters, workloads, mode, failAt } = rehearsal;
  const label = `${mode} rehearsal of ${clusters} x ${workloads}${failAt === undefined ? '' : ` failing at ${failAt}`}`;
  options.progress(`handlers: warm invocations, in an ${label} (model engine, about a minute)`);
  const out = join(options.workDirectory, `warm-rehearsal-${WARM_REHEARSALS.indexOf(rehearsal) + 1}`);
  await mkdir(out, { recursive: true });
  let exitError: unknown;
  await runTimedProcess(
    process.execPath,
    rehearseArgs({
      clusters,
      workloads,
      mode,
      cdkOut: options.cdkOut,
      out,
      ...(failAt !== undefined && { failAt }),
    }),
    {
      section: SECTION,
      cwd: options.projectRoot,
      ...(options.signal !== undefined && { signal: options.signal }),
    },
  ).catch((error: unknown) => {
    exitError = error;
  });
  const report = await readFile(join(out, 'report.json'), 'utf8').then(
    (text) => JSON.parse(text) as WarmRehearsalReport,
    () => undefined,
  );
  if (report?.result !== rehearsal.result || report.warmInvocations === undefined) {
    throw new BenchCheckFailed(
      SECTION,
      `the ${label} for warm invocations ended ${report?.result ?? 'without report.json'}, not ` +
        `${rehearsal.result}; its report is in ${out}`,
      { cause: exitError },
    );
  }
  return report.warmInvocations;
}

/**
 * A handler's figures with the warm invocations of the first rehearsal that invoked it warm, where the
 * probe had none.
 */
export function withRehearsedWarmInvoke(
  handler: HandlerFigures,
  rehearsed: readonly RehearsedTimes[],
): HandlerFigures {
  if (handler.warmInvoke.measured) return handler;
  const found = rehearsed.find((rehearsal) => (rehearsal.times[handler.handler]?.count ?? 0) > 0);
  const times = found?.times[handler.handler];
  if (found === undefined || times === undefined) {
    return { ...handler, warmInvoke: { measured: false, reason: WARM_NOT_INVOKED } };
  }
  return {
    ...handler,
    warmInvoke: {
      measured: true,
      medianMs: times.medianMs,
      p90Ms: times.p90Ms,
      invocations: times.count,
      path: found.path,
    },
  };
}

/**
 * Each handler built again with esbuild's metafile (compared with the asset's bundle) and imported once
 * more under the CPU profiler.
 */
async function profileHandlers(
  functions: readonly BenchedFunction[],
  options: HandlerBenchOptions & { readonly workDirectory: string },
): Promise<HandlersProfile> {
  const bundles: Record<string, BundleProfile> = {};
  const imports: Record<string, ProfileSummary> = {};
  for (const [index, fn] of functions.entries()) {
    const entry = handlerEntryOf(fn.handlerName);
    if (entry === undefined) {
      throw new BenchCheckFailed(
        SECTION,
        `${fn.handlerName}: no handler entry of that name in lib/handler-entries.ts`,
      );
    }
    options.progress(`handlers: profile of ${fn.handlerName} (${index + 1}/${functions.length})`);
    const built = await buildForProfile(entry);
    const bundle = {
      ...profileBundle(built, await readFile(join(fn.bundleDirectory, fn.bundleFile))),
      literalSchemaKeysBytes: await bundleBytesWithLiteralSchemaKeys(entry),
    };
    bundles[fn.handlerName] = bundle;
    // Only a map of the very bytes imported can say whose code a frame of the profile runs.
    if (bundle.sameAsAsset) imports[fn.handlerName] = await profileImport(fn, built, options);
  }
  return { bundles, imports };
}

/**
 * One more cold import of the function's bundle under `node --cpu-prof` (not timed: the profiler slows
 * it), its samples from the import's start to its end summed by importCosts.
 */
export async function profileImport(
  fn: BenchedFunction,
  built: ProfileBuild,
  options: Pick<HandlerBenchOptions, 'signal'> & { readonly workDirectory: string },
): Promise<ProfileSummary> {
  const directory = join(options.workDirectory, 'import-profiles', fn.handlerName);
  await mkdir(directory, { recursive: true });
  const { importWindowUs } = await probe(fn, undefined, options, directory);
  const file = (await readdir(directory)).find((name) => name.endsWith('.cpuprofile'));
  if (file === undefined || importWindowUs === undefined) {
    throw new BenchCheckFailed(
      SECTION,
      `${fn.handlerName}: node --cpu-prof wrote no profile in ${directory}`,
    );
  }
  const profile = JSON.parse(await readFile(join(directory, file), 'utf8'));
  const costs = importCosts({
    url: `/${fn.bundleFile}`,
    sourceMap: built.sourceMap,
    owners: ownersOf(built.metafile, built.entryInput),
  });
  return summarizeCpuProfile(profile, costs, importWindowUs);
}

export async function measureHandler(
  fn: BenchedFunction,
  options: HandlerBenchOptions,
): Promise<HandlerFigures> {
  const bundlePath = join(fn.bundleDirectory, fn.bundleFile);
  const runs: number[] = [];
  for (let run = 0; run < options.runs; run += 1) {
    runs.push((await probe(fn, undefined, options)).importMs);
  }
  const warm = (options.warmInvocations ?? WARM_INVOCATIONS)[fn.handlerName];
  return {
    handler: fn.handlerName,
    functionName: fn.functionName,
    bundleBytes: (await stat(bundlePath)).size,
    assetBytes: await directoryBytes(fn.bundleDirectory),
    sourceMap: await sourceMapOf(fn, bundlePath),
    coldImportMs: { median: median(runs), runs },
    warmInvoke:
      warm === undefined
        ? { measured: false, reason: WARM_NOT_MEASURED }
        : await warmInvoke(fn, warm, options),
  };
}

async function warmInvoke(
  fn: BenchedFunction,
  warm: WarmInvocation,
  options: HandlerBenchOptions,
): Promise<WarmInvokeFigures> {
  const invocations = options.invocations ?? 50;
  const result = await probe(fn, { event: warm.event, count: invocations }, options);
  const times = result.invokeMs ?? [];
  return {
    measured: true,
    medianMs: median(times),
    firstMs: result.firstInvokeMs ?? Number.NaN,
    invocations,
    path: warm.path,
  };
}

interface ProbeResult {
  readonly importMs: number;
  /** The import's start and end on the monotonic clock, in microseconds. */
  readonly importWindowUs?: { readonly fromUs: number; readonly toUs: number };
  readonly firstInvokeMs?: number;
  readonly invokeMs?: readonly number[];
}

type ProbeMessage =
  | ({ readonly type: 'result' } & ProbeResult)
  | { readonly type: 'failed'; readonly stage: string; readonly errorType: string; readonly message: string };

/**
 * One fresh node process running handler-probe.mjs on the function's bundle; given a directory, under
 * the CPU profiler (a sample every 100 µs), which writes its profile there.
 */
function probe(
  fn: BenchedFunction,
  invoke: { readonly event: unknown; readonly count: number } | undefined,
  options: Pick<HandlerBenchOptions, 'signal'>,
  cpuProfileDirectory?: string,
): Promise<ProbeResult> {
  const env = {
    PATH: process.env.PATH ?? '',
    ...fn.environment,
    // What the Lambda runtime sets, and credentials and an endpoint that go nowhere: a handler that
    // tried to reach AWS here would fail at once instead of leaving the machine.
    AWS_REGION: STAND_IN_REGION,
    AWS_DEFAULT_REGION: STAND_IN_REGION,
    AWS_LAMBDA_FUNCTION_NAME: fn.functionName,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memorySize),
    AWS_ACCESS_KEY_ID: 'bench-stand-in',
    AWS_SECRET_ACCESS_KEY: 'bench-stand-in',
    AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
    AWS_EC2_METADATA_DISABLED: 'true',
    _BENCH_PROBE: JSON.stringify({
      bundle: join(fn.bundleDirectory, fn.bundleFile),
      exportName: fn.exportName,
      ...(invoke !== undefined && { event: invoke.event, count: invoke.count }),
    }),
  };
  return new Promise((resolve, reject) => {
    // execArgv without tsx's loader: the probe is plain node, as the Lambda runtime is.
    const child = fork(PROBE, [], {
      env,
      execArgv:
        cpuProfileDirectory === undefined
          ? []
          : ['--cpu-prof', '--cpu-prof-dir', cpuProfileDirectory, '--cpu-prof-interval', '100'],
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      timeout: PROBE_TIMEOUT_MS,
      ...(options.signal !== undefined && { signal: options.signal }),
    });
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-4000);
    });
    let message: ProbeMessage | undefined;
    child.on('message', (received) => {
      message = received as ProbeMessage;
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (message?.type === 'result') resolve(message);
      else if (message?.type === 'failed')
        reject(
          new BenchCheckFailed(
            SECTION,
            `${fn.handlerName}: the ${message.stage} failed with ${message.errorType}: ${message.message}`,
          ),
        );
      else
        reject(
          new BenchCheckFailed(
            SECTION,
            `${fn.handlerName}: the probe process ended (${signal ?? `exit ${code}`}) without a result` +
              `${signal === 'SIGTERM' ? ` (timeout ${PROBE_TIMEOUT_MS / 1000} s?)` : ''}; its stderr ended:\n${stderr}`,
          ),
        );
    });
  });
}

async function sourceMapOf(fn: BenchedFunction, bundlePath: string): Promise<SourceMapFigures> {
  const enabledAtRunTime = (fn.environment.NODE_OPTIONS ?? '').split(/\s+/).includes('--enable-source-maps');
  const entries = await readdir(fn.bundleDirectory, { recursive: true, withFileTypes: true });
  const mapFiles = entries.filter((entry) => entry.isFile() && entry.name.endsWith('.map'));
  if (mapFiles.length > 0) {
    let bytes = 0;
    for (const entry of mapFiles) bytes += (await stat(join(entry.parentPath, entry.name))).size;
    return { location: 'file', bytes, enabledAtRunTime };
  }
  const inline = /\/\/# sourceMappingURL=data:\S+/.exec(await readFile(bundlePath, 'utf8'));
  return inline === null
    ? { location: 'none', bytes: 0, enabledAtRunTime }
    : { location: 'inline', bytes: inline[0].length, enabledAtRunTime };
}

async function directoryBytes(directory: string): Promise<number> {
  let bytes = 0;
  for (const entry of await readdir(directory, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) bytes += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return bytes;
}

/** Every resource's ARN and the pseudo parameters, as stand-ins: the probe never calls AWS. */
function standInTokens(template: CfnTemplate): TokenValues {
  const arns = Object.fromEntries(
    Object.keys(template.Resources ?? {}).map((id) => [
      id,
      `arn:aws:bench:${STAND_IN_REGION}:${STAND_IN_ACCOUNT}:stand-in/${id}`,
    ]),
  );
  return {
    arns,
    pseudo: {
      'AWS::Partition': 'aws',
      'AWS::Region': STAND_IN_REGION,
      'AWS::AccountId': STAND_IN_ACCOUNT,
      'AWS::URLSuffix': 'amazonaws.com',
    },
  };
}
