// What the model's istiod answers on its monitoring port (15014, /metrics), in the Prometheus text format
// real istiod uses: the two CA gauges of security/pkg/server/ca/monitoring.go, set when the CA loads its
// files (RecordCertsExpiry): the expiry of the first certificate of the signing chain and of the first
// root, in Unix seconds. Only what the model holds now; before it took a valid cacerts, nothing.
import { X509Certificate } from 'node:crypto';
import type { IstiodCaState } from './istiod-model.js';

/** istiod's monitoring port (--monitoringAddr=:15014). */
export const ISTIOD_MONITORING_PORT = 15014;

export function istiodModelMetrics(ca: IstiodCaState | undefined): string {
  if (ca === undefined) return '';
  const expiry = (pem: string) => Math.floor(Date.parse(new X509Certificate(pem).validTo) / 1000);
  return [
    '# HELP citadel_server_root_cert_expiry_timestamp The unix timestamp, in seconds, when Citadel root cert will expire.',
    '# TYPE citadel_server_root_cert_expiry_timestamp gauge',
    `citadel_server_root_cert_expiry_timestamp ${expiry(ca.rootCertPem)}`,
    '# HELP citadel_server_cert_chain_expiry_timestamp The unix timestamp, in seconds, when Citadel cert chain will expire.',
    '# TYPE citadel_server_cert_chain_expiry_timestamp gauge',
    `citadel_server_cert_chain_expiry_timestamp ${expiry(ca.certChainPem || ca.caCertPem)}`,
    '',
  ].join('\n');
}
