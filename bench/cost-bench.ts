// The cost section: one emergency and one scheduled model-engine rehearsal of 10 clusters (2 workloads
// each, to keep the lab light; the rehearsal shortens the scheduled soak to one lab certificate
// lifetime), each priced from its execution history (history.json) at the memory and architecture the
// synthesized template gives each function; and the standing monthly cost of a 10-cluster mesh against
// AWS Private CA. The arithmetic is in cost-model.ts; the prices in cost-prices.json.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureCloudAssembly } from '../lab/rehearsal/cloud-assembly.js';
import { BenchCheckFailed } from './bench-errors.js';
import {
  type CostPrices,
  type ExecutionUsage,
  executionUsage,
  type HistoryEvent,
  type PrivateCaCost,
  priceRotation,
  privateCaCost,
  type RotationCost,
  type StandingCost,
  standingCost,
  taskFunctions,
} from './cost-model.js';
import { runTimedProcess } from './timed-process.js';

export const COST_CLUSTERS = 10;
export const COST_WORKLOADS = 2;
export const COST_MODES = ['emergency', 'scheduled'] as const;
export type CostMode = (typeof COST_MODES)[number];

export interface RotationCostFigures {
  readonly mode: CostMode;
  readonly clusters: number;
  readonly workloadsPerCluster: number;
  readonly result: string;
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
  const assembly = await ensureCloudAssembly({
    projectRoot: options.projectRoot,
    onProgress: (line) => options.progress(`cost: ${line}`),
    ...(options.signal !== undefined && { signal: options.signal }),
  });
  const tasks = taskFunctions(assembly.template);
  if (tasks.size === 0) {
    throw new BenchCheckFailed(
      'cost',
      `no Task state of ${assembly.stackName} invokes a function of its template`,
    );
  }
  const rotations: RotationCostFigures[] = [];
  for (const mode of COST_MODES) {
    options.progress(
      `cost: rehearsing one ${mode} rotation of ${COST_CLUSTERS} x ${COST_WORKLOADS} (model engine)`,
    );
    const out = join(options.workDirectory, mode);
    const run = await runTimedProcess(
      process.execPath,
      [
        '--import',
        'tsx',
        'bin/meshtrust.ts',
        'rehearse',
        '--clusters',
        String(COST_CLUSTERS),
        '--workloads',
        String(COST_WORKLOADS),
        '--mode',
        mode,
        '--cdk-out',
        assembly.directory,
        '--out',
        out,
        '--json',
      ],
      {
        section: 'cost',
        cwd: options.projectRoot,
        ...(options.signal !== undefined && { signal: options.signal }),
      },
    );
    const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8')) as {
      result: string;
      ok: boolean;
    };
    if (!report.ok || report.result !== 'SUCCEEDED') {
      throw new BenchCheckFailed(
        'cost',
        `the ${mode} rehearsal did not succeed (${report.result}); see ${out}`,
      );
    }
    const history = JSON.parse(await readFile(join(out, 'history.json'), 'utf8')) as HistoryEvent[];
    const usage = executionUsage(history, tasks);
    const logBytes = await directoryBytes(join(out, 'logs'));
    const started = history.find((event) => event.type === 'ExecutionStarted');
    const ended = history.findLast((event) => event.type.startsWith('Execution') && event !== started);
    const soakSeconds = (started as { input?: { soakSeconds?: unknown } } | undefined)?.input?.soakSeconds;
    rotations.push({
      mode,
      clusters: COST_CLUSTERS,
      workloadsPerCluster: COST_WORKLOADS,
      result: report.result,
      rehearsalMs: run.wallMs,
      executionMs: started !== undefined && ended !== undefined ? ended.timestamp - started.timestamp : 0,
      ...(typeof soakSeconds === 'number' && mode === 'scheduled' && { soakSeconds }),
      usage,
      logBytes,
      cost: priceRotation(usage, logBytes, prices),
    });
  }
  return {
    prices: { region: prices.region, asOf: prices.asOf },
    stackName: assembly.stackName,
    rotations,
    standing: standingCost(assembly.template, COST_CLUSTERS, prices),
    privateCa: privateCaCost(COST_CLUSTERS, prices),
  };
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
