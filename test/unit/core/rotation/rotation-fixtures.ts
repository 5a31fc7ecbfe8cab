// CAs and cacerts for the rotation core's tests, made at run time with the PKI core (P-256: fast).
import {
  assembleCacerts,
  type CacertsFiles,
  type CaMaterial,
  certificateFingerprint,
  createIntermediateCa,
  createRootCa,
  TrustBundle,
} from '../../../../lambdas/core/pki/index.js';

export interface RotationFixtures {
  readonly rootA: CaMaterial;
  readonly rootB: CaMaterial;
  readonly rootX: CaMaterial;
  readonly intA: CaMaterial;
  readonly intB: CaMaterial;
  readonly fpA: string;
  readonly fpB: string;
  readonly fpX: string;
  /** The start state of cluster c1: int_A, chain int_A + A, root-cert {A}. */
  readonly start: CacertsFiles;
}

export async function makeRotationFixtures(): Promise<RotationFixtures> {
  const [rootA, rootB, rootX] = await Promise.all([
    createRootCa({ commonName: 'root A' }),
    createRootCa({ commonName: 'root B' }),
    createRootCa({ commonName: 'root X' }),
  ]);
  const [intA, intB] = await Promise.all([
    createIntermediateCa({ cluster: 'c1', issuer: rootA }),
    createIntermediateCa({ cluster: 'c1', issuer: rootB }),
  ]);
  return {
    rootA,
    rootB,
    rootX,
    intA,
    intB,
    fpA: certificateFingerprint(rootA.certificatePem),
    fpB: certificateFingerprint(rootB.certificatePem),
    fpX: certificateFingerprint(rootX.certificatePem),
    start: cacertsOf(intA, rootA, [rootA]),
  };
}

/** cacerts of an intermediate issued by `issuer`, trusting `roots`. */
export function cacertsOf(intermediate: CaMaterial, issuer: CaMaterial, roots: CaMaterial[]): CacertsFiles {
  return assembleCacerts({
    intermediate,
    chainAbove: [issuer.certificatePem],
    trustedRoots: TrustBundle.of(roots.map((root) => root.certificatePem)),
  });
}

export function rootsOf(files: CacertsFiles): string[] {
  return TrustBundle.parse(files['root-cert.pem']).fingerprints();
}

/**
 * root-cert.pem files as operators and tools leave them, each holding only root A: the bytes istiod
 * loaded at start, which every later write must keep inside itself (Istio up to 1.29 compares bytes).
 */
export function originalRootCertFiles(rootA: CaMaterial): [string, string][] {
  const pem = rootA.certificatePem;
  return [
    ['CRLF line ends', pem.replace(/\n/g, '\r\n')],
    [
      'subject= and issuer= lines before the PEM block (openssl x509 -subject -issuer)',
      `subject=CN = root A\nissuer=CN = root A\n${pem}`,
    ],
    ['no trailing newline', pem.replace(/\n$/, '')],
  ];
}
