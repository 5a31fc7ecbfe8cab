// What an istio-engine pod's proxy holds right now, read from the files its pilot-agent writes
// (OUTPUT_CERTS): the certificate chain and key it would serve and the roots it would verify peers
// with, as Envoy takes them from the agent's SDS. Read at each handshake, so a rotation of the agent's
// certificate or roots (renewal, PCDS push) shows in the very next handshake.
//
// pilot-agent writes the three files one after another (each atomically, the set not), so a read during
// a renewal can pair the new key with the old chain, a pair Envoy never holds (SDS hands it over whole).
// Such a read is taken again until the key is the leaf's.
import { createPublicKey, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TlsIdentity } from '../istio/mtls-handshake.js';
import { PROXY_OUTPUT_CERTS_DIR } from '../node-agent/istio-pod-runtime.js';

/** Reads of a renewal in progress before giving up: pilot-agent's three writes take milliseconds. */
const CONSISTENT_READ_ATTEMPTS = 25;
const CONSISTENT_READ_PAUSE_MS = 20;

export class ProxyIdentityUnsettled extends Error {
  override readonly name = 'ProxyIdentityUnsettled';
}

export async function readProxyIdentity(podRootfs: string): Promise<TlsIdentity> {
  const dir = join(podRootfs, PROXY_OUTPUT_CERTS_DIR);
  for (let attempt = 1; ; attempt += 1) {
    const [certChainPem, keyPem, trustBundlePem] = await Promise.all(
      ['cert-chain.pem', 'key.pem', 'root-cert.pem'].map((file) => readFile(join(dir, file), 'utf8')),
    );
    if (keyMatchesLeaf(keyPem, certChainPem)) return { certChainPem, keyPem, trustBundlePem };
    if (attempt >= CONSISTENT_READ_ATTEMPTS) {
      throw new ProxyIdentityUnsettled(
        `${dir}: key.pem is not the key of cert-chain.pem's leaf after ${attempt} reads ${CONSISTENT_READ_PAUSE_MS} ms apart (pilot-agent stopped half-way through writing them?)`,
      );
    }
    await sleep(CONSISTENT_READ_PAUSE_MS);
  }
}

/** Whether the key is the leaf's (the first certificate of the chain); false for a file not yet whole. */
export function keyMatchesLeaf(keyPem: string, certChainPem: string): boolean {
  try {
    const leaf = new X509Certificate(certChainPem).publicKey.export({ type: 'spki', format: 'der' });
    const key = createPublicKey(keyPem).export({ type: 'spki', format: 'der' });
    return leaf.equals(key);
  } catch {
    return false;
  }
}
