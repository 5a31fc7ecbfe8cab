import type { AuditEvent } from '../adapters/audit/audit-event.js';
import type { ClusterClient } from '../adapters/kube/cluster-client.js';
import type { CacertsFiles } from '../core/pki/cacerts.js';
import type { CacertsChange } from '../core/rotation/cacerts-change.js';
import {
  auditFingerprints,
  type CacertsFingerprints,
  cacertsFingerprints,
} from '../core/rotation/cacerts-fingerprints.js';
import { executionNameOf } from '../core/rotation/execution-name.js';
import { auditStateChange } from './audit-state-change.js';
import { type AppliedChange, applyCacertsChange } from './cluster-cacerts.js';

/** One phase's write to one cluster's cacerts, as its audit event names it. */
export interface CacertsWrite {
  readonly phase: AuditEvent['phase'];
  readonly action: string;
  readonly cluster: string;
  readonly executionId: string;
  /** What the audit event records besides the resourceVersion written. */
  readonly detail?: AuditEvent['detail'];
  /** Checked after the write, before it is audited: a throw leaves the write unaudited (a read-back). */
  readonly confirm?: (applied: AppliedChange) => Promise<void>;
}

export interface WrittenCacerts {
  readonly applied: AppliedChange;
  /** The fingerprints of the cluster's cacerts before and after, as audited. */
  readonly before: CacertsFingerprints;
  readonly after: CacertsFingerprints;
  /**
   * A time at or after which the cluster's cacerts held `after`: taken once the write was answered (or
   * found made). The gate after the phase counts istiod's delay from it (core/istio/istiod-load-window.ts).
   */
  readonly writtenBy: Date;
}

/**
 * The frame of a phase that writes one cluster's cacerts (docs/handlers.md, "What every writing handler
 * does"): read it, decide in the core what it should hold next (`decide`, a pure function of what it
 * holds now), write that with preconditions (the resourceVersion read, content istiod takes), and audit
 * the change, or finding it made already, with its resourceVersion. A forward phase's write refuses
 * once the rollback of its own execution has fenced the Secret (core/rotation/rollback-fence.ts): an
 * invocation still running after its Map failed must not land behind the rollback.
 */
export async function writeClusterCacerts(
  client: ClusterClient,
  write: CacertsWrite,
  decide: (current: CacertsFiles) => CacertsChange | Promise<CacertsChange>,
): Promise<WrittenCacerts> {
  const { phase, action, cluster, executionId } = write;
  const applied = await applyCacertsChange(client, phase, decide, {
    ...(phase !== 'rollback' && { forwardOf: executionNameOf(executionId) }),
  });
  const writtenBy = new Date();
  await write.confirm?.(applied);
  const { before, after } = auditCacertsChange(applied, {
    phase,
    action,
    cluster,
    executionId,
    detail: { resourceVersion: applied.resourceVersion, ...write.detail },
  });
  return { applied, before, after, writtenBy };
}

/**
 * The audit of one cacerts write (or of finding it made already): the fingerprints of the cluster's
 * cacerts before and after, which it returns for the handler's output too.
 */
function auditCacertsChange(
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
