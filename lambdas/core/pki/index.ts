/**
 * The PKI core of meshtrust: Istio plug-in CA certificates, trust bundles and `cacerts` validation.
 * Pure (no I/O); runs on Node's WebCrypto through @peculiar/x509.
 */
export * from './cacerts.js';
export * from './cacerts-rules.js';
export * from './certificate.js';
export * from './certificate-authority.js';
export * from './certificate-info.js';
export * from './certificate-path.js';
export * from './certificate-signer.js';
export * from './ecdsa-signature.js';
export * from './findings.js';
export * from './fingerprint.js';
export * from './key-algorithm.js';
export * from './pem.js';
export * from './pki-errors.js';
export * from './private-key.js';
export * from './root-cert-bytes.js';
export * from './root-import.js';
export * from './trust-bundle.js';
export * from './validate-cacerts.js';
export type { CryptoKey, CryptoKeyPair } from './x509.js';
