// bin/ has no import cycle: the commands depend on bin/cli's modules (CliContext in cli-context.ts) and
// program.ts on the commands, never back (issue 16 found program.ts and the command files in a loop).
// The graph is read from the sources' relative import specifiers.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const BIN = join(ROOT, 'bin');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** The bin/ modules a module imports (type-only imports too: a type cycle is still a loop to read). */
function importsOf(file: string, within = BIN): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+'(\.{1,2}\/[^']+)'/gm)]
    .map((match) => resolve(dirname(file), (match[1] as string).replace(/\.js$/, '.ts')))
    .filter((target) => target.startsWith(within));
}

/** Every cycle, each as the modules on it (relative to the repository), found by depth-first search. */
function cycles(files: readonly string[], within = BIN): string[][] {
  const graph = new Map(files.map((file) => [file, importsOf(file, within)]));
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (file: string) => {
    state.set(file, 'open');
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === 'open')
        found.push(stack.slice(stack.indexOf(next)).map((f) => relative(ROOT, f)));
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of files) if (!state.has(file)) visit(file);
  return found;
}

describe('bin/ imports', () => {
  it('form no cycle', () => {
    expect(cycles(sources(BIN))).toEqual([]);
  });

  it('finds a planted loop, type-only imports included', () => {
    // Prepare: a command that imports the program that imports it, as bin/ once had
    const dir = mkdtempSync(join(tmpdir(), 'meshtrust-cycles-'));
    try {
      writeFileSync(
        join(dir, 'program.ts'),
        "import { registerX } from './command.js';\nexport const run = registerX;\n",
      );
      writeFileSync(
        join(dir, 'command.ts'),
        "import type { Context } from './program.js';\nexport const registerX = 1;\n",
      );
      writeFileSync(join(dir, 'leaf.ts'), 'export const leaf = 1;\n');
      // Act
      const found = cycles(sources(dir), dir);
      // Assess
      expect(found).toHaveLength(1);
      expect(found[0]?.map((file) => file.replace(/^.*\//, '')).sort()).toEqual(['command.ts', 'program.ts']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
