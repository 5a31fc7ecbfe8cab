/** The outcome of one pure check, in the spirit of cdk-nag rules. */
export type FindingStatus = 'compliant' | 'non-compliant' | 'not-applicable';

export interface Finding {
  /** Stable kebab-case rule id, e.g. `cacerts-chain-verifies`. */
  readonly rule: string;
  readonly status: FindingStatus;
  /** What was found and, when non-compliant, what to do. Never key material. */
  readonly reason: string;
  readonly cluster?: string;
  readonly file?: string;
}

export function nonCompliant(findings: readonly Finding[]): Finding[] {
  return findings.filter((finding) => finding.status === 'non-compliant');
}

/** True when no finding is non-compliant (not-applicable findings do not count against it). */
export function isCompliant(findings: readonly Finding[]): boolean {
  return nonCompliant(findings).length === 0;
}

/**
 * Runs one check and turns a throw into a non-compliant finding for `rule`, so that one broken check
 * never hides the others (the cdk-nag engine does the same).
 */
export async function evaluateRule(
  rule: string,
  where: { readonly cluster?: string; readonly file?: string },
  check: () => Finding | readonly Finding[] | Promise<Finding | readonly Finding[]>,
): Promise<Finding[]> {
  try {
    const result = await check();
    return Array.isArray(result) ? [...result] : [result as Finding];
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return [
      {
        rule,
        status: 'non-compliant',
        reason: `the check itself failed (${message}); treat the input as invalid until this is understood`,
        ...where,
      },
    ];
  }
}
