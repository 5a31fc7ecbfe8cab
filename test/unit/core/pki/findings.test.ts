import {
  evaluateRule,
  type Finding,
  isCompliant,
  nonCompliant,
} from '../../../../lambdas/core/pki/findings.js';

const finding = (status: Finding['status']): Finding => ({ rule: 'r', status, reason: 'because' });

describe('nonCompliant / isCompliant', () => {
  it('counts only non-compliant findings against compliance', () => {
    // Prepare
    const mixed = [finding('compliant'), finding('not-applicable'), finding('non-compliant')];

    // Assess
    expect(nonCompliant(mixed)).toEqual([finding('non-compliant')]);
    expect(isCompliant(mixed)).toBe(false);
    expect(isCompliant([finding('compliant'), finding('not-applicable')])).toBe(true);
    expect(isCompliant([])).toBe(true);
  });
});

describe('evaluateRule', () => {
  it('returns the findings of a check that succeeds', async () => {
    // Act / Assess
    expect(await evaluateRule('r', {}, () => finding('compliant'))).toEqual([finding('compliant')]);
    expect(
      await evaluateRule('r', {}, async () => [finding('compliant'), finding('non-compliant')]),
    ).toHaveLength(2);
  });

  it('turns a throwing check into a non-compliant finding for that rule, keeping where it was', async () => {
    // Act
    const findings = await evaluateRule(
      'cacerts-chain-verifies',
      { cluster: 'east', file: 'ca-cert.pem' },
      () => {
        throw new Error('boom');
      },
    );

    // Assess
    expect(findings).toEqual([
      {
        rule: 'cacerts-chain-verifies',
        status: 'non-compliant',
        reason: expect.stringContaining('boom'),
        cluster: 'east',
        file: 'ca-cert.pem',
      },
    ]);
  });
});
