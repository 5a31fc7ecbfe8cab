import {
  CA_SECRET_POLICY_ENV,
  type CaSecretGrant,
  type CaSecretPolicyPrincipals,
} from '../../contract/ca-store.js';
import { LOCK_TAKEOVER_GRACE_SECONDS_ENV } from '../../contract/rotation-lock.js';

/**
 * What the CLI takes from a deployed rotation function's environment (Lambda's GetFunctionConfiguration),
 * so that it decides as the functions do: the stack sets these keys (lib/rotation-functions.ts) and the
 * handlers read them from their own environment (lambdas/application/config.ts). Pure: the caller
 * fetches the environment.
 */
export type FunctionEnvironment = Readonly<Record<string, string | undefined>>;

/**
 * The roles each kind of CA secret's resource policy exempts, from the CA_SECRET_POLICY_ENV keys (comma
 * separated role ARNs); undefined when no key names a role, as a handler then puts no policy.
 */
export function secretPolicyPrincipalsOf(
  environment: FunctionEnvironment,
): CaSecretPolicyPrincipals | undefined {
  const principals = Object.fromEntries(
    (Object.keys(CA_SECRET_POLICY_ENV) as CaSecretGrant[]).map((grant) => [
      grant,
      (environment[CA_SECRET_POLICY_ENV[grant]] ?? '')
        .split(',')
        .map((arn) => arn.trim())
        .filter((arn) => arn !== ''),
    ]),
  ) as Record<CaSecretGrant, string[]>;
  return Object.values(principals).some((arns) => arns.length > 0) ? principals : undefined;
}

/**
 * The rotation lock's takeover grace in seconds (LOCK_TAKEOVER_GRACE_SECONDS); undefined when the key is
 * unset. RangeError, naming the key and the value, for anything but a whole number of seconds >= 0.
 */
export function takeoverGraceSecondsOf(environment: FunctionEnvironment): number | undefined {
  const raw = environment[LOCK_TAKEOVER_GRACE_SECONDS_ENV]?.trim();
  if (raw === undefined || raw === '') return undefined;
  if (!/^\d+$/.test(raw)) {
    throw new RangeError(
      `${LOCK_TAKEOVER_GRACE_SECONDS_ENV} must be a whole number of seconds >= 0, got ${JSON.stringify(raw)}`,
    );
  }
  return Number(raw);
}
