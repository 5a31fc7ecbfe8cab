// The event of restart-workloads (docs/workflow.md, "Handler input and output"): a cluster step with
// the restart's purpose and strategy, and from the second invocation for the cluster on, the answer
// before it as `progress`.
import * as z from '../adapters/zod.js';
import type { ResignSummary } from '../application/await-resign.js';
import { ROLLBACK_OF_KEY } from '../contract/resume-rollback.js';
import { ROTATION_STRATEGIES } from '../core/istio/rotation-strategy.js';
import { RESTART_PURPOSES, type RestartPurpose } from '../core/rotation/restart-id.js';
import { cacertsWritesSchema, clusterStepSchema, executionIdSchema } from './handler-input.js';

const workloadPositionSchema = z.object({
  namespace: z.string().check(z.minLength(1)),
  kind: z.string().check(z.minLength(1)),
  name: z.string().check(z.minLength(1)),
});

/** What the resign wait found; carried from invocation to invocation as it was. */
const resignSummarySchema: z.ZodMiniType<ResignSummary> = z.object({
  pods: z.int().check(z.minimum(0)),
  moved: z.int().check(z.minimum(0)),
  waitedSeconds: z.int().check(z.minimum(0)),
  fallback: z.int().check(z.minimum(0)),
  fallbackWorkloads: z.array(z.string()),
  unmovedUnmanaged: z.array(z.string()),
  behind: z.array(z.string()),
});

/** The previous invocation's output, as the state machine hands it back (only what resumes is read). */
const progressSchema = z.object({
  restarted: z.int().check(z.minimum(0)),
  waves: z.int().check(z.minimum(0)),
  invocations: z.int().check(z.minimum(1)),
  resumeAfter: z.optional(workloadPositionSchema),
  waveStartedAt: z.optional(z.iso.datetime({ offset: true })),
  resign: z.optional(resignSummarySchema),
  /** resign: the workloads the fallback restarts, while some remain. */
  resignFallback: z.optional(z.array(workloadPositionSchema)),
});

export const restartWorkloadsInputSchema = z.extend(clusterStepSchema, {
  purpose: z._default(z.enum(RESTART_PURPOSES as [RestartPurpose, ...RestartPurpose[]]), 'rotation'),
  /** The cluster's strategy from preflight's plan (its item of `$.preflight.clusters`). */
  strategy: z._default(z.enum(ROTATION_STRATEGIES), 'restart'),
  /** Absent on the first invocation for the cluster; then the output of the one before. */
  progress: z.optional(progressSchema),
  /**
   * The answers of the Map that wrote the intermediate istiod must sign with (a rotation's
   * reissue-intermediate's, a rollback's restore-intermediate's): the istiod gate stops waiting once that
   * write is past the time istiod takes one. Absent, or no answer says it wrote: it waits its whole timeout.
   */
  writes: cacertsWritesSchema,
  /**
   * purpose rollback: the execution whose switch of the intermediate is undone, when it is not this one
   * (a resumed rollback, lambdas/contract/resume-rollback.ts). Its restart id is used, so a workload the
   * failed rollback restarted already is not restarted again.
   */
  [ROLLBACK_OF_KEY]: z.optional(z.nullable(executionIdSchema)),
  /**
   * When this execution started (`$$.Execution.StartTime`, which the state machine gives rollback-restart):
   * a workload found restarted with the restart id before then was restarted by the run a resumed
   * rollback resumes, and a wave of it still rolling out gets a fresh timeout from the resume
   * (lambdas/core/rotation/restart-progress.ts, waveTakenUp). Absent: every restart found is this one's.
   */
  executionStartedAt: z.optional(z.iso.datetime({ offset: true })),
});
export type RestartWorkloadsInput = z.input<typeof restartWorkloadsInputSchema>;
export type RestartWorkloadsEvent = z.infer<typeof restartWorkloadsInputSchema>;
