// What each handler bundle is made of, and what bounds a bundle or a cold import that misses its
// target: the handler built again with esbuild's metafile, with the options NodejsFunction builds it
// with (HANDLER_BUNDLING), its bytes split by what meshtrust's code imports; and a "floor" bundle of
// only the @kubernetes/client-node exports meshtrust imports, whose size and cold import no handler
// that reaches a cluster can go below.
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { type BuildOptions, build, type Metafile } from 'esbuild';
import {
  APPROVAL_HANDLER_ENTRY,
  entryPath,
  HANDLER_ENTRIES,
  type HandlerName,
  PROJECT_ROOT,
} from '../lib/handler-entries.js';
import { HANDLER_BUNDLING, HANDLER_RUNTIME } from '../lib/rotation-functions.js';
import type { ProfileSummary } from './cpu-profile-summary.js';
import { formatBytes, formatDuration, formatRange, renderMarkdown, type Table } from './text-table.js';

/** The package whose part meshtrust uses bounds every handler that reaches a cluster. */
export const FLOOR_PACKAGE = '@kubernetes/client-node';
/** Our own sources (lambdas/, the contract). */
export const OUR_CODE = 'meshtrust';
/** What esbuild adds that is no input's: its runtime helpers, the banner. */
const ESBUILD_OWN = 'esbuild runtime, banner';

/** Packages shown as one: an SDK or library split into many packages. */
const FAMILIES: readonly { readonly name: string; readonly members: (pkg: string) => boolean }[] = [
  {
    name: 'AWS SDK',
    members: (pkg) =>
      pkg.startsWith('@aws-sdk/') || pkg.startsWith('@smithy/') || pkg.startsWith('@aws-crypto/'),
  },
  {
    // x509.ts imports reflect-metadata for @peculiar/x509's tsyringe.
    name: '@peculiar/x509',
    members: (pkg) => pkg.startsWith('@peculiar/') || pkg === 'reflect-metadata',
  },
  { name: 'Powertools', members: (pkg) => pkg.startsWith('@aws-lambda-powertools/') },
];

/**
 * The esbuild options NodejsFunction (aws-cdk-lib/aws-lambda-nodejs) turns HANDLER_BUNDLING into for a
 * handler: the same bundle, byte for byte (test/infra/cdk-synth.test.ts compares them).
 */
export function handlerBuildOptions(entry: string): BuildOptions {
  const node = /nodejs(\d+)/.exec(HANDLER_RUNTIME.name)?.[1];
  if (node === undefined) throw new RangeError(`no Node.js version in runtime ${HANDLER_RUNTIME.name}`);
  const bundling: Readonly<Record<string, unknown>> = HANDLER_BUNDLING;
  return {
    absWorkingDir: PROJECT_ROOT,
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    target: `node${node}`,
    format: HANDLER_BUNDLING.format,
    minify: HANDLER_BUNDLING.minify,
    keepNames: bundling.keepNames === true,
    sourcemap: bundling.sourceMap === true,
    external: bundling.bundleAwsSDK === true ? [] : ['@aws-sdk/*'],
    mainFields: [...HANDLER_BUNDLING.mainFields],
    banner: { js: HANDLER_BUNDLING.banner },
    logLevel: 'silent',
  };
}

/** The source of a handler of the stack, by its name (`preflight`, `answer-approval`, ...). */
export function handlerEntryOf(handlerName: string): string | undefined {
  if (handlerName === 'answer-approval') return entryPath(APPROVAL_HANDLER_ENTRY);
  return handlerName in HANDLER_ENTRIES ? entryPath(HANDLER_ENTRIES[handlerName as HandlerName]) : undefined;
}

export interface BundleContributor {
  /** A package our code imports (or a family of them, e.g. `AWS SDK`), `meshtrust`, or esbuild's own. */
  readonly name: string;
  /** Its bytes in the bundle, with everything it brings in. */
  readonly bytes: number;
}

export interface BundleProfile {
  /** The bundle esbuild wrote for the profile. */
  readonly bytes: number;
  /** True when that bundle is the asset's, byte for byte (so the split below is the deployed bundle's). */
  readonly sameAsAsset: boolean;
  /** Largest first; they add up to `bytes`. */
  readonly contributors: readonly BundleContributor[];
}

/**
 * A handler built as NodejsFunction builds it, plus esbuild's metafile and a source map kept apart from
 * the code (an external map leaves the bundle's bytes as they are): what the profiles read.
 */
export interface ProfileBuild {
  /** The bundle, index.mjs. */
  readonly bundle: Uint8Array;
  /** Its source map; sources are paths from the project root, as the metafile's inputs. */
  readonly sourceMap: string;
  readonly metafile: Metafile;
  /** The entry as the metafile names it. */
  readonly entryInput: string;
}

export async function buildForProfile(entry: string): Promise<ProfileBuild> {
  const result = await build({
    ...handlerBuildOptions(entry),
    // In the project root, so that the map names each source as the metafile does.
    outfile: join(PROJECT_ROOT, 'index.mjs'),
    sourcemap: 'external',
    write: false,
    metafile: true,
  });
  const output = (suffix: string) => result.outputFiles?.find((file) => file.path.endsWith(suffix));
  const bundle = output('index.mjs');
  const sourceMap = output('index.mjs.map');
  if (bundle === undefined || sourceMap === undefined) throw new Error(`esbuild wrote no bundle of ${entry}`);
  return {
    bundle: bundle.contents,
    sourceMap: sourceMap.text,
    metafile: result.metafile,
    entryInput: relative(PROJECT_ROOT, entry),
  };
}

/** The bytes of a handler's bundle, split by contributor, and whether it is the asset's bundle. */
export function profileBundle(built: ProfileBuild, assetBundle?: Buffer): BundleProfile {
  return {
    bytes: built.bundle.byteLength,
    sameAsAsset: assetBundle !== undefined && sha256(assetBundle) === sha256(built.bundle),
    contributors: contributorsOf(built.metafile, built.entryInput),
  };
}

/**
 * The bundle's bytes by what meshtrust's code imports: each module esbuild put in the bundle counts
 * for its owner (ownersOf), and what no input accounts for (esbuild's helpers, the banner) apart.
 */
export function contributorsOf(metafile: Metafile, entryInput: string): BundleContributor[] {
  const output = outputOf(metafile, entryInput);
  const owners = ownersOf(metafile, entryInput);
  const bytes = new Map<string, number>();
  let accounted = 0;
  for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
    if (bytesInOutput === 0) continue;
    const name = owners.get(input) as string;
    bytes.set(name, (bytes.get(name) ?? 0) + bytesInOutput);
    accounted += bytesInOutput;
  }
  if (output.bytes > accounted) bytes.set(ESBUILD_OWN, output.bytes - accounted);
  return [...bytes]
    .map(([name, size]) => ({ name, bytes: size }))
    .sort((a, b) => b.bytes - a.bytes || a.name.localeCompare(b.name));
}

/**
 * Who each module of the bundle counts for: the package our code imported that brought it in (undici
 * for @kubernetes/client-node, which imports it), found along the shortest import path from the entry;
 * our own sources are `meshtrust`.
 */
export function ownersOf(metafile: Metafile, entryInput: string): Map<string, string> {
  const output = outputOf(metafile, entryInput);
  const owner = new Map<string, string>([[entryInput, OUR_CODE]]);
  const queue = [entryInput];
  for (let index = 0; index < queue.length; index += 1) {
    const from = queue[index] as string;
    for (const imported of metafile.inputs[from]?.imports ?? []) {
      if (imported.external || owner.has(imported.path)) continue;
      const pkg = packageOf(imported.path);
      owner.set(
        imported.path,
        pkg === undefined
          ? OUR_CODE
          : owner.get(from) === OUR_CODE
            ? familyOf(pkg)
            : (owner.get(from) as string),
      );
      queue.push(imported.path);
    }
  }
  for (const input of Object.keys(output.inputs)) {
    if (!owner.has(input)) owner.set(input, familyOf(packageOf(input) ?? OUR_CODE));
  }
  return owner;
}

function outputOf(metafile: Metafile, entryInput: string): Metafile['outputs'][string] {
  const output = Object.values(metafile.outputs).find((candidate) => candidate.entryPoint === entryInput);
  if (output === undefined) throw new RangeError(`the metafile has no output for ${entryInput}`);
  return output;
}

/** `node_modules/@scope/name/dist/x.js` -> `@scope/name` (the innermost node_modules); ours -> undefined. */
function packageOf(input: string): string | undefined {
  const at = input.lastIndexOf('node_modules/');
  if (at === -1) return undefined;
  const [first, second] = input.slice(at + 'node_modules/'.length).split('/');
  return first?.startsWith('@') ? `${first}/${second}` : first;
}

function familyOf(pkg: string): string {
  return FAMILIES.find((family) => family.members(pkg))?.name ?? pkg;
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The floor: what meshtrust imports of FLOOR_PACKAGE, bundled alone as a handler is. */
export interface FloorBundle {
  readonly packageName: string;
  /** The package's exports meshtrust's code imports as values (types leave no code). */
  readonly imports: readonly string[];
  readonly bytes: number;
  /** Where the bundle was written, to be imported as a handler's is. */
  readonly bundleDirectory: string;
  readonly bundleFile: string;
}

/**
 * Bundles only the exports of FLOOR_PACKAGE that lambdas/ imports as values, with the handlers'
 * options, into `directory`: the part of it any handler that reaches a cluster carries.
 */
export async function buildFloorBundle(directory: string): Promise<FloorBundle> {
  const imports = await valueImportsOf(join(PROJECT_ROOT, 'lambdas'), FLOOR_PACKAGE);
  if (imports.length === 0) throw new RangeError(`lambdas/ imports nothing of ${FLOOR_PACKAGE}`);
  const contents =
    `import { ${imports.join(', ')} } from ${JSON.stringify(FLOOR_PACKAGE)};\n` +
    `export { ${imports.join(', ')} };\n`;
  await mkdir(directory, { recursive: true });
  const { entryPoints: _entry, ...options } = handlerBuildOptions('');
  const result = await build({
    ...options,
    stdin: { contents, resolveDir: PROJECT_ROOT, loader: 'js', sourcefile: 'floor.mjs' },
    write: false,
    outfile: join(directory, 'index.mjs'),
  });
  const output = result.outputFiles?.[0];
  if (output === undefined) throw new Error(`esbuild wrote no bundle of ${FLOOR_PACKAGE}'s part`);
  await writeFile(join(directory, 'index.mjs'), output.contents);
  return {
    packageName: FLOOR_PACKAGE,
    imports,
    bytes: output.contents.byteLength,
    bundleDirectory: directory,
    bundleFile: 'index.mjs',
  };
}

/** The names `import { A, B as C, type D } from 'pkg'` brings in as values, over every .ts file below `root`. */
export async function valueImportsOf(root: string, pkg: string): Promise<string[]> {
  const names = new Set<string>();
  const statement = new RegExp(
    String.raw`import\s+(type\s+)?\{([^}]*)\}\s*from\s*['"]${pkg.replace(/[/.@-]/g, '\\$&')}['"]`,
    'g',
  );
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
    const source = await readFile(join(entry.parentPath, entry.name), 'utf8');
    for (const match of source.matchAll(statement)) {
      if (match[1] !== undefined) continue;
      for (const specifier of (match[2] ?? '').split(',')) {
        const name = specifier.trim();
        if (name === '' || name.startsWith('type ')) continue;
        names.add(name.split(/\s+as\s+/)[0] as string);
      }
    }
  }
  return [...names].sort();
}

/** The floor as measured: its bundle and its cold import in fresh processes. */
export interface FloorFigures {
  readonly packageName: string;
  readonly imports: readonly string[];
  readonly bytes: number;
  readonly coldImportMs: { readonly median: number; readonly runs: readonly number[] };
}

/** What the profile adds to the handlers section. */
export interface HandlersProfile {
  /** Per handler, as the handlers table lists them. */
  readonly bundles: Readonly<Record<string, BundleProfile>>;
  /**
   * Per handler whose asset the profile's build matched, where one cold import's time went
   * (import-profile.ts); results of runs before 5 December 2026 have none.
   */
  readonly imports?: Readonly<Record<string, ProfileSummary>>;
  readonly floor: FloorFigures;
}

/** How many contributors get a column; the rest are summed in `other`. */
const COLUMNS = 6;

/** The bytes of each bundle by contributor: the largest contributors over all bundles, one column each. */
export function profileTable(profile: HandlersProfile): Table {
  const totals = new Map<string, number>();
  for (const bundle of Object.values(profile.bundles)) {
    for (const { name, bytes } of bundle.contributors) totals.set(name, (totals.get(name) ?? 0) + bytes);
  }
  const shown = [...totals]
    .filter(([name]) => name !== ESBUILD_OWN)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, COLUMNS)
    .map(([name]) => name);
  const cell = (bytes: number) => (bytes === 0 ? '-' : formatBytes(bytes));
  return {
    columns: ['handler', 'bundle', ...shown, 'other'],
    numeric: shown.map((_, index) => index + 2).concat([1, shown.length + 2]),
    rows: Object.entries(profile.bundles).map(([handler, bundle]) => {
      const bytesOf = (name: string) => bundle.contributors.find((c) => c.name === name)?.bytes ?? 0;
      const other = bundle.contributors
        .filter((contributor) => !shown.includes(contributor.name))
        .reduce((sum, contributor) => sum + contributor.bytes, 0);
      return [handler, formatBytes(bundle.bytes), ...shown.map((name) => cell(bytesOf(name))), cell(other)];
    }),
  };
}

/** Bundles the profile built that differ from the deployed ones: their split is only close. */
export function profileMismatchLine(profile: HandlersProfile): string | undefined {
  const differing = Object.entries(profile.bundles)
    .filter(([, bundle]) => !bundle.sameAsAsset)
    .map(([handler]) => handler);
  return differing.length === 0
    ? undefined
    : `the profile's build of ${differing.join(', ')} is not byte for byte the asset's (cdk.out older than the code?), so their split is only close`;
}

export interface HandlerTargetFigures {
  readonly handler: string;
  readonly bundleBytes: number;
  readonly coldImportMs: number;
}

/**
 * What bounds the handlers that miss a target, from the profile: the floor package's part alone against
 * the targets, and each other missing handler's largest contributor.
 */
export function profileBoundLines(
  profile: HandlersProfile,
  handlers: readonly HandlerTargetFigures[],
  targets: { readonly bundleBytes: number; readonly coldImportMs: number },
): string[] {
  const { floor } = profile;
  const carriesFloor = (handler: string) =>
    profile.bundles[handler]?.contributors.some((c) => c.name === floor.packageName) === true;
  const big = handlers.filter((h) => h.bundleBytes > targets.bundleBytes);
  const slow = handlers.filter((h) => h.coldImportMs > targets.coldImportMs);
  const lines: string[] = [];
  const withFloor = [...new Set([...big, ...slow].map((h) => h.handler))].filter(carriesFloor);
  if (withFloor.length > 0) {
    const floorBytes = withFloor.map(
      (handler) =>
        profile.bundles[handler]?.contributors.find((c) => c.name === floor.packageName)?.bytes ?? 0,
    );
    lines.push(
      `${withFloor.length} handler(s) reach clusters through ${floor.packageName} (${withFloor.join(', ')}): ` +
        `it is ${formatRange(floorBytes, formatBytes)} of each bundle (with undici and the other packages it imports). ` +
        `Its part alone, only the exports meshtrust imports (${floor.imports.join(', ')}), bundled as a handler is: ` +
        `${formatBytes(floor.bytes)}, cold import ${formatDuration(floor.coldImportMs.median)} ` +
        `(median of ${floor.coldImportMs.runs.length}), against targets of ${formatBytes(targets.bundleBytes)} and ` +
        `${formatDuration(targets.coldImportMs)}. ${floorVerdict(floor, targets)}`,
    );
  }
  for (const handler of [...big, ...slow]) {
    if (carriesFloor(handler.handler) || lines.some((line) => line.startsWith(`${handler.handler}:`)))
      continue;
    const largest = profile.bundles[handler.handler]?.contributors.slice(0, 3) ?? [];
    lines.push(
      `${handler.handler}: ${formatBytes(handler.bundleBytes)}, cold import ${formatDuration(handler.coldImportMs)}; ` +
        `its largest parts: ${largest.map((c) => `${c.name} ${formatBytes(c.bytes)}`).join(', ')}`,
    );
  }
  return lines;
}

function floorVerdict(
  floor: FloorFigures,
  targets: { readonly bundleBytes: number; readonly coldImportMs: number },
): string {
  const over = [
    floor.bytes > targets.bundleBytes ? 'the bundle target' : undefined,
    floor.coldImportMs.median > targets.coldImportMs ? 'the cold import target' : undefined,
  ].filter((item) => item !== undefined);
  return over.length === 0
    ? 'The part alone fits both targets: the rest of those bundles is what misses them'
    : `The part alone misses ${over.join(' and ')} before a line of meshtrust is added: ` +
        `short of replacing the Kubernetes client, that is the floor of these handlers`;
}

/** docs/performance.md's part on what the bundles are made of. */
export function profileDocLines(profile: HandlersProfile): string[] {
  const mismatch = profileMismatchLine(profile);
  return [
    '### What the bundles are made of',
    '',
    "Each handler built again with esbuild's metafile, with the options NodejsFunction builds it with",
    '(bench/handler-profile.ts, from `HANDLER_BUNDLING` in lib/rotation-functions.ts), its bytes split by what',
    "meshtrust's code imports:",
    '',
    ...renderMarkdown(profileTable(profile)),
    '',
    '- Each column is what one import of our code brings in, every module under it included: undici, ws and',
    `  the other packages @kubernetes/client-node imports count in its column. **AWS SDK** is @aws-sdk/*,`,
    '  @smithy/* and @aws-crypto/*; **@peculiar/x509** is @peculiar/* and reflect-metadata; **Powertools** is',
    "  @aws-lambda-powertools/*; **meshtrust** is our own code; **other** every smaller one and esbuild's",
    '  helpers and banner.',
    mismatch === undefined
      ? "- Every build here is the asset's bundle, byte for byte."
      : `- ${mismatch.charAt(0).toUpperCase()}${mismatch.slice(1)}.`,
    `- **Floor**: only the exports of ${profile.floor.packageName} that lambdas/ imports as values`,
    `  (${profile.floor.imports.join(', ')}), bundled alone with the same options: ${formatBytes(profile.floor.bytes)},`,
    `  cold import ${formatDuration(profile.floor.coldImportMs.median)} (median of ${profile.floor.coldImportMs.runs.length}, measured as the handlers are).`,
    '',
  ];
}
