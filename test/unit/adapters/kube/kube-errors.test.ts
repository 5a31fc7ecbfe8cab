import { ApiException } from '@kubernetes/client-node';
import { RBAC_MANIFEST, toClusterError } from '../../../../lambdas/adapters/kube/kube-errors.js';
import { PreconditionFailed } from '../../../../lambdas/core/rotation-errors.js';

/** A 403 as client-node throws it, with the Status body the API server sent. */
function forbidden(message: string): ApiException<string> {
  return new ApiException(
    403,
    'Unknown API Status Code!',
    JSON.stringify({
      kind: 'Status',
      apiVersion: 'v1',
      status: 'Failure',
      reason: 'Forbidden',
      code: 403,
      message,
    }),
    {},
  );
}

const CONTEXT = { cluster: 'eu-prod', action: 'restart Deployment shop/web' };

describe('toClusterError on 403 Forbidden', () => {
  it('points a refusal by RBAC at the access entry and rbac.yaml', () => {
    // Prepare
    const error = forbidden(
      'deployments.apps "web" is forbidden: User "alice" cannot patch resource "deployments" in API group "apps" in the namespace "shop"',
    );

    // Act
    const mapped = toClusterError(error, CONTEXT);

    // Assess
    expect(mapped).toBeInstanceOf(PreconditionFailed);
    expect((mapped as Error).message).toContain('needs an EKS access entry');
    expect((mapped as Error).message).toContain(RBAC_MANIFEST);
  });

  it("says what to do when the restart-only admission policy refused the rotator's restart", () => {
    // Prepare: the message the real API server sends (test/integration/lab/rotator-restart-policy.test.ts)
    const error = forbidden(
      `deployments.apps "web" is forbidden: ValidatingAdmissionPolicy 'meshtrust-rotator-restart-only' with binding 'meshtrust-rotator-restart-only' denied request: meshtrust-rotator may only update a workload's pod template annotations kubectl.kubernetes.io/restartedAt and meshtrust.io/restart-id; it may not change the pod template's labels or other metadata`,
    );

    // Act
    const mapped = toClusterError(error, CONTEXT);

    // Assess
    expect(mapped).toBeInstanceOf(PreconditionFailed);
    const message = (mapped as Error).message;
    expect(message).toContain('refused by admission policy meshtrust-rotator-restart-only');
    expect(message).toContain("may not change the pod template's labels");
    expect(message).toContain('mutating admission webhook');
    expect(message).not.toContain('needs an EKS access entry');
    expect((mapped as PreconditionFailed).cluster).toBe('eu-prod');
  });
});
