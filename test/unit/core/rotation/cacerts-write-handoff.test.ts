// A cacerts-writing step's answer carries every field its Map keeps for the gate after it: a field the
// ResultSelector picks that an answer lacks would fail the execution States.Runtime, past every Catch.
import { CACERTS_WRITE_FIELDS } from '../../../../lambdas/contract/map-answers.js';
import { latestCacertsWrite } from '../../../../lambdas/core/istio/istiod-load-window.js';
import {
  type CacertsWriteParts,
  cacertsWriteHandoff,
} from '../../../../lambdas/core/rotation/cacerts-write-handoff.js';

describe('cacertsWriteHandoff', () => {
  it('gives every kind of answer each field the Map keeps, keeping what it said', () => {
    // Prepare: a primary's forward write, a remote's skip, a rollback stage that changed nothing.
    const answers = [
      {
        cluster: 'lab-1',
        changed: true,
        cacertsWrittenBy: '2026-12-02T11:00:00.000Z',
        rootsAfter: ['a', 'b'],
      },
      { cluster: 'lab-2', skipped: true, primary: 'lab-1', reason: 'remote' },
      { cluster: 'lab-3', changed: false, reason: 'no backup' },
    ];

    // Act
    const handed = answers.map(cacertsWriteHandoff);

    // Assess
    for (const answer of handed) {
      for (const field of CACERTS_WRITE_FIELDS) expect(answer[field]).not.toBeUndefined();
    }
    expect(handed[0]).toEqual({ ...answers[0], skipped: false });
    expect(handed[1]).toEqual({ ...answers[1], changed: false, cacertsWrittenBy: null });
    expect(handed[2]).toEqual({ ...answers[2], skipped: false, cacertsWrittenBy: null });
  });

  it('leaves the gate the same latest write as the answers it was handed before', () => {
    // Prepare
    const answers: CacertsWriteParts[] = [
      { cluster: 'lab-1', changed: false, cacertsWrittenBy: '2026-12-02T11:00:05.000Z' },
      { cluster: 'lab-2', skipped: true },
      { cluster: 'lab-3', changed: false },
      { cluster: 'lab-4', changed: true, cacertsWrittenBy: '2026-12-02T11:00:02.000Z' },
    ];

    // Act
    const kept = answers.map(cacertsWriteHandoff).map((answer) => ({
      cluster: answer.cluster,
      skipped: answer.skipped,
      changed: answer.changed,
      cacertsWrittenBy: answer.cacertsWrittenBy,
    }));

    // Assess: a null time of an answer that changed nothing is no write, as an absent one was.
    expect(latestCacertsWrite(kept)).toEqual(latestCacertsWrite(answers));
    expect(latestCacertsWrite(kept)?.toISOString()).toBe('2026-12-02T11:00:05.000Z');
    expect(latestCacertsWrite([{ cluster: 'lab-1', changed: true, cacertsWrittenBy: null }])).toBeUndefined();
  });
});
