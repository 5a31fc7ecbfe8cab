import type { Logger } from '@aws-lambda-powertools/logger';
import type { PhaseName } from '../../core/plan/phases.js';
import { logger as sharedLogger } from './logger.js';
import { assertNoPrivateKey } from './private-key-guard.js';

/** The message of every audit line; filter CloudWatch Logs on it (or on `audit = true`). */
export const AUDIT_MESSAGE = 'meshtrust.audit';

/**
 * Every step that can change or gate the fleet, named as its state and handler file: the forward
 * phases of the plan plus the steps outside it (gates, promotion, rollback, the daily expiry check).
 */
export type RotationPhase =
  | PhaseName
  | 'verify-workloads'
  | 'promote-root'
  | 'record-approval'
  | 'rollback'
  | 'acquire-lock'
  | 'release-lock'
  | 'check-expiry';

/**
 * succeeded: the change was made; unchanged: it had been made already (idempotent re-run);
 * refused: a precondition stopped it before writing; failed: it was attempted and did not complete.
 */
export type AuditOutcome = 'succeeded' | 'unchanged' | 'refused' | 'failed';

/** One state change of a rotation: who did what to which cluster, and the trust before and after. */
export interface AuditEvent {
  readonly phase: RotationPhase;
  /** What changed, e.g. `write-cacerts`, `stage-root-secret`, `restart-workload`. */
  readonly action: string;
  readonly cluster?: string;
  /** The Step Functions execution (name or ARN) the change belongs to. */
  readonly executionId: string;
  /** Who started the rotation (IAM principal, operator). */
  readonly actor?: string;
  /** SHA-256 fingerprints of the certificates concerned before the change. */
  readonly fingerprintsBefore?: readonly string[];
  /** SHA-256 fingerprints after the change. */
  readonly fingerprintsAfter?: readonly string[];
  readonly outcome: AuditOutcome;
  /** A few small scalar facts (counts, version ids, resourceVersions), never a payload. */
  readonly detail?: Readonly<Record<string, string | number | boolean>>;
}

/**
 * Writes one audit line: message `meshtrust.audit`, `audit: true`, and the event's fields at the top
 * level. Throws PrivateKeyInLogError, writing nothing, if the event holds key material.
 */
export function emitAuditEvent(event: AuditEvent, options: { readonly logger?: Logger } = {}): void {
  if (event.executionId.trim() === '') {
    throw new TypeError(
      'An audit event needs the executionId of the rotation it belongs to, got an empty one',
    );
  }
  assertNoPrivateKey(event, `audit event ${event.phase}/${event.action}`);
  const {
    phase,
    action,
    cluster,
    executionId,
    actor,
    fingerprintsBefore,
    fingerprintsAfter,
    outcome,
    detail,
  } = event;
  // Listed field by field so nothing else the caller's object carries reaches the log.
  const line = {
    audit: true,
    phase,
    action,
    executionId,
    outcome,
    ...(cluster !== undefined && { cluster }),
    ...(actor !== undefined && { actor }),
    ...(fingerprintsBefore !== undefined && { fingerprintsBefore: [...fingerprintsBefore] }),
    ...(fingerprintsAfter !== undefined && { fingerprintsAfter: [...fingerprintsAfter] }),
    ...(detail !== undefined && { detail: { ...detail } }),
  };
  const target = options.logger ?? sharedLogger;
  if (outcome === 'failed') target.error(AUDIT_MESSAGE, line);
  else target.info(AUDIT_MESSAGE, line);
}
