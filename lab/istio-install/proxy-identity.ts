// What an istio-engine pod's proxy holds right now, read from the files its pilot-agent writes
// (OUTPUT_CERTS): the certificate chain and key it would serve and the roots it would verify peers
// with, as Envoy takes them from the agent's SDS. Read at each handshake, so a rotation of the agent's
// certificate or roots (renewal, PCDS push) shows in the very next handshake.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TlsIdentity } from '../istio/mtls-handshake.js';
import { PROXY_OUTPUT_CERTS_DIR } from '../node-agent/istio-pod-runtime.js';

export async function readProxyIdentity(podRootfs: string): Promise<TlsIdentity> {
  const dir = join(podRootfs, PROXY_OUTPUT_CERTS_DIR);
  const [certChainPem, keyPem, trustBundlePem] = await Promise.all(
    ['cert-chain.pem', 'key.pem', 'root-cert.pem'].map((file) => readFile(join(dir, file), 'utf8')),
  );
  return { certChainPem: certChainPem ?? '', keyPem: keyPem ?? '', trustBundlePem: trustBundlePem ?? '' };
}
