// The child process of one warm "Lambda container" of the rehearsal (function-pool.ts). Plain
// JavaScript run by plain node: it loads the function's own bundle from cdk.out, exactly the code that
// would be deployed, and serves one invocation at a time over IPC, as the Lambda Node.js runtime does.
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';

const bundle = process.env._REHEARSAL_BUNDLE;
const exportName = process.env._REHEARSAL_EXPORT;
delete process.env._REHEARSAL_BUNDLE;
delete process.env._REHEARSAL_EXPORT;

let handler;
try {
  const module = await import(pathToFileURL(bundle).href);
  handler = module[exportName];
  if (typeof handler !== 'function') throw new TypeError(`${bundle} exports no function ${exportName}`);
} catch (error) {
  process.send({ type: 'init-error', errorType: error?.name ?? 'Error', errorMessage: String(error?.message) });
  process.exit(1);
}

process.on('message', async (message) => {
  if (message?.type !== 'invoke') return;
  const deadline = Date.now() + message.timeoutMs;
  const context = {
    awsRequestId: randomUUID(),
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: '$LATEST',
    invokedFunctionArn: message.functionArn,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    logGroupName: `/aws/lambda/${process.env.AWS_LAMBDA_FUNCTION_NAME}`,
    logStreamName: 'rehearsal',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
  try {
    const result = await handler(message.event, context);
    process.send({ type: 'result', id: message.id, result: result ?? null });
  } catch (error) {
    // What Lambda reports to Step Functions: errorType (the error's name) and errorMessage.
    const errorType = typeof error?.name === 'string' && error.name !== '' ? error.name : 'Error';
    const errorMessage = String(error?.message ?? error);
    // And what the Node.js runtime writes to the function's log for it (its `Invoke Error` line, the
    // stack left out), so an invocation whose caller had moved on (a Map that failed) still says how it ended.
    console.error(
      `${new Date().toISOString()}\t${context.awsRequestId}\tERROR\tInvoke Error \t${JSON.stringify({ errorType, errorMessage })}`,
    );
    process.send({ type: 'error', id: message.id, errorType, errorMessage });
  }
});

// The rehearsal is gone (even killed): a container has no reason to outlive it.
process.on('disconnect', () => process.exit(0));

process.send({ type: 'ready' });
