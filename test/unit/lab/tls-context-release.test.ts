// A TLS context is freed on demand: its certificate is gone once released, and a context this Node
// cannot free is reported as such rather than pretended freed.
import { X509Certificate } from 'node:crypto';
import { createSecureContext, createServer, type SecureContext } from 'node:tls';
import {
  releasedTlsContexts,
  releaseTlsContext,
  serverTlsContext,
} from '../../../lab/istio/tls-context-release.js';
import { makeTestCa, type TestCa } from '../../support/test-ca.js';

let ca: TestCa;

/** What the context holds for its owner to present: node:tls's binding, read here only to observe. */
function presented(context: SecureContext): Buffer | null {
  return (context as unknown as { context: { getCertificate(): Buffer | null } }).context.getCertificate();
}

beforeAll(async () => {
  ca = await makeTestCa('release');
});

describe('releaseTlsContext', () => {
  it('frees the certificate a context holds and counts it', () => {
    // Prepare
    const context = createSecureContext({ cert: ca.certificatePem, key: ca.privateKeyPem });
    const before = releasedTlsContexts();
    expect(presented(context)).not.toBeNull();

    // Act
    const freed = releaseTlsContext(context);

    // Assess
    expect(freed).toBe(true);
    expect(presented(context)).toBeNull();
    expect(releasedTlsContexts()).toBe(before + 1);
  });

  it('frees nothing and says so where there is no context or no way to free it', () => {
    // Prepare
    const before = releasedTlsContexts();
    const foreign = { context: {} } as unknown as SecureContext;

    // Act
    const results = [releaseTlsContext(undefined), releaseTlsContext(foreign)];

    // Assess
    expect(results).toEqual([false, false]);
    expect(releasedTlsContexts()).toBe(before);
  });
});

describe('serverTlsContext', () => {
  it("is the context carrying the server's own certificate", () => {
    // Prepare
    const server = createServer({ cert: ca.certificatePem, key: ca.privateKeyPem });

    // Act
    const context = serverTlsContext(server);

    // Assess
    expect(context).toBeDefined();
    const der = new X509Certificate(ca.certificatePem).raw;
    expect(presented(context as SecureContext)?.equals(der)).toBe(true);
  });
});
