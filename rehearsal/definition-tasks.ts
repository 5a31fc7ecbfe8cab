// Which Lambda function each Task state of the resolved definition invokes. aws-local-stepfunctions
// overrides Tasks by state name (Tasks inside a Map's ItemProcessor included), so the rehearsal
// needs state name -> function.

export interface DefinitionTask {
  readonly state: string;
  /** The Task's Resource: a function ARN, or `arn:aws:states:::lambda:invoke[.waitForTaskToken]`. */
  readonly resource: string;
  /** The function ARN the Task invokes. */
  readonly functionArn: string;
  /** `.waitForTaskToken`: the Task's input is `{ FunctionName, Payload }` and it waits for an answer. */
  readonly waitsForTaskToken: boolean;
  /** The Map state it runs in, if any. */
  readonly map?: string;
}

interface StatesContainer {
  readonly States?: Record<string, Record<string, unknown>>;
}

export function definitionTasks(definition: StatesContainer): DefinitionTask[] {
  const tasks: DefinitionTask[] = [];
  const visit = (container: StatesContainer, map?: string) => {
    for (const [name, state] of Object.entries(container.States ?? {})) {
      if (state.Type === 'Map') {
        visit((state.ItemProcessor ?? state.Iterator ?? {}) as StatesContainer, name);
      } else if (state.Type === 'Task' && typeof state.Resource === 'string') {
        const parameters = (state.Parameters ?? {}) as Record<string, unknown>;
        const viaIntegration = state.Resource.startsWith('arn:aws:states:::lambda:invoke');
        const functionArn = viaIntegration ? parameters.FunctionName : state.Resource;
        if (typeof functionArn !== 'string') continue;
        tasks.push({
          state: name,
          resource: state.Resource,
          functionArn,
          waitsForTaskToken: state.Resource.endsWith('.waitForTaskToken'),
          ...(map === undefined ? {} : { map }),
        });
      }
    }
  };
  visit(definition);
  return tasks;
}
