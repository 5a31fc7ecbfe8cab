import {
  CreateStateMachineCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { LAB_ACCOUNT_ID } from '../lab/eks/lab-identities.js';

/** Where moto_server is and whom it is called as (moto accepts any credentials; they are still sent). */
export interface MotoAccess {
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
 * the deployed state machine's (moto stores definitions and executions; it runs none). A name moto
 * has already (a lab's moto_server shared by `rehearse --lab` runs) gives the existing one's ARN, so
 * every run's executions belong to one state machine and the rotation lock sees them all.
 */
export async function registerStateMachineInMoto(
  options: MotoAccess & { readonly name: string; readonly definition: unknown },
): Promise<string> {
  return withSfnClient(options, async (client) => {
    const created = await client.send(
      new CreateStateMachineCommand({
        name: options.name,
        roleArn: `arn:aws:iam::${LAB_ACCOUNT_ID}:role/meshtrust-rehearsal`,
        definition: JSON.stringify(options.definition),
      }),
    );
    return created.stateMachineArn as string;
  });
}

/**
 * The rehearsal's execution as Step Functions would know it: started in moto under the same name (it
 * runs locally; moto keeps it RUNNING), so the rotation lock's DescribeExecution of its holder finds
 * it running, as it would the deployed one. Returns its ARN, the execution id of the local run.
 */
export async function startExecutionInMoto(
  options: MotoAccess & { readonly stateMachineArn: string; readonly name: string; readonly input: unknown },
): Promise<string> {
  return withSfnClient(options, async (client) => {
    const started = await client.send(
      new StartExecutionCommand({
        stateMachineArn: options.stateMachineArn,
        name: options.name,
        input: JSON.stringify(options.input),
      }),
    );
    return started.executionArn as string;
  });
}

/** Marks the execution ended in moto (ABORTED: moto cannot record how a run it did not run ended). */
export async function stopExecutionInMoto(
  options: MotoAccess & { readonly executionArn: string },
): Promise<void> {
  await withSfnClient(options, (client) =>
    client.send(new StopExecutionCommand({ executionArn: options.executionArn })),
  );
}

async function withSfnClient<T>(options: MotoAccess, use: (client: SFNClient) => Promise<T>): Promise<T> {
  const client = new SFNClient({
    endpoint: options.endpoint,
    region: options.region,
    credentials: options.credentials,
  });
  try {
    return await use(client);
  } finally {
    client.destroy();
  }
}
