import { connectRootKeys } from '../adapters/kms/connect-root-keys.js';
import { connectRotationLock } from '../adapters/lock/connect-rotation-lock.js';
import * as z from '../adapters/zod.js';
import { workedClustersSchema } from '../application/delete-cacerts-backups.js';
import { type PromoteRootOutput, promoteRoot } from '../application/promote-root.js';
import { executionIdSchema, parseInput, secretVersionSchema } from './handler-input.js';
import { type LambdaContext, runHandler } from './run-handler.js';

export type { PromoteRootOutput } from '../application/promote-root.js';

const PHASE = 'promote-root';

const inputSchema = z.object({
  executionId: executionIdSchema,
  stagedRoot: secretVersionSchema,
  /** The clusters this execution worked on (preflight's): their cacerts backups are deleted. */
  clusters: workedClustersSchema,
  /**
   * The rotation whose root this promotes, when it is not this execution (a resumed promotion,
   * docs/workflow.md "Finishing a stopped promotion"): its cacerts backups are the ones deleted.
   */
  promotionOf: z.optional(z.nullable(z.string().check(z.minLength(1)))),
});
export type PromoteRootInput = z.infer<typeof inputSchema>;

/**
 * promote-root: after every cluster trusts only B, the root secret follows: B -> AWSCURRENT, the old
 * root -> AWSPREVIOUS, AWSPENDING removed; then the old root's key is retired (a KMS key disabled and
 * scheduled for deletion, an imported key's secret scheduled for deletion). Idempotent: on a re-run B
 * is current already and the old key retired.
 */
export async function handler(event: unknown, context?: LambdaContext): Promise<PromoteRootOutput> {
  const input = parseInput(inputSchema, event, PHASE);
  return runHandler(
    {
      phase: PHASE,
      executionId: input.executionId,
      writes: true,
      lambdaContext: context,
      connectLock: connectRotationLock,
      connectRootKeys,
    },
    (runtime) => promoteRoot(runtime, input),
  );
}
