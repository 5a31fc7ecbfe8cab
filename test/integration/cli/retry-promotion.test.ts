// `meshtrust retry-promotion`: for a run that stopped in promote-root (a stand-in of the state machine
// access for its history), starts the promotion named after the rotation with the run's staged root and
// clusters in its input, then follows it; refuses any other end, nothing started. retry-rollback's
// refusal of such a run names this command.
import { EXIT_CODES } from '../../../bin/cli/cli-errors.js';
import type { HistoryEventLike } from '../../../bin/cli/execution-history.js';
import { retryPromotion } from '../../../bin/commands/retry-promotion.js';
import { retryRollback } from '../../../bin/commands/retry-rollback.js';
import { motoEndpoint } from '../../support/moto-endpoint.js';
import { recordingContext as context, fakeStateMachine, STOPPED } from './retry-stand.js';

const ROOT_B = { secretArn: 'arn:root', versionId: 'v-b', fingerprint: 'b'.repeat(64) };
const STOP = { Error: 'TransientError', Cause: 'Secrets Manager throttled UpdateSecretVersionStage' };

const savedEndpoint = process.env.AWS_ENDPOINT_URL;
beforeAll(() => {
  process.env.AWS_ENDPOINT_URL = motoEndpoint();
});
afterAll(() => {
  if (savedEndpoint === undefined) delete process.env.AWS_ENDPOINT_URL;
  else process.env.AWS_ENDPOINT_URL = savedEndpoint;
});

/** The state of a scheduled run after retire-root (and, once promote-root failed, its stop). */
function state(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    mode: 'scheduled',
    preflight: { clusters: [{ name: 'eu-1' }, { name: 'us-1' }], plan: {} },
    stagedRoot: ROOT_B,
    retired: [{}, {}],
    rollbackOf: null,
    promotionOf: null,
    resumePromotion: null,
    ...extra,
  };
}

/** The history of a run through `states` (oldest first), each entered with `input`. */
function events(states: readonly string[], input: Record<string, unknown>): HistoryEventLike[] {
  return [
    { id: 1, type: 'ExecutionStarted' },
    ...['input-defaults', 'acquire-lock', 'rotate-or-resume', 'preflight', 'stage-root', ...states].map(
      (name, index) => ({
        id: index + 2,
        type: 'TaskStateEntered',
        stateEnteredEventDetails: { name, input: JSON.stringify(input) },
      }),
    ),
  ];
}
const failedInPromoteRoot = () => ({
  status: 'FAILED',
  error: STOP.Error,
  events: events(
    ['retire-root', 'promote-root', 'release-lock-after-stop', 'rotation-stopped'],
    state({ stop: STOP }),
  ),
});

/** A state machine whose `stopped` execution ended as given and whose new executions end `resumedEnds`. */
function fakeAccess(
  stopped: { status: string; error?: string; stopDate?: Date; events?: HistoryEventLike[] },
  resumedEnds = 'SUCCEEDED',
) {
  return fakeStateMachine({ stopped, resumed: { status: resumedEnds }, eventsOldestFirst: true });
}

describe('meshtrust retry-promotion', () => {
  it("starts the promotion named after the rotation with the stopped run's staged root, and follows it to SUCCEEDED", async () => {
    // Prepare
    const fake = fakeAccess(failedInPromoteRoot());
    const ctx = context();
    // Act
    await retryPromotion(
      fake.access,
      'scheduled-20260310T090000Z',
      { wait: true, pollSeconds: 1, reason: 'INC-9' },
      ctx,
    );
    // Assess
    expect(ctx.exitCode).toBe(EXIT_CODES.ok);
    expect(fake.started).toHaveLength(1);
    const [resume] = fake.started;
    expect(resume?.name).toMatch(/^scheduled-20260310T090000Z-promote-\d{8}T\d{6}Z$/);
    expect(resume?.input).toEqual({
      mode: 'scheduled',
      reason: 'INC-9',
      requestedBy: expect.stringMatching(/^arn:aws:(iam|sts)::\d{12}:/),
      resumePromotion: {
        executionArn: STOPPED,
        resumedFrom: STOPPED,
        clusters: [{ name: 'eu-1' }, { name: 'us-1' }],
        stagedRoot: ROOT_B,
        stop: STOP,
      },
    });
    expect(ctx.stdout()).toContain('promoted: the new root is current');
    expect(ctx.stderr()).toContain('finishes the promotion of scheduled-20260310T090000Z');
  });

  it('exits 1 when the promotion fails again', async () => {
    // Prepare
    const fake = fakeAccess(failedInPromoteRoot(), 'FAILED');
    const ctx = context();
    // Act
    await retryPromotion(fake.access, STOPPED, { wait: true, pollSeconds: 1 }, ctx);
    // Assess
    expect(ctx.exitCode).toBe(EXIT_CODES.checkFailed);
  });

  it('refuses a run stopped before promote-root, one rolled back and one that succeeded, starting nothing', async () => {
    for (const [stopped, reason] of [
      [
        { status: 'ABORTED', stopDate: new Date(0), events: events(['distribute-bundle'], state()) },
        /before promote-root.*retry-rollback/,
      ],
      [{ status: 'FAILED', error: 'RotationRolledBack' }, /RotationRolledBack/],
      [{ status: 'SUCCEEDED' }, /SUCCEEDED/],
    ] as const) {
      // Prepare
      const fake = fakeAccess(stopped);
      // Act
      const act = retryPromotion(fake.access, STOPPED, { wait: false, pollSeconds: 1 }, context());
      // Assess
      await expect(act).rejects.toMatchObject({
        exitCode: EXIT_CODES.checkFailed,
        message: expect.stringMatching(reason),
      });
      expect(fake.started).toEqual([]);
    }
  });

  it('is what retry-rollback names when it refuses a run stopped in promote-root', async () => {
    // Prepare
    const fake = fakeAccess(failedInPromoteRoot());
    // Act
    const act = retryRollback(fake.access, STOPPED, { wait: false, pollSeconds: 1 }, context());
    // Assess
    await expect(act).rejects.toMatchObject({
      exitCode: EXIT_CODES.checkFailed,
      message: expect.stringContaining('meshtrust retry-promotion scheduled-20260310T090000Z'),
    });
    expect(fake.started).toEqual([]);
  });
});
