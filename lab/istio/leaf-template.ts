// A workload certificate made again from one made before for the same signer and SPIFFE id: a renewal
// differs from it only in serial, validity and public key, each of a fixed length (a 16-byte serial,
// UTCTime, a P-256 key), so the new TBSCertificate is the template's bytes with those three put in
// place, signed with node:crypto off the event loop. At fleet size the model lab renews thousands of
// leaves a minute; building each one through an ASN.1 schema (@peculiar/x509) took a third of its
// CPU. test/unit/lab/leaf-template.test.ts holds the result to @peculiar/x509's, byte for byte.
import { type KeyObject, sign } from 'node:crypto';
import { promisify } from 'node:util';

const signAsync = promisify(sign);

const SEQUENCE = 0x30;
const INTEGER = 0x02;
const UTC_TIME = 0x17;
const BIT_STRING = 0x03;

/** Where one DER element lies: its tag, the start of its header and of its contents, its end. */
interface Element {
  readonly tag: number;
  readonly start: number;
  readonly contentStart: number;
  readonly end: number;
}

export interface LeafTemplate {
  /** The template's TBSCertificate, whole. */
  readonly tbs: Buffer;
  readonly serial: Element;
  readonly validity: Element;
  readonly publicKey: Element;
  /** The certificate's signatureAlgorithm element, as it is. */
  readonly signatureAlgorithm: Buffer;
  /** node:crypto's digest name for the signer's hash (sha256, sha384). */
  readonly hash: string;
  readonly signingKey: KeyObject;
}

export interface LeafFields {
  /** 16 bytes, the first in 0x40-0x7f as randomSerialNumber makes them, as hex. */
  readonly serialNumberHex: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** SubjectPublicKeyInfo, DER. */
  readonly publicKeyDer: Buffer;
}

/** The template of a certificate its signer made (DER), or undefined when its fields are not of a fixed length. */
export function leafTemplateOf(
  certificateDer: Uint8Array,
  signer: { readonly key: KeyObject; readonly hash: string },
): LeafTemplate | undefined {
  const der = Buffer.from(certificateDer);
  const [tbsElement, algorithmElement] = childrenOf(der, elementAt(der, 0));
  const tbs = der.subarray(tbsElement.start, tbsElement.end);
  // version [0], serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo, extensions [3]
  const fields = childrenOf(tbs, elementAt(tbs, 0));
  const [serial, validity, publicKey] = [fields[1], fields[4], fields[6]];
  if (serial?.tag !== INTEGER || validity?.tag !== SEQUENCE || publicKey?.tag !== SEQUENCE) return undefined;
  if (!childrenOf(tbs, validity).every((time) => time.tag === UTC_TIME)) return undefined;
  return {
    tbs,
    serial,
    validity,
    publicKey,
    signatureAlgorithm: der.subarray(algorithmElement.start, algorithmElement.end),
    hash: signer.hash,
    signingKey: signer.key,
  };
}

/** A certificate (DER) that is the template with these fields, signed by the template's signer. */
export async function issueFromTemplate(template: LeafTemplate, fields: LeafFields): Promise<Buffer> {
  const tbs = Buffer.from(template.tbs);
  put(tbs, template.serial, tlv(INTEGER, Buffer.from(fields.serialNumberHex, 'hex')));
  put(
    tbs,
    template.validity,
    tlv(SEQUENCE, Buffer.concat([utcTime(fields.notBefore), utcTime(fields.notAfter)])),
  );
  put(tbs, template.publicKey, fields.publicKeyDer);
  const ecdsa = template.signingKey.asymmetricKeyType === 'ec';
  const signature = await signAsync(
    template.hash,
    tbs,
    ecdsa ? { key: template.signingKey, dsaEncoding: 'der' } : template.signingKey,
  );
  const signatureBits = tlv(BIT_STRING, Buffer.concat([Buffer.of(0), signature]));
  return tlv(SEQUENCE, Buffer.concat([tbs, template.signatureAlgorithm, signatureBits]));
}

/** Writes an element over the template's, which must be as long. */
function put(tbs: Buffer, at: Element, element: Buffer): void {
  if (element.length !== at.end - at.start) {
    throw new RangeError(
      `leaf template: a field of ${element.length} bytes where the template's has ${at.end - at.start}`,
    );
  }
  element.copy(tbs, at.start);
}

function utcTime(at: Date): Buffer {
  const text = at.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  if (at.getUTCFullYear() < 1950 || at.getUTCFullYear() >= 2050) {
    throw new RangeError(`leaf template: ${text} is not a UTCTime`);
  }
  const digits = text.slice(2, 19).replace(/[-T:]/g, '');
  return tlv(UTC_TIME, Buffer.from(`${digits}Z`, 'ascii'));
}

function tlv(tag: number, contents: Buffer): Buffer {
  const length = contents.length;
  if (length < 0x80) return Buffer.concat([Buffer.of(tag, length), contents]);
  const octets: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) octets.unshift(rest % 256);
  return Buffer.concat([Buffer.of(tag, 0x80 | octets.length, ...octets), contents]);
}

function elementAt(der: Buffer, start: number): Element {
  const tag = der[start];
  const first = der[start + 1];
  if (tag === undefined || first === undefined) throw new RangeError('leaf template: DER ends early');
  let length = first;
  let contentStart = start + 2;
  if (first & 0x80) {
    const octets = first & 0x7f;
    length = 0;
    for (let i = 0; i < octets; i += 1) length = length * 256 + (der[start + 2 + i] ?? 0);
    contentStart += octets;
  }
  const end = contentStart + length;
  if (end > der.length) throw new RangeError('leaf template: DER ends early');
  return { tag, start, contentStart, end };
}

function childrenOf(der: Buffer, parent: Element): Element[] {
  const children: Element[] = [];
  for (let at = parent.contentStart; at < parent.end; ) {
    const child = elementAt(der, at);
    children.push(child);
    at = child.end;
  }
  return children;
}
