import { type AuditEvent, emitAuditEvent } from '../../adapters/audit/audit-event.js';
import { createMetrics, recordStateChange } from '../../adapters/audit/metrics.js';

/** One state change of a rotation: its audit line, and its count in metric StateChanges. */
export function auditStateChange(event: AuditEvent): void {
  emitAuditEvent(event);
  recordStateChange(createMetrics(), event);
}
