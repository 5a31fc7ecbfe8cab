import {
  CreateStateMachineCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { LAB_ACCOUNT_ID } from '../eks/lab-identities.js';

interface MotoAccess {
  readonly endpoint: string;
  readonly region: string;
  readonly credentials: {
    readonly accessKeyId: string;
    readonly secretAccessKey: string;
    readonly sessionToken?: string;
  };
}

/**
 * Registers the rehearsed definition as a state machine in moto and returns its ARN, the stand-in for
 * the deployed state machine's (moto stores definitions and executions; it runs none).
 */
export async function registerStateMachineInMoto(
  options: MotoAccess & { readonly name: string; readonly definition: unknown },
): Promise<string> {
  const client = sfnClient(options);
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

/**
 * The rehearsal's execution as Step Functions would know it: started in moto under the same name (it
 * runs locally; moto keeps it RUNNING), so the rotation lock's DescribeExecution of its holder finds
 * it running, as it would the deployed one. Returns its ARN, the execution id of the local run.
 */
export async function startExecutionInMoto(
  options: MotoAccess & { readonly stateMachineArn: string; readonly name: string; readonly input: unknown },
): Promise<string> {
  const client = sfnClient(options);
  try {
    const started = await client.send(
      new StartExecutionCommand({
        stateMachineArn: options.stateMachineArn,
        name: options.name,
        input: JSON.stringify(options.input),
      }),
    );
    return started.executionArn as string;
  } finally {
    client.destroy();
  }
}

/** Marks the execution ended in moto (ABORTED: moto cannot record how a run it did not run ended). */
export async function stopExecutionInMoto(
  options: MotoAccess & { readonly executionArn: string },
): Promise<void> {
  const client = sfnClient(options);
  try {
    await client.send(new StopExecutionCommand({ executionArn: options.executionArn }));
  } finally {
    client.destroy();
  }
}

function sfnClient(options: MotoAccess): SFNClient {
  return new SFNClient({
    endpoint: options.endpoint,
    region: options.region,
    credentials: options.credentials,
  });
}
