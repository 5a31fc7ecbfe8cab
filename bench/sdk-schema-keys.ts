// How much of a handler's bundle is AWS SDK schemas of operations the handler never calls. Each client's
// schemas/schemas_0.js declares every operation's schema, its traits keyed by string constants
// (`{ [_ht]: ["POST", "/clusters"] }`). esbuild cannot prove a computed key free of side effects, so it
// keeps every such schema, used or not (aws/aws-sdk-js-v3#7607, evanw/esbuild#4373; the generator's fix,
// literal keys, is smithy-lang/smithy-typescript#1889, open). The bench builds each handler once more
// with those keys written as literals, and the difference is what that costs. A measurement only: the
// deployed bundles are NodejsFunction's, which takes no esbuild plugin.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { build, type Plugin } from 'esbuild';
import { PROJECT_ROOT } from '../lib/handler-entries.js';
import { handlerBuildOptions } from './handler-profile.js';

/** A client's generated schemas, in the SDK's ESM build (nested clients' submodules too). */
const SCHEMA_FILE = /[\\/]node_modules[\\/]@aws-sdk[\\/].+[\\/]schemas[\\/]schemas_\d+\.js$/;
/** `const _ht = "http";`: the generator's string constants, one a line. */
const STRING_CONSTANT = /^const (_\w+) = ("(?:[^"\\\n]|\\.)*");$/gm;
/** `[_ht]:`: a computed key naming one. */
const COMPUTED_KEY = /\[(_\w+)\]:/g;

/**
 * The schemas' source with each computed key that names one of its string constants written as that
 * string: what esbuild can drop when nothing uses it. Other computed keys stay as they are. Pure.
 */
export function literalSchemaKeys(source: string): string {
  const constants = new Map<string, string>();
  for (const [, name, literal] of source.matchAll(STRING_CONSTANT))
    constants.set(name as string, literal as string);
  return source.replace(COMPUTED_KEY, (key, name: string) => {
    const literal = constants.get(name);
    return literal === undefined ? key : `${literal}:`;
  });
}

/** The esbuild plugin that loads every SDK schema file through literalSchemaKeys. */
export const literalSchemaKeysPlugin: Plugin = {
  name: 'literal-sdk-schema-keys',
  setup(builder) {
    builder.onLoad({ filter: SCHEMA_FILE }, async ({ path }) => ({
      contents: literalSchemaKeys(await readFile(path, 'utf8')),
      loader: 'js',
    }));
  },
};

/** The bytes of the handler's bundle built as NodejsFunction builds it, but with the SDK's schema keys literal. */
export async function bundleBytesWithLiteralSchemaKeys(entry: string): Promise<number> {
  const result = await build({
    ...handlerBuildOptions(entry),
    outfile: join(PROJECT_ROOT, 'index.mjs'),
    write: false,
    plugins: [literalSchemaKeysPlugin],
  });
  const bundle = result.outputFiles?.find((file) => file.path.endsWith('index.mjs'));
  if (bundle === undefined) throw new Error(`esbuild wrote no bundle of ${entry}`);
  return bundle.contents.byteLength;
}
