// The expiry check's two runs at a rehearsal's end, the second warm: they must answer alike.
import { compareExpiryRuns } from '../../../rehearsal/expiry-check-runs.js';

const FIRST = { certificates: 4, days: 364, first: 'intermediate of lab-2' };

describe('compareExpiryRuns', () => {
  it('keeps the first answer when the warm run gives the same, or a day less across a day boundary', () => {
    expect(compareExpiryRuns(FIRST, { ...FIRST })).toEqual(FIRST);
    expect(compareExpiryRuns(FIRST, { ...FIRST, days: 363 })).toEqual(FIRST);
  });

  it('fails a warm run that watched other certificates, naming both answers', () => {
    // Act: a run that kept the previous run's list would miss a cluster added since
    const compared = compareExpiryRuns(FIRST, { ...FIRST, certificates: 3 });

    // Assess
    expect(compared).toEqual({
      error:
        'its second run, in the container the first warmed, answered 3 certificate(s), first ' +
        'intermediate of lab-2 in 364 day(s) where the first answered 4 certificate(s), first ' +
        'intermediate of lab-2 in 364 day(s)',
    });
  });

  it('fails a warm run whose first certificate to expire or its days moved', () => {
    expect(compareExpiryRuns(FIRST, { ...FIRST, first: 'root' })).toHaveProperty('error');
    expect(compareExpiryRuns(FIRST, { ...FIRST, days: 362 })).toHaveProperty('error');
  });
});
