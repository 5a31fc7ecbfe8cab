// Whether istiod has loaded the intermediate in `cacerts`, as istiod itself says it: its CA gauges
// (security/pkg/server/ca/monitoring.go), set each time the CA takes its files (RecordCertsExpiry in
// pilot/pkg/bootstrap/istio_ca.go): citadel_server_cert_chain_expiry_timestamp is the expiry, in Unix
// seconds, of the first certificate of the signing chain, i.e. the intermediate istiod signs with.
// A Secret that changed says nothing about istiod: the kubelet brings the files a sync later, and istiod
// may refuse them. Pure: the adapter reads the metrics through the API server's pod proxy.

export const CERT_CHAIN_EXPIRY_METRIC = 'citadel_server_cert_chain_expiry_timestamp';
export const ROOT_CERT_EXPIRY_METRIC = 'citadel_server_root_cert_expiry_timestamp';

/** One istiod replica's CA, as its /metrics tells it. */
export interface IstiodCaGauges {
  readonly pod: string;
  /** Unix seconds; undefined when the gauge is missing (the CA has not loaded any files). */
  readonly certChainExpiry?: number;
  readonly rootCertExpiry?: number;
}

/** The value of a gauge without labels in Prometheus text, or undefined. */
export function gaugeValue(metrics: string, name: string): number | undefined {
  for (const line of metrics.split('\n')) {
    const [metric, value] = line.trim().split(/\s+/);
    if (metric !== name || value === undefined) continue;
    const number = Number(value);
    return Number.isFinite(number) ? number : undefined;
  }
  return undefined;
}

export function istiodCaGauges(pod: string, metrics: string): IstiodCaGauges {
  const certChainExpiry = gaugeValue(metrics, CERT_CHAIN_EXPIRY_METRIC);
  const rootCertExpiry = gaugeValue(metrics, ROOT_CERT_EXPIRY_METRIC);
  return {
    pod,
    ...(certChainExpiry !== undefined && { certChainExpiry }),
    ...(rootCertExpiry !== undefined && { rootCertExpiry }),
  };
}

/**
 * The replicas that do not sign with the intermediate expiring at `intermediateNotAfter` yet, with
 * what each says instead; empty when every replica has loaded it. No replica at all is a lag too:
 * nothing would sign.
 */
export function istiodsNotOnIntermediate(
  replicas: readonly IstiodCaGauges[],
  intermediateNotAfter: Date,
): string[] {
  if (replicas.length === 0) return ['no running istiod pod'];
  const expected = Math.floor(intermediateNotAfter.getTime() / 1000);
  return replicas
    .filter((replica) => replica.certChainExpiry !== expected)
    .map((replica) =>
      replica.certChainExpiry === undefined
        ? `${replica.pod} reports no ${CERT_CHAIN_EXPIRY_METRIC}`
        : `${replica.pod} signs with an intermediate expiring ${new Date(replica.certChainExpiry * 1000).toISOString()}`,
    );
}

/**
 * When the intermediate that a cluster's istiod signs with expires, as its replicas report it: the
 * earliest of them (a replica still on an older intermediate expires first). Undefined when no replica
 * reports the gauge, so nothing says what istiod signs with.
 */
export function earliestCertChainExpiry(replicas: readonly IstiodCaGauges[]): Date | undefined {
  const reported = replicas.flatMap((replica) =>
    replica.certChainExpiry === undefined ? [] : [replica.certChainExpiry],
  );
  return reported.length === 0 ? undefined : new Date(Math.min(...reported) * 1000);
}
