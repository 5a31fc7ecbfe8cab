/**
 * How the seeded `cacerts` writes root-cert.pem, i.e. the bytes every istiod starts with: `canonical`
 * PEM, or an operator's file as tools leave it (`crlf` line ends, `openssl-text` with subject=/issuer=
 * lines before the block, `no-final-newline`). Istio up to 1.29 compares those bytes on every change.
 */
export const ROOT_CERT_STYLES = ['canonical', 'crlf', 'openssl-text', 'no-final-newline'] as const;
export type RootCertStyle = (typeof ROOT_CERT_STYLES)[number];
