// Where a handler's cold import spends its time, from a CPU profile of the import (handler-bench.ts runs
// it): V8 compiling the bundle's source before any of it runs, then each package's code as it runs,
// counted for the package our code imported that brought it in (as the bundle's bytes are split,
// handler-profile.ts). A frame of the bundle is told by where its function starts, looked up in the
// bundle's source map; esbuild's module wrappers, which have no source, count as what they wrap.
import { SourceMap } from 'node:module';
import {
  type FrameCost,
  isNodeCode,
  LIKE_CALLEES,
  OTHER_COST,
  type ProfileFrame,
  type ProfileSummary,
} from './cpu-profile-summary.js';
import { type HandlersProfile, type HandlerTargetFigures, OUR_CODE } from './handler-profile.js';
import { formatDuration, formatRange, renderMarkdown, type Table } from './text-table.js';

/** V8 parsing and compiling the module's whole source text, before its first line runs. */
export const COMPILING = 'compiling the bundle (V8 parses and compiles its source before it runs)';
export const READING = 'reading the bundle file';
/**
 * Node.js compiling its own modules the bundle imports (node:https, node:zlib, ...) on first use, where
 * no code of the bundle asked for them (its ES imports, which node's loader links before any runs);
 * a `require` of one counts for the package that called it.
 */
export const BUILT_INS = 'node loading its built-in modules (node:https, node:zlib, ...)';
export const GARBAGE_COLLECTION = 'garbage collection';
/**
 * The ES modules esbuild hoisted into the bundle's top level run there as one function, whose own time
 * a profile cannot split by package.
 */
export const TOP_LEVEL = "the bundle's top level (ES modules esbuild hoisted there, not split by package)";

/** What the import profile needs of a bundle: its URL's end, its map, and who each source counts for. */
export interface ImportedBundle {
  /** The end of the bundle's URL in the profile (`/index.mjs`). */
  readonly url: string;
  /** The source map of the bundle, as esbuild wrote it (sources relative to the project root). */
  readonly sourceMap: string;
  /** Each source's owner: a package our code imports, a family of them, or `meshtrust` (ownersOf). */
  readonly owners: ReadonlyMap<string, string>;
}

/** The cost of a frame of a cold import's profile. */
export function importCosts(bundle: ImportedBundle): FrameCost {
  const map = new SourceMap(JSON.parse(bundle.sourceMap));
  return (frame: ProfileFrame) => {
    if (frame.functionName === '(garbage collector)') return GARBAGE_COLLECTION;
    if (frame.url.endsWith(bundle.url)) {
      // findEntry gives an empty object (Node.js 20) or undefined where no source is mapped.
      const entry: { readonly originalSource?: string } | undefined = map.findEntry(
        frame.lineNumber,
        frame.columnNumber ?? 0,
      );
      const source = entry?.originalSource;
      if (source !== undefined) return bundle.owners.get(source) ?? source;
      // No source: the top level, or one of esbuild's module wrappers (__esm, __commonJS), whose own
      // time is running and V8 compiling the module function it wraps on its first call.
      return frame.lineNumber === 0 && frame.columnNumber === 0 ? TOP_LEVEL : LIKE_CALLEES;
    }
    if (!isNodeCode(frame)) return undefined;
    if (/^(compileSourceTextModule|ModuleWrap)$/.test(frame.functionName)) return COMPILING;
    if (/^(readFileSync|readFile|decode|getSource)$/.test(frame.functionName)) return READING;
    if (/^(compileForInternalLoader|compileForPublicLoader|loadBuiltinModule)$/.test(frame.functionName))
      return { unlessCallerNamed: BUILT_INS };
    return undefined;
  };
}

/** Column headings for the costs that have a short name. */
const HEADINGS: Readonly<Record<string, string>> = {
  [COMPILING]: 'compiling',
  [READING]: 'reading',
  [BUILT_INS]: 'node built-ins',
  [GARBAGE_COLLECTION]: 'GC',
  [TOP_LEVEL]: 'top level',
};

/** How many costs besides compiling get a column; the rest are summed in `other`. */
const COLUMNS = 6;

/** Each profiled import's time by cost: compiling first, then the largest costs over all handlers. */
export function importProfileTable(imports: Readonly<Record<string, ProfileSummary>>): Table {
  const totals = new Map<string, number>();
  for (const summary of Object.values(imports)) {
    for (const { what, ms } of summary.costs) totals.set(what, (totals.get(what) ?? 0) + ms);
  }
  const shown = [
    COMPILING,
    ...[...totals]
      .filter(([what]) => what !== COMPILING && what !== OTHER_COST)
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .slice(0, COLUMNS)
      .map(([what]) => what),
  ];
  const cell = (ms: number) => (ms === 0 ? '-' : formatDuration(ms));
  return {
    columns: ['handler', 'import, profiled', ...shown.map((what) => HEADINGS[what] ?? what), 'other'],
    numeric: shown.map((_, index) => index + 2).concat([1, shown.length + 2]),
    rows: Object.entries(imports).map(([handler, summary]) => {
      const msOf = (what: string) => summary.costs.find((cost) => cost.what === what)?.ms ?? 0;
      const other = summary.costs
        .filter((cost) => !shown.includes(cost.what))
        .reduce((sum, cost) => sum + cost.ms, 0);
      return [
        handler,
        formatDuration(summary.totalMs),
        ...shown.map((what) => cell(msOf(what))),
        cell(other),
      ];
    }),
  };
}

function compilingMs(summary: ProfileSummary): number {
  return summary.costs.find((cost) => cost.what === COMPILING)?.ms ?? 0;
}

/** The least-squares line through points (x, y): y = intercept + slope * x. */
export function fitLine(points: readonly (readonly [number, number])[]): {
  intercept: number;
  slope: number;
} {
  const n = points.length;
  const meanX = points.reduce((sum, [x]) => sum + x, 0) / n;
  const meanY = points.reduce((sum, [, y]) => sum + y, 0) / n;
  const sxx = points.reduce((sum, [x]) => sum + (x - meanX) ** 2, 0);
  const sxy = points.reduce((sum, [x, y]) => sum + (x - meanX) * (y - meanY), 0);
  if (n < 2 || sxx === 0) throw new RangeError('a line needs points at two different x at least');
  const slope = sxy / sxx;
  return { intercept: meanY - slope * meanX, slope };
}

/** Costs of an import profile that are not a package's code. */
const NOT_A_PACKAGE: ReadonlySet<string> = new Set([
  COMPILING,
  READING,
  BUILT_INS,
  GARBAGE_COLLECTION,
  TOP_LEVEL,
  OTHER_COST,
  OUR_CODE,
]);

const percent = (share: number) => `${Math.round(share * 100)}%`;
const roundMs = (ms: number) => `${Math.round(ms)} ms`;

/**
 * What bounds the cold imports over the target, from the import profiles: compiling the bundle, which
 * grows with its bytes (a line fitted through every profiled bundle), and the package whose code runs
 * longest in each; undefined when none of them was profiled.
 */
export function importBoundLine(
  profile: HandlersProfile,
  handlers: readonly HandlerTargetFigures[],
  coldImportTargetMs: number,
): string | undefined {
  const profiled = Object.entries(profile.imports ?? {}).flatMap(([handler, summary]) => {
    const bytes = profile.bundles[handler]?.bytes;
    return bytes === undefined ? [] : [{ handler, summary, megabytes: bytes / 1_000_000 }];
  });
  const slow = profiled.filter((entry) =>
    handlers.some((h) => h.handler === entry.handler && h.coldImportMs > coldImportTargetMs),
  );
  if (slow.length === 0) return undefined;
  const megabytes = new Set(profiled.map((entry) => entry.megabytes));
  const fit =
    megabytes.size < 2
      ? undefined
      : fitLine(profiled.map((entry) => [entry.megabytes, compilingMs(entry.summary)] as const));
  const longest = new Map<string, number[]>();
  for (const { summary } of slow) {
    const [first] = summary.costs
      .filter((cost) => !NOT_A_PACKAGE.has(cost.what))
      .sort((a, b) => b.ms - a.ms || a.what.localeCompare(b.what));
    if (first !== undefined) longest.set(first.what, [...(longest.get(first.what) ?? []), first.ms]);
  }
  return (
    `${slow.length} cold import(s) over ${formatDuration(coldImportTargetMs)} profiled (${slow.map((s) => s.handler).join(', ')}): ` +
    `compiling the bundle's source, before any of its code runs, is ${formatRange(
      slow.map((s) => compilingMs(s.summary) / s.summary.totalMs),
      percent,
    )} of each` +
    (fit === undefined
      ? ''
      : `, and grows with the bundle's bytes: about ${roundMs(fit.intercept)} plus ${roundMs(fit.slope)} per MB ` +
        `(a line through all ${profiled.length} profiled bundles)`) +
    (longest.size === 0
      ? ''
      : `; the package whose code (with what it imports) runs longest in each: ${[...longest]
          .map(([name, ms]) => `${name} ${formatRange(ms, roundMs)}`)
          .join(', ')}`) +
    '. Under the target would take fewer bytes to compile and fewer packages to run in each handler'
  );
}

/** docs/performance.md's part on where a cold import's time goes; none without import profiles. */
export function importProfileDocLines(profile: HandlersProfile): string[] {
  const imports = profile.imports ?? {};
  if (Object.keys(imports).length === 0) return [];
  return [
    "### Where a cold import's time goes",
    '',
    'Each bundle imported once more in a fresh process under the CPU profiler (`node --cpu-prof`, a sample',
    "every 100 µs; bench/import-profile.ts), its samples from the import's start to its end summed by what",
    'they ran:',
    '',
    ...renderMarkdown(importProfileTable(imports)),
    '',
    "- **import, profiled**: the samples' time; the profiler slows the import a little, so it is close to,",
    '  not the same as, the cold import above.',
    "- **compiling**: V8 parsing and compiling the bundle's source text, which it does for the whole file",
    "  before its first line runs (node's compileSourceTextModule).",
    "- A package's column is its code running (and compiled as it first runs), counted as its bytes are",
    "  above: the package our code imports, with everything it imports. A sample in node's own code counts",
    "  for the bundle code that called it; esbuild's module wrappers (`__esm`, `__commonJS`) count as the",
    '  code they wrap did.',
    "- **top level**: the bundle's top-level function, in which the ES modules esbuild hoisted there run;",
    '  a profile cannot split its own time by package.',
    `- **GC**: ${GARBAGE_COLLECTION}.`,
    `- **node built-ins**: ${BUILT_INS} that the bundle's ES imports name, before any of it`,
    '  runs; one that a package requires as it runs counts for that package.',
    "- **other**: the rest (node's module loader, V8 itself), and any cost under 1% of an import.",
    '',
  ];
}
