import { SFNClient } from '@aws-sdk/client-sfn';
import { RotationExecutions } from './rotation-executions.js';

/** The state machine's executions and how to release the Step Functions client behind them. */
export interface ConnectedExecutions {
  readonly executions: RotationExecutions;
  close(): void;
}

/**
 * How a runtime reads the rotation's executions (application/runtime.ts): handed in by the handlers
 * that read them, so that only their bundles hold the Step Functions client.
 */
export type ExecutionsConnector = (region: string) => ConnectedExecutions;

/** Step Functions of the mesh's region, with the default credential chain. */
export const connectExecutions: ExecutionsConnector = (region) => {
  const client = new SFNClient({ region });
  return { executions: new RotationExecutions({ client }), close: () => client.destroy() };
};
