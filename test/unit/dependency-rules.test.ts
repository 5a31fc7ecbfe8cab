// The dependency rules of docs/architecture.md ("Layout and dependency direction"), read from the
// sources' relative import specifiers (static, dynamic and re-exports; type-only ones too, unless a rule
// says types only). Each area may import itself and the areas MAY_IMPORT lists, nothing else: the layers
// of lambdas/ point one way (handlers -> application -> adapters -> core -> contract), the CLI reaches the
// functions' code through the application layer and never a handler, and no module is on an import
// loop (issue 16 found bin/cli/program.ts and the command files in one, over CliContext).
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

const AREAS = [
  'lambdas/contract',
  'lambdas/core',
  'lambdas/adapters',
  'lambdas/application',
  'lambdas/handlers',
  'lib',
  'lab',
  'rehearsal',
  'bin',
  'bench',
  'chaos',
] as const;
type Area = (typeof AREAS)[number];

/** What each area may import besides itself. */
const MAY_IMPORT: Record<Area, readonly Area[]> = {
  'lambdas/contract': [],
  'lambdas/core': ['lambdas/contract'],
  'lambdas/adapters': ['lambdas/core', 'lambdas/contract'],
  'lambdas/application': ['lambdas/adapters', 'lambdas/core', 'lambdas/contract'],
  'lambdas/handlers': ['lambdas/application', 'lambdas/adapters', 'lambdas/core', 'lambdas/contract'],
  lib: ['lambdas/contract', 'lambdas/core'],
  lab: ['lambdas/adapters', 'lambdas/core', 'lambdas/contract'],
  rehearsal: ['lib', 'lab', 'lambdas/adapters', 'lambdas/core', 'lambdas/contract'],
  bin: [
    'lib',
    'rehearsal',
    'lab',
    'lambdas/application',
    'lambdas/adapters',
    'lambdas/core',
    'lambdas/contract',
  ],
  bench: ['bin', 'lib', 'rehearsal', 'lab', 'lambdas/core'],
  chaos: ['bench', 'bin', 'lib', 'rehearsal', 'lab', 'lambdas/contract'],
};

/** Imports an area may make with `import type` only: lib/ maps states to the plan's phase names. */
const TYPES_ONLY: readonly (readonly [Area, Area])[] = [['lib', 'lambdas/core']];

interface Import {
  readonly from: string;
  readonly to: string;
  readonly typeOnly: boolean;
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : sources(path);
    return /\.m?ts$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

const STATIC = /^\s*(import|export)\s+(type\s)?[^'"]*?from\s+'(\.{1,2}\/[^']+)'/gm;
const BARE = /^\s*import\s+'(\.{1,2}\/[^']+)'/gm;
const DYNAMIC = /\bimport\(\s*'(\.{1,2}\/[^']+)'\s*\)/g;

/** The relative imports of a module, each resolved to the source file it names. */
function importsOf(file: string): Import[] {
  const text = readFileSync(file, 'utf8');
  const to = (specifier: string) => resolve(dirname(file), specifier.replace(/\.(m?)js$/, '.$1ts'));
  return [
    ...[...text.matchAll(STATIC)].map((m) => ({
      from: file,
      to: to(m[3] as string),
      typeOnly: m[2] !== undefined,
    })),
    ...[...text.matchAll(BARE), ...text.matchAll(DYNAMIC)].map((m) => ({
      from: file,
      to: to(m[1] as string),
      typeOnly: false,
    })),
  ];
}

/** The area a file is in, or undefined outside them (node_modules, test/). */
function areaOf(file: string, root: string): Area | undefined {
  const path = relative(root, file).split(sep).join('/');
  return AREAS.find((area) => path.startsWith(`${area}/`));
}

/** Every import that breaks a rule, as "from -> to" relative to `root`. */
function ruleBreaks(root: string): string[] {
  const files = AREAS.flatMap((area) => {
    try {
      return sources(join(root, area));
    } catch {
      return [];
    }
  });
  return files.flatMap(importsOf).flatMap(({ from, to, typeOnly }) => {
    const source = areaOf(from, root) as Area;
    const target = areaOf(to, root);
    if (target === source) return [];
    const allowed =
      target !== undefined &&
      MAY_IMPORT[source].includes(target) &&
      (typeOnly || !TYPES_ONLY.some(([a, b]) => a === source && b === target));
    return allowed ? [] : [`${relative(root, from)} -> ${relative(root, to)}`];
  });
}

/** Every import cycle among `files`, each as the modules on it (relative to `root`), by depth-first search. */
function cycles(files: readonly string[], root: string): string[][] {
  const graph = new Map(files.map((file) => [file, importsOf(file).map((i) => i.to)]));
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (file: string) => {
    state.set(file, 'open');
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      if (!graph.has(next)) continue;
      if (state.get(next) === 'open')
        found.push(stack.slice(stack.indexOf(next)).map((f) => relative(root, f)));
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of files) if (!state.has(file)) visit(file);
  return found;
}

/** A scratch tree of the given files (path -> text), removed after `use`. */
function withTree(files: Record<string, string>, use: (root: string) => void): void {
  const root = mkdtempSync(join(tmpdir(), 'meshtrust-deps-'));
  try {
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), text);
    }
    use(root);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

describe('dependency rules', () => {
  it('hold for every import between areas', () => {
    // GIVEN the scan reads the repository, not an empty folder
    expect(sources(join(ROOT, 'lambdas/application')).length).toBeGreaterThan(10);

    // THEN
    expect(ruleBreaks(ROOT)).toEqual([]);
  });

  it('keep every handler out of bin/: the CLI uses the application layer', () => {
    // WHEN
    const handlerImports = sources(join(ROOT, 'bin'))
      .flatMap(importsOf)
      .filter(({ to }) => areaOf(to, ROOT) === 'lambdas/handlers')
      .map(({ from, to }) => `${relative(ROOT, from)} -> ${relative(ROOT, to)}`);

    // THEN
    expect(handlerImports).toEqual([]);
  });

  it('leave no import cycle, in bin/ or anywhere else', () => {
    expect(cycles(sources(join(ROOT, 'bin')), ROOT)).toEqual([]);
    expect(
      cycles(
        AREAS.flatMap((area) => sources(join(ROOT, area))),
        ROOT,
      ),
    ).toEqual([]);
  });

  it('find a command that imports a handler, an application module that imports one, and lib/ taking a value of core', () => {
    withTree(
      {
        'bin/commands/plan.ts': "import { preflight } from '../../lambdas/handlers/preflight.js';\n",
        'bin/commands/verify.ts':
          "import type { ClusterReading } from '../../lambdas/application/review-fleet.js';\n",
        'lambdas/application/review-fleet.ts':
          "export const ok = await import('../handlers/preflight.js');\n",
        'lambdas/handlers/preflight.ts': "import { reviewFleet } from '../application/review-fleet.js';\n",
        'lib/workflow-states.ts':
          "import type { PhaseName } from '../lambdas/core/plan/phases.js';\nimport { PHASES } from '../lambdas/core/plan/phases.js';\n",
        'lambdas/core/plan/phases.ts': 'export const PHASES = [];\n',
      },
      (root) => {
        // WHEN
        const found = ruleBreaks(root);

        // THEN
        expect(found.sort()).toEqual(
          [
            'bin/commands/plan.ts -> lambdas/handlers/preflight.ts',
            'lambdas/application/review-fleet.ts -> lambdas/handlers/preflight.ts',
            'lib/workflow-states.ts -> lambdas/core/plan/phases.ts',
          ].sort(),
        );
      },
    );
  });

  it('find a planted loop, type-only imports included', () => {
    withTree(
      {
        'bin/program.ts': "import { registerX } from './command.js';\nexport const run = registerX;\n",
        'bin/command.ts': "import type { Context } from './program.js';\nexport const registerX = 1;\n",
        'bin/leaf.ts': 'export const leaf = 1;\n',
      },
      (root) => {
        // WHEN
        const found = cycles(sources(join(root, 'bin')), root);

        // THEN
        expect(found).toHaveLength(1);
        expect(found[0]?.map((file) => file.replace(/^.*\//, '')).sort()).toEqual([
          'command.ts',
          'program.ts',
        ]);
      },
    );
  });
});
