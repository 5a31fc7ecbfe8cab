// The root-cert.pem writes of a `resign` rotation (lambdas/core/istio/rotation-strategy.ts), the
// sequence of Istio's own rotation test (tests/integration/security/cacert_rotation, samples/certs
// root-cert-combined.pem and root-cert-combined-2.pem):
//   1. A -> A+B              the new root appended to the current bytes; intermediate unchanged
//   2. A+B -> A+B+B          with the intermediate signed by B (int_B): B once more, so that the bytes
//                            change and istiod takes the write as a root change, not only a new chain
//   3. A+B+B -> B            the new root's PEM alone, the very bytes appended in 1 and 2
// Each write must be one istiod of the cluster's version takes (root-cert-bytes.ts, trust-bundle.ts):
// up to Istio 1.29 one file's raw bytes inside the other's, from 1.30 one certificate set inside the
// other's. "A" is whatever the file holds now, byte for byte (other roots, CRLF, text lines included).
// reissue-intermediate writes step 2 (reissue-intermediate-change.ts); restart-workloads still restarts
// every cluster: the wait on served certificates is not built.
// Settled on real istiod and pilot-agent (test/integration/lab/istio-resign.test.ts): step 2 moves every
// running proxy to int_B with no restart. istiod's own trust anchor is the whole root-cert.pem as one
// string (pilot/pkg/bootstrap updateRootCertAndGenKeyCert), so A+B+B is a changed anchor and PCDS pushes
// other bytes, which make each pilot-agent drop its certificate (UpdateConfigTrustBundle). A new
// intermediate with root-cert.pem unchanged moves none: nothing is pushed.

import type { Finding } from '../pki/findings.js';
import { certificateFingerprint } from '../pki/fingerprint.js';
import { appendRootPem, checkRootCertBytes } from '../pki/root-cert-bytes.js';
import { checkRootTransition, TrustBundle } from '../pki/trust-bundle.js';

/** How an istiod compares a changed root-cert.pem with the one it holds. */
export type RootCertRule = 'bytes' | 'sets';

/** The last Istio minor version that compares root-cert.pem as raw bytes. */
export const LAST_BYTES_RULE_VERSION = { major: 1, minor: 29 } as const;

/** `bytes` up to Istio 1.29 and when the version is unknown (the stricter rule), `sets` from 1.30. */
export function rootCertRuleOf(istioVersion: string | undefined): RootCertRule {
  if (istioVersion === undefined) return 'bytes';
  const match = /^(\d+)\.(\d+)$/.exec(istioVersion);
  if (match === null) return 'bytes';
  const [major, minor] = [Number(match[1]), Number(match[2])];
  const { major: lastMajor, minor: lastMinor } = LAST_BYTES_RULE_VERSION;
  return major > lastMajor || (major === lastMajor && minor > lastMinor) ? 'sets' : 'bytes';
}

export interface ResignRootCertWrite {
  readonly step: 'add-new-root' | 'switch-intermediate' | 'retire-old-roots';
  /** The intermediate written with it: the cluster's current one, or the one signed by the new root. */
  readonly intermediate: 'current' | 'new';
  readonly rootCertPem: string;
  /** Whether istiod of the cluster's version takes it after the previous write (compliant findings). */
  readonly accepted: Finding;
}

export type ResignRootCertPlan =
  | {
      readonly ok: true;
      readonly rule: RootCertRule;
      readonly writes: readonly [ResignRootCertWrite, ResignRootCertWrite, ResignRootCertWrite];
    }
  | { readonly ok: false; readonly rule: RootCertRule; readonly problem: string };

export interface ResignRootCertInput {
  readonly cluster: string;
  /** root-cert.pem as it is now, byte for byte (the decoded Secret value). */
  readonly currentRootCertPem: string;
  /** The new root's PEM exactly as stored when it was staged. */
  readonly newRootPem: string;
  /** The oldest Istio minor version among the cluster's istiods; undefined when unknown. */
  readonly istioVersion?: string;
}

/**
 * The three root-cert.pem writes of a `resign` rotation, each checked with the rule of the cluster's
 * Istio version against the one before it (the first against the current file); never a re-encoding.
 * Not ok when the current file already holds the new root (plan from the file before the rotation),
 * the new root is not one certificate, or a write would be dropped or would not change the bytes.
 */
export function resignRootCertWrites(input: ResignRootCertInput): ResignRootCertPlan {
  const { cluster, currentRootCertPem: current, newRootPem } = input;
  const rule = rootCertRuleOf(input.istioVersion);
  const refuse = (problem: string): ResignRootCertPlan => ({
    ok: false,
    rule,
    problem: `cluster ${cluster}: ${problem}`,
  });
  const newRoot = TrustBundle.parse(newRootPem, { cluster, file: 'new root' });
  if (newRoot.size !== 1) {
    return refuse(`the new root's PEM holds ${newRoot.size} certificates; it must hold exactly one`);
  }
  const fingerprint = certificateFingerprint(newRootPem, { cluster, file: 'new root' });
  if (TrustBundle.parse(current, { cluster, file: 'root-cert.pem' }).has(fingerprint)) {
    return refuse(
      `root-cert.pem already holds the new root ${fingerprint}; the resign sequence is planned from the file ` +
        'as it was before the rotation',
    );
  }
  const withNewRoot = appendRootPem(current, newRootPem);
  const planned = [
    { step: 'add-new-root', intermediate: 'current', rootCertPem: withNewRoot },
    { step: 'switch-intermediate', intermediate: 'new', rootCertPem: appendRootPem(withNewRoot, newRootPem) },
    { step: 'retire-old-roots', intermediate: 'new', rootCertPem: newRootPem },
  ] as const;
  const writes: ResignRootCertWrite[] = [];
  let previous = current;
  for (const write of planned) {
    const accepted = acceptedBy(rule, previous, write.rootCertPem, cluster);
    if (accepted.status !== 'compliant') {
      return refuse(`the ${write.step} write of root-cert.pem would be dropped: ${accepted.reason}`);
    }
    if (write.rootCertPem === previous) {
      return refuse(
        `the ${write.step} write leaves root-cert.pem byte-identical, so istiod would push no new roots`,
      );
    }
    writes.push({ ...write, accepted });
    previous = write.rootCertPem;
  }
  return {
    ok: true,
    rule,
    writes: writes as unknown as readonly [ResignRootCertWrite, ResignRootCertWrite, ResignRootCertWrite],
  };
}

/** The rule istiod of `rule` applies to a change of root-cert.pem from `previous` to `next`. */
export function acceptedBy(rule: RootCertRule, previous: string, next: string, cluster?: string): Finding {
  const where = { ...(cluster !== undefined && { cluster }), file: 'root-cert.pem' };
  if (rule === 'bytes') return checkRootCertBytes(previous, next, where);
  return checkRootTransition(TrustBundle.parse(previous), TrustBundle.parse(next), where);
}
