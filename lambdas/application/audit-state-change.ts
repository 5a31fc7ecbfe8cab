import { type AuditEvent, emitAuditEvent } from '../adapters/audit/audit-event.js';
import { createMetrics, recordStateChange } from '../adapters/audit/metrics.js';
import {
  auditFingerprints,
  type CacertsFingerprints,
  cacertsFingerprints,
} from '../core/rotation/cacerts-fingerprints.js';
import type { AppliedChange } from './cluster-cacerts.js';

/** One state change of a rotation: its audit line, and its count in metric StateChanges. */
export function auditStateChange(event: AuditEvent): void {
  emitAuditEvent(event);
  recordStateChange(createMetrics(), event);
}

/**
 * The audit of one cacerts write (or of finding it made already): the fingerprints of the cluster's
 * cacerts before and after, which it returns for the handler's output too.
 */
export function auditCacertsChange(
  applied: AppliedChange,
  event: Pick<AuditEvent, 'phase' | 'action' | 'executionId' | 'detail'> & { readonly cluster: string },
): { readonly before: CacertsFingerprints; readonly after: CacertsFingerprints } {
  const before = cacertsFingerprints(applied.before, event.cluster);
  const after = cacertsFingerprints(applied.after, event.cluster);
  auditStateChange({
    ...event,
    outcome: applied.changed ? 'succeeded' : 'unchanged',
    fingerprintsBefore: auditFingerprints(before),
    fingerprintsAfter: auditFingerprints(after),
  });
  return { before, after };
}
