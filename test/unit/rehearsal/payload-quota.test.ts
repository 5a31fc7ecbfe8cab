// The rehearsal holds the state machine to Step Functions' 256 KiB payload quota, which
// aws-local-stepfunctions does not enforce: on the real engine, a state whose input or output is over
// it stops the run there, no Task after it starts its function (not even a Catch's), and the run ends
// States.DataLimitExceeded naming the state; a payload at the quota runs on.
import { StateMachine } from 'aws-local-stepfunctions';
import {
  DATA_LIMIT_EXCEEDED,
  dataLimitError,
  PAYLOAD_QUOTA_BYTES,
  PayloadQuota,
} from '../../../rehearsal/payload-quota.js';
import { polyfillPromiseWithResolvers } from '../../../rehearsal/promise-with-resolvers.js';

const ARN = 'arn:aws:lambda:us-east-1:123456789012:function:write';

/**
 * Grow (a Pass adding `padding` characters to the state), then a Map whose iterations each run `write`,
 * then `write` again; a failure of the Map is caught by States.ALL into `undo` (a Task too).
 */
function definition(padding: number) {
  const task = (next: string | undefined) => ({
    Type: 'Task',
    Resource: ARN,
    ...(next === undefined ? { End: true } : { Next: next }),
  });
  return {
    StartAt: 'grow',
    States: {
      grow: { Type: 'Pass', Result: 'x'.repeat(padding), ResultPath: '$.padding', Next: 'each' },
      each: {
        Type: 'Map',
        ItemsPath: '$.items',
        ItemProcessor: { StartAt: 'write-one', States: { 'write-one': task(undefined) } },
        ResultPath: null,
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: 'undo' }],
        Next: 'write',
      },
      write: task(undefined),
      undo: task(undefined),
    },
  };
}

/** Runs it as the rehearsal's runner does: every event observed, every handler admitted first. */
async function runWithQuota(padding: number) {
  polyfillPromiseWithResolvers();
  const started: string[] = [];
  const quota = new PayloadQuota();
  // As the rehearsal's Task handlers do: admitted by the quota right before the function starts.
  const handler = (state: string) => async () => {
    await quota.admit();
    started.push(state);
    return {};
  };
  const machine = new StateMachine(definition(padding) as never);
  const execution = machine.run({ items: [1, 2] } as never, {
    overrides: {
      taskResourceLocalHandlers: {
        'write-one': handler('write-one'),
        write: handler('write'),
        undo: handler('undo'),
      } as never,
    },
  });
  const collect = (async () => {
    for await (const event of execution.eventLogs) {
      if (quota.observe(event) !== undefined) execution.abort();
    }
  })();
  const ended = await execution.result.then(
    () => 'SUCCEEDED',
    (error: Error) => error.name,
  );
  await collect;
  return { started, ended, exceeded: quota.exceeded };
}

/** The padding that makes the state's JSON text exactly `bytes` long ({"items":[1,2],"padding":"..."}). */
function paddingFor(bytes: number): number {
  return bytes - JSON.stringify({ items: [1, 2], padding: '' }).length;
}

describe('PayloadQuota', () => {
  it('stops the run at the state whose output is over 256 KiB: no function starts after it, not even the Catch', async () => {
    // Act
    const run = await runWithQuota(paddingFor(PAYLOAD_QUOTA_BYTES + 1));

    // Assess
    expect(run.started).toEqual([]);
    expect(run.ended).toBe('ExecutionAbortedError');
    expect(run.exceeded).toEqual({ state: 'grow', which: 'output', bytes: PAYLOAD_QUOTA_BYTES + 1 });
  });

  it('runs on with a state of exactly 256 KiB', async () => {
    // Act
    const run = await runWithQuota(paddingFor(PAYLOAD_QUOTA_BYTES));

    // Assess
    expect(run.started).toEqual(['write-one', 'write-one', 'write']);
    expect(run.ended).toBe('SUCCEEDED');
    expect(run.exceeded).toBeUndefined();
  });

  it('counts bytes of UTF-8, not characters', () => {
    // Prepare: 87,382 characters of three bytes each (the euro sign) are 262,146 bytes, plus the quotes.
    const quota = new PayloadQuota();

    // Act
    const over = quota.observe({
      type: 'StateEntered',
      state: { name: 'wide', input: '€'.repeat(87_382) },
    });

    // Assess
    expect(over).toEqual({ state: 'wide', which: 'input', bytes: 87_382 * 3 + 2 });
  });

  it("ends the execution with Step Functions' terminal error, naming the state, the payload and its size", () => {
    // Act
    const error = dataLimitError({ state: 'preflight', which: 'output', bytes: 300_000 });

    // Assess
    expect(error.name).toBe(DATA_LIMIT_EXCEEDED);
    expect(error.message).toBe(
      "the output of state preflight is 300,000 bytes, over Step Functions' quota of 262,144 (256 KiB): the execution ends there, past every Catch",
    );
  });
});

describe('PayloadQuota.reset', () => {
  it("forgets an earlier execution's excess, so the next execution of the run starts admitted", async () => {
    // Prepare
    const quota = new PayloadQuota();
    quota.observe({ type: 'StateExited', state: { name: 'big', output: 'x'.repeat(PAYLOAD_QUOTA_BYTES) } });
    const refused = await quota.admit().then(
      () => 'admitted',
      (error: Error) => error.name,
    );

    // Act
    quota.reset();
    const admitted = await quota.admit().then(
      () => 'admitted',
      (error: Error) => error.name,
    );

    // Assess
    expect([refused, admitted]).toEqual([DATA_LIMIT_EXCEEDED, 'admitted']);
  });
});
