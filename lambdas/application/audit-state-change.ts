import { type AuditEvent, emitAuditEvent } from '../adapters/audit/audit-event.js';
import { createMetrics, recordStateChange } from '../adapters/audit/metrics.js';

/**
 * One state change of a rotation: its audit line, and its count in metric StateChanges. A cacerts
 * write's audit, with its fingerprints, is cluster-cacerts-write.ts's: this module stays free of the
 * certificate parser, which the phases that write no cacerts never load.
 */
export function auditStateChange(event: AuditEvent): void {
  emitAuditEvent(event);
  recordStateChange(createMetrics(), event);
}
