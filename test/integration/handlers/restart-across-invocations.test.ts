// restart-workloads restarts what fits in one invocation and hands a cursor to the next (issue 12,
// item 6): here every invocation is given no time beyond its reserve, so each restarts at most one wave,
// and the test loops as the state machine does (test/infra/rotation-state-machine-local.test.ts shows
// the definition's loop). Against the lab: every workload restarted exactly once, verify-workloads
// passes, and an invocation run again with the same input (a Retry after Lambda stopped one) restarts
// nothing twice.
import { jest } from '@jest/globals';
import {
  INVOCATION_RESERVE_MS,
  type RestartWorkloadsOutput,
  handler as restartWorkloads,
} from '../../../lambdas/handlers/restart-workloads.js';
import { handler as verifyWorkloads } from '../../../lambdas/handlers/verify-workloads.js';
import { type HandlerLab, startHandlerLab } from './handler-lab.js';
import { reissuedRekey } from './rotation-steps.js';

jest.setTimeout(180_000);

/** A Lambda context with nothing left beyond the handler's reserve: one wave per invocation at most. */
const outOfTime = { getRemainingTimeInMillis: () => INVOCATION_RESERVE_MS };

let h: HandlerLab;

beforeAll(async () => {
  // RESTART_WAVE_SIZE is 4 in the handler lab: 10 workloads make 3 waves.
  h = await startHandlerLab({ clusters: 1, workloadsPerCluster: 10 });
  await h.lab.waitForSettled();
});
afterAll(async () => {
  await h?.stop();
});

describe('restart-workloads across invocations', () => {
  it('restarts a cluster over several invocations, each workload once, and verify-workloads passes', async () => {
    // Prepare
    const item = await reissuedRekey(h, 'waves');

    // Act: loop as the state machine does, each answer handed back as progress
    const answers: RestartWorkloadsOutput[] = [
      await restartWorkloads({ ...item, purpose: 'rotation' }, outOfTime),
    ];
    while (answers.at(-1)?.done === false && answers.length < 100) {
      const progress = answers.at(-1);
      answers.push(await restartWorkloads({ ...item, purpose: 'rotation', progress }, outOfTime));
    }
    const verified = await verifyWorkloads(item);

    // Assess
    const last = answers.at(-1) as RestartWorkloadsOutput;
    expect(last.done).toBe(true);
    expect(last.workloads).toBeGreaterThanOrEqual(10);
    const waves = Math.ceil(last.workloads / 4);
    expect(last.waves).toBe(waves);
    expect(answers.length).toBeGreaterThanOrEqual(waves);
    expect(answers.map((answer) => answer.invocations)).toEqual(answers.map((_, i) => i + 1));
    expect(last.restarted).toBe(last.workloads);
    // Each answer's count only grows: nothing was restarted twice across invocations.
    const restarted = answers.map((answer) => answer.restarted);
    expect(restarted).toEqual([...restarted].sort((a, b) => a - b));
    for (const answer of answers.slice(0, -1)) {
      expect(answer.done).toBe(false);
      expect(answer.resumeAfter ?? answer.waveStartedAt).toBeDefined();
    }
    expect(last.resumeAfter).toBeUndefined();
    expect(verified).toMatchObject({ cluster: 'lab-1', workloads: last.workloads });
  });

  it('restarts nothing again when an invocation runs twice with the same input (a Retry after a timeout)', async () => {
    // Prepare: a restart part-way, as a Retry finds it
    const item = await reissuedRekey(h, 'retry');
    const first = await restartWorkloads({ ...item, purpose: 'rotation' }, outOfTime);
    expect(first.done).toBe(false);

    // Act: the same input twice (the first run's answer was lost), then on to the end
    const once = await restartWorkloads({ ...item, purpose: 'rotation', progress: first }, outOfTime);
    const twice = await restartWorkloads({ ...item, purpose: 'rotation', progress: first }, outOfTime);
    let last = twice;
    while (!last.done && last.invocations < 100) {
      last = await restartWorkloads({ ...item, purpose: 'rotation', progress: last });
    }

    // Assess: the restarts the invocations made add up to one per workload, the lost answer's included
    const madeByFirst = first.restarted;
    const madeByOnce = once.restarted - first.restarted;
    const madeFromTwiceOn = last.restarted - first.restarted;
    expect(madeByFirst + madeByOnce + madeFromTwiceOn).toBe(last.workloads);
    expect(await verifyWorkloads(item)).toMatchObject({ workloads: last.workloads });
  });
});
