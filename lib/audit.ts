import { ArnFormat, Duration, type RemovalPolicy, Stack } from 'aws-cdk-lib';
import {
  Alarm,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IAlarm,
  type IMetric,
  Metric,
  SingleValueWidget,
  TextWidget,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { EXPIRY_METRIC } from './expiry-metric.js';

export interface RotationAuditProps {
  readonly meshId: string;
  /** How long rotation logs (the audit trail) are kept. */
  readonly retention: RetentionDays;
  /** Where alarms are mailed; the topic exists either way so other subscribers can be added. */
  readonly alarmEmail?: string;
  /** Alarm when the root or any intermediate expires within this many days. */
  readonly expiryWarningDays: number;
  /** What happens to the audit log groups and their key when the stack is deleted. */
  readonly removalPolicy: RemovalPolicy;
}

/** What the dashboard and alarms watch, known once the workflow exists. */
export interface RotationMonitoringTargets {
  readonly stateMachine: IStateMachine;
  readonly expiryCheck: IFunction;
  /** Rotation phase functions by handler name, for the errors graph. */
  readonly functions: Readonly<Record<string, IFunction>>;
}

/**
 * The audit trail and its watchers: a KMS key for every log group and the alarm topic, the log groups
 * (retention from the props, ten years by default), the metric namespace the handlers write to
 * (Powertools EMF, namespace `MeshTrust`), alarms to an SNS topic and a dashboard.
 */
export class RotationAudit extends Construct {
  /** Encrypts every log group of the mesh and the alarm topic. */
  readonly key: Key;
  readonly alarmTopic: Topic;
  /** The state machine's execution log (level ALL, without execution data: no task token). */
  readonly executionLogGroup: LogGroup;
  /** Prefix of every rotation function's log group, for Logs Insights queries over all phases. */
  readonly functionLogGroupPrefix: string;
  readonly alarms: IAlarm[] = [];
  private readonly props: RotationAuditProps;

  constructor(scope: Construct, id: string, props: RotationAuditProps) {
    super(scope, id);
    this.props = props;
    const stack = Stack.of(this);
    this.functionLogGroupPrefix = `/aws/lambda/meshtrust-${props.meshId}-`;
    const executionLogGroupName = `/aws/vendedlogs/states/meshtrust-${props.meshId}-rotation`;

    this.key = new Key(this, 'Key', {
      alias: `alias/meshtrust/${props.meshId}/audit`,
      description: `Encrypts the audit logs and alarm topic of mesh ${props.meshId} (meshtrust)`,
      enableKeyRotation: true,
      removalPolicy: props.removalPolicy,
    });
    // CloudWatch Logs encrypts with the key only for this mesh's log groups.
    this.key.addToResourcePolicy(
      new PolicyStatement({
        sid: 'CloudWatchLogsEncryptMeshLogGroups',
        principals: [new ServicePrincipal(`logs.${stack.region}.${stack.urlSuffix}`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        conditions: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': [
              this.logGroupArnPattern(`${this.functionLogGroupPrefix}*`),
              this.logGroupArnPattern(executionLogGroupName),
            ],
          },
        },
      }),
    );
    // CloudWatch alarms publish to the encrypted topic.
    this.key.addToResourcePolicy(
      new PolicyStatement({
        sid: 'CloudWatchAlarmsPublishToEncryptedTopic',
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
    );

    this.alarmTopic = new Topic(this, 'AlarmTopic', {
      topicName: `meshtrust-${props.meshId}-alarms`,
      displayName: `meshtrust ${props.meshId} CA rotation alarms`,
      masterKey: this.key,
      enforceSSL: true,
    });
    if (props.alarmEmail !== undefined) {
      this.alarmTopic.addSubscription(new EmailSubscription(props.alarmEmail));
    }

    this.executionLogGroup = this.newLogGroup('ExecutionLog', executionLogGroupName);
  }

  /** A log group of this mesh: encrypted with the audit key, kept for the audit retention. */
  newLogGroup(id: string, logGroupName: string): LogGroup {
    return new LogGroup(this, id, {
      logGroupName,
      encryptionKey: this.key,
      retention: this.props.retention,
      removalPolicy: this.props.removalPolicy,
    });
  }

  /** Alarms (to the topic) and the dashboard over a deployed workflow. */
  monitor(targets: RotationMonitoringTargets): Dashboard {
    const { stateMachine, expiryCheck, functions } = targets;
    const day = Duration.days(1);
    const expiryHeadroom = new Metric({
      namespace: EXPIRY_METRIC.namespace,
      metricName: EXPIRY_METRIC.metricName,
      dimensionsMap: { service: EXPIRY_METRIC.service, mesh: this.props.meshId },
      statistic: 'Minimum',
      period: day,
    });

    const runEnded = [
      { id: 'ExecutionFailed', metric: stateMachine.metricFailed(), what: 'failed' },
      { id: 'ExecutionTimedOut', metric: stateMachine.metricTimedOut(), what: 'timed out' },
      { id: 'ExecutionAborted', metric: stateMachine.metricAborted(), what: 'was aborted' },
    ];
    for (const { id, metric, what } of runEnded) {
      this.addAlarm(id, metric.with({ statistic: 'Sum', period: Duration.minutes(5) }), {
        description: `A CA rotation of mesh ${this.props.meshId} ${what}. Read the execution history and docs/deploy.md (audit trail) before starting another run.`,
        threshold: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      });
    }
    this.addAlarm('CaExpiresSoon', expiryHeadroom, {
      description: `The root or an intermediate CA of mesh ${this.props.meshId} expires within ${this.props.expiryWarningDays} days. Start a rotation (docs/deploy.md).`,
      threshold: this.props.expiryWarningDays,
      comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
    });
    this.addAlarm('ExpiryCheckFailing', expiryCheck.metricErrors({ period: day, statistic: 'Sum' }), {
      description: `The daily CA expiry check of mesh ${this.props.meshId} fails, so expiry is not watched. Read its log group.`,
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    });

    const dashboard = new Dashboard(this, 'Dashboard', {
      dashboardName: `meshtrust-${this.props.meshId}`,
    });
    const phaseErrors: IMetric[] = Object.entries(functions).map(([name, fn]) =>
      fn.metricErrors({ label: name, period: Duration.hours(1), statistic: 'Sum' }),
    );
    dashboard.addWidgets(
      new TextWidget({
        markdown: `# meshtrust — mesh ${this.props.meshId}\nRotations, their phases and CA expiry headroom. Audit events: Logs Insights over \`${this.functionLogGroupPrefix}*\`.`,
        width: 24,
        height: 2,
      }),
    );
    dashboard.addWidgets(
      new GraphWidget({
        title: 'Rotations',
        width: 12,
        left: [
          stateMachine.metricStarted({ label: 'started', period: day, statistic: 'Sum' }),
          stateMachine.metricSucceeded({ label: 'succeeded', period: day, statistic: 'Sum' }),
          stateMachine.metricFailed({ label: 'failed', period: day, statistic: 'Sum' }),
          stateMachine.metricTimedOut({ label: 'timed out', period: day, statistic: 'Sum' }),
          stateMachine.metricAborted({ label: 'aborted', period: day, statistic: 'Sum' }),
        ],
      }),
      new GraphWidget({ title: 'Phase errors (per handler)', width: 12, left: phaseErrors }),
    );
    dashboard.addWidgets(
      new SingleValueWidget({
        title: 'CA expiry headroom (days, smallest of root and intermediates)',
        width: 12,
        metrics: [expiryHeadroom],
      }),
      new GraphWidget({
        title: 'CA expiry headroom (days)',
        width: 12,
        left: [expiryHeadroom],
        leftAnnotations: [{ value: this.props.expiryWarningDays, label: 'alarm threshold' }],
      }),
    );
    return dashboard;
  }

  private addAlarm(
    id: string,
    metric: IMetric,
    options: { description: string; threshold: number; comparisonOperator: ComparisonOperator },
  ): void {
    const alarm = new Alarm(this, id, {
      alarmName: `meshtrust-${this.props.meshId}-${id}`,
      alarmDescription: options.description,
      metric,
      threshold: options.threshold,
      comparisonOperator: options.comparisonOperator,
      evaluationPeriods: 1,
      // No data means nothing ran (no rotation, or the check has not run yet): not an alarm.
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(new SnsAction(this.alarmTopic));
    this.alarms.push(alarm);
  }

  private logGroupArnPattern(logGroupName: string): string {
    return Stack.of(this).formatArn({
      service: 'logs',
      resource: 'log-group',
      resourceName: logGroupName,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
  }
}
