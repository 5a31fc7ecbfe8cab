// Which cluster pairs a probe round takes (lab/istio/mtls-prober.ts roundClusterPairs): a round as big
// as the ordered pairs covers them all; a smaller one (30 and 100 clusters, lab-pace.ts) has, in any
// `clusters` pairs in a row, every cluster once as client and all but at most one as server, and
// rounds that go on where the one before stopped take every ordered pair in turn.
import { roundClusterPairs } from '../../../lab/istio/mtls-prober.js';

const key = ([from, to]: [number, number]) => `${from}->${to}`;

describe('roundClusterPairs', () => {
  it('covers every ordered pair of 3 clusters, same cluster included, in one round of 9', () => {
    // Act
    const round = roundClusterPairs(3, 4, 9);

    // Assess
    expect(new Set(round.map(key)).size).toBe(9);
  });

  it('takes the 900 ordered pairs of 30 clusters in 9 rounds of 100 that go on from each other', () => {
    // Prepare
    const rounds = Array.from({ length: 9 }, (_, n) => roundClusterPairs(30, 17 + n * 100, 100));

    // Act
    const seen = new Set(rounds.flat().map(key));

    // Assess
    expect(seen.size).toBe(900);
  });

  it('has each of 100 clusters as client, and all but at most one as server, in any 100 pairs in a row', () => {
    // Act: one round on a diagonal, one across two
    const aligned = roundClusterPairs(100, 4300, 100);
    const across = roundClusterPairs(100, 4321, 100);

    // Assess
    for (const round of [aligned, across]) {
      expect(new Set(round.map(([from]) => from)).size).toBe(100);
    }
    expect(new Set(aligned.map(([, to]) => to)).size).toBe(100);
    expect(new Set(across.map(([, to]) => to)).size).toBe(99);
  });
});
