// "Theirs" in the PKI bench: the same root and intermediates made the way an operator would with the
// openssl CLI, as one shell script (a whole process tree timed from start to end). The profile is the
// PKI core's (lambdas/core/pki/certificate-authority.ts), not Istio's Makefile: root CA:TRUE with
// keyCertSign and cRLSign; intermediates CA:TRUE pathlen:0, keyCertSign, cRLSign and digitalSignature,
// SAN istiod.istio-system.svc, subject O=meshtrust, CN=Intermediate CA, L=<cluster>; same key
// algorithm and digest. Two openssl processes per intermediate: `req -newkey` (key and CSR), then
// `x509 -req` (signed by the root).
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { KeyAlgorithm } from '../lambdas/core/pki/index.js';

/** openssl processes the loop starts for a root and `intermediates` intermediates. */
export function opensslProcessCount(intermediates: number): number {
  return 1 + 2 * intermediates;
}

/** The `-newkey` arguments and digest that give a key of `algorithm` signed as the PKI core signs. */
export function opensslKeyOptions(algorithm: KeyAlgorithm): { newKey: string; digest: string } {
  switch (algorithm) {
    case 'ecdsa-p256':
      return { newKey: '-newkey ec -pkeyopt ec_paramgen_curve:P-256', digest: '-sha256' };
    case 'ecdsa-p384':
      return { newKey: '-newkey ec -pkeyopt ec_paramgen_curve:P-384', digest: '-sha384' };
    case 'rsa-2048':
    case 'rsa-3072':
    case 'rsa-4096':
      return { newKey: `-newkey rsa:${algorithm.slice(4)}`, digest: '-sha256' };
  }
}

const OPENSSL_CONF = [
  '[ req ]',
  'prompt = no',
  'utf8 = yes',
  'distinguished_name = root_dn',
  'x509_extensions = root_ext',
  '[ root_dn ]',
  'O = meshtrust',
  'CN = meshtrust Root CA',
  '[ root_ext ]',
  'basicConstraints = critical, CA:TRUE',
  'keyUsage = critical, keyCertSign, cRLSign',
  'subjectKeyIdentifier = hash',
  '[ intermediate_ext ]',
  'basicConstraints = critical, CA:TRUE, pathlen:0',
  'keyUsage = critical, digitalSignature, keyCertSign, cRLSign',
  'subjectAltName = DNS:istiod.istio-system.svc',
  'subjectKeyIdentifier = hash',
  'authorityKeyIdentifier = keyid',
  '',
].join('\n');

/** The script: files as pki-worker.ts names them; a count on stderr after each intermediate. */
export function opensslLoopScript(algorithm: KeyAlgorithm, intermediates: number): string {
  const { newKey, digest } = opensslKeyOptions(algorithm);
  return [
    '#!/bin/sh',
    'set -e',
    `openssl req -x509 -new ${newKey} -nodes ${digest} -days 3650 -config ca.conf \\`,
    '  -keyout root-key.pem -out root-cert.pem 2>>openssl.log',
    'i=1',
    `while [ "$i" -le ${intermediates} ]; do`,
    `  openssl req -new ${newKey} -nodes ${digest} -config ca.conf \\`,
    '    -subj "/O=meshtrust/CN=Intermediate CA/L=cluster-$i" \\',
    '    -keyout "int-$i-key.pem" -out "int-$i.csr" 2>>openssl.log',
    `  openssl x509 -req ${digest} -days 365 -in "int-$i.csr" -CA root-cert.pem -CAkey root-key.pem \\`,
    '    -extfile ca.conf -extensions intermediate_ext -out "int-$i-cert.pem" 2>>openssl.log',
    '  echo "$i" >&2',
    '  i=$((i + 1))',
    'done',
    '',
  ].join('\n');
}

/** Writes the configuration and the script into `directory`; returns the script's file name. */
export async function writeOpensslLoop(
  directory: string,
  algorithm: KeyAlgorithm,
  intermediates: number,
): Promise<string> {
  await writeFile(join(directory, 'ca.conf'), OPENSSL_CONF);
  await writeFile(join(directory, 'loop.sh'), opensslLoopScript(algorithm, intermediates));
  return 'loop.sh';
}
