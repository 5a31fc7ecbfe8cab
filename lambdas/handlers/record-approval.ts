import * as z from '../adapters/zod.js';
import { auditStateChange } from '../application/audit-state-change.js';
import { executionIdSchema, modeSchema, parseInput } from './handler-input.js';
import { type LambdaContext, runHandler } from './run-handler.js';

const PHASE = 'record-approval';

const inputSchema = z.object({
  executionId: executionIdSchema,
  gate: z.enum(['reissue', 'retire']),
  mode: z.optional(z.nullable(modeSchema)),
  taskToken: z.string().check(z.minLength(1)),
});
export type RecordApprovalInput = z.infer<typeof inputSchema>;

export interface RecordApprovalOutput {
  readonly gate: 'reissue' | 'retire';
  readonly requestedAt: string;
}

/**
 * The approval gates (`approve-reissue`, `approve-retire`): records that the rotation waits for an
 * operator (`meshtrust approve` sends the task token back) and returns at once. The token is a
 * capability: it is never logged or returned, only that one was issued.
 */
export async function handler(event: unknown, context?: LambdaContext): Promise<RecordApprovalOutput> {
  const input = parseInput(inputSchema, event, PHASE);
  return runHandler({ phase: PHASE, executionId: input.executionId, lambdaContext: context }, async () => {
    const requestedAt = new Date().toISOString();
    auditStateChange({
      phase: input.gate === 'reissue' ? 'reissue-intermediate' : 'retire-root',
      action: 'approval-requested',
      executionId: input.executionId,
      outcome: 'succeeded',
      detail: { gate: input.gate, ...(input.mode ? { mode: input.mode } : {}), taskTokenIssued: true },
    });
    return { gate: input.gate, requestedAt };
  });
}
