import { Logger } from '@aws-lambda-powertools/logger';
import { refusePrivateKeysReplacer } from './private-key-guard.js';

/** The service name every meshtrust log line and metric carries. */
export const SERVICE_NAME = 'meshtrust';

/**
 * The one logger of meshtrust's functions. Handlers add context with
 * `logger.appendKeys({ cluster, executionId })` rather than formatting strings, and log ids, ARNs and
 * fingerprints, never whole events or payloads.
 *
 * Every string of every line passes the private key guard while the line is serialised, so a line
 * that would carry a key throws PrivateKeyInLogError instead of being written.
 */
export const logger = createLogger();

/**
 * The part of the Lambda context (the handler's second argument) that handlers read. Lambda's Node.js
 * runtime passes all of it; tests may pass a part or nothing.
 */
export interface LambdaContext {
  /** The invocation's request id: every log line of the invocation carries it (`function_request_id`). */
  readonly awsRequestId?: string;
  readonly functionName?: string;
  readonly functionVersion?: string;
  readonly invokedFunctionArn?: string;
  readonly memoryLimitInMB?: string;
  getRemainingTimeInMillis?(): number;
}

/**
 * Puts the invocation's Lambda context on every following log line (Powertools' `function_request_id`,
 * `function_name`, `cold_start`...). Lambda gives every invocation a context, so each replaces the last.
 */
export function logInvocation(lambdaContext: LambdaContext | undefined): void {
  if (lambdaContext?.awsRequestId === undefined) return;
  logger.addContext(lambdaContext as Parameters<Logger['addContext']>[0]);
}

/** A logger with meshtrust's settings; tests use it to get a logger of their own. */
export function createLogger(): Logger {
  return new Logger({ serviceName: SERVICE_NAME, jsonReplacerFn: refusePrivateKeysReplacer });
}
