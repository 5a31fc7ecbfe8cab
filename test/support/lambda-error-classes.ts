import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folder of the Lambda code: handlers, core, adapters, contract. */
export const LAMBDAS_DIR = fileURLToPath(new URL('../../lambdas', import.meta.url));

/** Every TypeScript module under lambdas/, as paths relative to the repository. */
export function lambdaModules(): string[] {
  return readdirSync(LAMBDAS_DIR, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))
    .map((file) => join(LAMBDAS_DIR, file))
    .sort();
}

/** An error class a module under lambdas/ exports. */
export interface ExportedErrorClass {
  readonly name: string;
  readonly errorClass: new (...args: never[]) => Error;
}

/**
 * Every class exported by a module under lambdas/ whose instances are Errors, found by importing each
 * module (not from a list), once per class.
 */
export async function exportedErrorClasses(): Promise<ExportedErrorClass[]> {
  const found = new Map<unknown, ExportedErrorClass>();
  for (const file of lambdaModules()) {
    const exports = (await import(file)) as Record<string, unknown>;
    for (const value of Object.values(exports)) {
      if (typeof value !== 'function' || found.has(value)) continue;
      const prototype = (value as { prototype?: unknown }).prototype;
      if (value === Error || !(prototype instanceof Error)) continue;
      found.set(value, { name: value.name, errorClass: value as ExportedErrorClass['errorClass'] });
    }
  }
  return [...found.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** A class declared in a module under lambdas/: its name, what it extends, its body, where it is. */
export interface DeclaredClass {
  readonly name: string;
  readonly base: string;
  readonly body: string;
  readonly module: string;
}

/** Every `class X extends Y { ... }` in the sources under lambdas/ (exported or not). */
export function declaredClasses(): DeclaredClass[] {
  const declared: DeclaredClass[] = [];
  for (const file of lambdaModules()) {
    const source = readFileSync(file, 'utf8');
    // Biome formats a class's closing brace at column 0, so the body ends at the first "\n}".
    for (const match of source.matchAll(/^(?:export )?class (\w+) extends (\w+)[^{]*\{([\s\S]*?)\n\}/gm)) {
      const [, name = '', base = '', body = ''] = match;
      declared.push({ name, base, body, module: relative(join(LAMBDAS_DIR, '..'), file) });
    }
  }
  return declared;
}
