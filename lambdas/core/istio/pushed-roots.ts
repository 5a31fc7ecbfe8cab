// Which running proxies hold the new roots once istiod has pushed them (issue 12: "before the switch to
// B, wait until proxies hold A+B, confirmed from the data plane where PCDS is on"). A pilot-agent whose
// own env has PROXY_CONFIG_XDS_AGENT=true takes the trust bundle istiod pushes and hands it to Envoy as
// the ROOTCA secret at once; any other learns new roots only when it renews, which the plan's
// proxy-trust wait covers. Pure: the adapter reads each proxy's ROOTCA (adapters/kube/served-certificate.ts).
import { TrustBundle } from '../pki/trust-bundle.js';
import { parseGoBool } from './go-values.js';
import type { ProxiedPodReading } from './rotation-strategy.js';

/** Whether the pod's running agent takes istiod's pushed roots: PCDS set true in its own env. */
export function takesPushes(pod: Pick<ProxiedPodReading, 'pcdsEnv'>): boolean {
  const env = pod.pcdsEnv;
  return env !== undefined && 'value' in env && parseGoBool(env.value) === true;
}

/** The required root fingerprints a proxy's ROOTCA (PEM) lacks; [] when it holds them all. */
export function rootsMissing(rootsPem: string, required: readonly string[]): string[] {
  const held = TrustBundle.parse(rootsPem, { file: 'ROOTCA' });
  return required.filter((fingerprint) => !held.has(fingerprint));
}
