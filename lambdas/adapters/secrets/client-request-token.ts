import { createHash } from 'node:crypto';

/**
 * A ClientRequestToken for Secrets Manager derived from the execution and what the write is for, so
 * a retried or re-run step sends the same token and Secrets Manager can tell a repeat from a new
 * write. Shaped as an RFC 9562 UUIDv8 built from SHA-256 (36 characters; the API takes 32-64). The
 * token becomes the version id of the secret version it writes.
 *
 * @param executionArn the Step Functions execution ARN (or another id unique per run)
 * @param purpose what is written, unique within the run, e.g. `root` or `intermediate/cluster-a`
 */
export function clientRequestTokenFor(executionArn: string, purpose: string): string {
  if (executionArn.trim() === '' || purpose.trim() === '') {
    throw new TypeError(
      `clientRequestTokenFor needs an execution ARN and a purpose, got ${JSON.stringify(executionArn)} and ${JSON.stringify(purpose)}`,
    );
  }
  // The NUL separator keeps ('a:b', 'c') and ('a', 'b:c') apart.
  const digest = createHash('sha256').update(`meshtrust\0${executionArn}\0${purpose}`).digest();
  const bytes = Buffer.from(digest.subarray(0, 16));
  bytes[6] = ((bytes[6] as number) & 0x0f) | 0x80; // version 8
  bytes[8] = ((bytes[8] as number) & 0x3f) | 0x80; // RFC 4122/9562 variant
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Secrets Manager's bounds for a ClientRequestToken. */
export function isValidClientRequestToken(token: string): boolean {
  return token.length >= 32 && token.length <= 64;
}
