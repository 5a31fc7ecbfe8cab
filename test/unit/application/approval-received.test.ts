// checkReceivedApproval, which reissue-intermediate and retire-root run before any write: the gate's
// result must name the approval record the approval endpoint wrote; otherwise ApprovalBypassed, audited.
import type { ApprovalRecordStore } from '../../../lambdas/adapters/lock/approval-records.js';
import { checkReceivedApproval } from '../../../lambdas/application/approval-received.js';
import type { ApprovalRecord } from '../../../lambdas/core/rotation/approval-record.js';
import { captureLogLines } from '../../support/capture-output.js';

const EXECUTION = 'arn:aws:states:eu-west-1:123456789012:execution:meshtrust-payments-rotation:scheduled-1';
const ALICE = 'arn:aws:sts::123456789012:assumed-role/platform-oncall/alice';
const CONFIG = { region: 'eu-west-1', lock: { tableName: 'meshtrust-payments-lock' } };
/** A day after the approval below. */
const NOW = new Date('2026-03-11T09:00:00.000Z');

const record: ApprovalRecord = {
  executionArn: EXECUTION,
  gate: 'retire',
  verdict: 'approve',
  approvedBy: ALICE,
  approvedAt: '2026-03-10T09:00:00.000Z',
  verifiedBy: 'lambda-function-url-aws-iam',
  approvalId: '6f1d0c2e-3b7a-4c1e-9d2f-8a5b4c3d2e1f',
};
const { executionArn: _e, gate: _g, verdict: _v, ...sentByTheEndpoint } = record;

/** A record store holding `stored`, counting its reads. */
function storeWith(stored: ApprovalRecord | undefined): ApprovalRecordStore & { reads: number } {
  return {
    reads: 0,
    async put() {
      throw new Error('the step after a gate never writes a record');
    },
    async get(executionArn, gate) {
      this.reads += 1;
      return stored?.executionArn === executionArn && stored.gate === gate ? stored : undefined;
    },
    async remove() {
      throw new Error('the step after a gate never removes a record');
    },
  };
}

const check = (event: object) => ({
  phase: 'retire-root' as const,
  gate: 'retire' as const,
  executionId: EXECUTION,
  cluster: 'eu-1',
  event,
  now: NOW,
});

describe('checkReceivedApproval', () => {
  it('checks nothing when the stack has no gate (the event has no approval field)', async () => {
    // Prepare
    const store = storeWith(undefined);

    // Act
    await checkReceivedApproval(CONFIG, check({ executionId: EXECUTION, cluster: 'eu-1' }), store);

    // Assess
    expect(store.reads).toBe(0);
  });

  it('goes on for the result the endpoint sent for its record', async () => {
    // Prepare
    const store = storeWith(record);

    // Act
    const checking = checkReceivedApproval(CONFIG, check({ approval: sentByTheEndpoint }), store);

    // Assess
    await expect(checking).resolves.toBeUndefined();
    expect(store.reads).toBe(1);
  });

  it.each([
    ['a plausible result and no record', { ...sentByTheEndpoint, approvalId: 'mine' }, undefined],
    ['null where the result should be', null, record],
  ])('fails with ApprovalBypassed on %s, and audits approval-bypassed', async (_case, approval, stored) => {
    // Act
    const { result, lines } = await captureLogLines(() =>
      checkReceivedApproval(CONFIG, check({ approval }), storeWith(stored)).then(
        () => undefined,
        (error: Error) => error,
      ),
    );

    // Assess
    expect(result).toMatchObject({ name: 'ApprovalBypassed', phase: 'retire-root', cluster: 'eu-1' });
    expect(result?.message).toContain(`gate retire of execution ${EXECUTION}`);
    const audit = lines.map((line) => JSON.parse(line)).filter((line) => line.audit === true);
    expect(audit).toEqual([
      expect.objectContaining({
        phase: 'retire-root',
        action: 'approval-bypassed',
        cluster: 'eu-1',
        executionId: EXECUTION,
        outcome: 'refused',
        detail: { gate: 'retire', error: 'ApprovalBypassed', recorded: stored !== undefined },
      }),
    ]);
  });

  it('fails with ApprovalBypassed on the result for a record past its expiry, and audits it expired', async () => {
    // Prepare: DynamoDB deletes an expired record lazily, so the read still returns it
    const expired = { ...record, expiresAt: Date.parse('2026-03-11T08:59:59.000Z') / 1000 };

    // Act
    const { result, lines } = await captureLogLines(() =>
      checkReceivedApproval(CONFIG, check({ approval: sentByTheEndpoint }), storeWith(expired)).then(
        () => undefined,
        (error: Error) => error,
      ),
    );

    // Assess
    expect(result).toMatchObject({ name: 'ApprovalBypassed', phase: 'retire-root' });
    expect(result?.message).toContain('expired at 2026-03-11T08:59:59.000Z');
    const audit = lines.map((line) => JSON.parse(line)).filter((line) => line.audit === true);
    expect(audit).toEqual([
      expect.objectContaining({
        action: 'approval-bypassed',
        detail: { gate: 'retire', error: 'ApprovalBypassed', recorded: true, expired: true },
      }),
    ]);
  });

  it('refuses, PreconditionFailed, an approval it cannot check: no lock table', async () => {
    // Act
    const checking = checkReceivedApproval({ region: 'eu-west-1' }, check({ approval: sentByTheEndpoint }));

    // Assess
    await expect(checking).rejects.toMatchObject({ name: 'PreconditionFailed' });
    await expect(checking).rejects.toThrow('LOCK_TABLE_NAME');
  });
});
