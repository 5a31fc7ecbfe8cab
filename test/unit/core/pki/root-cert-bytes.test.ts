import {
  appendRootPem,
  checkRootCertBytes,
  ROOT_CERT_BYTES_RULE,
} from '../../../../lambdas/core/pki/root-cert-bytes.js';

const A = '-----BEGIN CERTIFICATE-----\nQUFB\n-----END CERTIFICATE-----\n';
const B = '-----BEGIN CERTIFICATE-----\nQkJC\n-----END CERTIFICATE-----\n';

describe('appendRootPem', () => {
  it('appends the new PEM right after a file that ends with a line break', () => {
    // Prepare, Act
    const appended = appendRootPem(A, B);
    // Assess
    expect(appended).toBe(A + B);
  });

  it('inserts a line break after a file without one, so the BEGIN line starts a line', () => {
    // Prepare, Act
    const appended = appendRootPem(A.trimEnd(), B);
    // Assess
    expect(appended).toBe(`${A.trimEnd()}\n${B}`);
  });

  it('inserts CRLF after a CRLF file without a final line break', () => {
    // Prepare
    const crlf = A.replace(/\n/g, '\r\n').trimEnd();
    // Act
    const appended = appendRootPem(crlf, B);
    // Assess
    expect(appended).toBe(`${crlf}\r\n${B}`);
  });
});

describe(`checkRootCertBytes (${ROOT_CERT_BYTES_RULE})`, () => {
  it.each([
    ['identical bytes', A, A],
    ['an append (A -> A+B)', A, A + B],
    ['a part of the file (A+B -> B)', A + B, B],
  ])('is compliant for %s', (_name, previous, next) => {
    // Prepare, Act
    const finding = checkRootCertBytes(previous, next, { cluster: 'c1' });
    // Assess
    expect(finding).toMatchObject({ rule: ROOT_CERT_BYTES_RULE, status: 'compliant', cluster: 'c1' });
  });

  it.each([
    ['the same root re-encoded with CRLF', A, A.replace(/\n/g, '\r\n')],
    ['a swap (A -> B)', A, B],
    ['A+B re-ordered as B+A', A + B, B + A],
  ])('is non-compliant for %s, saying to append instead of re-encoding', (_name, previous, next) => {
    // Prepare, Act
    const finding = checkRootCertBytes(previous, next);
    // Assess
    expect(finding.status).toBe('non-compliant');
    expect(finding.reason).toMatch(/up to 1\.29.*never re-encode/);
  });
});
