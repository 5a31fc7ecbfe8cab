// The cost section: one emergency and one scheduled model-engine rehearsal of 10 clusters (2 workloads
// each, to keep the lab light; the rehearsal shortens the scheduled soak to one lab certificate
// lifetime), on the default stack and on the stack with Distributed Maps, each priced from its execution
// history (history.json, and each child execution's in children.json) at the memory and architecture
// the synthesized template gives each function; and the standing monthly cost of a 10-cluster mesh
// against AWS Private CA. The arithmetic is in cost-model.ts; the prices in cost-prices.json.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ensureCloudAssembly } from '../rehearsal/cloud-assembly.js';
import type { CfnTemplate } from '../rehearsal/resolve-definition.js';
import { BenchCheckFailed } from './bench-errors.js';
import {
  type CostPrices,
  type ExecutionUsage,
  type FunctionConfig,
  type HistoryEvent,
  type PrivateCaCost,
  priceRotation,
  privateCaCost,
  type RotationCost,
  rotationUsage,
  type StandingCost,
  standInTasks,
  standingCost,
  taskFunctions,
} from './cost-model.js';
import { mapsAssemblyOptions } from './maps-assembly.js';
import { rehearseArgs } from './rehearse-args.js';
import { ROTATION_MAPS, type RotationMaps } from './rotation-figures.js';
import { runTimedProcess } from './timed-process.js';

export const COST_CLUSTERS = 10;
export const COST_WORKLOADS = 2;
export const COST_MODES = ['emergency', 'scheduled'] as const;
export type CostMode = (typeof COST_MODES)[number];

export interface RotationCostFigures {
  readonly mode: CostMode;
  /** Absent: inline Maps (figures kept before Distributed Maps were priced have none). */
  readonly maps?: 'distributed';
  /** On Distributed Maps: the child executions priced with the parent. */
  readonly childExecutions?: number;
  readonly clusters: number;
  readonly workloadsPerCluster: number;
  /** The execution's result: only a SUCCEEDED rotation is priced. */
  readonly result: string;
  /** The lab's mTLS traffic during the rehearsal (its own check, apart from the price). */
  readonly handshakes: { readonly attempted: number; readonly failed: number };
  /** The rehearsal's checks that failed (a starved lab fails its handshake check); empty when all passed. */
  readonly failedChecks: readonly string[];
  /** The rehearsal's wall time, lab start included. */
  readonly rehearsalMs: number;
  /** The execution's time from start to end, soak included. */
  readonly executionMs: number;
  readonly soakSeconds?: number;
  readonly usage: ExecutionUsage;
  /** Bytes of the functions' log lines (the rehearsal's logs/), as CloudWatch Logs would ingest them. */
  readonly logBytes: number;
  readonly cost: RotationCost;
}

export interface CostSectionFigures {
  readonly prices: { readonly region: string; readonly asOf: string };
  readonly stackName: string;
  readonly rotations: readonly RotationCostFigures[];
  readonly standing: StandingCost;
  readonly privateCa: PrivateCaCost;
}

/** The fields of the rehearsal's report.json read here. */
interface RehearsalSummary {
  readonly result: string;
  readonly totals: { readonly handshakes: { readonly attempted: number; readonly failed: number } };
  readonly checks: readonly { readonly name: string; readonly ok: boolean }[];
}

export interface CostSectionOptions {
  readonly projectRoot: string;
  readonly workDirectory: string;
  readonly progress: (line: string) => void;
  readonly signal?: AbortSignal;
}

export async function loadPrices(): Promise<CostPrices> {
  return JSON.parse(await readFile(new URL('./cost-prices.json', import.meta.url), 'utf8')) as CostPrices;
}

export async function runCostSection(options: CostSectionOptions): Promise<CostSectionFigures> {
  const prices = await loadPrices();
  const rotations: RotationCostFigures[] = [];
  let standingTemplate: CfnTemplate | undefined;
  let stackName = '';
  for (const maps of ROTATION_MAPS) {
    const assembly = await ensureCloudAssembly({
      projectRoot: options.projectRoot,
      ...mapsAssemblyOptions(options.projectRoot, maps),
      onProgress: (line) => options.progress(`cost: ${line}`),
      ...(options.signal !== undefined && { signal: options.signal }),
    });
    // The standing cost is the default stack's (Distributed Maps add an IAM policy, nothing priced).
    if (maps === 'inline') {
      standingTemplate = assembly.template;
      stackName = assembly.stackName;
    }
    const tasks = taskFunctions(assembly.template);
    if (tasks.size === 0) {
      throw new BenchCheckFailed(
        'cost',
        `no Task state of ${assembly.stackName} invokes a function of its template`,
      );
    }
    const standIns = standInTasks(assembly.template);
    for (const mode of COST_MODES) {
      rotations.push(
        await priceOneRotation({
          ...options,
          mode,
          maps,
          cdkOut: assembly.directory,
          tasks,
          standIns,
          prices,
        }),
      );
    }
  }
  if (standingTemplate === undefined) throw new Error('the cost section priced no default stack');
  return {
    prices: { region: prices.region, asOf: prices.asOf },
    stackName,
    rotations,
    standing: standingCost(standingTemplate, COST_CLUSTERS, prices),
    privateCa: privateCaCost(COST_CLUSTERS, prices),
  };
}

/** One rehearsal of a 10-cluster rotation, priced from its executions' histories. */
async function priceOneRotation(
  options: CostSectionOptions & {
    readonly mode: CostMode;
    readonly maps: RotationMaps;
    readonly cdkOut: string;
    readonly tasks: ReadonlyMap<string, FunctionConfig>;
    readonly standIns: ReadonlySet<string>;
    readonly prices: CostPrices;
  },
): Promise<RotationCostFigures> {
  const { mode, maps } = options;
  const label = `${mode} rotation of ${COST_CLUSTERS} x ${COST_WORKLOADS}${maps === 'distributed' ? ' on Distributed Maps' : ''}`;
  options.progress(`cost: rehearsing one ${label} (model engine)`);
  const out = join(options.workDirectory, `${mode}-${maps}`);
  // The rehearsal exits 1 when a check fails, e.g. a failed handshake of a lab starved by other work
  // on the machine. The execution's history prices the rotation all the same if the rotation itself
  // SUCCEEDED; the checks' outcome goes into the figures beside it.
  const started = performance.now();
  let exitError: unknown;
  await runTimedProcess(
    process.execPath,
    rehearseArgs({ clusters: COST_CLUSTERS, workloads: COST_WORKLOADS, mode, cdkOut: options.cdkOut, out }),
    {
      section: 'cost',
      cwd: options.projectRoot,
      ...(options.signal !== undefined && { signal: options.signal }),
    },
  ).catch((error: unknown) => {
    exitError = error;
  });
  const rehearsalMs = performance.now() - started;
  const report = await readFile(join(out, 'report.json'), 'utf8').then(
    (text) => JSON.parse(text) as RehearsalSummary,
    () => undefined,
  );
  if (report === undefined || report.result !== 'SUCCEEDED') {
    throw new BenchCheckFailed(
      'cost',
      `the ${label}'s rehearsal did not succeed (${report?.result ?? 'no report.json'}); nothing to price`,
      { cause: exitError },
    );
  }
  const failedChecks = report.checks.filter((check) => !check.ok).map((check) => check.name);
  if (failedChecks.length > 0) {
    options.progress(
      `cost: the ${label} SUCCEEDED, but the rehearsal's checks ${failedChecks.join(', ')} failed ` +
        `(${report.totals.handshakes.failed} of ${report.totals.handshakes.attempted} handshakes); priced all the same`,
    );
  }
  const history = JSON.parse(await readFile(join(out, 'history.json'), 'utf8')) as HistoryEvent[];
  const children = maps === 'distributed' ? await childHistories(out, label) : [];
  const usage = rotationUsage({ history, children, tasks: options.tasks, standIns: options.standIns });
  const logBytes = await directoryBytes(join(out, 'logs'));
  const executionStarted = history.find((event) => event.type === 'ExecutionStarted');
  const executionEnded = history.findLast(
    (event) => event.type.startsWith('Execution') && event !== executionStarted,
  );
  const soakSeconds = (executionStarted as { input?: { soakSeconds?: unknown } } | undefined)?.input
    ?.soakSeconds;
  return {
    mode,
    ...(maps === 'distributed' && { maps, childExecutions: children.length }),
    clusters: COST_CLUSTERS,
    workloadsPerCluster: COST_WORKLOADS,
    result: report.result,
    rehearsalMs,
    executionMs:
      executionStarted !== undefined && executionEnded !== undefined
        ? executionEnded.timestamp - executionStarted.timestamp
        : 0,
    handshakes: report.totals.handshakes,
    failedChecks,
    ...(typeof soakSeconds === 'number' && mode === 'scheduled' && { soakSeconds }),
    usage,
    logBytes,
    cost: priceRotation(usage, logBytes, options.prices),
  };
}

/** Each child execution's events, from the rehearsal's children.json: a Distributed rotation has some. */
async function childHistories(out: string, label: string): Promise<HistoryEvent[][]> {
  const children = await readFile(join(out, 'children.json'), 'utf8').then(
    (text) => JSON.parse(text) as { events: HistoryEvent[] }[],
    () => [],
  );
  if (children.length === 0) {
    throw new BenchCheckFailed(
      'cost',
      `the ${label}'s rehearsal wrote no child execution (children.json): was its assembly synthesized with distributedMaps?`,
    );
  }
  return children.map((child) => child.events);
}

async function directoryBytes(directory: string): Promise<number> {
  const entries = await readdir(directory, { recursive: true }).catch(() => [] as string[]);
  let total = 0;
  for (const entry of entries) {
    const info = await stat(join(directory, entry));
    if (info.isFile()) total += info.size;
  }
  return total;
}
