/**
 * Defense in depth for the rule "no private key in a log line": a check that refuses any value whose
 * serialised form holds a PEM private key block, plain or base64-encoded (Kubernetes Secret data is
 * base64, so a logged Secret object would carry the key that way). The check throws before anything
 * is written, and its message never quotes the value.
 */
import { MeshTrustError } from '../../core/meshtrust-error.js';

const PEM_PRIVATE_KEY_MARKER = 'PRIVATE KEY-----';

/** The marker as it appears inside base64 text, for each of the three byte alignments. */
const BASE64_MARKERS = [0, 1, 2].map((offset) => {
  const encoded = Buffer.from(`${'x'.repeat(offset)}${PEM_PRIVATE_KEY_MARKER}`).toString('base64');
  const bits = 8 * (offset + PEM_PRIVATE_KEY_MARKER.length);
  // Keep only the characters whose six bits all come from the marker.
  return encoded.slice(Math.ceil((8 * offset) / 6), Math.floor(bits / 6));
});

/** A log line or audit event was refused because it would have written a private key. */
export class PrivateKeyInLogError extends MeshTrustError {
  /** Where the key was found, e.g. the attribute name. Never the value. */
  readonly where: string;

  constructor(where: string) {
    super(
      `Refused to log ${where}: it contains a PEM private key block. Log ids, ARNs and fingerprints, never ` +
        'key material or whole payloads.',
    );
    this.name = 'PrivateKeyInLogError';
    this.where = where;
  }
}

/** True when the text holds a PEM private key block, as text or base64. */
export function containsPrivateKey(text: string): boolean {
  return text.includes(PEM_PRIVATE_KEY_MARKER) || BASE64_MARKERS.some((marker) => text.includes(marker));
}

/** Throws PrivateKeyInLogError when value, serialised as JSON, holds a private key. */
export function assertNoPrivateKey(value: unknown, where: string): void {
  const serialised = typeof value === 'string' ? value : JSON.stringify(value, errorAwareReplacer);
  if (serialised !== undefined && containsPrivateKey(serialised)) {
    throw new PrivateKeyInLogError(where);
  }
}

/**
 * A JSON.stringify replacer that throws on any string holding a private key. JSON.stringify passes
 * every string of the serialised value through the replacer, so no nesting hides one.
 */
export function refusePrivateKeysReplacer(key: string, value: unknown): unknown {
  if (typeof value === 'string' && containsPrivateKey(value)) {
    throw new PrivateKeyInLogError(key === '' ? 'a log message' : `log attribute '${key}'`);
  }
  if (containsPrivateKey(key)) throw new PrivateKeyInLogError('a log attribute name');
  return value;
}

// Error properties are not enumerable; serialise what a logger would print of them.
function errorAwareReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) {
    return { name: value.name, message: value.message, stack: value.stack, cause: value.cause };
  }
  return value;
}
