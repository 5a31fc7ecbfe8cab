import { CACERTS_KEYS, type CacertsFiles, type CacertsKey } from '../pki/cacerts.js';
import { describeCertificate } from '../pki/certificate-info.js';
import { nonCompliant } from '../pki/findings.js';
import { TrustBundle } from '../pki/trust-bundle.js';
import { validateCacerts } from '../pki/validate-cacerts.js';
import type { ClusterTrustState } from '../plan/fleet-state.js';
import { chainRootOf } from './chain-root.js';
import { DAY_MS } from './expiry-headroom.js';

export interface ReviewClusterCacertsInput {
  readonly cluster: string;
  /** The cluster's `cacerts` as read, or undefined when the secret does not exist. */
  readonly files: Partial<Record<CacertsKey, string>> | undefined;
  /** Other keys of the secret (tls.crt/tls.key make istiod ignore the plug-in files). */
  readonly otherKeys?: readonly string[];
  /** Fingerprint of the root the CA store holds as current. */
  readonly currentRoot: string;
  /** Where that root is stored, for the messages, e.g. `AWSCURRENT of meshtrust/prod/root`. */
  readonly currentRootSource?: string;
  /** Namespaces that get `istio-ca-root-cert`, for the plan. */
  readonly namespaces: readonly string[];
  readonly now: Date;
  /** The intermediate must stay valid at least this long (the rotation takes time). */
  readonly minIntermediateHeadroomDays: number;
}

export interface ClusterReview {
  readonly cluster: string;
  /** What is wrong, one sentence each, saying what to do; empty when the cluster is fit to rotate. */
  readonly problems: readonly string[];
  /** The cluster reduced to fingerprints for the planner; only when there is no problem. */
  readonly trustState?: ClusterTrustState;
  /** When the cluster's intermediate expires, if it parses. */
  readonly intermediateNotAfter?: Date;
}

/**
 * Everything preflight checks in one cluster's `cacerts` before a rotation may write anything: all
 * keys there, the chain verifies to the mesh's current root, key matches, the intermediate is not
 * expired and keeps enough headroom, root-cert holds the current root. Pure: the caller reads.
 */
export async function reviewClusterCacerts(input: ReviewClusterCacertsInput): Promise<ClusterReview> {
  const { cluster, files, currentRoot, now } = input;
  const storedAs = input.currentRootSource === undefined ? '' : ` (${input.currentRootSource})`;
  if (files === undefined) {
    return {
      cluster,
      problems: [
        `cluster ${cluster} has no secret istio-system/cacerts: istiod then signs with a self-signed root of its ` +
          'own (secret istio-system/istio-ca-secret), not under the mesh root (an istiod started before the secret ' +
          'went keeps the CA it loaded until it restarts), so there is no plug-in CA to rotate. Create cacerts from ' +
          'the mesh root (Istio plug-in CA setup) and restart istiod, which reads cacerts only at start once it ' +
          'runs self-signed, before meshtrust can rotate it',
      ],
    };
  }
  const findings = await validateCacerts(files, { now, cluster, extraKeys: input.otherKeys ?? [] });
  const problems = nonCompliant(findings).map((finding) =>
    finding.file === undefined ? finding.reason : `${finding.file}: ${finding.reason}`,
  );
  if (problems.length > 0) return { cluster, problems: problems.map((p) => `cluster ${cluster}: ${p}`) };

  const complete = Object.fromEntries(CACERTS_KEYS.map((key) => [key, files[key] as string])) as CacertsFiles;
  const roots = TrustBundle.parse(complete['root-cert.pem'], { cluster, file: 'root-cert.pem' });
  const intermediate = describeCertificate(complete['ca-cert.pem'], { cluster, file: 'ca-cert.pem' });
  const issuerRoot = await chainRootOf(complete, roots, cluster);
  const more: string[] = [];
  if (!roots.has(currentRoot)) {
    more.push(
      `cluster ${cluster}: root-cert.pem does not hold the mesh's current root ${currentRoot}${storedAs}; the cluster ` +
        'is not part of this mesh or the CA store holds another root. Fix root-cert.pem or import the right root',
    );
  }
  if (issuerRoot !== currentRoot) {
    more.push(
      `cluster ${cluster}: the intermediate chains to root ${issuerRoot ?? '(none)'}, not to the mesh's current root ` +
        `${currentRoot}${storedAs}. Reissue its intermediate under the current root (mode intermediate) or import the right root`,
    );
  }
  const headroomDays = (intermediate.notAfter.getTime() - now.getTime()) / DAY_MS;
  if (headroomDays < input.minIntermediateHeadroomDays) {
    more.push(
      `cluster ${cluster}: the intermediate expires on ${intermediate.notAfter.toISOString()}, in ` +
        `${Math.max(0, Math.floor(headroomDays))} days, less than the ${input.minIntermediateHeadroomDays} a rotation ` +
        'needs. Rekey it first (mode intermediate) or lower MIN_INTERMEDIATE_HEADROOM_DAYS knowingly',
    );
  }
  if (more.length > 0) return { cluster, problems: more, intermediateNotAfter: intermediate.notAfter };
  return {
    cluster,
    problems: [],
    intermediateNotAfter: intermediate.notAfter,
    trustState: {
      name: cluster,
      trustedRoots: roots.fingerprints(),
      intermediate: intermediate.fingerprint,
      intermediateIssuerRoot: issuerRoot as string,
      namespaces: [...input.namespaces],
    },
  };
}
