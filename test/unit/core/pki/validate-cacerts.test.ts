import { assembleCacerts, type CacertsFiles } from '../../../../lambdas/core/pki/cacerts.js';
import { CACERTS_RULES } from '../../../../lambdas/core/pki/cacerts-rules.js';
import {
  type CaMaterial,
  createIntermediateCa,
  createRootCa,
} from '../../../../lambdas/core/pki/certificate-authority.js';
import { type Finding, isCompliant, nonCompliant } from '../../../../lambdas/core/pki/findings.js';
import { generateKeyPair } from '../../../../lambdas/core/pki/key-algorithm.js';
import { exportPrivateKeyPem } from '../../../../lambdas/core/pki/private-key.js';
import { TrustBundle } from '../../../../lambdas/core/pki/trust-bundle.js';
import { validateCacerts } from '../../../../lambdas/core/pki/validate-cacerts.js';
import { x509 } from '../../../../lambdas/core/pki/x509.js';
import { CA_USAGE, DAY_MS, issueTestCertificate, NOW } from './pki-test-kit.js';

const CLUSTER = 'east';
let root: CaMaterial;
let intermediate: CaMaterial;
let good: CacertsFiles;

beforeAll(async () => {
  root = await createRootCa({ now: NOW });
  intermediate = await createIntermediateCa({ cluster: CLUSTER, issuer: root, now: NOW });
  good = cacertsOf(intermediate, [root], [root]);
});

function cacertsOf(leaf: CaMaterial, above: CaMaterial[], roots: CaMaterial[]): CacertsFiles {
  return assembleCacerts({
    intermediate: leaf,
    chainAbove: above.map((ca) => ca.certificatePem),
    trustedRoots: TrustBundle.of(roots.map((ca) => ca.certificatePem)),
  });
}

async function findingsOf(
  rule: string,
  files: Partial<CacertsFiles>,
  options: { now?: Date; extraKeys?: string[] } = {},
): Promise<Finding[]> {
  const all = await validateCacerts(files, {
    now: options.now ?? NOW,
    cluster: CLUSTER,
    extraKeys: options.extraKeys,
  });
  return all.filter((finding) => finding.rule === rule);
}

const statuses = (findings: Finding[]) => findings.map((finding) => finding.status);

describe('validateCacerts as a whole', () => {
  it('finds a freshly assembled cacerts compliant with every rule', async () => {
    // Act
    const findings = await validateCacerts(good, { now: NOW, cluster: CLUSTER });

    // Assess
    expect(nonCompliant(findings)).toEqual([]);
    expect(new Set(findings.map((finding) => finding.rule))).toEqual(new Set(Object.values(CACERTS_RULES)));
    expect(findings.every((finding) => finding.cluster === CLUSTER)).toBe(true);
  });

  it('names the file of every non-compliant finding and never quotes key material', async () => {
    // Prepare
    const other = await createRootCa();
    const broken = { ...good, 'ca-key.pem': other.privateKeyPem, 'root-cert.pem': other.certificatePem };

    // Act
    const bad = nonCompliant(await validateCacerts(broken, { now: NOW, cluster: CLUSTER }));

    // Assess
    expect(bad.length).toBeGreaterThan(0);
    expect(bad.every((finding) => typeof finding.file === 'string')).toBe(true);
    const keyBody = other.privateKeyPem.split('\n')[1];
    expect(JSON.stringify(bad)).not.toContain(keyBody);
    expect(JSON.stringify(bad)).not.toContain('PRIVATE KEY-----');
  });
});

describe(`rule ${CACERTS_RULES.keysPresent}`, () => {
  it('compliant: all four keys present', async () => {
    // Act / Assess
    expect(statuses(await findingsOf(CACERTS_RULES.keysPresent, good))).toEqual(Array(4).fill('compliant'));
  });

  it('non-compliant: ca-key.pem missing and root-cert.pem empty, each named', async () => {
    // Prepare
    const { 'ca-key.pem': _dropped, ...withoutKey } = good;

    // Act
    const findings = nonCompliant(
      await findingsOf(CACERTS_RULES.keysPresent, { ...withoutKey, 'root-cert.pem': ' \n' }),
    );

    // Assess
    expect(findings.map((finding) => finding.file)).toEqual(['ca-key.pem', 'root-cert.pem']);
    expect(findings[0].reason).toMatch(
      /istiod needs all of ca-cert.pem, ca-key.pem, cert-chain.pem, root-cert.pem/,
    );
  });
});

describe(`rule ${CACERTS_RULES.noTlsOverride}`, () => {
  it('compliant: no tls.crt/tls.key, other extra keys ignored', async () => {
    // Act / Assess
    expect(statuses(await findingsOf(CACERTS_RULES.noTlsOverride, good, { extraKeys: ['README'] }))).toEqual([
      'compliant',
    ]);
  });

  it('non-compliant: tls.crt and tls.key present, which istiod reads instead of the plug-in files', async () => {
    // Act
    const [finding] = await findingsOf(CACERTS_RULES.noTlsOverride, good, {
      extraKeys: ['tls.crt', 'tls.key'],
    });

    // Assess
    expect(finding).toMatchObject({ status: 'non-compliant', cluster: CLUSTER, file: 'tls.crt' });
    expect(finding.reason).toMatch(/tls.crt and tls.key: with tls.crt present istiod signs with tls.crt/);
    expect(finding.reason).toMatch(/reads none of ca-cert.pem, ca-key.pem, cert-chain.pem, root-cert.pem/);
  });

  it('non-compliant: tls.crt alone, which istiod reads (and refuses as incomplete without tls.key)', async () => {
    // Act
    const [finding] = await findingsOf(CACERTS_RULES.noTlsOverride, good, { extraKeys: ['tls.crt'] });

    // Assess
    expect(finding).toMatchObject({ status: 'non-compliant', file: 'tls.crt' });
    expect(finding.reason).toMatch(/without tls.key or ca.crt istiod refuses the bundle as incomplete/);
  });

  it('non-compliant: tls.key without tls.crt, ignored by istiod until a tls.crt arrives', async () => {
    // Act
    const [finding] = await findingsOf(CACERTS_RULES.noTlsOverride, good, { extraKeys: ['tls.key'] });

    // Assess
    expect(finding).toMatchObject({ status: 'non-compliant', file: 'tls.key' });
    expect(finding.reason).toMatch(/tls.key without tls.crt: istiod ignores it for now.*Remove tls.key/);
  });
});

describe(`rule ${CACERTS_RULES.pemParses}`, () => {
  it('compliant: every file parses with the right block type', async () => {
    // Act / Assess
    expect(statuses(await findingsOf(CACERTS_RULES.pemParses, good))).toEqual(Array(4).fill('compliant'));
  });

  it('non-compliant: a key stored under ca-cert.pem', async () => {
    // Act
    const findings = nonCompliant(
      await findingsOf(CACERTS_RULES.pemParses, { ...good, 'ca-cert.pem': intermediate.privateKeyPem }),
    );

    // Assess
    expect(findings).toEqual([expect.objectContaining({ file: 'ca-cert.pem', cluster: CLUSTER })]);
    expect(findings[0].reason).toMatch(/holds a "PRIVATE KEY" PEM block where "CERTIFICATE" is expected/);
  });

  it('non-compliant: two certificates in ca-cert.pem', async () => {
    // Act
    const findings = nonCompliant(
      await findingsOf(CACERTS_RULES.pemParses, { ...good, 'ca-cert.pem': good['cert-chain.pem'] }),
    );

    // Assess
    expect(findings[0].reason).toMatch(/expected exactly one certificate, found 2/);
  });

  it('non-compliant: truncated cert-chain.pem', async () => {
    // Prepare
    const truncated = good['cert-chain.pem'].slice(0, good['cert-chain.pem'].length - 30);

    // Act
    const findings = nonCompliant(
      await findingsOf(CACERTS_RULES.pemParses, { ...good, 'cert-chain.pem': truncated }),
    );

    // Assess
    expect(findings).toEqual([expect.objectContaining({ file: 'cert-chain.pem' })]);
    expect(findings[0].reason).toMatch(/looks truncated/);
  });

  it('non-compliant: encrypted ca-key.pem', async () => {
    // Prepare
    const { createPrivateKey } = await import('node:crypto');
    const encrypted = createPrivateKey(intermediate.privateKeyPem)
      .export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'test-only' })
      .toString();

    // Act
    const findings = nonCompliant(
      await findingsOf(CACERTS_RULES.pemParses, { ...good, 'ca-key.pem': encrypted }),
    );

    // Assess
    expect(findings[0]).toMatchObject({ file: 'ca-key.pem' });
    expect(findings[0].reason).toMatch(/encrypted private key/);
  });
});

describe(`rule ${CACERTS_RULES.caCertHeadsChain}`, () => {
  it('compliant: cert-chain.pem starts with ca-cert.pem', async () => {
    // Act / Assess
    expect(statuses(await findingsOf(CACERTS_RULES.caCertHeadsChain, good))).toEqual(['compliant']);
  });

  it('non-compliant: cert-chain.pem holds only the root', async () => {
    // Act / Assess
    expect(
      statuses(
        await findingsOf(CACERTS_RULES.caCertHeadsChain, { ...good, 'cert-chain.pem': root.certificatePem }),
      ),
    ).toEqual(['non-compliant']);
  });

  it('not applicable: cert-chain.pem does not parse', async () => {
    // Act / Assess
    expect(
      statuses(await findingsOf(CACERTS_RULES.caCertHeadsChain, { ...good, 'cert-chain.pem': 'x' })),
    ).toEqual(['not-applicable']);
  });
});

describe(`rule ${CACERTS_RULES.chainVerifies}`, () => {
  it('compliant: intermediate signed by the root in root-cert.pem', async () => {
    // Act / Assess
    expect(statuses(await findingsOf(CACERTS_RULES.chainVerifies, good))).toEqual(['compliant']);
  });

  it('compliant: mid-rotation, intermediate under root B with root-cert.pem = A+B', async () => {
    // Prepare
    const rootB = await createRootCa({ now: NOW, commonName: 'Root B' });
    const intermediateB = await createIntermediateCa({ cluster: CLUSTER, issuer: rootB, now: NOW });

    // Act
    const findings = await findingsOf(
      CACERTS_RULES.chainVerifies,
      cacertsOf(intermediateB, [rootB], [root, rootB]),
    );

    // Assess
    expect(statuses(findings)).toEqual(['compliant']);
    expect(findings[0].reason).toContain('Root B');
  });

  it('compliant: three levels (root -> pathlen:1 CA -> ca-cert) with the middle CA in cert-chain.pem', async () => {
    // Prepare
    const middle = await issueTestCertificate({
      subject: 'CN=middle',
      issuer: root,
      ca: true,
      pathLength: 1,
      keyUsage: CA_USAGE,
    });
    const leaf = await issueTestCertificate({
      subject: 'CN=leaf',
      issuer: middle,
      ca: true,
      pathLength: 0,
      keyUsage: CA_USAGE,
    });

    // Act
    const findings = await validateCacerts(cacertsOf(leaf, [middle, root], [root]), { now: NOW });

    // Assess
    expect(nonCompliant(findings)).toEqual([]);
  });

  it('non-compliant: the middle CA is missing from cert-chain.pem', async () => {
    // Prepare
    const middle = await issueTestCertificate({
      subject: 'CN=middle',
      issuer: root,
      ca: true,
      keyUsage: CA_USAGE,
    });
    const leaf = await issueTestCertificate({
      subject: 'CN=leaf',
      issuer: middle,
      ca: true,
      pathLength: 0,
      keyUsage: CA_USAGE,
    });

    // Act
    const [finding] = await findingsOf(CACERTS_RULES.chainVerifies, cacertsOf(leaf, [root], [root]));

    // Assess
    expect(finding.status).toBe('non-compliant');
    expect(finding.reason).toMatch(
      /no certificate in cert-chain.pem or root-cert.pem is the issuer "CN=middle"/,
    );
  });

  it('non-compliant: root-cert.pem trusts another root (ends at a self-signed root it does not contain)', async () => {
    // Prepare
    const other = await createRootCa({ now: NOW });

    // Act
    const [finding] = await findingsOf(CACERTS_RULES.chainVerifies, {
      ...good,
      'root-cert.pem': other.certificatePem,
    });

    // Assess
    expect(finding).toMatchObject({ status: 'non-compliant', file: 'ca-cert.pem', cluster: CLUSTER });
    expect(finding.reason).toMatch(/self-signed .* which root-cert.pem does not contain/);
  });

  it('non-compliant: a forged intermediate that names the root but is signed by another key', async () => {
    // Prepare
    const impostor = await createRootCa({ now: NOW });
    const forged = await issueTestCertificate({
      subject: 'CN=forged',
      issuer: root,
      signWith: impostor,
      ca: true,
      pathLength: 0,
      keyUsage: CA_USAGE,
    });

    // Act
    const [finding] = await findingsOf(CACERTS_RULES.chainVerifies, cacertsOf(forged, [root], [root]));

    // Assess
    expect(finding.status).toBe('non-compliant');
    expect(finding.reason).toMatch(/signature does not verify/);
  });
});

describe(`rule ${CACERTS_RULES.validity}`, () => {
  it('compliant: every certificate valid now', async () => {
    // Act / Assess
    expect(statuses(await findingsOf(CACERTS_RULES.validity, good))).toEqual(['compliant']);
  });

  it('non-compliant: the intermediate expired (the root still valid)', async () => {
    // Act
    const findings = await findingsOf(CACERTS_RULES.validity, good, {
      now: new Date(NOW.getTime() + 400 * DAY_MS),
    });

    // Assess
    expect(findings).toEqual([expect.objectContaining({ status: 'non-compliant', file: 'ca-cert.pem' })]);
    expect(findings[0].reason).toMatch(/expired at .*rotate it/);
  });

  it('non-compliant: both expired, one finding each', async () => {
    // Act
    const findings = await findingsOf(CACERTS_RULES.validity, good, {
      now: new Date(NOW.getTime() + 4000 * DAY_MS),
    });

    // Assess
    expect(findings.map((finding) => finding.file)).toEqual(['ca-cert.pem', 'root-cert.pem']);
  });

  it('non-compliant: not yet valid (issued by a clock ahead of ours)', async () => {
    // Act
    const findings = await findingsOf(CACERTS_RULES.validity, good, {
      now: new Date(NOW.getTime() - DAY_MS),
    });

    // Assess
    expect(findings[0].reason).toMatch(/is not valid before/);
  });
});

describe(`rule ${CACERTS_RULES.issuersAreCa}`, () => {
  it('compliant: intermediate and root are CAs', async () => {
    // Act / Assess
    expect(statuses(await findingsOf(CACERTS_RULES.issuersAreCa, good))).toEqual(['compliant']);
  });

  it('non-compliant: ca-cert.pem without CA:TRUE', async () => {
    // Prepare
    const notCa = await issueTestCertificate({
      subject: 'CN=not-a-ca',
      issuer: root,
      ca: false,
      keyUsage: CA_USAGE,
    });

    // Act
    const findings = await findingsOf(CACERTS_RULES.issuersAreCa, cacertsOf(notCa, [root], [root]));

    // Assess
    expect(findings).toEqual([expect.objectContaining({ status: 'non-compliant', file: 'ca-cert.pem' })]);
    expect(findings[0].reason).toMatch(/"CN=not-a-ca" \(ca-cert.pem\) is not a CA/);
  });

  it('non-compliant: no basicConstraints at all', async () => {
    // Prepare
    const bare = await issueTestCertificate({ subject: 'CN=bare', issuer: root });

    // Act / Assess
    expect(statuses(await findingsOf(CACERTS_RULES.issuersAreCa, cacertsOf(bare, [root], [root])))).toEqual([
      'non-compliant',
    ]);
  });
});

describe(`rule ${CACERTS_RULES.keyCertSign}`, () => {
  it('compliant: keyCertSign present', async () => {
    // Act / Assess
    expect(statuses(await findingsOf(CACERTS_RULES.keyCertSign, good))).toEqual(['compliant']);
  });

  it('compliant: no keyUsage extension (unrestricted, as Go and openssl treat it)', async () => {
    // Prepare
    const free = await issueTestCertificate({ subject: 'CN=free', issuer: root, ca: true, pathLength: 0 });

    // Act / Assess
    expect(statuses(await findingsOf(CACERTS_RULES.keyCertSign, cacertsOf(free, [root], [root])))).toEqual([
      'compliant',
    ]);
  });

  it('non-compliant: keyUsage digitalSignature only', async () => {
    // Prepare
    const signer = await issueTestCertificate({
      subject: 'CN=signer',
      issuer: root,
      ca: true,
      pathLength: 0,
      keyUsage: x509.KeyUsageFlags.digitalSignature,
    });

    // Act
    const findings = await findingsOf(CACERTS_RULES.keyCertSign, cacertsOf(signer, [root], [root]));

    // Assess
    expect(findings).toEqual([expect.objectContaining({ status: 'non-compliant', file: 'ca-cert.pem' })]);
  });
});

describe(`rule ${CACERTS_RULES.pathLength}`, () => {
  it('compliant: pathlen:0 intermediate directly under an unconstrained root', async () => {
    // Act / Assess
    expect(statuses(await findingsOf(CACERTS_RULES.pathLength, good))).toEqual(['compliant']);
  });

  it('non-compliant: a root with pathlen:0 above an intermediate CA', async () => {
    // Prepare
    const tightRoot = await issueTestCertificate({
      subject: 'CN=tight root',
      ca: true,
      pathLength: 0,
      keyUsage: CA_USAGE,
    });
    const leaf = await issueTestCertificate({
      subject: 'CN=leaf',
      issuer: tightRoot,
      ca: true,
      pathLength: 0,
      keyUsage: CA_USAGE,
    });

    // Act
    const findings = await findingsOf(CACERTS_RULES.pathLength, cacertsOf(leaf, [tightRoot], [tightRoot]));

    // Assess
    expect(findings).toEqual([expect.objectContaining({ status: 'non-compliant', file: 'root-cert.pem' })]);
    expect(findings[0].reason).toMatch(/pathlen:0 but 1 CA certificate\(s\) sit below it/);
  });

  it('non-compliant: a pathlen:0 middle CA above ca-cert.pem', async () => {
    // Prepare
    const middle = await issueTestCertificate({
      subject: 'CN=middle',
      issuer: root,
      ca: true,
      pathLength: 0,
      keyUsage: CA_USAGE,
    });
    const leaf = await issueTestCertificate({
      subject: 'CN=leaf',
      issuer: middle,
      ca: true,
      pathLength: 0,
      keyUsage: CA_USAGE,
    });

    // Act
    const findings = nonCompliant(
      await findingsOf(CACERTS_RULES.pathLength, cacertsOf(leaf, [middle, root], [root])),
    );

    // Assess
    expect(findings).toEqual([expect.objectContaining({ file: 'cert-chain.pem' })]);
  });
});

describe(`rule ${CACERTS_RULES.extendedKeyUsage}`, () => {
  it('compliant: no EKU anywhere', async () => {
    // Act / Assess
    expect(statuses(await findingsOf(CACERTS_RULES.extendedKeyUsage, good))).toEqual(['compliant']);
  });

  it('compliant: EKU serverAuth+clientAuth on ca-cert.pem', async () => {
    // Prepare
    const withEku = await issueTestCertificate({
      subject: 'CN=eku',
      issuer: root,
      ca: true,
      pathLength: 0,
      keyUsage: CA_USAGE,
      extendedKeyUsage: [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth],
    });

    // Act / Assess
    expect(
      statuses(await findingsOf(CACERTS_RULES.extendedKeyUsage, cacertsOf(withEku, [root], [root]))),
    ).toEqual(['compliant']);
  });

  it('non-compliant: EKU clientAuth only on ca-cert.pem, which istiod rejects', async () => {
    // Prepare
    const clientOnly = await issueTestCertificate({
      subject: 'CN=client-only',
      issuer: root,
      ca: true,
      pathLength: 0,
      keyUsage: CA_USAGE,
      extendedKeyUsage: [x509.ExtendedKeyUsage.clientAuth],
    });

    // Act
    const findings = await findingsOf(CACERTS_RULES.extendedKeyUsage, cacertsOf(clientOnly, [root], [root]));

    // Assess
    expect(findings).toEqual([expect.objectContaining({ status: 'non-compliant', file: 'ca-cert.pem' })]);
    expect(findings[0].reason).toMatch(/clientAuth without serverAuth/);
  });

  it('non-compliant: EKU with only an OID Go does not know, which Go treats as lacking serverAuth', async () => {
    // Prepare: Go 1.26 x509.Verify (default usage serverAuth) says "incompatible key usage" for this too
    const privateOid = await issueTestCertificate({
      subject: 'CN=private-eku',
      issuer: root,
      ca: true,
      pathLength: 0,
      keyUsage: CA_USAGE,
      extendedKeyUsage: ['1.3.6.1.4.1.99999.1'],
    });

    // Act
    const findings = await findingsOf(CACERTS_RULES.extendedKeyUsage, cacertsOf(privateOid, [root], [root]));

    // Assess
    expect(findings).toEqual([expect.objectContaining({ status: 'non-compliant', file: 'ca-cert.pem' })]);
    expect(findings[0].reason).toMatch(/extendedKeyUsage 1\.3\.6\.1\.4\.1\.99999\.1 without serverAuth/);
  });
});

describe(`rule ${CACERTS_RULES.keyMatchesCert}`, () => {
  it('compliant: ca-key.pem belongs to ca-cert.pem', async () => {
    // Act / Assess
    expect(statuses(await findingsOf(CACERTS_RULES.keyMatchesCert, good))).toEqual(['compliant']);
  });

  it('non-compliant: ca-key.pem of another certificate', async () => {
    // Prepare
    const otherKey = await exportPrivateKeyPem((await generateKeyPair('ecdsa-p256')).privateKey);

    // Act
    const findings = await findingsOf(CACERTS_RULES.keyMatchesCert, { ...good, 'ca-key.pem': otherKey });

    // Assess
    expect(findings).toEqual([expect.objectContaining({ status: 'non-compliant', file: 'ca-key.pem' })]);
  });

  it('not applicable: ca-key.pem missing (reported by keys-present)', async () => {
    // Prepare
    const { 'ca-key.pem': _dropped, ...withoutKey } = good;

    // Act
    const all = await validateCacerts(withoutKey, { now: NOW });

    // Assess
    expect(statuses(all.filter((finding) => finding.rule === CACERTS_RULES.keyMatchesCert))).toEqual([
      'not-applicable',
    ]);
    expect(isCompliant(all)).toBe(false);
  });
});
