// Only a handler that reaches clusters bundles the Kubernetes client (docs/architecture.md, "Lambda
// bundles"): it hands runHandler connectEksCluster, and the runtime of every other handler has no way to
// connect. This checks the wiring from the bundles' sources, as esbuild resolves them: a handler whose
// code asks the runtime for a cluster client has the connector, and one whose code never does has not.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { APPROVAL_HANDLER_ENTRY, HANDLER_ENTRIES, PROJECT_ROOT } from '../../lib/handler-entries.js';
import { bundledSources } from './env-reads.js';

const ENTRIES = [...Object.values(HANDLER_ENTRIES), APPROVAL_HANDLER_ENTRY];
const CONNECTOR = 'lambdas/adapters/kube/eks-cluster-connector.ts';

describe('cluster access of the handlers', () => {
  let bundles: Map<string, string[]>;

  beforeAll(async () => {
    bundles = await bundledSources(ENTRIES);
  }, 120_000);

  it('is wired exactly where a handler asks for a cluster client', () => {
    // Prepare
    const asksForClient = (path: string) =>
      /\.clusterClient\(/.test(readFileSync(join(PROJECT_ROOT, path), 'utf8'));

    // Act
    const wiring = ENTRIES.map((entry) => {
      const sources = bundles.get(entry) ?? [];
      return {
        entry,
        asks: sources.some(asksForClient),
        connector: sources.includes(CONNECTOR),
      };
    });

    // Assess
    expect(wiring.filter((handler) => handler.asks !== handler.connector)).toEqual([]);
    // The scan sees both kinds (a scan that found none would pass the check above).
    expect(wiring.filter((handler) => handler.asks).length).toBeGreaterThan(5);
    expect(wiring.filter((handler) => !handler.asks).length).toBeGreaterThan(3);
  });
});
