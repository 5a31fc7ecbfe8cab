// The CA key of the rehearsal: the template's KMS key (KMS_KEY_ID) stands in as a key created in
// moto_server. There is no KMS client among meshtrust's dependencies, so this speaks KMS's JSON
// protocol directly; moto accepts any credentials, the call still carries the rotator's.
import { RehearsalError } from './rehearsal-errors.js';

export async function createMotoKmsKey(
  endpoint: string,
  region: string,
  description: string,
): Promise<string> {
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': 'TrentService.CreateKey',
      authorization: `AWS4-HMAC-SHA256 Credential=rehearsal/20260101/${region}/kms/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body: JSON.stringify({
      Description: description,
      KeyUsage: 'ENCRYPT_DECRYPT',
      KeySpec: 'SYMMETRIC_DEFAULT',
    }),
  });
  const body = (await response.json().catch(() => ({}))) as { KeyMetadata?: { Arn?: string } };
  const arn = body.KeyMetadata?.Arn;
  if (!response.ok || arn === undefined) {
    throw new RehearsalError(
      `moto_server did not create the KMS key (HTTP ${response.status}); check that it is moto[server] with KMS`,
    );
  }
  return arn;
}
