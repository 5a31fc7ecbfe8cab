// What istiod has published to the namespaces of a cluster (verify-trust's first half): every
// `istio-ca-root-cert` it writes holds the root-cert.pem it loaded last, so each must hold the required
// roots and all of them one and the same set; two sets mean a push still under way. istiod skips some
// system namespaces on purpose: only the ConfigMaps that exist are judged. Pure: the adapter lists them.
import { TrustBundle } from '../pki/trust-bundle.js';

export interface PublishedRootsReview {
  /** Every published ConfigMap holds the required roots, and all hold the same set. */
  readonly done: boolean;
  /** Namespaces whose ConfigMap lacks a required root. */
  readonly behind: readonly string[];
  /** Namespaces whose ConfigMap holds another set than the first complete one. */
  readonly differing: readonly string[];
  /** How many namespaces have the ConfigMap. */
  readonly published: number;
  /** The fingerprints of the complete set, when one namespace holds it. */
  readonly roots?: readonly string[];
}

export function judgePublishedRoots(
  configMaps: readonly { readonly namespace: string; readonly rootCertPem?: string }[],
  required: readonly string[],
  cluster: string,
): PublishedRootsReview {
  const published = configMaps.flatMap(({ namespace, rootCertPem }) =>
    rootCertPem === undefined
      ? []
      : [{ namespace, roots: TrustBundle.parse(rootCertPem, { cluster, file: 'istio-ca-root-cert' }) }],
  );
  const behind = published
    .filter(({ roots }) => required.some((root) => !roots.has(root)))
    .map(({ namespace }) => namespace);
  const reference = published.find(({ roots }) => required.every((root) => roots.has(root)))?.roots;
  const differing = published
    .filter(({ roots }) => reference !== undefined && !roots.equals(reference))
    .map(({ namespace }) => namespace);
  return {
    done: published.length > 0 && behind.length === 0 && differing.length === 0,
    behind,
    differing,
    published: published.length,
    ...(reference !== undefined && { roots: reference.fingerprints() }),
  };
}
