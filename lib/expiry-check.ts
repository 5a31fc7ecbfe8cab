import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Schedule, ScheduleExpression } from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import { Construct } from 'constructs';

export interface ExpiryCheckProps {
  readonly meshId: string;
  /** The `check-expiry` function; it emits the metric of lib/expiry-metric.ts. */
  readonly checkExpiry: IFunction;
}

/**
 * Runs `check-expiry` once a day. The function writes the smallest days-to-expiry of the root and
 * every intermediate as a metric, and the audit's "CA expires soon" alarm watches it, so an expiring
 * CA is noticed even in a year where the scheduled rotation did not run.
 */
export class ExpiryCheck extends Construct {
  readonly schedule: Schedule;

  constructor(scope: Construct, id: string, props: ExpiryCheckProps) {
    super(scope, id);
    this.schedule = new Schedule(this, 'Daily', {
      scheduleName: `meshtrust-${props.meshId}-expiry-check`,
      description: `meshtrust: daily CA expiry check of mesh ${props.meshId}`,
      schedule: ScheduleExpression.expression('rate(1 day)'),
      target: new LambdaInvoke(props.checkExpiry, { retryAttempts: 2 }),
    });
  }
}
