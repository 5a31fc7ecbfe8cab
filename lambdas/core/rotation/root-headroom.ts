// Whether a run may start from a current root that expires soon. An expiring root is why one rotates,
// so the answer depends on how long the mode leans on that root:
// - emergency replaces it as fast as the mesh allows (no soak): never refused, a note;
// - scheduled leans on it until retire-root, after the proxy trust wait and the soak (until then a
//   rollback restores it): refused unless it outlives those waits by MIN_ROOT_HEADROOM_DAYS, so the
//   yearly schedule replaces an expiring root but never starts a run its root cannot see through;
// - intermediate issues the new intermediate under it, which then dies with it: refused within
//   MIN_ROOT_HEADROOM_DAYS (rotate the root instead).
// An expired root is not judged here: each cluster's cacerts review refuses it (the validity rule), as
// istiod, verifying the chain at the current time, would refuse every write under it.
import { formatSeconds } from '../istio/go-values.js';
import type { RotationMode } from '../plan/phases.js';
import { DAY_MS } from './expiry-headroom.js';

export interface RootHeadroomInput {
  readonly mode: RotationMode;
  /** The CA store's current root. */
  readonly root: { readonly fingerprint: string; readonly notAfter: Date };
  /** Where the CA store holds it, for the messages, e.g. `AWSCURRENT of meshtrust/prod/root`. */
  readonly rootSource: string;
  /** The clusters whose root-cert.pem holds it. */
  readonly clusters: readonly string[];
  readonly now: Date;
  /** MIN_ROOT_HEADROOM_DAYS: how long the root must outlive what the run leans on it for. */
  readonly minRootHeadroomDays: number;
  /** EXPIRY_WARNING_DAYS: a root expiring within it gets a note in the plan. */
  readonly expiryWarningDays: number;
  /** The plan's wait after verify-trust (state await-proxy-trust). */
  readonly proxyTrustWaitSeconds: number;
  /** The plan's soak (state soak, scheduled mode only). */
  readonly soakSeconds: number;
}

export interface RootHeadroomReview {
  /** Why the run must not start; undefined when it may. */
  readonly refusal?: string;
  /** What the plan says of the root's expiry when the run may start. */
  readonly note?: string;
}

export function reviewRootHeadroom(input: RootHeadroomInput): RootHeadroomReview {
  const { mode, root, now, minRootHeadroomDays: minimumDays } = input;
  const left = root.notAfter.getTime() - now.getTime();
  if (left <= 0) return {};
  const held = input.clusters.length > 0 ? `; root-cert.pem of ${input.clusters.join(', ')}` : '';
  const expiring =
    `the current root ${root.fingerprint} (${input.rootSource}${held}) expires on ` +
    `${root.notAfter.toISOString()}, in ${Math.floor(left / DAY_MS)} days`;
  const minimum = minimumDays * DAY_MS;
  const soon = left < Math.max(input.expiryWarningDays, minimumDays) * DAY_MS;
  const lowerKnowingly = 'or lower MIN_ROOT_HEADROOM_DAYS knowingly';

  switch (mode) {
    case 'intermediate':
      if (left < minimum) {
        return {
          refusal:
            `${expiring}, less than the ${minimumDays} an intermediate rekey needs: the new intermediate would ` +
            `expire with it. Rotate the root instead (mode emergency, which has no soak), ${lowerKnowingly}`,
        };
      }
      return soon
        ? {
            note: `${expiring}, and the new intermediate with it; plan the root rotation (meshtrust plan --mode scheduled)`,
          }
        : {};
    case 'scheduled': {
      const waits = input.proxyTrustWaitSeconds + input.soakSeconds;
      if (left < waits * 1000 + minimum) {
        return {
          refusal:
            `${expiring}: a scheduled rotation leans on it until retire-root, after the proxy trust wait and the ` +
            `soak (${formatSeconds(waits)}; a rollback until then restores it), and needs it to last the ` +
            `${minimumDays} days of MIN_ROOT_HEADROOM_DAYS beyond. Rotate it now with mode emergency (no soak), ` +
            lowerKnowingly,
        };
      }
      return soon ? { note: `${expiring}; this rotation replaces it` } : {};
    }
    case 'emergency':
      if (left < input.proxyTrustWaitSeconds * 1000) {
        return {
          note:
            `${expiring}, before the proxy trust wait (${formatSeconds(input.proxyTrustWaitSeconds)}) ends: ` +
            'workloads with certificates under it fail handshakes from then until restart-workloads moves them ' +
            'to the new root',
        };
      }
      return soon ? { note: `${expiring}; this rotation replaces it` } : {};
  }
}
