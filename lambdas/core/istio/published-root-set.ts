// Whether istiod has published one given root set to a cluster's namespaces (rollback's restore-trust):
// each `istio-ca-root-cert` holds the root-cert.pem istiod loaded last, compared as a set of roots (by
// DER, in any order). A namespace without the ConfigMap is not judged: istiod skips some on purpose.
// Pure: the adapter lists the ConfigMaps.
import { TrustBundle } from '../pki/trust-bundle.js';

/** The namespaces whose istio-ca-root-cert holds another root set than `rootCertPem`. */
export function namespacesOffRootSet(
  configMaps: readonly { readonly namespace: string; readonly rootCertPem?: string }[],
  rootCertPem: string,
  cluster: string,
): string[] {
  const wanted = TrustBundle.parse(rootCertPem, { cluster, file: 'root-cert.pem' });
  return configMaps.flatMap(({ namespace, rootCertPem: published }) =>
    published === undefined ||
    TrustBundle.parse(published, { cluster, file: 'istio-ca-root-cert' }).equals(wanted)
      ? []
      : [namespace],
  );
}
