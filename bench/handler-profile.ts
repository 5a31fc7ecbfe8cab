// What each handler bundle is made of, and what bounds a bundle that misses its target: the handler
// built again with esbuild's metafile, with the options NodejsFunction builds it with (HANDLER_BUNDLING),
// its bytes split by what meshtrust's code imports.
import { createHash } from 'node:crypto';
import { join, relative } from 'node:path';
import { type BuildOptions, build, type Metafile } from 'esbuild';
import {
  APPROVAL_HANDLER_ENTRY,
  entryPath,
  HANDLER_ENTRIES,
  type HandlerName,
  PROJECT_ROOT,
} from '../lib/handler-entries.js';
import { HANDLER_ALIASES, HANDLER_BUNDLING, HANDLER_RUNTIME } from '../lib/rotation-functions.js';
import type { ProfileSummary } from './cpu-profile-summary.js';
import { formatBytes, formatDuration, formatRange, renderMarkdown, type Table } from './text-table.js';

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
    alias: { ...HANDLER_ALIASES },
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
  /**
   * The bundle's bytes built with the AWS SDK's schema keys literal, so that esbuild drops the schemas of
   * operations the handler never calls (sdk-schema-keys.ts); results of runs before 6 December 2026 have none.
   */
  readonly literalSchemaKeysBytes?: number;
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
 * Who each module of the bundle counts for: the package our code imported that brought it in (tslib for
 * @peculiar/x509, which imports it), found along the shortest import path from the entry;
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

/** What the profile adds to the handlers section. */
export interface HandlersProfile {
  /** Per handler, as the handlers table lists them. */
  readonly bundles: Readonly<Record<string, BundleProfile>>;
  /**
   * Per handler whose asset the profile's build matched, where one cold import's time went
   * (import-profile.ts); results of runs before 5 December 2026 have none.
   */
  readonly imports?: Readonly<Record<string, ProfileSummary>>;
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
 * What bounds each handler that misses a target, from the profile: its largest parts, and for a bundle
 * over its target, what it would weigh if esbuild could drop the SDK schemas it never uses.
 */
export function profileBoundLines(
  profile: HandlersProfile,
  handlers: readonly HandlerTargetFigures[],
  targets: { readonly bundleBytes: number; readonly coldImportMs: number },
): string[] {
  return handlers
    .filter((h) => h.bundleBytes > targets.bundleBytes || h.coldImportMs > targets.coldImportMs)
    .map((handler) => {
      const bundle = profile.bundles[handler.handler];
      const largest = bundle?.contributors.slice(0, 3) ?? [];
      const literal = bundle?.literalSchemaKeysBytes;
      return (
        `${handler.handler}: ${formatBytes(handler.bundleBytes)}, cold import ${formatDuration(handler.coldImportMs)}; ` +
        `its largest parts: ${largest.map((c) => `${c.name} ${formatBytes(c.bytes)}`).join(', ')}` +
        (literal === undefined || handler.bundleBytes <= targets.bundleBytes || bundle?.sameAsAsset !== true
          ? ''
          : `; ${formatBytes(literal)} with the AWS SDK's schema keys literal, ${formatBytes(handler.bundleBytes - literal)} of schemas it never uses that esbuild keeps`)
      );
    });
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
    '- Each column is what one import of our code brings in, every module under it included (the packages',
    '  a package imports count in its column). **AWS SDK** is @aws-sdk/*,',
    '  @smithy/* and @aws-crypto/*; **@peculiar/x509** is @peculiar/* and reflect-metadata; **Powertools** is',
    "  @aws-lambda-powertools/*; **meshtrust** is our own code; **other** every smaller one and esbuild's",
    '  helpers and banner.',
    mismatch === undefined
      ? "- Every build here is the asset's bundle, byte for byte."
      : `- ${mismatch.charAt(0).toUpperCase()}${mismatch.slice(1)}.`,
    ...unusedSchemaLines(profile),
    '',
  ];
}

/** The bullet on the SDK schemas esbuild keeps unused, where the profile measured them. */
function unusedSchemaLines(profile: HandlersProfile): string[] {
  const unused = Object.values(profile.bundles).flatMap((bundle) =>
    bundle.literalSchemaKeysBytes === undefined ? [] : [bundle.bytes - bundle.literalSchemaKeysBytes],
  );
  if (unused.length === 0) return [];
  return [
    `- Of the AWS SDK column, ${formatRange(unused, formatBytes)} a bundle are schemas of operations the handler`,
    "  never calls: each client's schemas key their traits by string constants (`{ [_ht]: ... }`),",
    "  and esbuild keeps whatever has a computed key (aws/aws-sdk-js-v3#7607, open; the generator's fix is",
    '  smithy-lang/smithy-typescript#1889, open). Measured by building each handler once more with those keys',
    '  written as literals (bench/sdk-schema-keys.ts); NodejsFunction takes no esbuild plugin, so the',
    '  deployed bundles keep them.',
  ];
}
