// The template's DynamoDB tables (the rotation lock) as the rehearsal's moto_server holds them: each
// AWS::DynamoDB::Table is created from its own properties, so the lock the functions use is the one
// the stack declares, key schema and time to live included. Already there (a moto_server shared by two rehearsals):
// kept as it is, with what it holds.
import {
  type AttributeDefinition,
  type BillingMode,
  CreateTableCommand,
  DynamoDBClient,
  type KeySchemaElement,
  type ProvisionedThroughput,
  type TimeToLiveSpecification,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import type { MotoAccess } from './moto-state-machine.js';
import { RehearsalError } from './rehearsal-errors.js';
import type { CfnTemplate } from './resolve-definition.js';

export interface MotoTablesOptions extends MotoAccess {
  readonly template: CfnTemplate;
  /** Names the tables the way CloudFormation would, `<stack>-<logical id>` (without its random suffix). */
  readonly stackName: string;
}

/** Creates every table of the template in moto; returns logical id -> table name (what `Ref` gives). */
export async function createTemplateTablesInMoto(
  options: MotoTablesOptions,
): Promise<Record<string, string>> {
  const client = new DynamoDBClient({
    endpoint: options.endpoint,
    region: options.region,
    credentials: options.credentials,
  });
  const names: Record<string, string> = {};
  try {
    for (const [logicalId, resource] of Object.entries(options.template.Resources ?? {})) {
      if (resource.Type !== 'AWS::DynamoDB::Table') continue;
      const properties = resource.Properties ?? {};
      const tableName =
        typeof properties.TableName === 'string' ? properties.TableName : `${options.stackName}-${logicalId}`;
      const keySchema = properties.KeySchema as KeySchemaElement[] | undefined;
      const attributes = properties.AttributeDefinitions as AttributeDefinition[] | undefined;
      if (keySchema === undefined || attributes === undefined) {
        throw new RehearsalError(
          `table ${logicalId} of the template has no KeySchema or AttributeDefinitions; the rehearsal creates tables from them`,
        );
      }
      try {
        await client.send(
          new CreateTableCommand({
            TableName: tableName,
            KeySchema: keySchema,
            AttributeDefinitions: attributes,
            BillingMode: (properties.BillingMode as BillingMode | undefined) ?? 'PROVISIONED',
            ...(properties.ProvisionedThroughput !== undefined && {
              ProvisionedThroughput: properties.ProvisionedThroughput as ProvisionedThroughput,
            }),
          }),
        );
        const timeToLive = properties.TimeToLiveSpecification as TimeToLiveSpecification | undefined;
        if (timeToLive?.Enabled === true) {
          // moto records it but, like DynamoDB on its own time, deletes no expired item by it.
          await client.send(
            new UpdateTimeToLiveCommand({ TableName: tableName, TimeToLiveSpecification: timeToLive }),
          );
        }
      } catch (error) {
        if (!(error instanceof Error && error.name === 'ResourceInUseException')) throw error;
      }
      names[logicalId] = tableName;
    }
    return names;
  } finally {
    client.destroy();
  }
}
