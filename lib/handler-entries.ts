import { fileURLToPath } from 'node:url';

/**
 * The single list of Lambda handlers the stack deploys: handler name -> its source file, relative to
 * the repository root. The rotation phases keep their phase name (docs/workflow.md), so a reader
 * finds a step under the same name in the state machine, the handler file and the audit events.
 * `rollback` serves every rollback state (by `stage`), `record-approval` both approval gates,
 * `release-lock` every state that releases the rotation lock before the run ends, and
 * `check-expiry` is the daily expiry check outside the state machine.
 */
export const HANDLER_ENTRIES = {
  'acquire-lock': 'lambdas/handlers/acquire-lock.ts',
  preflight: 'lambdas/handlers/preflight.ts',
  'stage-root': 'lambdas/handlers/stage-root.ts',
  'distribute-bundle': 'lambdas/handlers/distribute-bundle.ts',
  'verify-trust': 'lambdas/handlers/verify-trust.ts',
  'record-approval': 'lambdas/handlers/record-approval.ts',
  'reissue-intermediate': 'lambdas/handlers/reissue-intermediate.ts',
  'restart-workloads': 'lambdas/handlers/restart-workloads.ts',
  'verify-workloads': 'lambdas/handlers/verify-workloads.ts',
  'retire-root': 'lambdas/handlers/retire-root.ts',
  'promote-root': 'lambdas/handlers/promote-root.ts',
  rollback: 'lambdas/handlers/rollback.ts',
  'release-lock': 'lambdas/handlers/release-lock.ts',
  'check-expiry': 'lambdas/handlers/check-expiry.ts',
} as const;

export type HandlerName = keyof typeof HANDLER_ENTRIES;

export const HANDLER_NAMES = Object.keys(HANDLER_ENTRIES) as HandlerName[];

/** The repository root: lib/ sits directly under it. */
export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Absolute path of a handler's source file, as NodejsFunction's `entry` wants it. */
export function handlerEntryPath(name: HandlerName): string {
  return fileURLToPath(new URL(`../${HANDLER_ENTRIES[name]}`, import.meta.url));
}
