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

/** A logger with meshtrust's settings; tests use it to get a logger of their own. */
export function createLogger(): Logger {
  return new Logger({ serviceName: SERVICE_NAME, jsonReplacerFn: refusePrivateKeysReplacer });
}
