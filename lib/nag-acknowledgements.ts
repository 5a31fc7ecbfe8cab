import { Arn, ArnFormat, type CfnElement, Stack, Validations } from 'aws-cdk-lib';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { ApprovalEndpoint } from './approval-endpoint.js';
import type { CaStore } from './ca-store.js';
import { type ClusterSelection, eksClusterArns } from './cluster-selection.js';
import { FUNCTION_ACCESS } from './function-access.js';
import { VPC_ACCESS_ACTIONS } from './function-network.js';
import { HANDLER_NAMES, type HandlerName } from './handler-entries.js';
import type { RotationFunctions } from './rotation-functions.js';
import type { RotationLockTable } from './rotation-lock-table.js';
import type { RotationStateMachine } from './rotation-state-machine.js';

export interface NagAcknowledgementTargets {
  readonly caStore: CaStore;
  readonly lockTable: RotationLockTable;
  readonly functions: RotationFunctions;
  readonly workflow: RotationStateMachine;
  /** The mesh's clusters: those discovered by tag (`*` entries, or no list) IAM cannot name. */
  readonly clusters: ClusterSelection;
  /** The functions run in a VPC (their roles manage network interfaces). */
  readonly inVpc: boolean;
  /** The approval endpoint, when approval gates are on. */
  readonly approvalEndpoint?: ApprovalEndpoint;
}

/**
 * Acknowledges the cdk-nag AwsSolutions findings (v3, `Validations.of(...).acknowledge`) that are
 * deliberate, each on the narrowest construct and finding id, each with the reason it is safe.
 * Everything else must pass; test/infra/cdk-nag.test.ts fails on any unacknowledged finding.
 */
export function acknowledgeNagFindings(targets: NagAcknowledgementTargets): void {
  const { caStore, lockTable, functions, workflow, clusters, inVpc, approvalEndpoint } = targets;
  const stack = Stack.of(workflow);
  // Each account-and-region whose clusters are discovered by tag: `cluster/*` there.
  const discoveredClusterArns = eksClusterArns(stack, clusters).filter((arn) => arn.endsWith('cluster/*'));
  for (const name of HANDLER_NAMES) {
    const role = functions.roles[name];
    const access = FUNCTION_ACCESS[name];
    if (access.lock !== undefined) {
      Validations.of(role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${nagArn(stack, lockTable.executionArnPattern)}]`,
        reason:
          name === 'acquire-lock'
            ? "states:DescribeExecution and GetExecutionHistory only, on the executions of this mesh's rotation state machine: the lock asks whether the execution holding it still runs before another may take it over, a resumed rollback reads the run it resumes before taking the lock, and execution names are chosen at start time."
            : "states:DescribeExecution only, on the executions of this mesh's rotation state machine: the lock asks whether the execution holding it still runs before another may take it over, and execution names are chosen at start time.",
      });
    }
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: `Only for actions without resource-level permissions: ${wildcardActions(name, inVpc).join('; ')}.`,
    });
    if (access.rootKeys?.includes('create')) {
      Validations.of(role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${nagArn(stack, caStore.rootKeyAliasArnPattern)}]`,
        reason:
          "kms:CreateAlias only, on aliases under alias/meshtrust/<meshId>/root/: stage-root names each new root key after the root version it belongs to (unknown until the run), so a re-run finds its key instead of creating a second one. Using a key is granted by that key's own policy, not by its alias.",
      });
    }
    if (access.importedRootKeys !== undefined) {
      Validations.of(role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${nagArn(stack, caStore.importedRootKeySecretArnPattern)}]`,
        reason:
          "Only the secrets under meshtrust/<meshId>/root-key/, named after the root version they belong to (created by meshtrust import-root at run time): reissue-intermediate reads an imported root's key to sign with it, promote-root schedules the secret's deletion once that root is retired.",
      });
    }
    for (const part of ['intermediates', 'backups'] as const) {
      const reaches =
        access.secrets?.[part] !== undefined || (part === 'backups' && access.deletesBackups === true);
      if (!reaches) continue;
      Validations.of(role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${nagArn(stack, caStore.secretArnPatterns[part])}]`,
        reason:
          'The CA secrets are created at run time by the handlers (the stack creates none, see lib/ca-store.ts), named after a cluster or an execution, and Secrets Manager appends a random suffix to every secret ARN, so the policy names that one part of the store, meshtrust/<meshId>/intermediate/* or backup/*, and nothing wider.',
      });
    }
    if (access.clusters !== undefined || name === 'check-expiry') {
      for (const arn of discoveredClusterArns) {
        Validations.of(role).acknowledge({
          id: `AwsSolutions-IAM5[Resource::${nagArn(stack, arn)}]`,
          reason:
            'Clusters are discovered by tag, so their names are unknown at deploy time; the role may only describe clusters and read their tags (eks:DescribeCluster, eks:ListTagsForResource), and the handlers act only on clusters carrying the mesh tag.',
        });
      }
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
  acknowledgeDistributedMapPolicy(workflow);
  // The Scheduler target role is a stack-level singleton created by aws-scheduler-targets.
  Validations.of(stack).acknowledge({
    id: `AwsSolutions-IAM5[Resource::<${logicalId(functions.functions['check-expiry'])}.Arn>:*]`,
    reason: functionVersionsReason,
  });
}

/**
 * The policy CDK gives the state machine's role for its Distributed Maps (aws-stepfunctions StateGraph,
 * as docs.aws.amazon.com/step-functions/latest/dg/iam-policies-eg-dist-map.html lists it): Describe and
 * Stop of its own executions, whose child names Step Functions chooses, and RedriveExecution of each
 * Map Run's children by label.
 */
function acknowledgeDistributedMapPolicy(workflow: RotationStateMachine): void {
  const policy = workflow.stateMachine.node.tryFindChild('DistributedMapPolicy');
  if (policy === undefined) return;
  const stack = Stack.of(workflow);
  const executions = (suffix: string) =>
    nagArn(
      stack,
      stack.formatArn({
        service: 'states',
        resource: 'execution',
        resourceName: `${Arn.split(workflow.stateMachine.stateMachineArn, ArnFormat.COLON_RESOURCE_NAME).resourceName}${suffix}`,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      }),
    );
  Validations.of(policy).acknowledge({
    id: `AwsSolutions-IAM5[Resource::${executions(':*')}]`,
    reason:
      "states:DescribeExecution and StopExecution only, on the executions of this mesh's own rotation state machine: each Distributed Map starts one child execution per cluster, whose name Step Functions chooses, and stops them when the parent stops.",
  });
  for (const label of workflow.distributedMapLabels) {
    Validations.of(policy).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${executions(`/${label}:*`)}]`,
      reason: `states:RedriveExecution only, on the child executions of the ${label} Map Run (names chosen by Step Functions): redriving a stopped rotation by hand redrives its failed children. meshtrust itself never redrives.`,
    });
  }
}

/** What a function's role is allowed on resource `*`, because those actions have no resource-level permission. */
function wildcardActions(name: HandlerName, inVpc: boolean): string[] {
  const access = FUNCTION_ACCESS[name];
  return [
    'xray:PutTraceSegments/PutTelemetryRecords (active tracing)',
    ...(inVpc ? [`${VPC_ACCESS_ACTIONS.join('/')} (Lambda attaching the function to the VPC)`] : []),
    ...(access.clusters !== undefined || name === 'check-expiry'
      ? ['eks:ListClusters (returns cluster names, needed to discover the mesh clusters)']
      : []),
    ...(access.rootKeys?.includes('create')
      ? [
          'kms:CreateKey of SIGN_VERIFY keys of the root key specs with the policy lockout check on (a new key is usable only as its own key policy allows)',
        ]
      : []),
    ...(access.rootKeys?.includes('find')
      ? [
          "kms:ListKeys and kms:ListAliases (key and alias ids of the account, to find the keys of a root version that no alias names; the tags it then reads come from each root key's own policy)",
        ]
      : []),
    ...(access.rootKeys !== undefined ? ['an explicit Deny of kms:PutKeyPolicy on every key'] : []),
  ];
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
  // As cdk-nag prints a resource: a Ref as <Ref>, any other intrinsic as its JSON.
  return join[1]
    .map((part) => {
      if (typeof part === 'string') return part;
      const ref = (part as { Ref?: unknown }).Ref;
      return typeof ref === 'string' && Object.keys(part as object).length === 1
        ? `<${ref}>`
        : JSON.stringify(part);
    })
    .join(join[0]);
}
