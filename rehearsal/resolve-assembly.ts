// Step one of a rehearsal: the synthesized app, read and checked against the options before anything
// starts (loadStateMachine), then, once there is a lab, its definition with every CloudFormation token
// given a stand-in there (resolveForLab): KMS keys and tables in moto, roles and functions as ARNs of
// the lab account, the state machine registered in moto as deployed.
import { LAB_ACCOUNT_ID, type LabIdentity } from '../lab/eks/lab-identities.js';
import type { MotoServer } from '../lab/moto-server.js';
import { MESH_ID_ENV } from '../lambdas/contract/function-environment.js';
import { type CloudAssembly, ensureCloudAssembly, readCloudAssembly } from './cloud-assembly.js';
import { type DefinitionTask, definitionTasks } from './definition-tasks.js';
import { checkFailAt, failAtStates } from './fail-at.js';
import { checkFault } from './fault-spec.js';
import type { RehearsalFleet } from './fleet/rehearsal-fleet.js';
import { functionIdentities } from './function-identities.js';
import { createMotoKmsKey } from './moto-kms-key.js';
import { registerStateMachineInMoto } from './moto-state-machine.js';
import { createTemplateTablesInMoto } from './moto-tables.js';
import { RehearsalOptionsError } from './rehearsal-errors.js';
import type { RehearsalOptions } from './rehearsal-options.js';
import { type CfnTemplate, referencedLogicalIds, resolveDefinition } from './resolve-definition.js';
import { type TemplateFunction, templateFunctions } from './template-functions.js';

type Json = Record<string, unknown>;

export interface LoadedStateMachine {
  readonly assembly: CloudAssembly;
  readonly functions: TemplateFunction[];
  readonly meshId: string;
}

/**
 * The synthesized app, and what the options name in it checked: an assembly named explicitly runs as
 * it is (like `cdk deploy --app cdk.out`); else ./cdk.out, synthesized again when older than its sources.
 */
export async function loadStateMachine(
  options: Pick<RehearsalOptions, 'projectRoot' | 'cdkOut' | 'signal' | 'failAt' | 'faults'>,
  fleet: { readonly clusterNames: readonly string[]; readonly accounts: readonly string[] },
  note: (line: string) => void,
): Promise<LoadedStateMachine> {
  const assembly: CloudAssembly =
    options.cdkOut === undefined
      ? await ensureCloudAssembly({
          projectRoot: options.projectRoot,
          onProgress: note,
          ...(options.signal === undefined ? {} : { signal: options.signal }),
        })
      : { ...(await readCloudAssembly(options.cdkOut)), reused: true };
  note(
    `state machine: ${assembly.stackName} from ${assembly.templateFile}${assembly.reused ? ' (reused)' : ''}`,
  );
  const states = failAtStates(taskStatesOf(assembly.template));
  const { clusterNames, accounts } = fleet;
  for (const failAt of options.failAt ?? []) checkFailAt(failAt, { states, clusters: clusterNames });
  // A fault starts when its phase begins: a Task state, or a Map (its per-cluster Task is no phase).
  for (const fault of options.faults ?? [])
    checkFault(fault, { phases: states.listed, clusters: clusterNames, accounts });
  const functions = templateFunctions(assembly.template, assembly.directory);
  return { assembly, functions, meshId: meshIdOf(functions) };
}

/** The definition as it runs against one lab, and the stand-ins its tokens were given there. */
export interface LabStateMachine {
  /** The definition, every token resolved. */
  readonly definition: Json;
  /** The stand-in ARN of each resource of the template, by logical id. */
  readonly arns: Record<string, string>;
  /** The pseudo parameters (AWS::Region, ...) as the lab answers them. */
  readonly pseudo: Record<string, string>;
  readonly functionArn: (fn: TemplateFunction) => string;
  /** Who each function runs as: its own role's session, as deployed. */
  readonly identityOf: (fn: TemplateFunction) => LabIdentity;
  readonly stateMachineName: string;
  /** The state machine as registered in moto, where the run's executions are started. */
  readonly motoStateMachineArn: string;
}

export async function resolveForLab(input: {
  readonly assembly: CloudAssembly;
  readonly functions: readonly TemplateFunction[];
  readonly lab: RehearsalFleet;
  readonly moto: MotoServer;
}): Promise<LabStateMachine> {
  const { assembly, functions, lab, moto } = input;
  const region = lab.region;
  const rotator = lab.identities.rotator;
  // Token stand-ins: each KMS key of the template becomes a moto key, each function an ARN of its name.
  const arns: Record<string, string> = {};
  for (const [logicalId, resource] of Object.entries(assembly.template.Resources ?? {})) {
    if (resource.Type === 'AWS::KMS::Key') {
      arns[logicalId] = await createMotoKmsKey(moto.endpoint, region, `rehearsal stand-in for ${logicalId}`);
    }
    // A role's ARN in the lab account (stage-root writes the functions' roles into each root key's policy).
    if (resource.Type === 'AWS::IAM::Role')
      arns[logicalId] = `arn:aws:iam::${LAB_ACCOUNT_ID}:role/${logicalId}`;
  }
  const identityOf = functionIdentities({ lab, functions, template: assembly.template, arns });
  // A lab in another process learns the functions' role sessions (and who may assume the cluster
  // roles) before any function runs, as STS knows the sessions it issued.
  if (lab.shareIdentities !== undefined) {
    for (const fn of functions) identityOf(fn);
    await lab.shareIdentities();
  }
  // Each DynamoDB table of the template (the rotation lock) becomes a moto table made from its properties.
  Object.assign(
    arns,
    await createTemplateTablesInMoto({
      endpoint: moto.endpoint,
      region,
      credentials: rotator.credentials,
      template: assembly.template,
      stackName: assembly.stackName,
    }),
  );
  const functionArn = (fn: TemplateFunction) =>
    `arn:aws:lambda:${region}:${LAB_ACCOUNT_ID}:function:${fn.functionName}`;
  for (const fn of functions) arns[fn.logicalId] = functionArn(fn);
  const pseudo = {
    'AWS::Partition': 'aws',
    'AWS::Region': region,
    'AWS::AccountId': LAB_ACCOUNT_ID,
    'AWS::URLSuffix': 'amazonaws.com',
  };
  const missing = referencedLogicalIds(assembly.template).filter((id) => arns[id] === undefined);
  for (const id of missing) arns[id] = `arn:aws:states:${region}:${LAB_ACCOUNT_ID}:stand-in:${id}`;
  const definition = resolveDefinition(assembly.template, { arns, pseudo });
  const stateMachineName = stateMachineNameOf(assembly.template) ?? `meshtrust-${lab.meshId}-rotation`;
  // The rotation lock asks Step Functions whether the execution holding it still runs: the state
  // machine exists in moto, like the deployed one, and so will this run's execution.
  const motoStateMachineArn = await registerStateMachineInMoto({
    endpoint: moto.endpoint,
    region,
    credentials: rotator.credentials,
    name: stateMachineName,
    definition,
  });
  return { definition, arns, pseudo, functionArn, identityOf, stateMachineName, motoStateMachineArn };
}

function meshIdOf(functions: readonly TemplateFunction[]): string {
  const meshId = functions
    .map((fn) => fn.environment[MESH_ID_ENV])
    .find((value) => typeof value === 'string');
  if (typeof meshId !== 'string') {
    throw new RehearsalOptionsError(
      'cdk.out',
      `no function of the stack has ${MESH_ID_ENV}; is this a meshtrust stack?`,
    );
  }
  return meshId;
}

/** The Task states of the definition, read before any resource exists: each ARN a placeholder. */
function taskStatesOf(template: CfnTemplate): DefinitionTask[] {
  const placeholders = Object.fromEntries(
    referencedLogicalIds(template).map((id) => [id, `arn:aws:lambda:::function:${id}`]),
  );
  return definitionTasks(resolveDefinition(template, { arns: placeholders }) as never);
}

function stateMachineNameOf(template: CfnTemplate): string | undefined {
  const machine = Object.values(template.Resources ?? {}).find(
    (resource) => resource.Type === 'AWS::StepFunctions::StateMachine',
  );
  const name = machine?.Properties?.StateMachineName;
  return typeof name === 'string' ? name : undefined;
}
