import { Schedule, ScheduleExpression, ScheduleTargetInput } from 'aws-cdk-lib/aws-scheduler';
import { StepFunctionsStartExecution } from 'aws-cdk-lib/aws-scheduler-targets';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';

/** The input of the execution the yearly schedule starts (docs/workflow.md, execution input). */
export const SCHEDULED_ROTATION_INPUT = {
  mode: 'scheduled',
  reason: 'annual rotation',
  requestedBy: 'schedule',
} as const;

export interface RotationScheduleProps {
  readonly meshId: string;
  readonly stateMachine: IStateMachine;
  /** An EventBridge Scheduler expression: `rate(...)`, `cron(...)` or `at(...)`. */
  readonly expression: string;
}

/**
 * The EventBridge Scheduler schedule that starts the yearly (by default) scheduled rotation. Emergency
 * and intermediate rekeys are not scheduled: an operator starts them with StartExecution
 * (docs/deploy.md).
 */
export class RotationSchedule extends Construct {
  readonly rotation: Schedule;

  constructor(scope: Construct, id: string, props: RotationScheduleProps) {
    super(scope, id);
    this.rotation = new Schedule(this, 'Rotation', {
      scheduleName: `meshtrust-${props.meshId}-rotation`,
      description: `meshtrust: scheduled root CA rotation of mesh ${props.meshId}`,
      schedule: ScheduleExpression.expression(props.expression),
      target: new StepFunctionsStartExecution(props.stateMachine, {
        input: ScheduleTargetInput.fromObject(SCHEDULED_ROTATION_INPUT),
        // A rotation that cannot start must not be retried blindly hours later: preflight decides.
        retryAttempts: 0,
      }),
    });
  }
}
