import * as z from '../adapters/zod.js';
import type { SecretVersion } from '../application/root-ca.js';
import { ROTATION_MODES } from '../core/plan/phases.js';
import { PreconditionFailed } from '../core/rotation-errors.js';

export type { SecretVersion } from '../application/root-ca.js';

/** A secret version as handlers pass it on: where it is and which certificate it holds. No key. */
export const secretVersionSchema = z.object({
  secretArn: z.string().check(z.minLength(1)),
  versionId: z.string().check(z.minLength(1)),
  fingerprint: z.string().check(z.regex(/^[0-9a-f]{64}$/, 'a lowercase hex SHA-256 fingerprint')),
}) satisfies z.ZodMiniType<SecretVersion>;

export const modeSchema = z.enum(ROTATION_MODES);

/** Step Functions' `$$.Execution.Id`: the idempotency key of every write. */
export const executionIdSchema = z.string().check(z.minLength(1), z.maxLength(2048));

/** The event of every per-cluster Task (a Map item, docs/workflow.md). */
export const clusterStepSchema = z.object({
  executionId: executionIdSchema,
  mode: modeSchema,
  cluster: z.string().check(z.minLength(1)),
  currentRoot: secretVersionSchema,
  /** null in intermediate mode (no new root). */
  stagedRoot: z.nullable(secretVersionSchema),
});
export type ClusterStepInput = z.infer<typeof clusterStepSchema>;

/**
 * A gate's `writes`: the answers of the Map that wrote the cacerts it waits for istiod to take
 * (distribute-bundle's for verify-trust, reissue-intermediate's for restart-workloads, restore-trust's
 * for verify-restored-trust, restore-intermediate's for rollback-restart), every cluster's, as the state machine hands them on. Only when
 * each was written by is read; a remote's `skipped` answer, and a rollback stage's `changed: false` one
 * without a time, wrote nothing (core/istio/istiod-load-window.ts).
 */
export const cacertsWritesSchema = z.optional(
  z.array(
    z.object({
      cluster: z.optional(z.string()),
      skipped: z.optional(z.boolean()),
      changed: z.optional(z.boolean()),
      cacertsWrittenBy: z.nullish(z.iso.datetime({ offset: true })),
    }),
  ),
);

/** A gate after a cacerts write: a cluster step with the writing Map's answers. */
export const gateStepSchema = z.extend(clusterStepSchema, { writes: cacertsWritesSchema });

/**
 * Parses a handler's event. The error lists which fields are wrong and how, never their values: an
 * event is not trusted to be free of secrets.
 */
export function parseInput<T>(schema: z.ZodMiniType<T>, event: unknown, phase: string): T {
  const parsed = schema.safeParse(event);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues
    .map((issue) => `${issue.path.join('.') || '(event)'}: ${issue.message}`)
    .join('; ');
  throw new PreconditionFailed(
    `The ${phase} handler got an invalid event (${problems}). Check the state's Parameters against docs/workflow.md.`,
    { phase },
  );
}
