// How long istiod may take to act on a cacerts write, and so when its still serving the old CA stops
// being the expected delay and becomes a write it missed. Pure.
//
// istiod reads cacerts from a Secret volume (pilot/pkg/bootstrap/istio_ca.go): a file watcher
// (fsnotify) on the directory, and on a Write or Create event, after a 100 ms debounce, one reload
// (handleEvent), which records the CA gauges and republishes istio-ca-root-cert. It never looks again
// by itself: an event it missed (an inotify queue overflow, a watcher that stopped on an error), a volume
// the kubelet never updates (a subPath mount) or files it refused leave it on its old CA until the next
// change of the files or its own restart. The files change a kubelet sync after the Secret does: each
// pod's worker resyncs every syncFrequency plus up to half of it again
// (pkg/kubelet/pod_workers.go: wait.Jitter(resyncInterval, workerResyncIntervalJitterFactor = 0.5)),
// and its atomic writer rewrites the volume only when the Secret's data differs from the files
// (pkg/volume/util/atomic_writer.go). So a write is due at istiod within
// syncFrequency x 1.5, plus the watch's propagation to the kubelet, the debounce, the reload and the
// namespace controller's writes, which LOAD_WINDOW_MARGIN_SECONDS covers with room to spare.

/** kubelet's workerResyncIntervalJitterFactor: a pod is resynced within syncFrequency x (1 + 0.5). */
export const KUBELET_RESYNC_JITTER = 0.5;

/**
 * Beyond the kubelet's resync: the Secret's watch event reaching the kubelet, its atomic write,
 * istiod's 100 ms debounce and reload, its istio-ca-root-cert writes, and the clocks of the functions
 * that wrote and that look (both Lambda's).
 */
export const LOAD_WINDOW_MARGIN_SECONDS = 30;

/** Seconds from a cacerts write until istiod must have taken it, for a kubelet syncing every `kubeletSyncPeriodSeconds`. */
export function istiodLoadWindowSeconds(kubeletSyncPeriodSeconds: number): number {
  return Math.ceil(kubeletSyncPeriodSeconds * (1 + KUBELET_RESYNC_JITTER)) + LOAD_WINDOW_MARGIN_SECONDS;
}

/**
 * When istiod must have taken a cacerts written by `writtenBy` (a time at or after the write), or
 * undefined when the write's time is unknown: then nothing says it is overdue, and a gate waits its
 * whole timeout as before.
 */
export function istiodLoadDueAt(
  writtenBy: Date | undefined,
  kubeletSyncPeriodSeconds: number,
): Date | undefined {
  if (writtenBy === undefined) return undefined;
  return new Date(writtenBy.getTime() + istiodLoadWindowSeconds(kubeletSyncPeriodSeconds) * 1000);
}

/**
 * One cluster's answer of the Map that wrote cacerts before a gate (distribute-bundle's, reissue-
 * intermediate's, the rollback's restore-trust's and restore-intermediate's), as the state machine hands
 * the gate the whole Map's answers: a primary's carries `cacertsWrittenBy`, a skipped remote wrote nothing, and so did a
 * rollback stage that found nothing to change (`changed: false`, no `cacertsWrittenBy`).
 */
export interface CacertsWriteAnswer {
  readonly cluster?: string;
  readonly skipped?: boolean;
  readonly changed?: boolean;
  /** ISO time at or after which the cluster's cacerts held what the step leaves there; null: none. */
  readonly cacertsWrittenBy?: string | null;
}

/**
 * A time at or after every cacerts write of the writing Map: the latest `cacertsWrittenBy` of its
 * answers. All of them ended before the gate's Map began, so it bounds the write a gate waits for,
 * whichever cluster (a remote's primary) made it; and an answer that wrote nothing found its cluster's
 * cacerts as written before the Map began, so the bound holds for it too. Undefined when an answer that
 * may have written lacks it (an answer of an older version) or none wrote (a resumed rollback that finds
 * everything restored): the write's time is then unknown.
 */
export function latestCacertsWrite(answers: readonly CacertsWriteAnswer[] | undefined): Date | undefined {
  if (answers === undefined) return undefined;
  let latest: number | undefined;
  for (const answer of answers) {
    if (answer.skipped === true) continue;
    const writtenBy = answer.cacertsWrittenBy ?? undefined;
    if (answer.changed === false && writtenBy === undefined) continue;
    const time = writtenBy === undefined ? Number.NaN : Date.parse(writtenBy);
    if (Number.isNaN(time)) return undefined;
    latest = latest === undefined ? time : Math.max(latest, time);
  }
  return latest === undefined ? undefined : new Date(latest);
}

/** What a gate that has not seen istiod take a write says of the wait, for its VerificationFailed. */
export function describeLoadDelay(writtenBy: Date, now: Date, kubeletSyncPeriodSeconds: number): string {
  const elapsed = Math.max(0, Math.round((now.getTime() - writtenBy.getTime()) / 1000));
  return (
    `${elapsed} s after the write (istiod takes a changed cacerts within ${istiodLoadWindowSeconds(kubeletSyncPeriodSeconds)} s: ` +
    `a kubelet sync of ${kubeletSyncPeriodSeconds} s, KUBELET_SYNC_PERIOD_SECONDS, with its jitter, then its reload)`
  );
}

/** Which run a gate holds up: a rotation's forward phases, or its rollback. */
export type GatedRun = 'rotation' | 'rollback';

/**
 * The end of a VerificationFailed for a write istiod should have taken by now: why it may not have,
 * where to look, what makes it read the files, and what the state machine does next (`run`: a gate of the
 * rotation rolls it back; a gate of the rollback ends it RollbackFailed, which retry-rollback resumes).
 */
export function missedWriteAdvice(run: GatedRun): string {
  return `${MISSED_WRITE_CAUSE} ${run === 'rotation' ? AFTER_ROTATION_RETRIES : AFTER_ROLLBACK_RETRIES}`;
}

const MISSED_WRITE_CAUSE =
  'istiod watches its cacerts files and never looks again by itself, so it missed the change (its file ' +
  'watcher saw no event, or the kubelet never updated its volume: a subPath mount never is) or refused ' +
  "the files. Its log tells which: 'Update Istiod cacerts' followed by an error names a refusal; no such " +
  'line since the write means it never saw the change. Rewriting the same data does not help (the kubelet ' +
  'rewrites a volume only when the data differs); restarting istiod ' +
  '(kubectl -n istio-system rollout restart deployment/istiod) makes it read the files.';

const AFTER_ROTATION_RETRIES = 'The state machine looks again with backoff, then rolls the run back.';

const AFTER_ROLLBACK_RETRIES =
  'The state machine looks again with backoff, and the rollback goes on once istiod has taken the write; ' +
  'after the last retry the run ends FAILED RollbackFailed: then restart istiod and resume the rollback with ' +
  'meshtrust retry-rollback <execution>, which finds what is restored done.';
