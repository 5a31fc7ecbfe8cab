// A Distributed Map in a definition, and the state the local engine runs in its place (pure). Step
// Functions runs a DISTRIBUTED Map's items as child executions of their own; aws-local-stepfunctions would
// run them inline, in the parent's context. The local definition (local-engine-definition.ts) replaces
// its ItemProcessor by one stand-in Task `<map>-child` per item, which the runner overrides with a child
// execution of the original ItemProcessor (distributed-map-emulation.ts).

type Json = Record<string, unknown>;

/** A Map whose ItemProcessor has this ProcessorConfig mode runs as a Map Run of child executions. */
export const DISTRIBUTED_MODE = 'DISTRIBUTED';
/**
 * The Resource of the stand-in Task: never invoked (the runner overrides it), a Lambda ARN only so the
 * engine's ARN check passes.
 */
const CHILD_TASK_RESOURCE = 'arn:aws:lambda:us-east-1:000000000000:function:meshtrust-rehearsal-map-child';

/** A Map's fields that let some children fail without failing the Map Run. */
const TOLERANCE_FIELDS = [
  'ToleratedFailureCount',
  'ToleratedFailureCountPath',
  'ToleratedFailurePercentage',
  'ToleratedFailurePercentagePath',
] as const;

/** What the stand-in Task is given: the item as the parent built it, its index, the parent's ARN. */
export interface ChildTaskInput {
  readonly item: unknown;
  readonly index: number;
  readonly parent: string;
}

export function isDistributedMap(state: Json): boolean {
  const processor = state.ItemProcessor as Json | undefined;
  const config = processor?.ProcessorConfig as Json | undefined;
  return state.Type === 'Map' && config?.Mode === DISTRIBUTED_MODE;
}

/** The stand-in Task's name for a Distributed Map state. */
export function childTaskName(map: string): string {
  return `${map}-child`;
}

/**
 * The Map state as the local engine runs it: inline, one stand-in Task per item, the item built in the
 * parent as the original ItemSelector builds it (or the item itself), with its index and the parent's
 * execution ARN. Everything else of the Map (MaxConcurrency, ResultSelector, ResultPath, Catch) stays.
 */
export function localDistributedMap(name: string, state: Json): Json {
  // The emulation fails the Map Run at its first failed child: a tolerance it would silently ignore.
  const tolerance = TOLERANCE_FIELDS.filter((field) => state[field] !== undefined);
  if (tolerance.length > 0) {
    throw new Error(
      `Distributed Map ${name} sets ${tolerance.join(', ')}: the rehearsal fails a Map Run at its first failed ` +
        'child and does not emulate a tolerated failure threshold',
    );
  }
  const {
    ItemProcessor: _processor,
    ItemSelector: itemSelector,
    Parameters: parameters,
    Label: _label,
    ...rest
  } = state;
  // Parameters is the older name of ItemSelector, which Step Functions still takes.
  const selector = itemSelector ?? parameters;
  const child = childTaskName(name);
  return {
    ...rest,
    ItemSelector: {
      ...(selector === undefined ? { 'item.$': '$$.Map.Item.Value' } : { item: selector }),
      'index.$': '$$.Map.Item.Index',
      'parent.$': '$$.Execution.Id',
    },
    ItemProcessor: {
      ProcessorConfig: { Mode: 'INLINE' },
      StartAt: child,
      States: { [child]: { Type: 'Task', Resource: CHILD_TASK_RESOURCE, End: true } },
    },
  };
}

/** One Distributed Map of a definition: its state name, its Map Run label, its original ItemProcessor. */
export interface DistributedMap {
  readonly map: string;
  readonly label: string;
  readonly processor: Json;
}

/** Every Distributed Map among the definition's states, nested ones included. */
export function distributedMapsOf(definition: Json): DistributedMap[] {
  const found: DistributedMap[] = [];
  const visit = (states: Record<string, Json> | undefined) => {
    for (const [name, state] of Object.entries(states ?? {})) {
      const processor = (state.ItemProcessor ?? state.Iterator) as Json | undefined;
      if (isDistributedMap(state) && processor !== undefined) {
        found.push({ map: name, label: typeof state.Label === 'string' ? state.Label : name, processor });
      }
      visit(processor?.States as Record<string, Json> | undefined);
      for (const branch of (state.Branches as Json[] | undefined) ?? []) {
        visit(branch.States as Record<string, Json> | undefined);
      }
    }
  };
  visit(definition.States as Record<string, Json> | undefined);
  return found;
}
