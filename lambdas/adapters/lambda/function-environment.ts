import { GetFunctionConfigurationCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import type { FunctionEnvironment } from '../../core/access/deployed-settings.js';

/**
 * A deployed function's environment variables, as the stack set them (GetFunctionConfiguration, which
 * needs lambda:GetFunctionConfiguration on the function); undefined when no function has that name
 * (ResourceNotFoundException). Any other failure (credentials, access, network) is thrown.
 */
export async function readFunctionEnvironment(
  client: LambdaClient,
  functionName: string,
): Promise<FunctionEnvironment | undefined> {
  try {
    const configuration = await client.send(
      new GetFunctionConfigurationCommand({ FunctionName: functionName }),
    );
    return configuration.Environment?.Variables ?? {};
  } catch (error) {
    if (error instanceof Error && error.name === 'ResourceNotFoundException') return undefined;
    throw error;
  }
}
