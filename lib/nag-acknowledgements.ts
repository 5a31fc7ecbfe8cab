import { type CfnElement, Stack, Validations } from 'aws-cdk-lib';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { ApprovalEndpoint } from './approval-endpoint.js';
import type { CaStore } from './ca-store.js';
import { eksClusterArns } from './cluster-selection.js';
import type { RotationFunctions } from './rotation-functions.js';
import type { RotationLockTable } from './rotation-lock-table.js';
import type { RotationStateMachine } from './rotation-state-machine.js';

export interface NagAcknowledgementTargets {
  readonly caStore: CaStore;
  readonly lockTable: RotationLockTable;
  readonly functions: RotationFunctions;
  readonly workflow: RotationStateMachine;
  /** Clusters are discovered by tag, so IAM cannot name them. */
  readonly clustersDiscovered: boolean;
  /** The approval endpoint, when approval gates are on. */
  readonly approvalEndpoint?: ApprovalEndpoint;
}

/**
 * Acknowledges the cdk-nag AwsSolutions findings (v3, `Validations.of(...).acknowledge`) that are
 * deliberate, each on the narrowest construct and finding id, each with the reason it is safe.
 * Everything else must pass; test/infra/cdk-nag.test.ts fails on any unacknowledged finding.
 */
export function acknowledgeNagFindings(targets: NagAcknowledgementTargets): void {
  const { caStore, lockTable, functions, workflow, clustersDiscovered, approvalEndpoint } = targets;
  const stack = Stack.of(workflow);
  const lambdaRoles = [functions.rotatorRole, functions.expiryCheckRole];

  for (const role of [functions.rotatorRole, functions.lockRole]) {
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagArn(stack, lockTable.executionArnPattern)}]`,
      reason:
        "states:DescribeExecution only, on the executions of this mesh's rotation state machine: the lock asks whether the execution holding it still runs before another may take it over, and execution names are chosen at start time.",
    });
  }
  Validations.of(functions.lockRole).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason:
      'Only for actions without resource-level permissions: xray:PutTraceSegments/PutTelemetryRecords (active tracing of the lock functions).',
  });

  Validations.of(functions.rotatorRole).acknowledge({
    id: `AwsSolutions-IAM5[Resource::${nagArn(stack, caStore.rootKeyAliasArnPattern)}]`,
    reason:
      "kms:CreateAlias only, on aliases under alias/meshtrust/<meshId>/root/: stage-root names each new root key after the root version it belongs to (unknown until the run), so a re-run finds its key instead of creating a second one. Using a key is granted by that key's own policy, not by its alias.",
  });
  Validations.of(functions.rotatorRole).acknowledge({
    id: `AwsSolutions-IAM5[Resource::${nagArn(stack, caStore.importedRootKeySecretArnPattern)}]`,
    reason:
      "secretsmanager:DeleteSecret and DescribeSecret only, on meshtrust/<meshId>/root-key/*: promote-root schedules the deletion of an imported root's key secret (named after the root version, created by meshtrust import-root at run time) once that root is retired.",
  });

  for (const role of lambdaRoles) {
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagArn(stack, caStore.secretArnPattern)}]`,
      reason:
        'The CA secrets are created at run time by the handlers (the stack creates none, see lib/ca-store.ts) and Secrets Manager appends a random suffix to every secret ARN, so the policy names the mesh prefix meshtrust/<meshId>/* and nothing wider.',
    });
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Only for actions without resource-level permissions: eks:ListClusters (returns cluster names, needed to discover the mesh clusters), xray:PutTraceSegments/PutTelemetryRecords (active tracing) and, for the rotator, kms:CreateKey of SIGN_VERIFY keys of the root key specs with the policy lockout check on (a new key is usable only as its own key policy allows), besides an explicit Deny of kms:PutKeyPolicy.',
    });
    if (clustersDiscovered) {
      Validations.of(role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${nagArn(stack, eksClusterArns(stack, { names: [], tagKey: '', tagValue: '' })[0] as string)}]`,
        reason:
          'Clusters are discovered by tag, so their names are unknown at deploy time; the role may only describe clusters and read their tags (eks:DescribeCluster, eks:ListTagsForResource), and the handlers act only on clusters carrying the mesh tag.',
      });
    }
  }

  if (approvalEndpoint !== undefined) {
    Validations.of(approvalEndpoint.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagArn(stack, approvalEndpoint.executionArnPattern)}]`,
      reason:
        "states:DescribeExecution and GetExecutionHistory only, on the executions of this mesh's rotation state machine: answer-approval reads the gate an execution waits at, and execution names are chosen at start time.",
    });
    Validations.of(approvalEndpoint.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Only for actions without resource-level permissions: xray:PutTraceSegments/PutTelemetryRecords (active tracing of answer-approval).',
    });
  }

  const stateMachineRole = workflow.stateMachine.role;
  Validations.of(stateMachineRole).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason:
      'Only for actions without resource-level permissions: the CloudWatch Logs delivery actions Step Functions needs to write its execution log, and xray:PutTraceSegments/PutTelemetryRecords/GetSamplingRules/GetSamplingTargets for tracing.',
  });
  const phaseFunctions = Object.entries(functions.functions).filter(([name]) => name !== 'check-expiry');
  for (const [, fn] of phaseFunctions) {
    Validations.of(stateMachineRole).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${logicalId(fn)}.Arn>:*]`,
      reason: functionVersionsReason,
    });
  }
  // The Scheduler target role is a stack-level singleton created by aws-scheduler-targets.
  Validations.of(stack).acknowledge({
    id: `AwsSolutions-IAM5[Resource::<${logicalId(functions.functions['check-expiry'])}.Arn>:*]`,
    reason: functionVersionsReason,
  });
}

const functionVersionsReason =
  'lambda:InvokeFunction on <function ARN>:* covers the versions and aliases of that one function (how CDK grants invoke); it names no other function.';

function logicalId(fn: IFunction): string {
  const stack = Stack.of(fn);
  return stack.resolve(stack.getLogicalId(fn.node.defaultChild as CfnElement)) as string;
}

/** The way cdk-nag prints an ARN built with formatArn: pseudo parameters as `<AWS::...>`. */
function nagArn(stack: Stack, arn: string): string {
  const resolved = stack.resolve(arn) as unknown;
  const join = (resolved as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  if (join === undefined) return String(resolved);
  return join[1]
    .map((part) => (typeof part === 'string' ? part : `<${(part as { Ref: string }).Ref}>`))
    .join(join[0]);
}
