// What a real istiod does with the files of its mounted `cacerts` folder, stated for the lab in our own
// words from istio/istio's source (pilot/pkg/bootstrap/istio_ca.go and security/pkg/pki, read at
// release-1.20 through release-1.31). Deliberately independent of meshtrust's product code: no import of
// lambdas/core/pki's validators or of the rotation core, so a mistake in the product's idea of istiod
// cannot pass in the lab too. Only parsing libraries are used (node:crypto, @peculiar/x509).
//
// The rules, in the order istiod applies them:
//
// 1. Layout (detectSigningCABundleAndCRL). If the folder has `tls.crt`, istiod reads a kubernetes.io/tls
//    layout instead of the plug-in files: signing certificate tls.crt, key tls.key, chain tls.crt followed
//    by ca.crt, roots ca.crt. `tls.key` alone changes nothing. Otherwise: ca-cert.pem, ca-key.pem,
//    cert-chain.pem, root-cert.pem.
// 2. Root change (handleEvent, on a reload only). The root file is compared with the bytes istiod holds.
//    Equal bytes: no root change, nothing more to check here. Different bytes: dropped unless
//    ISTIO_MULTIROOT_MESH is on; then, up to 1.29, dropped unless one file's raw bytes contain the
//    other's; from 1.30 (pemBundleHasSubsetRelation), dropped unless both files hold at least one
//    CERTIFICATE block and one file's set of certificate DERs is a superset of the other's.
// 3. Verification (KeyCertBundle Verify, via UpdateVerifiedKeyCertBundleFromFile or, at start,
//    NewVerifiedKeyCertBundleFromFile). Every file must exist. The signing certificate (the first PEM
//    block of ca-cert.pem) must verify as Go's x509 verifies: a path from it through the certificates of
//    the chain file to one of the root file's, each issuer named by the child's issuer, its signature
//    valid, allowed to sign certificates (a v3 issuer needs basic constraints with CA; a key usage, when
//    present, needs keyCertSign), within its path length, every certificate of the path within its
//    dates, and every extended key usage on the path allowing serverAuth (Go's default purpose). The key
//    file's first PEM block must be a private key Go reads (PKCS#8, SEC1 or PKCS#1; an `EC PARAMETERS`
//    block first is refused) and match the signing certificate's public key.
// 4. At start only (NewPluggedCertIstioCAOptions), the signing certificate must be a CA.
//
// Stricter than istiod, on purpose (the lab is at least as strict as production), named `lab-...`:
// ca-cert.pem must be the first certificate of cert-chain.pem, and cert-chain.pem must run in order,
// each certificate issued by the next, the last one a root of root-cert.pem or issued by one. istiod only
// needs some path through the chain file's certificates, but hands cert-chain.pem to workloads as their
// chain, so a file out of order is a broken chain in every workload.
//
// A write that fails any rule is dropped: istiod logs it and keeps its CA. Nothing tells the writer.
import { createHash, createPrivateKey, createPublicKey, type KeyObject, X509Certificate } from 'node:crypto';
import type * as X509 from '@peculiar/x509';
import { x509 } from '../../lambdas/core/pki/x509.js';

/** The Istio minor versions whose istio_ca.go this file states; newer ones need a reading first. */
export const ISTIO_VERSIONS = [
  '1.20',
  '1.21',
  '1.22',
  '1.23',
  '1.24',
  '1.25',
  '1.26',
  '1.27',
  '1.28',
  '1.29',
  '1.30',
  '1.31',
] as const;
export type IstioVersion = (typeof ISTIO_VERSIONS)[number];

/** The stricter of the two root rules: raw bytes. */
export const DEFAULT_ISTIO_VERSION: IstioVersion = '1.29';

export function isIstioVersion(value: unknown): value is IstioVersion {
  return typeof value === 'string' && (ISTIO_VERSIONS as readonly string[]).includes(value);
}

/** How a version compares root files: raw bytes up to 1.29, certificate sets from 1.30. */
export function rootRuleOf(version: IstioVersion): 'bytes-contained' | 'certificate-subset' {
  return Number(version.split('.')[1]) >= 30 ? 'certificate-subset' : 'bytes-contained';
}

export const ISTIOD_RULES = {
  filesReadable: 'istiod-files-readable',
  multiRootOff: 'istiod-multiroot-off',
  rootBytesContained: 'istiod-root-bytes-contained',
  rootCertificateSubset: 'istiod-root-certificate-subset',
  chainVerifies: 'istiod-chain-verifies',
  keyMatches: 'istiod-key-matches',
  signingCertIsCa: 'istiod-signing-cert-is-ca',
  caCertHeadsChain: 'lab-ca-cert-heads-chain',
  chainInOrder: 'lab-cert-chain-in-order',
} as const;
export type IstiodRule = (typeof ISTIOD_RULES)[keyof typeof ISTIOD_RULES];

export interface IstiodSettings {
  readonly istioVersion: IstioVersion;
  /** ISTIO_MULTIROOT_MESH in istiod's environment. */
  readonly multiRootMesh: boolean;
}

/** The folder istiod reads: one file per Secret key, raw bytes. */
export type MountedCacerts = Readonly<Record<string, Buffer>>;

/** What istiod holds once it took a folder. */
export interface LoadedCa {
  readonly layout: 'plug-in' | 'kubernetes-tls';
  /** The signing certificate file's text, as read. */
  readonly signingCertText: string;
  /** The chain file(s) as read (tls layout: tls.crt then ca.crt). */
  readonly certChainText: string;
  /** The root file, byte for byte: what the next change is compared with, and what istiod publishes. */
  readonly rootCertBytes: Buffer;
  readonly signingCertDer: Buffer;
  /** Every certificate of the chain file, in order. */
  readonly chainDers: readonly Buffer[];
  /** The distinct certificates of the root file, in order. */
  readonly rootDers: readonly Buffer[];
  /** The verified path: signing certificate first, a root of the root file last. */
  readonly pathDers: readonly Buffer[];
  /** The signing key, for signing workload certificates. */
  readonly signingKey: KeyObject;
}

export type CacertsVerdict =
  | { readonly accepted: true; readonly ca: LoadedCa; readonly rootChanged: boolean }
  | { readonly accepted: false; readonly rule: IstiodRule; readonly reason: string };

/** istiod starting with this folder (no root comparison; the signing certificate must be a CA). */
export function judgeCacertsAtStart(folder: MountedCacerts, now: Date): CacertsVerdict {
  return judge(folder, now, { atStart: true });
}

/** istiod's file watcher seeing this folder while it holds a CA whose root file was `currentRoot`. */
export function judgeCacertsChange(
  currentRoot: Buffer,
  folder: MountedCacerts,
  settings: IstiodSettings,
  now: Date,
): CacertsVerdict {
  return judge(folder, now, { atStart: false, currentRoot, settings });
}

type JudgeContext =
  | { readonly atStart: true }
  | { readonly atStart: false; readonly currentRoot: Buffer; readonly settings: IstiodSettings };

function judge(folder: MountedCacerts, now: Date, context: JudgeContext): CacertsVerdict {
  const layout = layoutOf(folder);
  const rootFile = folder[layout.rootFile];
  if (rootFile === undefined) return drop('filesReadable', `${layout.rootFile} is missing`);

  let rootChanged = true;
  if (!context.atStart) {
    rootChanged = !rootFile.equals(context.currentRoot);
    if (rootChanged) {
      const refused = rootChangeRefusal(context.currentRoot, rootFile, context.settings, layout.rootFile);
      if (refused) return refused;
    }
  }

  const missing = [layout.signingCertFile, layout.signingKeyFile, ...layout.chainFiles].filter(
    (name) => folder[name] === undefined,
  );
  if (missing.length > 0) return drop('filesReadable', `${[...new Set(missing)].join(', ')} missing`);
  const signingText = folder[layout.signingCertFile] as Buffer;
  const chainBytes = Buffer.concat(layout.chainFiles.map((name) => folder[name] as Buffer));

  const first = decodePem(signingText)[0];
  const signing = first ? parseCertificate(first.der) : undefined;
  if (!first || !signing) {
    return drop('chainVerifies', `the first PEM block of ${layout.signingCertFile} is not a certificate`);
  }
  const chainCerts = certificatesOf(chainBytes, { skipWithHeaders: true });
  const roots = distinct(certificatesOf(rootFile, { skipWithHeaders: true }));
  const path = verifyPath(signing, chainCerts, roots, now);
  if (!path.ok) {
    return drop(
      'chainVerifies',
      `${layout.signingCertFile} does not verify to a root of ${layout.rootFile}: ${path.reason}`,
    );
  }

  const key = signingKeyOf(folder[layout.signingKeyFile] as Buffer);
  if (!key.ok) return drop('keyMatches', `${layout.signingKeyFile}: ${key.reason}`);
  if (!spkiOf(key.key).equals(spkiOf(signing.node.publicKey))) {
    return drop('keyMatches', `${layout.signingKeyFile} is not the key of ${layout.signingCertFile}`);
  }

  if (context.atStart && !basicConstraintsOf(signing)?.ca) {
    return drop('signingCertIsCa', `${layout.signingCertFile} is not a CA certificate`);
  }

  const orderedChain = certificatesOf(chainBytes, { skipWithHeaders: false });
  if (!orderedChain[0]?.der.equals(signing.der)) {
    return drop(
      'caCertHeadsChain',
      `the first certificate of the chain is not ${layout.signingCertFile}; istiod itself would load it, but ` +
        'every workload would get a chain that does not start at its issuer',
    );
  }
  const disorder = chainOrderProblem(orderedChain, roots);
  if (disorder)
    return drop('chainInOrder', `${disorder}; istiod itself would load it, but workloads get this chain`);

  return {
    accepted: true,
    rootChanged,
    ca: {
      layout: layout.name,
      signingCertText: signingText.toString('utf8'),
      certChainText: chainBytes.toString('utf8'),
      rootCertBytes: Buffer.from(rootFile),
      signingCertDer: signing.der,
      chainDers: orderedChain.map((certificate) => certificate.der),
      rootDers: roots.map((certificate) => certificate.der),
      pathDers: path.path.map((certificate) => certificate.der),
      signingKey: key.key,
    },
  };
}

function drop(rule: keyof typeof ISTIOD_RULES, reason: string): CacertsVerdict {
  return { accepted: false, rule: ISTIOD_RULES[rule], reason: `${reason}; istiod keeps its current CA` };
}

interface Layout {
  readonly name: LoadedCa['layout'];
  readonly signingCertFile: string;
  readonly signingKeyFile: string;
  readonly chainFiles: readonly string[];
  readonly rootFile: string;
}

function layoutOf(folder: MountedCacerts): Layout {
  if (folder['tls.crt'] !== undefined) {
    return {
      name: 'kubernetes-tls',
      signingCertFile: 'tls.crt',
      signingKeyFile: 'tls.key',
      chainFiles: ['tls.crt', 'ca.crt'],
      rootFile: 'ca.crt',
    };
  }
  return {
    name: 'plug-in',
    signingCertFile: 'ca-cert.pem',
    signingKeyFile: 'ca-key.pem',
    chainFiles: ['cert-chain.pem'],
    rootFile: 'root-cert.pem',
  };
}

function rootChangeRefusal(
  current: Buffer,
  next: Buffer,
  settings: IstiodSettings,
  file: string,
): CacertsVerdict | undefined {
  if (!settings.multiRootMesh) {
    return drop(
      'multiRootOff',
      `${file} changed while ISTIO_MULTIROOT_MESH is off, so no root change is taken`,
    );
  }
  if (rootRuleOf(settings.istioVersion) === 'bytes-contained') {
    if (next.includes(current) || current.includes(next)) return undefined;
    return drop(
      'rootBytesContained',
      `Istio ${settings.istioVersion} takes a changed ${file} only when one file's bytes contain the other's; neither does`,
    );
  }
  const before = certificateDerSet(current);
  const after = certificateDerSet(next);
  const covers = (a: Set<string>, b: Set<string>) => [...b].every((der) => a.has(der));
  if (before.size > 0 && after.size > 0 && (covers(before, after) || covers(after, before))) return undefined;
  return drop(
    'rootCertificateSubset',
    `Istio ${settings.istioVersion} takes a changed ${file} only when one file's certificates are a subset of the ` +
      "other's; neither is",
  );
}

// --- PEM, as Go's encoding/pem finds blocks -------------------------------------------------------------

interface PemBlock {
  readonly type: string;
  readonly hasHeaders: boolean;
  readonly der: Buffer;
}

/**
 * Every well-formed PEM block: a BEGIN line at the start of a line, optional `Key: value` header lines,
 * a base64 body, and the matching END line with nothing but whitespace after it. Text around blocks is
 * skipped; a malformed block is skipped and the search goes on, as Go's pem.Decode does.
 */
function decodePem(bytes: Buffer): PemBlock[] {
  const lines = bytes.toString('latin1').split('\n');
  const blocks: PemBlock[] = [];
  let index = 0;
  while (index < lines.length) {
    const begin = /^-----BEGIN ([^\r\n]*)-----$/.exec(lines[index].replace(/[ \t\r]+$/, ''));
    index += 1;
    if (!begin) continue;
    const type = begin[1];
    let cursor = index;
    let hasHeaders = false;
    while (cursor < lines.length && lines[cursor].includes(':') && !lines[cursor].startsWith('-----END ')) {
      hasHeaders = true;
      cursor += 1;
    }
    const end = lines.findIndex((line, at) => at >= cursor && line.startsWith('-----END '));
    if (end === -1) break;
    if (lines[end].replace(/[ \t\r]+$/, '') !== `-----END ${type}-----`) continue;
    const body = lines
      .slice(cursor, end)
      .join('')
      .replace(/[ \t\r]/g, '');
    if (body.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(body)) continue;
    blocks.push({ type, hasHeaders, der: Buffer.from(body, 'base64') });
    index = end + 1;
  }
  return blocks;
}

/** The DERs of every CERTIFICATE block, parseable or not, as 1.30's root comparison takes them. */
function certificateDerSet(bytes: Buffer): Set<string> {
  return new Set(
    decodePem(bytes)
      .filter((block) => block.type === 'CERTIFICATE')
      .map((block) => block.der.toString('hex')),
  );
}

// --- certificates -------------------------------------------------------------------------------------

interface Certificate {
  readonly der: Buffer;
  readonly node: X509Certificate;
  readonly parsed: X509.X509Certificate;
  readonly version: number;
}

function parseCertificate(der: Buffer): Certificate | undefined {
  try {
    return {
      der,
      node: new X509Certificate(der),
      parsed: new x509.X509Certificate(der),
      version: versionOf(der),
    };
  } catch {
    return undefined;
  }
}

/** CERTIFICATE blocks that parse, in order: what Go's AppendCertsFromPEM takes (it skips blocks with headers). */
function certificatesOf(bytes: Buffer, options: { readonly skipWithHeaders: boolean }): Certificate[] {
  return decodePem(bytes)
    .filter((block) => block.type === 'CERTIFICATE' && !(options.skipWithHeaders && block.hasHeaders))
    .map((block) => parseCertificate(block.der))
    .filter((certificate): certificate is Certificate => certificate !== undefined);
}

function distinct(certificates: readonly Certificate[]): Certificate[] {
  const seen = new Set<string>();
  return certificates.filter((certificate) => {
    const key = certificate.der.toString('hex');
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** X.509 version from the DER: TBSCertificate starts with an explicit [0] version unless it is v1. */
function versionOf(der: Buffer): number {
  const headerLength = (offset: number) => {
    const length = der[offset + 1];
    return length < 0x80 ? 2 : 2 + (length & 0x7f);
  };
  const tbs = headerLength(0);
  const firstField = tbs + headerLength(tbs);
  if (der[firstField] !== 0xa0) return 1;
  const integer = firstField + headerLength(firstField);
  return der[integer + headerLength(integer)] + 1;
}

function basicConstraintsOf(certificate: Certificate): X509.BasicConstraintsExtension | undefined {
  return certificate.parsed.getExtension(x509.BasicConstraintsExtension) ?? undefined;
}

function sameName(issuerOf: Certificate, subjectOf: Certificate): boolean {
  return Buffer.from(issuerOf.parsed.issuerName.toArrayBuffer()).equals(
    Buffer.from(subjectOf.parsed.subjectName.toArrayBuffer()),
  );
}

export function fingerprintOf(der: Buffer): string {
  return createHash('sha256').update(der).digest('hex');
}

const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const ANY_EXTENDED_KEY_USAGE = '2.5.29.37.0';

function withinDates(certificate: Certificate, now: Date): boolean {
  return now >= certificate.parsed.notBefore && now <= certificate.parsed.notAfter;
}

/** Why `parent` cannot be `child`'s issuer at this place of the path, or undefined when it can. */
function issuerProblem(
  child: Certificate,
  parent: Certificate,
  below: number,
  now: Date,
): string | undefined {
  if (!sameName(child, parent)) return 'names do not match';
  const constraints = basicConstraintsOf(parent);
  if ((parent.version === 3 && !constraints) || (constraints && !constraints.ca)) {
    return `"${parent.node.subject}" is not a CA (basic constraints)`;
  }
  const usages = parent.parsed.getExtension(x509.KeyUsagesExtension);
  if (usages && (usages.usages & x509.KeyUsageFlags.keyCertSign) === 0) {
    return `"${parent.node.subject}" lacks keyCertSign`;
  }
  if (!child.node.verify(parent.node.publicKey))
    return `the signature of "${child.node.subject}" does not verify`;
  if (!withinDates(parent, now)) return `"${parent.node.subject}" is outside its validity dates`;
  // `below` = certificates between the leaf and this issuer, the leaf excluded.
  if (constraints?.pathLength !== undefined && below > constraints.pathLength) {
    return `"${parent.node.subject}" allows ${constraints.pathLength} intermediate(s) below it`;
  }
  return undefined;
}

function allowsServerAuth(certificate: Certificate): boolean {
  const eku = certificate.parsed.getExtension(x509.ExtendedKeyUsageExtension);
  if (!eku) return true;
  const usages = eku.usages.map(String);
  return usages.includes(SERVER_AUTH) || usages.includes(ANY_EXTENDED_KEY_USAGE);
}

type PathResult =
  | { readonly ok: true; readonly path: Certificate[] }
  | { readonly ok: false; readonly reason: string };

/** A path from `leaf` through `intermediates` to one of `roots`, as Go's Verify builds one. */
function verifyPath(
  leaf: Certificate,
  intermediates: readonly Certificate[],
  roots: readonly Certificate[],
  now: Date,
): PathResult {
  if (!withinDates(leaf, now))
    return { ok: false, reason: `"${leaf.node.subject}" is outside its validity dates` };
  if (roots.length === 0) return { ok: false, reason: 'the root file holds no certificate' };
  if (roots.some((root) => root.der.equals(leaf.der))) return { ok: true, path: [leaf] };
  let hint = `no certificate there issued "${leaf.node.subject}"`;
  const extend = (chain: Certificate[]): Certificate[] | undefined => {
    const child = chain[chain.length - 1];
    const inChain = (candidate: Certificate) => chain.some((element) => element.der.equals(candidate.der));
    for (const [pool, isRoot] of [
      [roots, true],
      [intermediates, false],
    ] as const) {
      for (const candidate of pool) {
        if (inChain(candidate) || !sameName(child, candidate)) continue;
        const problem = issuerProblem(child, candidate, chain.length - 1, now);
        if (problem) {
          hint = problem;
          continue;
        }
        const next = [...chain, candidate];
        if (isRoot) {
          if (next.every(allowsServerAuth)) return next;
          hint = 'an extended key usage on the path does not allow serverAuth';
          continue;
        }
        if (chain.length < 10) {
          const found = extend(next);
          if (found) return found;
        }
      }
    }
    return undefined;
  };
  const path = extend([leaf]);
  return path ? { ok: true, path } : { ok: false, reason: hint };
}

/** The lab's stricter reading of cert-chain.pem: each certificate issued by the next, up to a root. */
function chainOrderProblem(chain: readonly Certificate[], roots: readonly Certificate[]): string | undefined {
  for (let index = 0; index + 1 < chain.length; index += 1) {
    const [child, parent] = [chain[index], chain[index + 1]];
    if (!sameName(child, parent) || !child.node.verify(parent.node.publicKey)) {
      return `certificate ${index + 2} of the chain did not issue certificate ${index + 1}`;
    }
  }
  const last = chain[chain.length - 1];
  const ends = roots.some(
    (root) => root.der.equals(last.der) || (sameName(last, root) && last.node.verify(root.node.publicKey)),
  );
  return ends
    ? undefined
    : 'the last certificate of the chain is not a root of the root file, nor issued by one';
}

// --- the key ------------------------------------------------------------------------------------------

const KEY_FORMATS: Record<string, 'pkcs8' | 'sec1' | 'pkcs1'> = {
  'PRIVATE KEY': 'pkcs8',
  'EC PRIVATE KEY': 'sec1',
  'RSA PRIVATE KEY': 'pkcs1',
};

/** The key of the first PEM block, which must be one Go reads. */
function signingKeyOf(bytes: Buffer): { ok: true; key: KeyObject } | { ok: false; reason: string } {
  const first = decodePem(bytes)[0];
  if (!first) return { ok: false, reason: 'no PEM block' };
  const format = KEY_FORMATS[first.type];
  if (!format)
    return { ok: false, reason: `the first PEM block is "${first.type}", not a private key istiod reads` };
  try {
    return { ok: true, key: createPrivateKey({ key: first.der, format: 'der', type: format }) };
  } catch {
    return { ok: false, reason: `the "${first.type}" block does not parse` };
  }
}

function spkiOf(key: KeyObject): Buffer {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  return publicKey.export({ type: 'spki', format: 'der' });
}
