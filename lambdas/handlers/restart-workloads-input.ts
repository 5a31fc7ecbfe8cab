// The event of restart-workloads (docs/workflow.md, "Handler input and output"): a cluster step with
// the restart's purpose and strategy, and from the second invocation for the cluster on, the answer
// before it as `progress`.
import * as z from 'zod';
import type { ResignSummary } from '../application/await-resign.js';
import { ROLLBACK_OF_KEY } from '../contract/resume-rollback.js';
import { ROTATION_STRATEGIES } from '../core/istio/rotation-strategy.js';
import { RESTART_PURPOSES, type RestartPurpose } from '../core/rotation/restart-id.js';
import { cacertsWritesSchema, clusterStepSchema, executionIdSchema } from './handler-input.js';

const workloadPositionSchema = z.object({
  namespace: z.string().min(1),
  kind: z.string().min(1),
  name: z.string().min(1),
});

/** What the resign wait found; carried from invocation to invocation as it was. */
const resignSummarySchema: z.ZodType<ResignSummary> = z.object({
  pods: z.number().int().min(0),
  moved: z.number().int().min(0),
  waitedSeconds: z.number().int().min(0),
  fallback: z.number().int().min(0),
  fallbackWorkloads: z.array(z.string()),
  unmovedUnmanaged: z.array(z.string()),
  behind: z.array(z.string()),
});

/** The previous invocation's output, as the state machine hands it back (only what resumes is read). */
const progressSchema = z.object({
  restarted: z.number().int().min(0),
  waves: z.number().int().min(0),
  invocations: z.number().int().min(1),
  resumeAfter: workloadPositionSchema.optional(),
  waveStartedAt: z.iso.datetime({ offset: true }).optional(),
  resign: resignSummarySchema.optional(),
  /** resign: the workloads the fallback restarts, while some remain. */
  resignFallback: z.array(workloadPositionSchema).optional(),
});

export const restartWorkloadsInputSchema = clusterStepSchema.extend({
  purpose: z.enum(RESTART_PURPOSES as [RestartPurpose, ...RestartPurpose[]]).default('rotation'),
  /** The cluster's strategy from preflight's plan (its item of `$.preflight.clusters`). */
  strategy: z.enum(ROTATION_STRATEGIES).default('restart'),
  /** Absent on the first invocation for the cluster; then the output of the one before. */
  progress: progressSchema.optional(),
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
  [ROLLBACK_OF_KEY]: executionIdSchema.nullable().optional(),
  /**
   * When this execution started (`$$.Execution.StartTime`, which the state machine gives rollback-restart):
   * a workload found restarted with the restart id before then was restarted by the run a resumed
   * rollback resumes, and a wave of it still rolling out gets a fresh timeout from the resume
   * (lambdas/core/rotation/restart-progress.ts, waveTakenUp). Absent: every restart found is this one's.
   */
  executionStartedAt: z.iso.datetime({ offset: true }).optional(),
});
export type RestartWorkloadsInput = z.input<typeof restartWorkloadsInputSchema>;
export type RestartWorkloadsEvent = z.infer<typeof restartWorkloadsInputSchema>;
