// Reading a proxy's served chain from Envoy's config dump, and telling its leaf's issuer by name and
// signature. The dumps are the lab's Envoy admin stand-in's (whose shape real istioctl accepts:
// test/integration/lab/envoy-admin-stand-in.test.ts), in both forms Envoy prints.
import { configDump } from '../../../../lab/node-agent/envoy-admin-stand-in.js';
import { servedChainPem, servedLeafIssuer } from '../../../../lambdas/core/istio/served-certificate.js';
import {
  type CaMaterial,
  certificateFingerprint,
  createIntermediateCa,
  createRootCa,
} from '../../../../lambdas/core/pki/index.js';
import { VerificationFailed } from '../../../../lambdas/core/rotation-errors.js';
import { issueTestCertificate } from '../pki/pki-test-kit.js';

let root: CaMaterial;
let intermediate: CaMaterial;
let leaf: CaMaterial;
/** Same subject as `intermediate`, another key: what a name-only check would take for the issuer. */
let impostor: CaMaterial;

beforeAll(async () => {
  root = await createRootCa({ commonName: 'Root A' });
  intermediate = await createIntermediateCa({ cluster: 'lab-1', issuer: root });
  impostor = await createIntermediateCa({
    cluster: 'lab-1',
    issuer: await createRootCa({ commonName: 'Root X' }),
  });
  leaf = await issueTestCertificate({ subject: 'O=workload', issuer: intermediate, ca: false });
});

const served = (certChainPem: string) => ({
  certChainPem,
  rootCertPem: root.certificatePem,
  updatedAt: new Date(),
});

describe('servedChainPem', () => {
  it("reads the default secret's chain from istioctl's masked dump and from the resource form", () => {
    // Prepare
    const chain = `${leaf.certificatePem}${intermediate.certificatePem}${root.certificatePem}`;

    // Act
    const masked = servedChainPem(
      configDump(new URLSearchParams('mask=dynamic_active_secrets,dynamic_warming_secrets'), served(chain)),
    );
    const byResource = servedChainPem(
      configDump(new URLSearchParams('resource=dynamic_active_secrets'), served(chain)),
    );

    // Assess
    expect(masked).toBe(chain);
    expect(byResource).toBe(chain);
  });

  it('finds nothing before Envoy has a workload certificate, or in something else', () => {
    expect(servedChainPem(configDump(new URLSearchParams(), undefined))).toBeUndefined();
    expect(servedChainPem({ configs: 'no' })).toBeUndefined();
    expect(servedChainPem(null)).toBeUndefined();
  });
});

describe('servedLeafIssuer', () => {
  it('names the chain certificate that signed the leaf', async () => {
    // Act
    const result = await servedLeafIssuer(
      `${leaf.certificatePem}${intermediate.certificatePem}${root.certificatePem}`,
      { pod: 'shop/app' },
    );

    // Assess
    expect(result.issuerFingerprint).toBe(certificateFingerprint(intermediate.certificatePem));
    expect(result.leafFingerprint).toBe(certificateFingerprint(leaf.certificatePem));
  });

  it('refuses an issuer that has the right name but did not sign the leaf', async () => {
    // Act
    const reading = servedLeafIssuer(`${leaf.certificatePem}${impostor.certificatePem}`, { pod: 'shop/app' });

    // Assess
    await expect(reading).rejects.toThrow(VerificationFailed);
    await expect(reading).rejects.toThrow(/shop\/app serves a chain without the issuer of its leaf/);
  });

  it('refuses a chain of the leaf alone and one that does not parse', async () => {
    await expect(servedLeafIssuer(leaf.certificatePem, { pod: 'p' })).rejects.toThrow(VerificationFailed);
    await expect(servedLeafIssuer('not a certificate', { pod: 'p' })).rejects.toThrow(VerificationFailed);
  });
});
