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
  const resign = (cluster: string, chosenBy: 'mesh' | 'setting' = 'mesh') =>
    ({ cluster, strategy: 'resign', chosenBy, reasons: [`${cluster}: PCDS on everywhere`] }) as const;
  const restart = (cluster: string, reason: string) =>
    ({ cluster, strategy: 'restart', chosenBy: 'mesh', reasons: [reason] }) as const;
  const chosen: FleetStrategyReview = {
    strategies: [resign('lab-1'), resign('lab-3'), resign('lab-2')],
    findings: [],
    pushReaches: ['lab-1', 'lab-3', 'lab-2'],
  };
  const strategiesOf = (review: FleetStrategyReview) =>
    review.strategies.map(({ cluster, strategy }) => [cluster, strategy]);

  it('lets a primary and its remote resign when each was chosen resign on its own conditions', () => {
    // Act
    const review = strategiesWithTopology(chosen, parseRemoteClusters('lab-2=lab-1'));
    // Assess: each keeps its own reasons, and says how the group moves
    expect(strategiesOf(review)).toEqual([
      ['lab-1', 'resign'],
      ['lab-3', 'resign'],
      ['lab-2', 'resign'],
    ]);
    expect(review.strategies[0]?.reasons).toEqual([
      'lab-1: PCDS on everywhere',
      expect.stringMatching(/^primary of remote cluster\(s\) lab-2, which may resign too/),
    ]);
    expect(review.strategies[2]?.reasons).toEqual([
      'lab-2: PCDS on everywhere',
      expect.stringMatching(
        /^remote of lab-1: its proxies re-sign by lab-1's istiod's push; restart-workloads waits for them once that istiod signs with lab-1's new intermediate/,
      ),
    ]);
    expect(review.strategies[1]).toBe(chosen.strategies[1]);
    expect(review.pushReaches).toEqual(['lab-1', 'lab-3', 'lab-2']);
  });

  it("restarts a primary whose remote's proxies cannot resign, naming the remote and why", () => {
    // Prepare: the remote restarts on its own proxies (PCDS off in their env)
    const remoteCannot: FleetStrategyReview = {
      ...chosen,
      strategies: [resign('lab-1'), resign('lab-3'), restart('lab-2', '2 running proxy pod(s) without PCDS')],
      pushReaches: ['lab-1', 'lab-3'],
    };
    // Act
    const review = strategiesWithTopology(remoteCannot, parseRemoteClusters('lab-2=lab-1'));
    // Assess: the primary restarts with the remote's reason; the remote keeps its own; lab-3 is alone
    expect(strategiesOf(review)).toEqual([
      ['lab-1', 'restart'],
      ['lab-3', 'resign'],
      ['lab-2', 'restart'],
    ]);
    expect(review.strategies[0]).toEqual({
      cluster: 'lab-1',
      strategy: 'restart',
      chosenBy: 'mesh',
      reasons: [
        'moves with remote lab-2 of lab-1, which restarts (2 running proxy pod(s) without PCDS): a primary and its remotes move the same way',
      ],
    });
    expect(review.strategies[2]).toBe(remoteCannot.strategies[2]);
    expect(review.pushReaches).toEqual(['lab-1', 'lab-3']);
  });

  it('restarts a remote whose primary cannot resign, naming the primary and why', () => {
    // Prepare
    const primaryCannot: FleetStrategyReview = {
      ...chosen,
      strategies: [restart('lab-1', 'ISTIO_MULTIROOT_MESH is not true'), resign('lab-3'), resign('lab-2')],
    };
    // Act
    const review = strategiesWithTopology(primaryCannot, parseRemoteClusters('lab-2=lab-1'));
    // Assess
    expect(strategiesOf(review)).toEqual([
      ['lab-1', 'restart'],
      ['lab-3', 'resign'],
      ['lab-2', 'restart'],
    ]);
    expect(review.strategies[2]?.reasons).toEqual([
      'moves with its primary lab-1, which restarts (ISTIO_MULTIROOT_MESH is not true): a primary and its remotes move the same way',
    ]);
  });

  it('restarts a remote whose settings were not read, and its primary with it', () => {
    // Prepare: no strategy for lab-2 (its Istio could not be read)
    const unread: FleetStrategyReview = { ...chosen, strategies: [resign('lab-1'), resign('lab-3')] };
    // Act
    const review = strategiesWithTopology(unread, parseRemoteClusters('lab-2=lab-1'));
    // Assess
    expect(strategiesOf(review)).toEqual([
      ['lab-1', 'restart'],
      ['lab-3', 'resign'],
      ['lab-2', 'restart'],
    ]);
    expect(review.strategies[2]?.reasons).toEqual([
      'remote of lab-1: what reaches its proxies could not be read',
    ]);
    expect(review.strategies[0]?.reasons[0]).toMatch(
      /^moves with remote lab-2 of lab-1, which restarts \(remote of lab-1: what reaches/,
    );
  });

  it("keeps a forced resign's refusal of a remote: it is judged on its own conditions as any cluster", () => {
    // Prepare
    const refused: FleetStrategyReview = {
      ...chosen,
      strategies: [resign('lab-1', 'setting'), resign('lab-3', 'setting'), resign('lab-2', 'setting')],
      findings: [
        {
          rule: 'rotation-strategy-resign-possible',
          level: 'refusal',
          status: 'non-compliant',
          cluster: 'lab-2',
          reason: 'lab-2 cannot',
        },
      ],
    };
    // Act
    const review = strategiesWithTopology(refused, parseRemoteClusters('lab-2=lab-1'));
    // Assess
    expect(review.findings).toEqual(refused.findings);
  });

  it('leaves a multi-primary fleet as chosen', () => {
    expect(strategiesWithTopology(chosen, [])).toBe(chosen);
  });
});
