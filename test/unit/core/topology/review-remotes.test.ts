import type { FleetStrategyReview } from '../../../../lambdas/core/istio/rotation-strategy.js';
import type { ClusterReview } from '../../../../lambdas/core/rotation/review-cluster-cacerts.js';
import { parseRemoteClusters } from '../../../../lambdas/core/topology/mesh-topology.js';
import {
  reviewWithTopology,
  strategiesWithTopology,
} from '../../../../lambdas/core/topology/review-remotes.js';

const fitPrimary: ClusterReview = {
  cluster: 'lab-1',
  problems: [],
  trustState: {
    name: 'lab-1',
    trustedRoots: ['aa'],
    intermediate: 'int-1',
    intermediateIssuerRoot: 'aa',
    namespaces: ['istio-system', 'shop'],
  },
};
/** What reviewClusterCacerts says of a cluster without cacerts. */
const noCacerts: ClusterReview = {
  cluster: 'lab-2',
  problems: ['cluster lab-2 has no secret istio-system/cacerts'],
};

describe('reviewWithTopology', () => {
  it("gives a remote without cacerts its primary's trust state, with its own namespaces and no problem", () => {
    // Act
    const [primary, remote] = reviewWithTopology(parseRemoteClusters('lab-2=lab-1'), [
      { review: fitPrimary, hasCacerts: true, namespaces: ['istio-system', 'shop'] },
      { review: noCacerts, hasCacerts: false, namespaces: ['edge'] },
    ]);
    // Assess
    expect(primary).toBe(fitPrimary);
    expect(remote).toEqual({
      cluster: 'lab-2',
      problems: [],
      trustState: {
        name: 'lab-2',
        trustedRoots: ['aa'],
        intermediate: 'int-1',
        intermediateIssuerRoot: 'aa',
        namespaces: ['edge'],
        primary: 'lab-1',
      },
    });
  });

  it('keeps the missing cacerts refusal of an undeclared cluster and says how to declare it a remote', () => {
    // Act
    const [, undeclared] = reviewWithTopology(
      [],
      [
        { review: fitPrimary, hasCacerts: true, namespaces: [] },
        { review: noCacerts, hasCacerts: false, namespaces: [] },
      ],
    );
    // Assess
    expect(undeclared?.trustState).toBeUndefined();
    expect(undeclared?.problems).toEqual([
      'cluster lab-2 has no secret istio-system/cacerts',
      expect.stringMatching(/declare it in REMOTE_CLUSTERS as lab-2=<primary>/),
    ]);
  });

  it('gives a remote no trust state when its primary is not fit', () => {
    // Prepare
    const unfit: ClusterReview = { cluster: 'lab-1', problems: ['cluster lab-1: chain broken'] };
    // Act
    const [, remote] = reviewWithTopology(parseRemoteClusters('lab-2=lab-1'), [
      { review: unfit, hasCacerts: true, namespaces: [] },
      { review: noCacerts, hasCacerts: false, namespaces: [] },
    ]);
    // Assess
    expect(remote).toEqual({ cluster: 'lab-2', problems: [] });
  });

  it('puts a remote outside the fleet on the first review, since no review names it', () => {
    // Act
    const [first] = reviewWithTopology(parseRemoteClusters('lab-9=lab-1'), [
      { review: fitPrimary, hasCacerts: true, namespaces: [] },
    ]);
    // Assess
    expect(first?.problems).toEqual([
      expect.stringMatching(/remote cluster lab-9, which is not in the mesh's fleet/),
    ]);
  });
});

describe('strategiesWithTopology', () => {
  const chosen: FleetStrategyReview = {
    strategies: [
      { cluster: 'lab-1', strategy: 'resign', chosenBy: 'mesh', reasons: ['PCDS on everywhere'] },
      { cluster: 'lab-3', strategy: 'resign', chosenBy: 'mesh', reasons: ['PCDS on everywhere'] },
    ],
    findings: [],
    pushReaches: ['lab-1', 'lab-3'],
  };

  it("restarts a remote and its primary, and judges the push per cluster: the primary's on its own proxies", () => {
    // Act
    const review = strategiesWithTopology(chosen, parseRemoteClusters('lab-2=lab-1'));
    // Assess
    expect(review.strategies.map(({ cluster, strategy }) => [cluster, strategy])).toEqual([
      ['lab-1', 'restart'],
      ['lab-3', 'resign'],
      ['lab-2', 'restart'],
    ]);
    expect(review.strategies[2]?.reasons[0]).toMatch(
      /remote of lab-1: .* once that istiod signs with lab-1's new intermediate/,
    );
    expect(review.pushReaches).toEqual(['lab-1', 'lab-3']);
  });

  it("restarts a remote whose own proxies would allow resign, and drops a forced resign's refusal of it", () => {
    // Prepare: the remote reviewed like any cluster (its settings from remote-proxy-settings.ts)
    const withRemote: FleetStrategyReview = {
      strategies: [
        ...chosen.strategies,
        { cluster: 'lab-2', strategy: 'resign', chosenBy: 'setting', reasons: ['forced'] },
      ],
      findings: [
        {
          rule: 'rotation-strategy-resign-possible',
          level: 'refusal',
          status: 'non-compliant',
          cluster: 'lab-2',
          reason: 'lab-2 cannot',
        },
      ],
      pushReaches: ['lab-1', 'lab-2', 'lab-3'],
    };
    // Act
    const review = strategiesWithTopology(withRemote, parseRemoteClusters('lab-2=lab-1'));
    // Assess
    expect(review.strategies.map(({ cluster, strategy }) => [cluster, strategy])).toEqual([
      ['lab-1', 'restart'],
      ['lab-3', 'resign'],
      ['lab-2', 'restart'],
    ]);
    expect(review.findings).toEqual([]);
    expect(review.pushReaches).toEqual(['lab-1', 'lab-2', 'lab-3']);
  });

  it('leaves a multi-primary fleet as chosen', () => {
    expect(strategiesWithTopology(chosen, [])).toBe(chosen);
  });
});
