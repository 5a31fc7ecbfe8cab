// Waits for a started component the way envtest does: poll its health endpoint until it answers 200,
// and give up early, with the end of its log, if the process ends meanwhile.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { type LabProcess, LabProcessError, logTail } from './lab-process.js';

const POLL_MS = 250;

export interface HealthCheck {
  readonly url: string;
  /** The CA of an https endpoint. */
  readonly caPem?: string;
  /** A client certificate and key, for endpoints that want one. */
  readonly certPem?: string;
  readonly keyPem?: string;
}

export async function waitUntilHealthy(
  labProcess: LabProcess,
  check: HealthCheck,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    await labProcess.assertRunning();
    last = await probe(check);
    if (last === 'ok') return;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  throw new LabProcessError(
    labProcess.name,
    `not healthy after ${Math.round(timeoutMs / 1000)} s at ${check.url} (last: ${last}); ` +
      `last lines of ${labProcess.logFile}:\n${await logTail(labProcess.logFile)}`,
  );
}

function probe(check: HealthCheck): Promise<string> {
  return new Promise((resolve) => {
    const url = new URL(check.url);
    const options = {
      method: 'GET',
      timeout: 2_000,
      ca: check.caPem,
      cert: check.certPem,
      key: check.keyPem,
    };
    const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, options, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () =>
        resolve(res.statusCode === 200 ? 'ok' : `HTTP ${res.statusCode} ${body.slice(0, 300)}`),
      );
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (error) => resolve(error.message));
    req.end();
  });
}
