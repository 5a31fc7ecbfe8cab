/**
 * The execution's ARN when `execution` names (by ARN or by name) an execution of `stateMachineArn`;
 * undefined otherwise, and for a state machine ARN that is no such ARN. answer-approval answers only
 * gates of its mesh's rotation state machine: anything else is refused before Step Functions is asked.
 */
export function meshExecutionArn(stateMachineArn: string, execution: string): string | undefined {
  const match = /^arn:([^:]+):states:([^:]+):([^:]+):stateMachine:([^:]+)$/.exec(stateMachineArn);
  if (match === null) return undefined;
  const [, partition, region, account, name] = match;
  const prefix = `arn:${partition}:states:${region}:${account}:execution:${name}:`;
  if (execution.startsWith('arn:')) {
    return execution.startsWith(prefix) &&
      execution.length > prefix.length &&
      !execution.slice(prefix.length).includes(':')
      ? execution
      : undefined;
  }
  return /^[A-Za-z0-9_.-]{1,80}$/.test(execution) ? `${prefix}${execution}` : undefined;
}
