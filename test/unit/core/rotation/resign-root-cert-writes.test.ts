// The root-cert.pem writes of a resign rotation (Istio's own test sequence A -> A+B -> A+B+B with int_B
// -> B), from originals that a re-encoding would change. Each step is judged twice: by the core rules
// meshtrust refuses writes with (checkRootCertBytes, checkRootTransition), and by an oracle written here
// from Istio's rule alone: up to 1.29 pilot's handleEvent takes a changed file only when one file's
// bytes contain the other's (Buffer.includes below, not meshtrust's code).
import fc from 'fast-check';
import { checkRootCertBytes, checkRootTransition, TrustBundle } from '../../../../lambdas/core/pki/index.js';
import {
  resignRootCertWrites,
  rootCertRuleOf,
} from '../../../../lambdas/core/rotation/resign-root-cert-writes.js';
import { makeRotationFixtures, originalRootCertFiles, type RotationFixtures } from './rotation-fixtures.js';

let f: RotationFixtures;
beforeAll(async () => {
  f = await makeRotationFixtures();
});

const bytes = (text: string) => Buffer.from(text, 'utf8');
/** Istio <= 1.29's rule, stated from pilot's handleEvent: equal, or one contains the other. */
const istio129Takes = (previous: string, next: string) =>
  bytes(previous).equals(bytes(next)) ||
  bytes(next).includes(bytes(previous)) ||
  bytes(previous).includes(bytes(next));
/** How often `inner` occurs in `outer`, byte for byte. */
function occurrences(outer: string, inner: string): number {
  let count = 0;
  for (
    let at = bytes(outer).indexOf(bytes(inner));
    at >= 0;
    at = bytes(outer).indexOf(bytes(inner), at + 1)
  ) {
    count++;
  }
  return count;
}

function planned(current: string, istioVersion?: string) {
  const plan = resignRootCertWrites({
    cluster: 'c1',
    currentRootCertPem: current,
    newRootPem: f.rootB.certificatePem,
    ...(istioVersion !== undefined && { istioVersion }),
  });
  if (!plan.ok) throw new Error(`expected a plan, got: ${plan.problem}`);
  return plan;
}

describe('rootCertRuleOf', () => {
  it.each([
    ['1.29', 'bytes'],
    ['1.9', 'bytes'],
    ['1.30', 'sets'],
    ['1.31', 'sets'],
    ['2.0', 'sets'],
  ])('Istio %s compares root-cert.pem as %s', (version, rule) => {
    expect(rootCertRuleOf(version)).toBe(rule);
  });

  it('keeps to the stricter bytes rule when the version is unknown', () => {
    expect(rootCertRuleOf(undefined)).toBe('bytes');
    expect(rootCertRuleOf('latest')).toBe('bytes');
  });
});

describe('resignRootCertWrites', () => {
  it('writes A+B, then A+B+B with the new intermediate, then B alone, from a canonical A', () => {
    // Prepare
    const a = f.rootA.certificatePem;
    const b = f.rootB.certificatePem;
    // Act
    const plan = planned(a, '1.29');
    // Assess
    expect(plan.writes.map(({ step, intermediate }) => [step, intermediate])).toEqual([
      ['add-new-root', 'current'],
      ['switch-intermediate', 'new'],
      ['retire-old-roots', 'new'],
    ]);
    expect(plan.writes.map((write) => write.rootCertPem)).toEqual([a + b, a + b + b, b]);
  });

  it.each(['1.29', '1.30'])(
    'keeps every write acceptable to both core rules and to the byte oracle (Istio %s)',
    (version) => {
      for (const [, original] of [['canonical', f.rootA.certificatePem], ...originalRootCertFiles(f.rootA)]) {
        const plan = planned(original as string, version);
        let previous = original as string;
        for (const write of plan.writes) {
          expect(istio129Takes(previous, write.rootCertPem)).toBe(true);
          expect(write.rootCertPem).not.toBe(previous);
          expect(checkRootCertBytes(previous, write.rootCertPem).status).toBe('compliant');
          expect(
            checkRootTransition(TrustBundle.parse(previous), TrustBundle.parse(write.rootCertPem)).status,
          ).toBe('compliant');
          expect(write.accepted.status).toBe('compliant');
          previous = write.rootCertPem;
        }
      }
    },
  );

  it('keeps the original bytes, CRLF and text lines included, and repeats B byte for byte', () => {
    for (const [what, original] of originalRootCertFiles(f.rootA)) {
      const [add, switched, retired] = planned(original).writes;
      expect({ what, starts: add.rootCertPem.startsWith(original) }).toEqual({ what, starts: true });
      expect(occurrences(add.rootCertPem, f.rootB.certificatePem)).toBe(1);
      expect(occurrences(switched.rootCertPem, f.rootB.certificatePem)).toBe(2);
      expect(switched.rootCertPem.startsWith(add.rootCertPem)).toBe(true);
      expect(retired.rootCertPem).toBe(f.rootB.certificatePem);
    }
  });

  it('keeps any other root the cluster trusts until the old roots go', () => {
    const current = f.rootA.certificatePem + f.rootX.certificatePem;
    const [add, switched, retired] = planned(current).writes;
    expect(TrustBundle.parse(add.rootCertPem).fingerprints()).toEqual([f.fpA, f.fpX, f.fpB]);
    expect(TrustBundle.parse(switched.rootCertPem).fingerprints()).toEqual([f.fpA, f.fpX, f.fpB]);
    expect(TrustBundle.parse(retired.rootCertPem).fingerprints()).toEqual([f.fpB]);
  });

  it('refuses a file that already holds the new root (a plan is made from the file before the rotation)', () => {
    const plan = resignRootCertWrites({
      cluster: 'c1',
      currentRootCertPem: f.rootA.certificatePem + f.rootB.certificatePem,
      newRootPem: f.rootB.certificatePem,
    });
    expect(plan).toMatchObject({ ok: false, rule: 'bytes' });
    expect(plan.ok ? '' : plan.problem).toContain(
      `cluster c1: root-cert.pem already holds the new root ${f.fpB}`,
    );
  });

  it('refuses a new root PEM holding more than one certificate', () => {
    const plan = resignRootCertWrites({
      cluster: 'c1',
      currentRootCertPem: f.rootA.certificatePem,
      newRootPem: f.rootB.certificatePem + f.rootX.certificatePem,
    });
    expect(plan.ok ? '' : plan.problem).toContain('holds 2 certificates');
  });

  it('holds for any original text around A: every step passes the byte oracle and the version rule', () => {
    // Text a tool may leave around PEM blocks: comments, openssl's subject lines, blank lines, CRLF.
    const noise = fc.constantFrom('', '\n', '\r\n', '# bundle\n', 'subject=CN = x\n', '\n\n');
    const original = fc
      .record({
        before: noise,
        after: noise,
        withX: fc.boolean(),
        crlf: fc.boolean(),
        finalNewline: fc.boolean(),
        version: fc.constantFrom(undefined, '1.21', '1.29', '1.30', '1.32'),
      })
      .map(({ before, after, withX, crlf, finalNewline, version }) => {
        let text = before + f.rootA.certificatePem + (withX ? f.rootX.certificatePem : '') + after;
        if (crlf) text = text.replace(/\r?\n/g, '\r\n');
        if (!finalNewline) text = text.replace(/(\r?\n)+$/, '');
        return { text, version };
      });
    fc.assert(
      fc.property(original, ({ text, version }) => {
        const plan = planned(text, version);
        let previous = text;
        for (const write of plan.writes) {
          if (!istio129Takes(previous, write.rootCertPem)) return false;
          if (write.rootCertPem === previous) return false;
          previous = write.rootCertPem;
        }
        // The old file survives into both writes before the retirement, and B's staged bytes end it.
        return (
          bytes(plan.writes[1].rootCertPem).includes(bytes(text)) &&
          bytes(plan.writes[2].rootCertPem).equals(bytes(f.rootB.certificatePem))
        );
      }),
      { numRuns: 200 },
    );
  });
});
