import { CA_SECRET_POLICY_ENV } from '../../../../lambdas/contract/ca-store.js';
import { LOCK_TAKEOVER_GRACE_SECONDS_ENV } from '../../../../lambdas/contract/rotation-lock.js';
import {
  secretPolicyPrincipalsOf,
  takeoverGraceSecondsOf,
} from '../../../../lambdas/core/access/deployed-settings.js';

const role = (name: string) => `arn:aws:iam::123456789012:role/${name}`;

describe('secretPolicyPrincipalsOf', () => {
  it('reads every grant as the handlers do: comma separated, trimmed, empty items dropped', () => {
    // Prepare
    const environment = {
      [CA_SECRET_POLICY_ENV.importedRootKeysRead]: ` ${role('reissue')} ,`,
      [CA_SECRET_POLICY_ENV.rootWrite]: `${role('stage')},${role('promote')}`,
      UNRELATED: 'x',
    };
    // Act
    const principals = secretPolicyPrincipalsOf(environment);
    // Assess
    expect(principals).toEqual({
      rootRead: [],
      rootWrite: [role('stage'), role('promote')],
      intermediatesRead: [],
      intermediatesWrite: [],
      backupsRead: [],
      backupsWrite: [],
      backupsDelete: [],
      importedRootKeysRead: [role('reissue')],
      importedRootKeysDelete: [],
    });
  });

  it('is undefined for an environment that names no role (no stack: no policy)', () => {
    // Act
    const blank = secretPolicyPrincipalsOf({ [CA_SECRET_POLICY_ENV.rootRead]: ' , ' });
    const none = secretPolicyPrincipalsOf({});
    // Assess
    expect([blank, none]).toEqual([undefined, undefined]);
  });
});

describe('takeoverGraceSecondsOf', () => {
  it('reads the seconds the stack set', () => {
    // Act
    const grace = takeoverGraceSecondsOf({ [LOCK_TAKEOVER_GRACE_SECONDS_ENV]: ' 1200 ' });
    // Assess
    expect(grace).toBe(1200);
  });

  it('is undefined when the key is unset or blank', () => {
    // Act
    const unset = takeoverGraceSecondsOf({});
    const blank = takeoverGraceSecondsOf({ [LOCK_TAKEOVER_GRACE_SECONDS_ENV]: '' });
    // Assess
    expect([unset, blank]).toEqual([undefined, undefined]);
  });

  it.each(['-5', '1.5', '15m', 'abc'])('refuses %j, naming the key and the value', (value) => {
    // Act
    const read = () => takeoverGraceSecondsOf({ [LOCK_TAKEOVER_GRACE_SECONDS_ENV]: value });
    // Assess
    expect(read).toThrow(RangeError);
    expect(read).toThrow(
      `${LOCK_TAKEOVER_GRACE_SECONDS_ENV} must be a whole number of seconds >= 0, got "${value}"`,
    );
  });
});
