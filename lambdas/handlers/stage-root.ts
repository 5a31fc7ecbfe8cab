import { connectRootKeys } from '../adapters/kms/connect-root-keys.js';
import { connectRotationLock } from '../adapters/lock/connect-rotation-lock.js';
import * as z from '../adapters/zod.js';
import { stageRoot } from '../application/stage-root.js';
import { executionIdSchema, parseInput, type SecretVersion } from './handler-input.js';
import { type LambdaContext, runHandler } from './run-handler.js';

const PHASE = 'stage-root';

const inputSchema = z.object({ executionId: executionIdSchema });
export type StageRootInput = z.infer<typeof inputSchema>;
export type StageRootOutput = SecretVersion;

/**
 * stage-root: creates the new root B, a KMS key (the key spec of KEY_ALGORITHM, SIGN_VERIFY) and a
 * certificate it self-signs through kms:Sign, and stores the certificate with the key's ARN as
 * AWSPENDING of the root secret, under a version id derived from the execution. B's private key never
 * leaves KMS. A re-run finds that version and returns it, or finds the key by its alias (or by its
 * tags, when an earlier attempt made it and its CreateKey answer was lost): no second root and no
 * second key.
 */
export async function handler(event: unknown, context?: LambdaContext): Promise<StageRootOutput> {
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
    (runtime) => stageRoot(runtime, input.executionId),
  );
}
