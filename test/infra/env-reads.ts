// What meshtrust's functions read from their environment, found in the code itself: which of our
// sources each function's bundle holds (esbuild's metafile, from the handler's entry), and which
// environment keys those sources read (the TypeScript syntax tree). test/infra/function-environment.test.ts
// holds the synthesized stack to it.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { build } from 'esbuild';
import ts from 'typescript';

/** The repository root (this file is test/infra/env-reads.ts). */
const ROOT = resolve(dirname(new URL(import.meta.url).pathname), '../..');

/** The one module allowed to touch process.env: every other read goes through its readers. */
export const ENV_READER_MODULE = 'lambdas/adapters/environment.ts';
const CONTRACT_DIR = 'lambdas/contract';

/** What one source file reads, and every read it makes that the contract cannot account for. */
export interface SourceEnvReads {
  /** Environment keys read, by value (`MESH_ID`), each named by a contract constant. */
  readonly keys: readonly string[];
  /** Reads that do not name a contract constant, with the line: each is a failure. */
  readonly problems: readonly string[];
}

const parse = (path: string) =>
  ts.createSourceFile(path, readFileSync(join(ROOT, path), 'utf8'), ts.ScriptTarget.Latest, true);

/** Every `.ts` file under a folder of the repository, as a path relative to the root. */
export function sourcesUnder(folder: string): string[] {
  return (readdirSync(join(ROOT, folder), { recursive: true }) as string[])
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))
    .map((file) => join(folder, file))
    .sort();
}

/**
 * An environment key constant of the contract: `export const <NAME>_ENV = '<key>'`, or an object of keys
 * by name (`export const <NAME>_ENV = { create: '<key>', ... } as const`).
 */
export type ContractEnvConstant = string | ReadonlyMap<string, string>;

/** The contract's environment key constants in lambdas/contract/*.ts, by file then by constant name. */
export function contractEnvKeys(): Map<string, Map<string, ContractEnvConstant>> {
  const byFile = new Map<string, Map<string, ContractEnvConstant>>();
  for (const path of sourcesUnder(CONTRACT_DIR)) {
    const constants = new Map<string, ContractEnvConstant>();
    for (const statement of parse(path).statements) {
      if (!ts.isVariableStatement(statement)) continue;
      const exported = statement.modifiers?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword) ?? false;
      for (const declaration of statement.declarationList.declarations) {
        const { name, initializer } = declaration;
        if (!exported || !ts.isIdentifier(name) || !name.text.endsWith('_ENV') || initializer === undefined)
          continue;
        const value = envConstantOf(initializer);
        if (value !== undefined) constants.set(name.text, value);
      }
    }
    byFile.set(path, constants);
  }
  return byFile;
}

function envConstantOf(initializer: ts.Expression): ContractEnvConstant | undefined {
  let node = initializer;
  while (ts.isAsExpression(node) || ts.isSatisfiesExpression(node) || ts.isParenthesizedExpression(node)) {
    node = node.expression;
  }
  if (ts.isStringLiteral(node)) return node.text;
  if (!ts.isObjectLiteralExpression(node)) return undefined;
  const keys = new Map<string, string>();
  for (const property of node.properties) {
    if (!ts.isPropertyAssignment(property) || !ts.isStringLiteral(property.initializer)) return undefined;
    keys.set(property.name.getText().replace(/^['"]|['"]$/g, ''), property.initializer.text);
  }
  return keys;
}

/** The reading functions ENV_READER_MODULE exports (getStringFromEnv, ...). */
export function envReaderNames(): Set<string> {
  const names = new Set<string>();
  for (const statement of parse(ENV_READER_MODULE).statements) {
    const exported = ts.canHaveModifiers(statement)
      ? (ts.getModifiers(statement)?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword) ?? false)
      : false;
    if (exported && ts.isFunctionDeclaration(statement) && statement.name !== undefined) {
      names.add(statement.name.text);
    }
  }
  return names;
}

/**
 * The keys one source reads. A read counts when it calls a reader of ENV_READER_MODULE with an object
 * whose `key` is a constant imported from a contract module (`key: MESH_ID_ENV`), or one of an object of
 * such keys (`key: ROOT_KEY_PRINCIPALS_ENV.sign`; computed, `[use]`, counts as all of them); anything else that reads the
 * environment (process.env outside ENV_READER_MODULE, `node:process`'s env, a reader given a string or
 * a variable) is a problem, since no one could tell from the code which key it reads.
 */
export function envReadsOf(
  path: string,
  contract: ReadonlyMap<string, ReadonlyMap<string, ContractEnvConstant>> = contractEnvKeys(),
  readers: ReadonlySet<string> = envReaderNames(),
): SourceEnvReads {
  const source = parse(path);
  const keys = new Set<string>();
  const problems: string[] = [];
  const where = (node: ts.Node) =>
    `${path}:${source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1}`;

  // Which identifiers this file imports from which contract module.
  const imported = new Map<string, ContractEnvConstant>();
  for (const statement of source.statements) {
    if (!ts.isImportDeclaration(statement) || !ts.isStringLiteral(statement.moduleSpecifier)) continue;
    const specifier = statement.moduleSpecifier.text;
    if (specifier === 'process' || specifier === 'node:process') {
      problems.push(
        `${where(statement)} imports ${specifier}: read the environment through ${ENV_READER_MODULE}`,
      );
    }
    if (!specifier.startsWith('.')) continue;
    const target = relative(ROOT, resolve(ROOT, dirname(path), specifier)).replace(/\.js$/, '.ts');
    const constants = contract.get(target);
    const bindings = statement.importClause?.namedBindings;
    if (constants === undefined || bindings === undefined || !ts.isNamedImports(bindings)) continue;
    for (const element of bindings.elements) {
      const exportedName = (element.propertyName ?? element.name).text;
      const value = constants.get(exportedName);
      if (value !== undefined) imported.set(element.name.text, value);
    }
  }

  const visit = (node: ts.Node): void => {
    if (
      ts.isPropertyAccessExpression(node) &&
      ts.isIdentifier(node.expression) &&
      node.expression.text === 'process' &&
      node.name.text === 'env' &&
      path !== ENV_READER_MODULE
    ) {
      problems.push(
        `${where(node)} reads process.env: use a reader of ${ENV_READER_MODULE} with a contract key`,
      );
    }
    if (ts.isCallExpression(node)) {
      const callee = ts.isIdentifier(node.expression)
        ? node.expression.text
        : ts.isPropertyAccessExpression(node.expression)
          ? node.expression.name.text
          : undefined;
      if (callee !== undefined && readers.has(callee) && path !== ENV_READER_MODULE) {
        const values = keysOf(keyOf(node.arguments[0]), imported);
        if (values === undefined) {
          problems.push(
            `${where(node)} calls ${callee} without { key: <a *_ENV constant imported from ${CONTRACT_DIR}> }`,
          );
        } else {
          for (const value of values) keys.add(value);
        }
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return { keys: [...keys].sort(), problems };
}

/** The expression given as `key` in an object literal argument, if that is what the argument is. */
function keyOf(argument: ts.Expression | undefined): ts.Expression | undefined {
  if (argument === undefined || !ts.isObjectLiteralExpression(argument)) return undefined;
  for (const property of argument.properties) {
    if (ts.isPropertyAssignment(property) && property.name.getText() === 'key') return property.initializer;
  }
  return undefined;
}

/** The keys a `key` expression names through the contract constants the file imports, if it does. */
function keysOf(
  key: ts.Expression | undefined,
  imported: ReadonlyMap<string, ContractEnvConstant>,
): readonly string[] | undefined {
  if (key === undefined) return undefined;
  if (ts.isIdentifier(key)) {
    const constant = imported.get(key.text);
    return typeof constant === 'string' ? [constant] : undefined;
  }
  const object =
    ts.isPropertyAccessExpression(key) || ts.isElementAccessExpression(key) ? key.expression : undefined;
  const constant = object !== undefined && ts.isIdentifier(object) ? imported.get(object.text) : undefined;
  if (constant === undefined || typeof constant === 'string') return undefined;
  if (ts.isPropertyAccessExpression(key)) {
    const value = constant.get(key.name.text);
    return value === undefined ? undefined : [value];
  }
  // A computed member (`[use]`): any of them may be read.
  return [...constant.values()];
}

/**
 * The repository's own sources each entry's bundle holds, as esbuild resolves its imports (packages
 * left out: they are not ours to scan), by entry path relative to the root.
 */
export async function bundledSources(entries: readonly string[]): Promise<Map<string, string[]>> {
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: [...entries],
    bundle: true,
    write: false,
    metafile: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    outdir: 'env-reads-out',
    logLevel: 'silent',
  });
  const byEntry = new Map<string, string[]>();
  for (const output of Object.values(result.metafile.outputs)) {
    if (output.entryPoint === undefined) continue;
    byEntry.set(
      output.entryPoint,
      Object.keys(output.inputs)
        .filter((input) => input.startsWith('lambdas/'))
        .sort(),
    );
  }
  return byEntry;
}
