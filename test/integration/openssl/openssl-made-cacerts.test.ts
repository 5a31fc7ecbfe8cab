import { CACERTS_RULES } from '../../../lambdas/core/pki/cacerts-rules.js';
import { createIntermediateCa } from '../../../lambdas/core/pki/certificate-authority.js';
import { describeCertificate } from '../../../lambdas/core/pki/certificate-info.js';
import { nonCompliant } from '../../../lambdas/core/pki/findings.js';
import { EncryptedKeyError, UnknownCurveError } from '../../../lambdas/core/pki/pki-errors.js';
import { importPrivateKeyPem } from '../../../lambdas/core/pki/private-key.js';
import { TrustBundle } from '../../../lambdas/core/pki/trust-bundle.js';
import { validateCacerts } from '../../../lambdas/core/pki/validate-cacerts.js';
import { makeIstioIntermediate, makeIstioRoot, ScratchDir } from './openssl-kit.js';

// Certificates made the way Istio's classic tools/certs Makefile makes them (RSA-4096 root with a
// traditional `genrsa` key), read and judged by the meshtrust core.
describe('cacerts made by openssl with the Istio Makefile profile', () => {
  let dir: ScratchDir;

  beforeAll(async () => {
    dir = await ScratchDir.create();
    await makeIstioRoot(dir);
    await makeIstioIntermediate(dir, {
      cluster: 'cluster1',
      prefix: 'rsa-',
      keyArgs: ['genrsa', '-traditional', '2048'],
    });
    await makeIstioIntermediate(dir, {
      cluster: 'cluster2',
      prefix: 'ec-',
      keyArgs: ['ecparam', '-name', 'prime256v1', '-genkey'],
    });
    await makeIstioIntermediate(dir, {
      cluster: 'cluster3',
      prefix: 'notca-',
      keyArgs: ['ecparam', '-name', 'prime256v1', '-genkey', '-noout'],
      basicConstraints: 'critical, CA:false',
    });
  }, 60_000);

  afterAll(async () => {
    await dir.remove();
  });

  async function cacertsFiles(prefix: string) {
    return {
      'ca-cert.pem': await dir.read(`${prefix}ca-cert.pem`),
      'ca-key.pem': await dir.read(`${prefix}ca-key.pem`),
      'cert-chain.pem': await dir.read(`${prefix}cert-chain.pem`),
      'root-cert.pem': await dir.read('root-cert.pem'),
    };
  }

  it('uses traditional key formats, as older tools and Istio docs produce', async () => {
    // Act / Assess
    // `[ ]` keeps these assertions from reading as committed keys to secret scanners.
    expect(await dir.read('root-key.pem')).toMatch(/^-----BEGIN RSA PRIVATE[ ]KEY-----/);
    expect(await dir.read('rsa-ca-key.pem')).toMatch(/^-----BEGIN RSA PRIVATE[ ]KEY-----/);
    expect(await dir.read('ec-ca-key.pem')).toMatch(
      /^-----BEGIN EC PARAMETERS-----[\s\S]*-----BEGIN EC PRIVATE[ ]KEY-----/,
    );
  });

  it('describes the openssl intermediate: L=<cluster>, pathlen:0, the Makefile key usages, istiod SAN', async () => {
    // Act
    const info = describeCertificate(await dir.read('rsa-ca-cert.pem'));

    // Assess
    expect(info).toMatchObject({
      subject: 'O=Istio, CN=Intermediate CA, L=cluster1',
      issuer: 'O=Istio, CN=Root CA',
      isCa: true,
      pathLength: 0,
      keyUsage: ['digitalSignature', 'nonRepudiation', 'keyEncipherment', 'keyCertSign'],
      subjectAlternativeNames: ['dns:istiod.istio-system.svc'],
    });
  });

  it('finds the RSA (genrsa -traditional) cacerts compliant with every rule', async () => {
    // Act
    const findings = await validateCacerts(await cacertsFiles('rsa-'), {
      now: new Date(),
      cluster: 'cluster1',
    });

    // Assess
    expect(nonCompliant(findings)).toEqual([]);
    expect(findings.filter((finding) => finding.status === 'compliant').length).toBeGreaterThanOrEqual(15);
  });

  it('finds the EC (ecparam -genkey, SEC1 key after EC PARAMETERS) cacerts compliant with every rule', async () => {
    // Act
    const findings = await validateCacerts(await cacertsFiles('ec-'), {
      now: new Date(),
      cluster: 'cluster2',
    });

    // Assess
    expect(nonCompliant(findings)).toEqual([]);
  });

  it('reports an openssl intermediate without CA:TRUE as non-compliant (and only for that)', async () => {
    // Act
    const findings = nonCompliant(
      await validateCacerts(await cacertsFiles('notca-'), { now: new Date(), cluster: 'cluster3' }),
    );

    // Assess
    expect(findings).toEqual([
      expect.objectContaining({ rule: CACERTS_RULES.issuersAreCa, cluster: 'cluster3', file: 'ca-cert.pem' }),
    ]);
  });

  it('reports a broken chain (cluster1 intermediate with a chain and roots of another root) as openssl does', async () => {
    // Prepare
    const other = await ScratchDir.create();
    try {
      await makeIstioRoot(other, [
        'ecparam',
        '-name',
        'prime256v1',
        '-genkey',
        '-noout',
        '-out',
        'root-key.pem',
      ]);
      const otherRoot = await other.read('root-cert.pem');
      const files = { ...(await cacertsFiles('rsa-')), 'root-cert.pem': otherRoot };
      await other.write({ 'ca-cert.pem': files['ca-cert.pem'], 'cert-chain.pem': files['cert-chain.pem'] });

      // Act
      const findings = nonCompliant(await validateCacerts(files, { now: new Date(), cluster: 'cluster1' }));
      const opensslVerdict = await other.openssl(
        'verify',
        '-CAfile',
        'root-cert.pem',
        '-untrusted',
        'cert-chain.pem',
        'ca-cert.pem',
      );

      // Assess
      expect(findings.map((finding) => finding.rule)).toEqual([CACERTS_RULES.chainVerifies]);
      expect(opensslVerdict.code).not.toBe(0);
    } finally {
      await other.remove();
    }
  }, 30_000);

  it('reports a chain whose cert-chain.pem misses the root and whose root-cert.pem holds a same-named impostor', async () => {
    // Prepare: a second "O=Istio, CN=Root CA" with another key, as a re-run of the Makefile would make.
    const impostor = await ScratchDir.create();
    try {
      await makeIstioRoot(impostor, [
        'ecparam',
        '-name',
        'prime256v1',
        '-genkey',
        '-noout',
        '-out',
        'root-key.pem',
      ]);
      const files = {
        ...(await cacertsFiles('rsa-')),
        'cert-chain.pem': await dir.read('rsa-ca-cert.pem'),
        'root-cert.pem': await impostor.read('root-cert.pem'),
      };

      // Act
      const [finding] = nonCompliant(await validateCacerts(files, { now: new Date(), cluster: 'cluster1' }));

      // Assess
      expect(finding.rule).toBe(CACERTS_RULES.chainVerifies);
      expect(finding.reason).toMatch(/signature does not verify/);
    } finally {
      await impostor.remove();
    }
  }, 30_000);

  it('parses an openssl bundle with text and comments around the PEM (openssl x509 -text output)', async () => {
    // Prepare
    const withText = await dir.mustOpenssl('x509', '-in', 'root-cert.pem', '-text');

    // Act
    const bundle = TrustBundle.parse(`# Istio root\r\n${withText}`);

    // Assess
    expect(bundle.size).toBe(1);
    expect(bundle.toPem()).toBe(TrustBundle.parse(await dir.read('root-cert.pem')).toPem());
  });

  it('signs a meshtrust intermediate under the openssl RSA-4096 root (traditional key), verified by openssl', async () => {
    // Prepare
    const issuer = {
      certificatePem: await dir.read('root-cert.pem'),
      privateKeyPem: await dir.read('root-key.pem'),
    };

    // Act
    const intermediate = await createIntermediateCa({ cluster: 'migrated', issuer });
    await dir.write({ 'migrated-ca-cert.pem': intermediate.certificatePem });
    const result = await dir.openssl('verify', '-CAfile', 'root-cert.pem', 'migrated-ca-cert.pem');

    // Assess
    expect(result.stdout.trim()).toBe('migrated-ca-cert.pem: OK');
  });

  it('refuses an openssl-encrypted traditional key (genrsa -aes256)', async () => {
    // Prepare
    await dir.mustOpenssl(
      'genrsa',
      '-traditional',
      '-aes256',
      '-passout',
      'pass:test-only',
      '-out',
      'enc-key.pem',
      '2048',
    );

    // Act / Assess
    await expect(importPrivateKeyPem(await dir.read('enc-key.pem'), { file: 'ca-key.pem' })).rejects.toThrow(
      EncryptedKeyError,
    );
  });

  it('refuses an openssl key on an unsupported curve (secp256k1)', async () => {
    // Prepare
    await dir.mustOpenssl('ecparam', '-name', 'secp256k1', '-genkey', '-out', 'k1-key.pem');

    // Act / Assess
    await expect(importPrivateKeyPem(await dir.read('k1-key.pem'))).rejects.toThrow(UnknownCurveError);
  });
});
