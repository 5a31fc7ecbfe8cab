import type { RollbackStage } from '../core/rotation/rollback-stages.js';
import type { RestoredProxyTrust } from './restored-proxy-trust.js';
import type { RetiredKey } from './retire-root-key.js';

/** What a rollback stage answers (docs/workflow.md, "Handler input and output"). */
export interface RollbackOutput {
  readonly stage: RollbackStage;
  readonly cluster?: string;
  /** false: nothing to undo here (untouched, or undone already). */
  readonly changed: boolean;
  /** Why nothing was changed, when nothing was. */
  readonly reason?: string;
  readonly intermediateAfter?: string;
  readonly rootsAfter?: string[];
  readonly resourceVersion?: string;
  /**
   * A cluster stage that wrote cacerts (`changed`): an ISO time at or after the write, from which the
   * gate after it (verify-restored-trust after restore-trust, rollback-restart's after restore-
   * intermediate) counts istiod's delay in taking it (core/istio/istiod-load-window.ts). Absent when it
   * wrote nothing.
   */
  readonly cacertsWrittenBy?: string;
  /**
   * verify-restored-trust, always: how long the run waits (rollback-await-proxy-trust) before the restored
   * intermediate may sign, so that every proxy trusts the restored roots first; 0 when they all do.
   */
  readonly proxyTrustWaitSeconds?: number;
  /** verify-restored-trust: why it asks for that wait, when it asks for one. */
  readonly proxyTrustWaitReason?: string;
  /** verify-restored-trust: the running proxies read holding the restored roots, and those left to renewal. */
  readonly proxies?: RestoredProxyTrust['proxies'];
  readonly droppedVersionId?: string;
  /** drop-pending-root: this execution's root key, retired (it must never sign again). */
  readonly retiredKey?: RetiredKey;
  /**
   * drop-pending-root: keys tagged with this execution's root version that no alias named (stage-root
   * made them and the run stopped before naming them, or made one twice), retired by this call.
   */
  readonly retiredUnnamedKeys?: readonly RetiredKey[];
  /** drop-pending-root: clusters whose cacerts backup of this execution this call scheduled for deletion. */
  readonly backupsDeleted?: number;
}
