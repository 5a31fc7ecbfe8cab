// What a bench run prints and what docs/performance.md says, from the same figures: the tables, each
// figure's meaning, the targets of issue 14 they are read against, the machine, and what is not
// measured yet.
import {
  type BenchResults,
  type BenchSections,
  type MachineInfo,
  NOT_MEASURED_YET,
  otherWorkRan,
  type SectionRun,
} from './bench-results.js';
import type { CostSectionFigures } from './cost-bench.js';
import type { HandlerFigures, HandlersSectionFigures } from './handler-bench.js';
import { profileBoundLines, profileDocLines, profileMismatchLine } from './handler-profile.js';
import { importBoundLine, importProfileDocLines } from './import-profile.js';
import type { LabIdleSectionFigures } from './lab-idle-bench.js';
import type { PkiSectionFigures } from './pki-bench.js';
import { mapsOf, type RotationMaps, type RotationSectionFigures } from './rotation-figures.js';
import {
  rotationBoundLines,
  rotationBusyLines,
  rotationFailureLines,
  rotationGrowthTable,
  rotationLateRenewalLines,
  rotationMemoryLines,
  rotationNoteLines,
  rotationNotRunLines,
  rotationSplitLines,
  rotationTable,
  rotationTargetLines,
} from './rotation-report.js';
import { formatBytes, formatDuration, renderMarkdown, renderText, type Table } from './text-table.js';

/** Issue 14's targets: goals the figures are read against, never test assertions. */
export const TARGETS = {
  /** openssl loop / ours, whole processes. */
  pkiRatio: 5,
  bundleBytes: 1_000_000,
  coldImportMs: 200,
  /** A scheduled rotation of 10 clusters, in dollars. */
  scheduledRotationUsd: 0.01,
  /** The standing monthly cost of a 10-cluster mesh, in dollars. */
  standingMonthlyUsd: 6,
  /** The model lab at 10 x 100 idles this long with no failed handshake. */
  labIdleSeconds: 600,
} as const;

/** Dollars with enough digits to show a fraction of a cent. */
export function formatUsd(usd: number): string {
  if (usd === 0) return '$0';
  if (usd >= 100) return `$${usd.toLocaleString('en-US', { maximumFractionDigits: 0 })}`;
  if (usd >= 1) return `$${usd.toFixed(2)}`;
  return `$${usd.toPrecision(2)}`;
}

export function costRotationTable(figures: CostSectionFigures): Table {
  return {
    columns: [
      'rotation',
      'execution',
      'state transitions',
      'invocations',
      'GB-seconds',
      'log bytes',
      'transitions $',
      'Lambda $',
      'logs $',
      'total',
    ],
    numeric: [1, 2, 3, 4, 5, 6, 7, 8, 9],
    rows: figures.rotations.map((rotation) => [
      `${rotation.mode}, ${rotation.clusters} x ${rotation.workloadsPerCluster}` +
        (rotation.soakSeconds !== undefined ? ` (soak ${rotation.soakSeconds} s)` : '') +
        (rotation.maps === 'distributed'
          ? ` on Distributed Maps (${rotation.childExecutions ?? 0} child executions)`
          : ''),
      formatDuration(rotation.executionMs),
      String(rotation.usage.stateTransitions),
      String(rotation.usage.invocations),
      (rotation.usage.gbSeconds.arm64 + rotation.usage.gbSeconds.x86_64).toFixed(1),
      formatBytes(rotation.logBytes),
      formatUsd(rotation.cost.stateTransitionsUsd),
      formatUsd(rotation.cost.lambdaDurationUsd + rotation.cost.lambdaRequestsUsd),
      formatUsd(rotation.cost.logIngestionUsd),
      formatUsd(rotation.cost.totalUsd),
    ]),
  };
}

export function costStandingTable(figures: CostSectionFigures): Table {
  const { standing, privateCa } = figures;
  return {
    columns: ['standing, per month', 'count', 'each', 'monthly'],
    numeric: [1, 2, 3],
    rows: [
      ...standing.items.map((item) => [
        item.item,
        String(item.count),
        formatUsd(item.unitUsd),
        formatUsd(item.monthlyUsd),
      ]),
      [`meshtrust, ${standing.clusters} clusters`, '', '', formatUsd(standing.monthlyUsd)],
      [
        'cacerts backups a failed rollback leaves',
        String(standing.clusters),
        formatUsd(standing.addedPerRotationMonthlyUsd / standing.clusters),
        `+${formatUsd(standing.addedPerRotationMonthlyUsd)} per failed rollback`,
      ],
      [
        `AWS Private CA: root + ${privateCa.cas - 1} subordinates`,
        String(privateCa.cas),
        formatUsd(privateCa.monthlyUsd / privateCa.cas),
        formatUsd(privateCa.monthlyUsd),
      ],
    ],
  };
}

export function costTargetLine(figures: CostSectionFigures): string {
  const verdict = (maps: RotationMaps) => {
    const scheduled = figures.rotations.find(
      (rotation) => rotation.mode === 'scheduled' && mapsOf(rotation) === maps,
    );
    return scheduled === undefined
      ? 'not run'
      : `${scheduled.cost.totalUsd <= TARGETS.scheduledRotationUsd ? 'met' : 'missed'} (${formatUsd(scheduled.cost.totalUsd)})`;
  };
  // Figures kept from before Distributed Maps were priced have inline rotations only.
  const onDistributed = figures.rotations.some((rotation) => rotation.maps === 'distributed')
    ? `, on Distributed Maps ${verdict('distributed')}`
    : '';
  const rotationVerdict = `${verdict('inline')}${onDistributed}`;
  const standing = figures.standing.monthlyUsd;
  return (
    `target (issue 14): a scheduled rotation of 10 clusters <= ${formatUsd(TARGETS.scheduledRotationUsd)}: ${rotationVerdict}; ` +
    `standing cost <= ${formatUsd(TARGETS.standingMonthlyUsd)} a month: ${standing <= TARGETS.standingMonthlyUsd ? 'met' : 'missed'} (${formatUsd(standing)})`
  );
}

export function costNoteLines(figures: CostSectionFigures): string[] {
  const starved = figures.rotations
    .filter((rotation) => rotation.failedChecks.length > 0)
    .map(
      (rotation) =>
        `the ${rotation.mode}${rotation.maps === 'distributed' ? ' on Distributed Maps' : ''} rehearsal's own checks failed (${rotation.failedChecks.join(', ')}; ` +
        `${rotation.handshakes.failed} of ${rotation.handshakes.attempted} handshakes failed in its lab): ` +
        'its rotation SUCCEEDED and is priced all the same',
    );
  return [
    ...starved,
    `a run whose rollback failed leaves ${figures.standing.clusters} cacerts backup secrets (one per cluster) for the operator: ` +
      `+${formatUsd(figures.standing.addedPerRotationMonthlyUsd)} a month per run kept; every other run schedules its ` +
      'backups for deletion (promote-root, release-lock after a rekey, the last rollback stage; a secret scheduled for deletion is not charged)',
    `AWS Private CA would also charge ${formatUsd(figures.privateCa.perRotationUsd)} per rotation for the ${figures.privateCa.cas - 1} subordinate certificates`,
    `list prices for ${figures.prices.region} as of ${figures.prices.asOf} (bench/cost-prices.json), not fetched`,
  ];
}

export function pkiTable(figures: PkiSectionFigures): Table {
  return {
    columns: ['key', 'certificates', 'ours (node)', 'ours in-process', 'openssl loop', 'openssl/ours'],
    numeric: [1, 2, 3, 4, 5],
    rows: figures.algorithms.map((row) => [
      row.algorithm,
      `1 + ${row.certificates - 1}`,
      formatDuration(row.ours.wallMs),
      formatDuration(row.ours.inProcessMs),
      `${formatDuration(row.openssl.wallMs)} (${row.openssl.processes} processes)`,
      `${row.ratio.toFixed(1)}x`,
    ]),
  };
}

export function pkiTargetLine(figures: PkiSectionFigures): string {
  const verdicts = figures.algorithms.map(
    (row) =>
      `${row.algorithm} ${row.ratio >= TARGETS.pkiRatio ? 'met' : 'missed'} (${row.ratio.toFixed(1)}x)`,
  );
  return `target (issue 14): ours >= ${TARGETS.pkiRatio}x faster than the openssl loop as whole processes: ${verdicts.join(', ')}`;
}

export function pkiCrossCheckLines(figures: PkiSectionFigures): string[] {
  return figures.algorithms.map(
    (row) =>
      `${row.algorithm}: openssl verify accepts the last intermediate of each side; same profile: ${row.crossCheck.intermediateProfile}`,
  );
}

/** Per profiled algorithm, what ours spent its time on (pki-bench.ts, profileOurs), largest first. */
export function pkiProfileLines(figures: PkiSectionFigures): string[] {
  return figures.algorithms.flatMap((row) => {
    if (row.profile === undefined) return [];
    const { totalMs, costs } = row.profile;
    const parts = costs.map(
      (cost) => `${cost.what} ${formatDuration(cost.ms)} (${Math.round((cost.ms / totalMs) * 100)}%)`,
    );
    return [
      `${row.algorithm}, ours under the CPU profiler (one more run, not timed; ${formatDuration(totalMs)} of samples): ${parts.join('; ')}`,
    ];
  });
}

export function handlersTable(figures: HandlersSectionFigures): Table {
  return {
    columns: [
      'handler',
      'bundle',
      'source map',
      'asset',
      `cold import (median of ${figures.importRuns})`,
      'warm invoke',
    ],
    numeric: [1, 3, 4],
    rows: figures.handlers.map((handler) => [
      handler.handler,
      formatBytes(handler.bundleBytes),
      sourceMapCell(handler),
      formatBytes(handler.assetBytes),
      formatDuration(handler.coldImportMs.median),
      warmInvokeCell(handler.warmInvoke),
    ]),
  };
}

/** `12 ms (median of 3, p90 14 ms)`; a single invocation is not called a median. */
function warmInvokeCell(warm: HandlerFigures['warmInvoke']): string {
  if (!warm.measured) return 'not measured';
  if (warm.invocations === 1) return `${formatDuration(warm.medianMs)} (once)`;
  const p90 = warm.p90Ms === undefined ? '' : `, p90 ${formatDuration(warm.p90Ms)}`;
  return `${formatDuration(warm.medianMs)} (median of ${warm.invocations}${p90})`;
}

/** Handlers grouped by how their warm invocations were timed, or why they were not. */
export function warmInvokeLines(figures: HandlersSectionFigures): string[] {
  const groups = new Map<string, string[]>();
  for (const handler of figures.handlers) {
    const { warmInvoke } = handler;
    const how = !warmInvoke.measured
      ? warmInvoke.reason
      : warmInvoke.firstMs === undefined
        ? warmInvoke.path
        : `in one process of its own, after the import and a first invocation: ${warmInvoke.path}`;
    groups.set(how, [...(groups.get(how) ?? []), handler.handler]);
  }
  return [...groups].map(([how, names]) => `${names.join(', ')}: ${how}.`);
}

function sourceMapCell(handler: HandlerFigures): string {
  const { location, bytes, enabledAtRunTime } = handler.sourceMap;
  if (location === 'none') return 'none';
  const where = location === 'file' ? 'file in the asset' : 'inline in the bundle';
  return `${formatBytes(bytes)}, ${where}${enabledAtRunTime ? ', enabled' : ''}`;
}

export function handlersTargetLine(figures: HandlersSectionFigures): string {
  const small = figures.handlers.filter((handler) => handler.bundleBytes <= TARGETS.bundleBytes).length;
  const quick = figures.handlers.filter(
    (handler) => handler.coldImportMs.median <= TARGETS.coldImportMs,
  ).length;
  const total = figures.handlers.length;
  return (
    `target (issue 14): each bundle <= ${formatBytes(TARGETS.bundleBytes)}: ${small} of ${total}; ` +
    `cold import <= ${TARGETS.coldImportMs} ms: ${quick} of ${total}`
  );
}

/** What bounds each missed handler target, from the bundle profile (none without one). */
export function handlersBoundLines(figures: HandlersSectionFigures): string[] {
  if (figures.profile === undefined) return [];
  const mismatch = profileMismatchLine(figures.profile);
  const handlers = figures.handlers.map((handler) => ({
    handler: handler.handler,
    bundleBytes: handler.bundleBytes,
    coldImportMs: handler.coldImportMs.median,
  }));
  const imports = importBoundLine(figures.profile, handlers, TARGETS.coldImportMs);
  return [
    ...profileBoundLines(figures.profile, handlers, TARGETS),
    ...(imports === undefined ? [] : [imports]),
    ...(mismatch === undefined ? [] : [mismatch]),
  ];
}

export function labIdleTable(figures: LabIdleSectionFigures): Table {
  const { pace, load } = figures;
  const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const jitter = pace.renewalJitter === 0 ? '' : ` +- ${Math.round(pace.renewalJitter * 100)}%`;
  // Runs before lab-load.ts read peaks over 1 s at least read them over intervals of a few ms too.
  const peaks = load.peakIntervalMinMs !== undefined;
  return {
    columns: ['figure', 'value'],
    numeric: [],
    rows: [
      [
        'fleet',
        `${figures.clusters} clusters x ${figures.workloadsPerCluster} workloads: ${figures.proxies.toLocaleString('en-US')} proxies`,
      ],
      ['start, until settled', seconds(figures.startMs)],
      [
        'pace',
        `certificates of ${seconds(pace.workloadCertTtlMs)} (asked ${seconds(figures.askedWorkloadCertTtlMs)}), renewed at ` +
          `${Math.round(pace.renewFraction * 100)}%${jitter} of their life; ${pace.proberPairsPerRound} handshakes a round, ` +
          `${seconds(pace.proberIntervalMs)} after the one before`,
      ],
      ['idle', seconds(figures.idleMs)],
      [
        'handshakes',
        `${figures.handshakes.attempted.toLocaleString('en-US')} in ${figures.rounds} rounds, ${figures.handshakes.failed} failed`,
      ],
      [
        'least certificate life left',
        `${seconds(figures.leastRemainingLifeMs)} of ${seconds(pace.workloadCertTtlMs)}`,
      ],
      [
        'certificates signed',
        `${load.signedPerSecond.toFixed(1)}/s on average (${peaks ? `peak ${load.peakSignedPerSecond.toFixed(1)}/s; ` : ''}the rule expects ${pace.expectedRenewalsPerSecond.toFixed(1)}/s)`,
      ],
      ['handshakes a second', load.handshakesPerSecond.toFixed(1)],
      [
        'event-loop delay',
        `p50 ${load.eventLoopDelayMs.p50} ms, p99 ${load.eventLoopDelayMs.p99} ms, max ${load.eventLoopDelayMs.max} ms`,
      ],
      [
        "CPU of the lab's process",
        `${load.cpuCores.toFixed(2)} cores on average` +
          (peaks
            ? ` (peak ${load.peakCpuCores.toFixed(2)})`
            : ' (peaks of this run not shown: read over intervals of a few ms)'),
      ],
      ['RSS', `${load.peakRssMiB} MiB at most`],
    ],
  };
}

export function labIdleTargetLine(figures: LabIdleSectionFigures): string {
  const long = figures.idleMs >= TARGETS.labIdleSeconds * 1000;
  const verdict =
    figures.handshakes.failed > 0
      ? `missed (${figures.handshakes.failed} of ${figures.handshakes.attempted.toLocaleString('en-US')} failed)`
      : long
        ? `met (0 of ${figures.handshakes.attempted.toLocaleString('en-US')} failed)`
        : `not shown: 0 of ${figures.handshakes.attempted} failed, but in ${(figures.idleMs / 1000).toFixed(0)} s`;
  return `target (issue 14): ${figures.clusters} x ${figures.workloadsPerCluster} idles ${TARGETS.labIdleSeconds / 60} minutes with 0 failed handshakes: ${verdict}`;
}

/** What a failure's error says about whose it is, where that is known. */
const KNOWN_FAILURES: readonly { readonly code: string; readonly meaning: string }[] = [
  {
    code: 'ERR_SSL_HTTP_REQUEST',
    meaning:
      "a plain HTTP request reached the handshake's loopback server: another process on the machine dialing " +
      'a port it had used before; since then the server judges only its own client (lab/istio/mtls-handshake.ts)',
  },
  {
    code: 'CERT_HAS_EXPIRED',
    meaning: 'a certificate the lab let expire: it fell behind its renewals',
  },
];

/** The failed handshakes the section kept, one line each, with what the error means where known. */
export function labIdleFailureLines(figures: LabIdleSectionFigures): string[] {
  return figures.failures.map((failure) => {
    const known = KNOWN_FAILURES.find((entry) => failure.error.startsWith(entry.code));
    // OpenSSL's messages end with a line break.
    const error = failure.error.trim();
    return `${failure.from} -> ${failure.to}: ${error}${known === undefined ? '' : ` (${known.meaning})`}`;
  });
}

export function notMeasuredYetLine(): string | undefined {
  if (NOT_MEASURED_YET.length === 0) return undefined;
  return `not measured yet: ${NOT_MEASURED_YET.map((item) => item.name).join(', ')} (issue 14, later slices)`;
}

/** The run's tables as the terminal shows them. */
export function renderSummary(run: BenchSections): string[] {
  const lines: string[] = [];
  if (run.pki !== undefined) {
    const { figures } = run.pki;
    lines.push(
      `PKI: root + ${figures.intermediates} Istio-profile intermediates, whole processes`,
      ...renderText(pkiTable(figures)),
      ...pkiCrossCheckLines(figures).map((line) => `  ${line}`),
      `  ${pkiTargetLine(figures)}`,
      ...pkiProfileLines(figures).map((line) => `  bound: ${line}`),
      '',
    );
  }
  if (run.handlers !== undefined) {
    const { figures } = run.handlers;
    lines.push(
      `Handlers: the Lambda functions of ${figures.stackName}`,
      ...renderText(handlersTable(figures)),
      `  ${handlersTargetLine(figures)}`,
      ...handlersBoundLines(figures).map((line) => `  bound: ${line}`),
      '',
    );
  }
  if (run.cost !== undefined) {
    const { figures } = run.cost;
    lines.push(
      `Cost: rotations of ${figures.stackName} priced from their execution history, and the standing cost`,
      ...renderText(costRotationTable(figures)),
      '',
      ...renderText(costStandingTable(figures)),
      ...costNoteLines(figures).map((line) => `  ${line}`),
      `  ${costTargetLine(figures)}`,
      '',
    );
  }
  const idle = run['lab-idle'];
  if (idle !== undefined) {
    const { figures } = idle;
    lines.push(
      'Lab idle: the model lab at fleet size, nothing rotating',
      ...renderText(labIdleTable(figures)),
      ...labIdleFailureLines(figures).map((line) => `  failed: ${line}`),
      `  ${labIdleTargetLine(figures)}`,
      '',
    );
  }
  for (const [name, section] of Object.entries(run) as [string, SectionRun<unknown> | undefined][]) {
    if (section !== undefined && otherWorkRan(section)) lines.push(`note (${name}): ${busyNote(section)}`);
  }
  if (run.rotation !== undefined) lines.push(...rotationSummaryLines(run.rotation.figures), '');
  const notMeasured = notMeasuredYetLine();
  if (notMeasured !== undefined) lines.push(notMeasured);
  return lines;
}

function busyNote(run: SectionRun<unknown>): string {
  const cores = `${run.machine.cpuCount}-core`;
  return run.cpu !== undefined
    ? `other work ran on this ${cores} machine meanwhile: it kept ${run.cpu.otherCores} cores busy on average (the bench ${run.cpu.benchCores}), so these figures are slower than on an idle machine`
    : `the ${cores} machine had a load average of ${run.machine.loadAverageAtStart} when this started: other work ran, so these figures are slower than on an idle machine`;
}

function machineLine(machine: MachineInfo): string {
  return (
    `${machine.cpuCount} x ${machine.cpuModel}, ${machine.memoryGiB} GiB, ${machine.os}, ` +
    `Node.js ${machine.node} (OpenSSL ${machine.nodeOpenssl})` +
    `${machine.openssl !== undefined ? `, openssl CLI ${machine.openssl}` : ''}`
  );
}

function measuredLine(run: SectionRun<unknown>): string {
  const code =
    run.revision === undefined
      ? ''
      : ` Code: commit ${run.revision.commit.slice(0, 12)}${run.revision.uncommittedChanges ? ' with uncommitted changes in the working tree' : ''}.`;
  const lines = [
    `Measured ${run.measuredAt} in ${formatDuration(run.durationMs)} on ${machineLine(run.machine)}.${code}`,
  ];
  if (otherWorkRan(run)) lines.push(`Note: ${busyNote(run)}.`);
  if (run.note !== undefined) lines.push(`Noted when it ran: ${run.note}.`);
  return lines.join(' ');
}

/** docs/performance.md, whole. */
export function renderPerformanceDoc(results: BenchResults): string {
  const { pki, handlers, cost } = results.sections;
  const idle = results.sections['lab-idle'];
  const { rotation } = results.sections;
  const lines = [
    '# Performance',
    '',
    '<!-- Generated by `npm run bench` (bench/bench-report.ts) from bench/results.json. Do not edit by',
    '     hand: change the generator, then `npm run bench -- --page`; or run the bench again. -->',
    '',
    "How fast meshtrust's pieces are and how big its Lambda bundles are, measured on one machine by",
    '`npm run bench`. Issue 14 sets the targets these figures are read against; they are goals, never',
    'test assertions (no test times anything).',
    '',
    '## How to run',
    '',
    '```sh',
    'npm run bench                      # every section below; progress on stderr, the table on stdout',
    'npm run bench -- --only pki        # some sections: pki, handlers, cost, lab-idle, rotation (comma-separated)',
    'npm run bench -- --only lab-idle --idle-seconds 60   # a shorter idle',
    'npm run bench -- --only rotation --rotation-sizes 30x10 --rotation-modes emergency   # one rotation',
    'npm run bench -- --only rotation --rotation-sizes 10x10,100x10 --rotation-maps distributed   # on Distributed Maps',
    'npm run bench -- --note "a chaos run shared the machine"   # said with the figures of this run',
    'npm run bench -- --no-write        # print only; leave bench/results.json and this page as they are',
    'npm run bench -- --page            # this page again from bench/results.json, measuring nothing',
    'npm run bench -- --help            # every flag',
    '```',
    '',
    `A full run takes ${fullRunDuration(results)} on the machine below (RSA 4096 key generation and the lab`,
    'idling are most of it). It writes `bench/results.json` (every figure, with the machine and date) and this page; a run',
    'of some sections replaces their figures and keeps the others, each with its own date.',
    '',
  ];
  lines.push('## PKI: our core against the openssl CLI', '');
  if (pki === undefined) {
    lines.push('Not run yet: `npm run bench -- --only pki`.', '');
  } else {
    lines.push(
      `A root and ${pki.figures.intermediates} intermediates in the Istio plug-in CA profile, per key algorithm, made two ways:`,
      '',
      ...renderMarkdown(pkiTable(pki.figures)),
      '',
      `- **ours (node)**: one \`node\` process running the PKI core (\`createRootCa\`, \`createIntermediateCa\` of`,
      '  lambdas/core/pki, bundled with esbuild like a handler), timed from spawn to exit: startup, imports,',
      '  key generation, signing, and writing every certificate and key as PEM (synchronously, as a CLI',
      '  does). The root is read once for all its intermediates (`intermediateIssuer`), as the lab does for',
      '  a fleet; the openssl loop reads it per intermediate, a process each.',
      '- **ours in-process**: the same run from its first key to its last file, without startup and imports.',
      '- **openssl loop**: a shell script running `openssl req -x509` for the root, then per intermediate',
      '  `openssl req -new -newkey` (key and CSR) and `openssl x509 -req` (signed by the root), timed as one',
      '  process tree.',
      '- **openssl/ours**: the openssl loop wall time over ours; above 1, ours is faster.',
      '',
      'Like for like, checked on every run before a ratio is printed: `openssl verify` accepts the last',
      "intermediate of each side against its own root, and both sides' root and intermediate have the same",
      'profile (key, signature algorithm, CA and path length, key usage, SAN, key identifiers):',
      '',
      ...pkiCrossCheckLines(pki.figures).map((line) => `- ${line}`),
      '',
      `${capitalise(pkiTargetLine(pki.figures))}.${pkiProfileLines(pki.figures).length > 0 ? '' : missedNote(pki.figures.algorithms.some((row) => row.ratio < TARGETS.pkiRatio))}`,
      'Both sides sign and generate keys with OpenSSL (node links its own, see below). RSA key generation',
      'searches for random primes, so RSA times vary from run to run.',
      '',
      ...pkiBoundParagraph(pki.figures),
      measuredLine(pki),
      '',
    );
  }
  lines.push('## Lambda handlers', '');
  if (handlers === undefined) {
    lines.push('Not run yet: `npm run bench -- --only handlers`.', '');
  } else {
    lines.push(
      `Every function of the synthesized stack \`${handlers.figures.stackName}\`, from the asset \`cdk synth\``,
      'made for it (the bench synthesizes cdk.out when it is older than its sources):',
      '',
      ...renderMarkdown(handlersTable(handlers.figures)),
      '',
      '- **bundle**: the file the runtime loads (index.mjs), as esbuild wrote it.',
      '- **source map**: a map deployed with the code (a file in the asset, or inline in the bundle) and its',
      "  size; **enabled** when the function's NODE_OPTIONS has `--enable-source-maps`, with which node reads",
      '  the map as it loads the bundle.',
      '- **asset**: every file of the asset directory, i.e. what is zipped and deployed.',
      `- **cold import**: \`import()\` of the bundle in a fresh \`node\` process with the function's environment`,
      `  (NODE_OPTIONS included), median of ${handlers.figures.importRuns} processes; node's own startup is not in it. Node.js`,
      `  ${handlers.machine.node} on ${handlers.machine.os.split(' ').slice(0, 2).join(' ')} here; the functions run Node.js 24 on arm64.`,
      '- **warm invoke**: the median time of a warm invocation (one that a container already initialised',
      '  served, as Lambda runs one without a cold start) on a real path (**once**: the path ran once), and',
      '  where there were several, the time 90% of them took at most (p90):',
      ...warmInvokeLines(handlers.figures).map((line) => `  ${line}`),
      '',
      ...(handlers.figures.profile === undefined
        ? []
        : [...profileDocLines(handlers.figures.profile), ...importProfileDocLines(handlers.figures.profile)]),
      `${capitalise(handlersTargetLine(handlers.figures))}.${
        handlers.figures.profile === undefined
          ? missedNote(
              handlers.figures.handlers.some(
                (handler) =>
                  handler.bundleBytes > TARGETS.bundleBytes ||
                  handler.coldImportMs.median > TARGETS.coldImportMs,
              ),
            )
          : ''
      }`,
      ...handlersBoundLines(handlers.figures).flatMap((line, index) =>
        index === 0
          ? ['', 'What bounds the missed targets, from the profile above:', '', `- ${line}.`]
          : [`- ${line}.`],
      ),
      '',
      measuredLine(handlers),
      '',
    );
  }
  lines.push('## Cost', '');
  if (cost === undefined) {
    lines.push('Not run yet: `npm run bench -- --only cost`.', '');
  } else {
    const { figures } = cost;
    lines.push(
      `**Prices are AWS list prices for ${figures.prices.region} as of ${figures.prices.asOf}, written down in`,
      '`bench/cost-prices.json` with the page each comes from; the bench does not fetch them.** Free tiers',
      'are not applied.',
      '',
      `One emergency and one scheduled rotation of ${figures.rotations[0]?.clusters ?? 10} clusters, each a model-engine rehearsal of the`,
      `synthesized stack \`${figures.stackName}\` (a few workloads per cluster: the rotation's AWS work does not`,
      'depend on them), priced from the execution history the rehearsal wrote (history.json); rows on',
      'Distributed Maps rehearse the stack synthesized with `-c distributedMaps=true` and add every child',
      "execution's own history (children.json), the parent's stand-in Tasks left out:",
      '',
      ...renderMarkdown(costRotationTable(figures)),
      '',
      '- **execution**: the execution from start to end as the rehearsal ran it; the scheduled soak is the',
      "  rehearsal's (one lab workload certificate lifetime), not a deployment's day.",
      "- **state transitions**: every state entered (a Map's iterations' states too) and every retry, as a",
      '  Standard workflow is billed; on Distributed Maps also one for each child execution started.',
      '- **invocations, GB-seconds**: each Task state that invokes a function, its time from entered to',
      "  exited, at the memory the template gives that function and priced at its architecture's rate; the",
      "  rehearsal's functions run locally, so this is the lab's run time standing in for Lambda's billed",
      '  duration: on a busy 2-core machine it includes waiting for a core and the local calls to moto and',
      '  the lab clusters, so it is more likely above than below what Lambda would bill.',
      "- **log bytes**: the functions' log lines (the rehearsal's logs/), priced as CloudWatch Logs ingestion.",
      '- Not priced: the requests the functions make to KMS, Secrets Manager and DynamoDB, and the state',
      "  machine's execution log.",
      '',
      'The standing monthly cost of a deployed 10-cluster mesh, against AWS Private CA (general-purpose',
      'mode) with a root and one subordinate CA per cluster:',
      '',
      ...renderMarkdown(costStandingTable(figures)),
      '',
      ...figures.standing.items.map((item) => `- **${item.item}**: ${item.from}.`),
      ...costNoteLines(figures).map((line) => `- ${capitalise(line)}.`),
      '',
      `${capitalise(costTargetLine(figures))}.${costBoundNote(figures)}`,
      '',
      measuredLine(cost),
      '',
    );
  }
  lines.push('## The model lab at fleet size, idle', '');
  if (idle === undefined) {
    lines.push('Not run yet: `npm run bench -- --only lab-idle`.', '');
  } else {
    const { figures } = idle;
    const failures = labIdleFailureLines(figures);
    lines.push(
      `The model lab of ${figures.clusters} clusters x ${figures.workloadsPerCluster} workloads, started as \`npm run rehearse\` starts it, left`,
      'idle with its prober on: nothing rotates, so any failed handshake is the lab falling behind (a',
      'certificate it let expire), never the product. Its pace comes from the fleet (lab/lab-pace.ts:',
      "renewals at most 40 a second on average, spread with pilot-agent's jitter; probe rounds at most 40",
      'handshakes a second); its load is what lab/lab-load.ts reads, as `npm run rehearse` reports it too:',
      '',
      ...renderMarkdown(labIdleTable(figures)),
      '',
      '- **least certificate life left**: the shortest time to expiry of any certificate a proxy held, read',
      '  every 10 s; a lab that keeps up stays near half a lifetime, one that falls behind goes to 0.',
      '- **certificates signed**: every workload certificate the istiod models signed, a second; the peak is',
      '  the busiest 5 s.',
      "- **event-loop delay**: how late the lab's process ran its timers and callbacks (perf_hooks",
      '  monitorEventLoopDelay); every renewal timer and handshake waits on it.',
      "- **CPU, RSS**: the bench's process, which is the lab's (process.cpuUsage over wall time; the peak is",
      '  the busiest 5 s).',
      ...(failures.length === 0
        ? []
        : ['', 'Failed handshakes (the first kept):', ...failures.map((line) => `- ${line}`)]),
      '',
      `${capitalise(labIdleTargetLine(figures))}.`,
      '',
      measuredLine(idle),
      '',
    );
  }
  lines.push(
    ...rotationDocLines(rotation),
    '## Not measured yet',
    '',
    ...(NOT_MEASURED_YET.length === 0
      ? [
          'Every figure issue 14 asks for has a section above; the sizes a section did not run are listed in',
          'it, with why.',
        ]
      : [
          'Issue 14 asks for these too; the bench does not measure them yet and prints so on every run:',
          '',
          ...NOT_MEASURED_YET.map((item) => `- **${item.name}**: ${item.what}.`),
        ]),
    '',
  );
  return lines.join('\n');
}

function fullRunDuration(results: BenchResults): string {
  const runs = [results.sections.pki, results.sections.handlers, results.sections.cost];
  if (runs.some((run) => run === undefined)) return 'a few minutes';
  // The idle section lasts as long as it is asked to (10 minutes by default), when it has run.
  const totalMs =
    [...runs, results.sections['lab-idle']].reduce((sum, run) => sum + (run?.durationMs ?? 0), 0) +
    // The rotation section's sizes may come from several runs: each rehearsal's own time, of the
    // inline stack only (a full run does not rehearse Distributed Maps: --rotation-maps does).
    (results.sections.rotation?.figures.runs
      .filter((run) => mapsOf(run) === 'inline')
      .reduce((sum, run) => sum + run.rehearsalMs, 0) ?? 0);
  return `about ${Math.max(1, Math.round(totalMs / 60_000))} minutes`;
}

/** For a missed standing-cost target, what it is made of, largest first, and why each part stays. */
export function costBoundNote(figures: CostSectionFigures): string {
  if (figures.standing.monthlyUsd <= TARGETS.standingMonthlyUsd) return '';
  const largest = [...figures.standing.items]
    .filter((item) => item.monthlyUsd > 0)
    .sort((a, b) => b.monthlyUsd - a.monthlyUsd)
    .map((item) => `${item.item} ${formatUsd(item.monthlyUsd)}`);
  const dashboard = figures.standing.items
    .filter((item) => item.item === 'CloudWatch dashboard')
    .reduce((sum, item) => sum + item.monthlyUsd, 0);
  const withoutDashboard = figures.standing.monthlyUsd - dashboard;
  const target = formatUsd(TARGETS.standingMonthlyUsd);
  const dashboardNote =
    dashboard === 0
      ? ''
      : withoutDashboard > TARGETS.standingMonthlyUsd
        ? ` Without the dashboard (free as one of an account's first three) the mesh would cost` +
          ` ${formatUsd(withoutDashboard)}, still above ${target}.`
        : ` Without the dashboard (free as one of an account's first three) the mesh would cost` +
          ` ${formatUsd(withoutDashboard)}, within ${target}.`;
  return (
    ` The standing cost is made of: ${largest.join(', ')}. What bounds it: the design keeps every part on` +
    ' purpose. A secret per cluster holds the intermediate reissue-intermediate stores (DESIGN.md), from' +
    " which the cluster's cacerts can be written again; the CA store key and the audit key stay apart," +
    ' since the logs service may use the audit key and must never use the key guarding the CA private keys;' +
    ` the live root's key is its own KMS key.${dashboardNote}` +
    (withoutDashboard > TARGETS.standingMonthlyUsd
      ? ' Going lower would take one KMS key for both or no copy of the intermediates, each giving up the' +
        ' protection it gives.'
      : '')
  );
}

/** What bounds ours, from the profile: the costs, then what they mean for the ratio. */
function pkiBoundParagraph(figures: PkiSectionFigures): string[] {
  const lines = pkiProfileLines(figures);
  if (lines.length === 0) return [];
  return [
    'What bounds ours, by a CPU profile of one more run (`node --cpu-prof`; each sample counted once, to the',
    'first of these its stack reaches from the sampled frame outwards; bench/cpu-profile-summary.ts):',
    '',
    ...lines.map((line) => `- ${line}`),
    '',
    'With EC keys the work OpenSSL does on both sides (key generation, signing, hashing) is a small part of',
    'ours: most of it is JavaScript around it, ASN.1 encoding and parsing in asn1js and @peculiar/asn1-*',
    '(each certificate is built as a tree of objects, serialized, and parsed back by the generator). The',
    'core keeps keys as node KeyObjects and signs, hashes and makes EC keys in its own thread: through',
    "WebCrypto each was a round trip to node's thread pool, and with the issuer parsed again per",
    'intermediate that was half of ours (2.5x the openssl loop on 2 December, before intermediateIssuer).',
    "With RSA 4096 ours waits (idle) on key generation's search for primes in the thread pool, the same",
    'OpenSSL work that most of the openssl loop is: no change to our JavaScript can make that side 5x',
    'faster. The openssl loop pays a process start per command instead.',
    '',
  ];
}

/** Issue 14 wants a profile for every missed target; until one is taken, the page says so. */
function missedNote(missed: boolean): string {
  return missed ? ' What bounds the missed targets is not profiled yet (issue 14).' : '';
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** The rotation section as the terminal shows it. */
function rotationSummaryLines(figures: RotationSectionFigures): string[] {
  return [
    'Rotation: model-engine rehearsals by mode and size (clusters x workloads per cluster)',
    ...renderText(rotationTable(figures)),
    '',
    ...renderText(rotationGrowthTable(figures)),
    ...rotationNotRunLines(figures).map((line) => `  not run: ${line}`),
    ...rotationFailureLines(figures).map((line) => `  failed: ${line}`),
    ...rotationBusyLines(figures).map((line) => `  note: ${line}`),
    ...rotationLateRenewalLines(figures).map((line) => `  lab behind: ${line}`),
    ...rotationNoteLines(figures).map((line) => `  note: ${line}`),
    ...rotationTargetLines(figures).map((line) => `  ${line}`),
    ...rotationBoundLines(figures).map((line) => `  bound: ${line}`),
  ];
}

/** docs/performance.md's rotation section. */
function rotationDocLines(rotation: SectionRun<RotationSectionFigures> | undefined): string[] {
  const lines = ['## Rotation at scale', ''];
  if (rotation === undefined) {
    return [...lines, 'Not run yet: `npm run bench -- --only rotation`.', ''];
  }
  const { figures } = rotation;
  const notRun = rotationNotRunLines(figures);
  const bounds = rotationBoundLines(figures);
  const busy = rotationBusyLines(figures);
  const notes = rotationNoteLines(figures);
  const failed = rotationFailureLines(figures);
  lines.push(
    'An emergency and a scheduled rotation at each size, each a model-engine rehearsal (`meshtrust rehearse',
    '--clusters N --workloads W --mode M`) of the synthesized stack in a child process of its own; rows',
    'marked (Distributed Maps) rehearse the stack synthesized with `-c distributedMaps=true` (one child',
    'execution per cluster, `--rotation-maps distributed`), each growth against rotations of its own Maps:',
    '',
    ...renderMarkdown(rotationTable(figures)),
    '',
    '- **rotation time**: the execution from ExecutionStarted to its end in history.json, less the soak: what',
    '  an operator waits for, without the lab starting before it or the checks after it.',
    "- **soak (apart)**: the scheduled soak Wait state's time (the rehearsal asks for one lab certificate",
    '  lifetime); it is in no other column.',
    '- **configured waits**: the other Wait states (await-proxy-trust: the renewal window the preflight plan',
    '  gives the proxies to take the new roots), entered to exited.',
    "- **istiod load**: after each cacerts write of the execution (report.json's timeline), the lab's kubelet",
    "  volume sync until istiod sees the files, plus its push delay when the roots changed (report.json's",
    '  labWaits: the delays the model lab plays).',
    '- **pod start**: the time in which at least one pod the lab started was not ready yet, created to',
    "  ready (report.json's labWaits.podStarts).",
    '- **overhead**: the rotation time less the time in which at least one of those waits was in progress',
    '  (they overlap: istiod loads during a Wait state), over the rotation time. The rest is the',
    "  orchestration's own: handler work and API calls, Step Functions' transitions, polling intervals and",
    '  retry backoffs, and the lab itself running late on a busy machine. The waits count as they happened',
    '  in the run: pods of clusters restarted one after the other count whole, though an orchestration that',
    '  restarted them at once would have overlapped them, so the overhead is a lower bound of what the',
    "  orchestration costs. Where each rotation's time went (below) splits the overhead further by the state",
    '  in progress at each instant (bench/overhead-by-state.ts): a state inside a Map iteration before its',
    '  Map, an instant shared by states of different names split evenly, and `between states` for Step',
    "  Functions moving from one state to the next; a Distributed Map's children are not in the parent's",
    "  history, so their time is the Map's.",
    "- **handshakes failed**: the lab's mTLS probes over the whole rehearsal, every phase and the settle",
    '  after the end included; any failure is a workload that could not talk to another.',
    "- **peak RSS**: resident memory read from /proc every 250 ms, each column's own peak: **rehearsal** is",
    '  the `meshtrust rehearse` process (the model lab, its prober, the local state machine), the one',
    "  process issue 14's 1 GiB is read against; **functions** the function containers, one node process",
    "  per Lambda function as Lambda would run each (not on the operator's machine in a deployment);",
    '  **all** the whole tree, moto_server included, at its busiest sample.',
    '- **cert TTL**: the workload certificate lifetime the lab ran at: lab/lab-pace.ts stretches it for',
    '  large fleets, and the soak and the renewal window grow with it.',
    '- **other work**: cores other processes kept busy on average during the rehearsal.',
    '',
    'Growth of the rotation time with the clusters, per mode and workloads per cluster:',
    '',
    ...renderMarkdown(rotationGrowthTable(figures)),
    '',
    "Where each rotation's time went, largest first:",
    '',
    ...rotationSplitLines(figures).map((line) => `- ${line}.`),
    '',
  );
  const memory = rotationMemoryLines(figures);
  if (memory.length > 0) {
    lines.push(
      "The rehearsal process's memory at the highest RSS its lab read (process.memoryUsage() every 5 s,",
      'so at most the peak above), by what held it:',
      '',
      ...memory.map((line) => `- ${line}.`),
      '',
    );
  }
  if (notRun.length > 0) {
    lines.push('Not run, and why:', '', ...notRun.map((line) => `- ${line}.`), '');
  }
  if (failed.length > 0) {
    lines.push(
      "Did not succeed, and why (the execution's error):",
      '',
      ...failed.map((line) => `- ${line}`),
      '',
    );
  }
  lines.push(
    ...rotationTargetLines(figures).map((line) => `${capitalise(line)}.`),
    ...(bounds.length === 0 ? [] : ['', ...bounds.map((line) => `What bounds it: ${line}.`)]),
    '',
    ...(busy.length === 0 ? [] : [`Note: ${busy.join('; ')}.`, '']),
    ...rotationLateRenewalLines(figures).flatMap((line) => [`Lab behind: ${line}.`, '']),
    ...(notes.length === 0 ? [] : ['Noted when they ran:', '', ...notes.map((line) => `- ${line}.`), '']),
    `${measuredLine(rotation)} Each rotation above was measured at its own date (bench/results.json).`,
    '',
  );
  return lines;
}
