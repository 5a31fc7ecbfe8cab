import { CreateStateMachineCommand, SFNClient } from '@aws-sdk/client-sfn';
import { LAB_ACCOUNT_ID } from '../eks/lab-identities.js';

/**
 * Registers the rehearsed definition as a state machine in moto and returns its ARN, the stand-in for
 * the deployed state machine's: functions that list its executions find it, with none running.
 */
export async function registerStateMachineInMoto(options: {
  readonly endpoint: string;
  readonly region: string;
  readonly credentials: {
    readonly accessKeyId: string;
    readonly secretAccessKey: string;
    readonly sessionToken?: string;
  };
  readonly name: string;
  readonly definition: unknown;
}): Promise<string> {
  const client = new SFNClient({
    endpoint: options.endpoint,
    region: options.region,
    credentials: options.credentials,
  });
  try {
    const created = await client.send(
      new CreateStateMachineCommand({
        name: options.name,
        roleArn: `arn:aws:iam::${LAB_ACCOUNT_ID}:role/meshtrust-rehearsal`,
        definition: JSON.stringify(options.definition),
      }),
    );
    return created.stateMachineArn as string;
  } finally {
    client.destroy();
  }
}
