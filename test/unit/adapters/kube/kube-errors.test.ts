import { RBAC_MANIFEST, toClusterError } from '../../../../lambdas/adapters/kube/kube-errors.js';
import { KubeApiError } from '../../../../lambdas/adapters/kube/kube-rest.js';
import { PreconditionFailed, TransientError } from '../../../../lambdas/core/rotation-errors.js';

/** A 403 as the cluster client throws it, with the Status body the API server sent. */
function forbidden(message: string): KubeApiError {
  return new KubeApiError(
    'PATCH',
    '/apis/apps/v1/namespaces/shop/deployments/web',
    403,
    JSON.stringify({
      kind: 'Status',
      apiVersion: 'v1',
      status: 'Failure',
      reason: 'Forbidden',
      code: 403,
      message,
    }),
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

/** An error of STS as the AWS SDK v3 throws it when AssumeRole fails (name, $fault, $metadata). */
function stsError(name: string, httpStatusCode: number, message: string): Error {
  return Object.assign(new Error(message), {
    name,
    $fault: httpStatusCode >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode },
  });
}

describe("toClusterError on a failure to fetch the cluster role's credentials", () => {
  it.each([
    ['Throttling', 400, 'Rate exceeded'],
    ['ServiceUnavailable', 503, 'Service unavailable'],
  ])(
    'maps STS %s (HTTP %i), which the SDK retried in vain, to a TransientError naming the cluster and STS',
    (name, status, message) => {
      // Act
      const mapped = toClusterError(stsError(name, status, message), CONTEXT);

      // Assess: the state machine retries TransientError, not an error named after STS's code
      expect(mapped).toBeInstanceOf(TransientError);
      expect((mapped as TransientError).name).toBe('TransientError');
      expect((mapped as TransientError).cluster).toBe('eu-prod');
      expect((mapped as Error).message).toContain(`${name}: ${message}`);
      expect((mapped as Error).message).toContain('STS');
    },
  );

  it('leaves a refusal of STS as it is: waiting does not fix it', () => {
    // Prepare
    const error = stsError('AccessDenied', 403, 'User is not authorized to perform: sts:AssumeRole');

    // Act
    const mapped = toClusterError(error, CONTEXT);

    // Assess
    expect(mapped).toBe(error);
  });
});

describe('toClusterError on a request that got no answer', () => {
  it('maps a name that does not resolve (a system error, not one of the reset codes) to a TransientError', () => {
    // Prepare: what node:https reports for an endpoint DNS does not know
    const error = Object.assign(new Error('getaddrinfo ENOTFOUND eu-prod.example'), {
      code: 'ENOTFOUND',
      syscall: 'getaddrinfo',
    });

    // Act
    const mapped = toClusterError(error, CONTEXT);

    // Assess
    expect(mapped).toBeInstanceOf(TransientError);
    expect((mapped as Error).message).toBe(
      'Could not restart Deployment shop/web in cluster eu-prod: no answer from the API server (ENOTFOUND); retry later.',
    );
  });

  it('leaves an error without a system call as it is: a bug, not the network', () => {
    // Prepare
    const error = Object.assign(new Error('unexpected'), { code: 'ERR_SOMETHING' });

    // Act
    const mapped = toClusterError(error, CONTEXT);

    // Assess
    expect(mapped).toBe(error);
  });
});
