import { createRootCa } from '../../../../lambdas/core/pki/certificate-authority.js';
import { certificateFingerprint } from '../../../../lambdas/core/pki/fingerprint.js';
import { encodePem, parsePemBlocks } from '../../../../lambdas/core/pki/pem.js';
import { NotPemError, WrongBlockTypeError } from '../../../../lambdas/core/pki/pki-errors.js';
import {
  checkRootTransition,
  ROOT_TRANSITION_RULE,
  TrustBundle,
} from '../../../../lambdas/core/pki/trust-bundle.js';

let a: string;
let b: string;
let c: string;
beforeAll(async () => {
  [a, b, c] = (await Promise.all([createRootCa(), createRootCa(), createRootCa()])).map(
    (ca) => ca.certificatePem,
  );
});
const fp = (pem: string) => certificateFingerprint(pem);

describe('TrustBundle.parse', () => {
  it('keeps roots in order, tolerating CRLF, comments and blank lines', () => {
    // Prepare
    const text = `# root A\r\n${a.replace(/\n/g, '\r\n')}\r\n\r\n# root B\n  ${b}\n`;

    // Act
    const bundle = TrustBundle.parse(text);

    // Assess
    expect(bundle.fingerprints()).toEqual([fp(a), fp(b)]);
    expect(bundle.size).toBe(2);
  });

  it('collapses a root listed twice into one, by DER', () => {
    // Act / Assess
    expect(TrustBundle.parse(a + b + a).fingerprints()).toEqual([fp(a), fp(b)]);
  });

  it('describes each root with canonical PEM, fingerprint, subject and notAfter', () => {
    // Act
    const [root] = TrustBundle.parse(`junk before\n${a}`).roots;

    // Assess
    expect(root.pem).toBe(a);
    expect(root.fingerprint).toBe(fp(a));
    expect(root.subject).toBe('O=meshtrust, CN=meshtrust Root CA');
    expect(root.notAfter).toBeInstanceOf(Date);
  });

  it('refuses a private key inside a bundle', async () => {
    // Prepare
    const { privateKeyPem } = await createRootCa();

    // Act / Assess
    expect(() => TrustBundle.parse(a + privateKeyPem, { file: 'root-cert.pem' })).toThrow(
      WrongBlockTypeError,
    );
  });

  it('refuses text without certificates', () => {
    // Act / Assess
    expect(() => TrustBundle.parse('', { file: 'root-cert.pem', cluster: 'east' })).toThrow(NotPemError);
  });
});

describe('TrustBundle operations', () => {
  it('is immutable: add and remove return new bundles', () => {
    // Prepare
    const bundle = TrustBundle.of([a]);

    // Act
    const added = bundle.add(b);
    const removed = added.remove(fp(a));

    // Assess
    expect(bundle.fingerprints()).toEqual([fp(a)]);
    expect(added.fingerprints()).toEqual([fp(a), fp(b)]);
    expect(removed.fingerprints()).toEqual([fp(b)]);
    expect(Object.isFrozen(bundle)).toBe(true);
    expect(Object.isFrozen(bundle.roots)).toBe(true);
  });

  it('adds another bundle without duplicating shared roots', () => {
    // Act / Assess
    expect(
      TrustBundle.of([a, b])
        .add(TrustBundle.of([b, c]))
        .fingerprints(),
    ).toEqual([fp(a), fp(b), fp(c)]);
  });

  it('finds roots by fingerprint in any case and with colons', () => {
    // Prepare
    const colons = fp(a).toUpperCase().match(/../g)?.join(':') ?? '';

    // Act / Assess
    expect(TrustBundle.of([a]).has(colons)).toBe(true);
    expect(TrustBundle.of([a]).has(fp(b))).toBe(false);
  });

  it('compares as sets: equal ignores order, subset and superset by DER', () => {
    // Prepare
    const ab = TrustBundle.of([a, b]);
    const ba = TrustBundle.of([b, a]);
    const onlyA = TrustBundle.of([a]);

    // Assess
    expect(ab.equals(ba)).toBe(true);
    expect(ab.equals(onlyA)).toBe(false);
    expect(ab.isSupersetOf(onlyA)).toBe(true);
    expect(onlyA.isSubsetOf(ab)).toBe(true);
    expect(onlyA.isSupersetOf(ab)).toBe(false);
    expect(TrustBundle.of([c]).isSubsetOf(ab)).toBe(false);
  });

  it('identifies roots by DER: the same certificate in other PEM text (CRLF) is the same root', () => {
    // Prepare
    const der = parsePemBlocks(a)[0].der;
    const reencoded = encodePem('CERTIFICATE', der);

    // Assess
    expect(TrustBundle.of([reencoded.replace(/\n/g, '\r\n')]).equals(TrustBundle.of([a]))).toBe(true);
  });

  it('serialises canonically: blocks joined by newline, trailing newline, same text for equal input', () => {
    // Act
    const pem = TrustBundle.parse(`# x\r\n${a}\r\n\r\n${b}`).toPem();

    // Assess
    expect(pem).toBe(`${a}${b}`);
    expect(pem.endsWith('-----END CERTIFICATE-----\n')).toBe(true);
    expect(pem).not.toContain('\n\n');
  });

  it('serialises an empty bundle as empty text', () => {
    // Act / Assess
    expect(TrustBundle.empty().toPem()).toBe('');
  });
});

describe(`rule ${ROOT_TRANSITION_RULE}`, () => {
  it.each([
    ['unchanged root set', () => [[a], [a]]],
    ['adding root B to root A (A -> A+B)', () => [[a], [a, b]]],
    ['retiring root A (A+B -> B)', () => [[a, b], [b]]],
    [
      'same set in another order',
      () => [
        [a, b],
        [b, a],
      ],
    ],
  ])('compliant: %s', (_name, sets) => {
    // Prepare
    const [previous, next] = sets().map((pems) => TrustBundle.of(pems));

    // Act
    const finding = checkRootTransition(previous, next, { cluster: 'east', file: 'root-cert.pem' });

    // Assess
    expect(finding).toMatchObject({ rule: ROOT_TRANSITION_RULE, status: 'compliant', cluster: 'east' });
  });

  it.each([
    ['replacing root A by root B in one step (A -> B)', () => [[a], [b]]],
    [
      'swapping one of two roots (A+B -> A+C)',
      () => [
        [a, b],
        [a, c],
      ],
    ],
  ])('non-compliant: %s, telling to add first and remove later', (_name, sets) => {
    // Prepare
    const [previous, next] = sets().map((pems) => TrustBundle.of(pems));

    // Act
    const finding = checkRootTransition(previous, next, { cluster: 'east', file: 'root-cert.pem' });

    // Assess
    expect(finding).toMatchObject({ status: 'non-compliant', cluster: 'east', file: 'root-cert.pem' });
    expect(finding.reason).toMatch(/silently keep the old set.*First add the new roots/);
  });

  it('non-compliant: emptying the bundle', () => {
    // Act / Assess
    expect(checkRootTransition(TrustBundle.of([a]), TrustBundle.empty()).status).toBe('non-compliant');
  });
});
