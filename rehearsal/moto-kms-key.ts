// The CA key of the rehearsal: the template's KMS key (KMS_KEY_ID) stands in as a key created in
// moto_server (moto accepts any credentials).
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { RehearsalError } from './rehearsal-errors.js';

export async function createMotoKmsKey(
  endpoint: string,
  region: string,
  description: string,
): Promise<string> {
  const kms = new KMSClient({
    endpoint,
    region,
    credentials: { accessKeyId: 'rehearsal', secretAccessKey: 'rehearsal' },
  });
  try {
    const created = await kms.send(
      new CreateKeyCommand({
        Description: description,
        KeyUsage: 'ENCRYPT_DECRYPT',
        KeySpec: 'SYMMETRIC_DEFAULT',
      }),
    );
    const arn = created.KeyMetadata?.Arn;
    if (arn === undefined) throw new Error('no key ARN in the answer');
    return arn;
  } catch (error) {
    throw new RehearsalError(
      `moto_server did not create the KMS key (${error instanceof Error ? error.message : String(error)}); check that it is moto[server] with KMS`,
      { cause: error },
    );
  } finally {
    kms.destroy();
  }
}
