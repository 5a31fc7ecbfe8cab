import { workedClusters } from '../../../../lambdas/core/rotation/worked-clusters.js';

const FLEET = [{ name: 'eu-1' }, { name: 'eu-2' }, { name: 'us-1' }];

describe('workedClusters', () => {
  it('works on the whole fleet in a root rotation', () => {
    // Act, Assess
    expect(workedClusters({}, FLEET)).toEqual(FLEET);
  });

  it('works on the rekeyed cluster alone when no remote depends on it', () => {
    // Act, Assess
    expect(workedClusters({ cluster: 'eu-2' }, FLEET)).toEqual([{ name: 'eu-2' }]);
  });

  it("works on the rekeyed primary and the remotes its istiod serves, not another primary's", () => {
    // Prepare
    const remotes = [
      { name: 'eu-2', primary: 'eu-1' },
      { name: 'us-2', primary: 'us-1' },
    ];
    // Act, Assess
    expect(workedClusters({ cluster: 'eu-1', remotes }, FLEET)).toEqual([{ name: 'eu-1' }, { name: 'eu-2' }]);
  });
});
