// The handlers speak to clusters through lambdas/adapters/kube's own client; of @kubernetes/client-node
// they may import types only, which leave nothing in a bundle (its client alone bundled to 2.1 MB,
// docs/architecture.md, "Lambda bundles").
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const LAMBDAS = join(import.meta.dirname, '../../../../lambdas');
const FROM_CLIENT_NODE = /^\s*(import|export)\b([^;]*?)from\s*['"]@kubernetes\/client-node(\/[^'"]*)?['"]/gms;

/** Each import or export of client-node under `root` that brings in a value: `file: statement`. */
async function valueImports(root: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !/\.(ts|mts|js|mjs)$/.test(entry.name)) continue;
    const source = await readFile(join(entry.parentPath, entry.name), 'utf8');
    for (const match of source.matchAll(FROM_CLIENT_NODE)) {
      const clause = (match[2] ?? '').trim();
      const typesOnly =
        clause.startsWith('type ') ||
        (/^\{[^}]*\}$/.test(clause) &&
          clause
            .slice(1, -1)
            .split(',')
            .map((name) => name.trim())
            .every((name) => name === '' || name.startsWith('type ')));
      if (!typesOnly) found.push(`${entry.name}: ${match[0].trim()}`);
    }
  }
  return found;
}

describe('@kubernetes/client-node in lambdas/', () => {
  it('is imported for its types only', async () => {
    // Act
    const values = await valueImports(LAMBDAS);
    // Assess
    expect(values).toEqual([]);
  });

  it('would be caught as a value import, named or whole', async () => {
    // Prepare: the scan reads these forms as values (a scan that saw nothing would pass the case above)
    const root = await mkdtemp(join(tmpdir(), 'meshtrust-client-node-imports-'));
    try {
      await writeFile(
        join(root, 'a.ts'),
        "import type { V1Pod } from '@kubernetes/client-node';\n" +
          "import { type V1Secret } from '@kubernetes/client-node';\n" +
          "import { Watch, type V1Pod as Pod } from '@kubernetes/client-node';\n" +
          "import * as k8s from '@kubernetes/client-node';\n" +
          "import type * as types from '@kubernetes/client-node';\n",
      );
      // Act
      const values = await valueImports(root);
      // Assess
      expect(values).toEqual([
        "a.ts: import { Watch, type V1Pod as Pod } from '@kubernetes/client-node'",
        "a.ts: import * as k8s from '@kubernetes/client-node'",
      ]);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
