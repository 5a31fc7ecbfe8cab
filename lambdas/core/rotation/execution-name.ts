/**
 * The execution's name from its id. Step Functions passes the execution ARN
 * (`arn:<partition>:states:<region>:<account>:execution:<state machine>:<name>`); secret names use the
 * name, the last segment. Anything that is not such an ARN (a local run's id) is taken as the name.
 */
export function executionNameOf(executionId: string): string {
  const parts = executionId.split(':');
  if (parts.length >= 8 && parts[0] === 'arn' && parts[2] === 'states' && parts[5] === 'execution') {
    return parts.slice(7).join(':');
  }
  return executionId;
}
