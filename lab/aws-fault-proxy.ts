// A plain HTTP proxy in front of moto_server that can answer a request with an AWS error instead of
// forwarding it, forward it late (`slow`), or forward it and then lose moto's answer (the rehearsal's
// `--fault aws:...`); the
// same proxy stands in front of the lab's EKS API for `--fault eks:...`, and in front of its STS for
// `--fault sts:...`. The functions reach it through AWS_ENDPOINT_URL,
// so every AWS call they make (Secrets Manager, KMS, Step Functions: all AWS JSON protocol) passes
// here; the rehearsal's own calls go to moto directly. Errors are written as the service writes them,
// which is what the AWS SDK v3 reads to name the error (and so to classify it as throttling or
// transient): a JSON-protocol service's status, the error code in `x-amzn-ErrorType` and as `__type` in
// the body; STS's (query protocol) status and `<ErrorResponse><Error><Type>..<Code>..` XML.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { stsError } from './eks/lab-sts.js';
import { forwardRequest, listenOnLoopback } from './loopback-proxy.js';

/** An error answer of an AWS service, in the shape of the service's protocol. */
export interface AwsError {
  readonly status: number;
  /** The error code, e.g. ThrottlingException. */
  readonly type: string;
  readonly message: string;
  /**
   * How the service writes it: `json` for the AWS JSON and REST-JSON services (Secrets Manager, KMS,
   * Step Functions, EKS), `query` for STS's XML.
   * @default 'json'
   */
  readonly protocol?: 'json' | 'query';
}

/**
 * What the proxy does with a request instead of passing it on at once, as the Kubernetes API's faults do
 * (KubeRequestFault): answer this error instead of the service, or pass the request on `ms` later
 * (`slow`), so the caller gets the service's own answer that much late.
 */
export type AwsRequestFault =
  | { readonly kind: 'error'; readonly error: AwsError }
  | { readonly kind: 'delay'; readonly ms: number };

/** What AWS answers a caller over its request rate; the SDK retries it with its throttling backoff. */
export const AWS_THROTTLING: AwsError = {
  status: 400,
  type: 'ThrottlingException',
  message: 'Rate exceeded',
};

/** A 5xx from AWS; the SDK retries it as a transient error. */
export const AWS_SERVICE_UNAVAILABLE: AwsError = {
  status: 503,
  type: 'ServiceUnavailable',
  message: 'Service is unavailable. Please try again later.',
};

/** What the EKS API (a REST-JSON service) answers a caller over its request rate. */
export const EKS_THROTTLING: AwsError = {
  status: 429,
  type: 'ThrottlingException',
  message: 'Rate exceeded',
};

/** EKS's 5xx; the SDK retries it as a transient error. */
export const EKS_SERVICE_UNAVAILABLE: AwsError = {
  status: 503,
  type: 'ServiceUnavailableException',
  message: 'The service is unavailable. Back off and retry the operation.',
};

/**
 * What STS (query protocol) answers a caller over its request rate: 400 with the code `Throttling`, not
 * `ThrottlingException`; the SDK's throttling codes (@smithy/core service-error-classification) name both.
 */
export const STS_THROTTLING: AwsError = {
  status: 400,
  type: 'Throttling',
  message: 'Rate exceeded',
  protocol: 'query',
};

/** STS's 5xx; the SDK retries it as a transient error (its status, whatever the code). */
export const STS_SERVICE_UNAVAILABLE: AwsError = {
  status: 503,
  type: 'ServiceUnavailable',
  message: 'Service is unavailable. Please try again later.',
  protocol: 'query',
};

/**
 * STS's refusal of an AssumeRole whose role does not trust the caller (a trust policy without it, an
 * SCP): 403 AccessDenied, which no retry changes.
 */
export const STS_ACCESS_DENIED: AwsError = {
  status: 403,
  type: 'AccessDenied',
  message: 'User is not authorized to perform: sts:AssumeRole (--fault)',
  protocol: 'query',
};

/** What the proxy in front of STS reads of a request (its form body) before it decides. */
export interface StsRequestInfo {
  /** The form's Action, e.g. AssumeRole. */
  readonly action: string;
  /** AssumeRole's RoleArn; undefined for another action. */
  readonly roleArn?: string;
}

/** What the proxy knows of a request before it forwards it. */
export interface AwsRequestInfo {
  /** The operation, from `x-amz-target` (`secretsmanager.PutSecretValue` -> `PutSecretValue`); '' if none. */
  readonly action: string;
}

export interface AwsFaultProxyOptions {
  /** Where requests go when no fault answers them: moto_server's endpoint (http://host:port). */
  readonly target: string;
  /** Asked once per request; an error answers it instead of moto, a delay passes it on late. @default none */
  readonly fault?: () => AwsRequestFault | undefined;
  /**
   * A proxy in front of STS (query protocol): asked once per request with what its form body says (the
   * role an AssumeRole is for), so a fault can answer only the requests for one account's roles. The
   * proxy then reads the whole body before it decides, and forwards it as read.
   */
  readonly stsFault?: (request: StsRequestInfo) => AwsRequestFault | undefined;
  /**
   * Asked when `fault` let a request through (at once or late): true forwards it to moto, which makes it, then drops
   * moto's answer and answers 503 instead (an answer lost on the way back), so the caller retries a
   * write that was made.
   */
  readonly answerLost?: (request: AwsRequestInfo) => boolean;
}

export interface AwsFaultProxy {
  /** http://127.0.0.1:<port>: what the functions get as AWS_ENDPOINT_URL. */
  readonly endpoint: string;
  stop(): Promise<void>;
}

export async function startAwsFaultProxy(options: AwsFaultProxyOptions): Promise<AwsFaultProxy> {
  const target = new URL(options.target);
  const server = createServer((req, res) => {
    const fault = options.fault?.();
    if (fault?.kind === 'error') {
      // The request body is read and dropped, so the client sees a whole exchange, as from AWS.
      req.resume();
      req.once('end', () => sendAwsError(req, res, fault.error));
      return;
    }
    passOnAfter(fault, () => {
      if (options.stsFault !== undefined) answerStsRequest(target, req, res, options.stsFault);
      else if (options.answerLost?.({ action: actionOf(req) }) === true) forwardThenLose(target, req, res);
      else forwardRequest(target, req, res);
    });
  });
  return listenOnLoopback(server);
}

/** Reads an STS request's form, then answers it with the fault `stsFault` names or forwards it as read. */
function answerStsRequest(
  target: URL,
  req: IncomingMessage,
  res: ServerResponse,
  stsFault: (request: StsRequestInfo) => AwsRequestFault | undefined,
): void {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.once('end', () => {
    const body = Buffer.concat(chunks);
    const form = new URLSearchParams(body.toString('utf8'));
    const roleArn = form.get('RoleArn') ?? undefined;
    const fault = stsFault({ action: form.get('Action') ?? '', ...(roleArn !== undefined && { roleArn }) });
    if (fault?.kind === 'error') sendAwsError(req, res, fault.error);
    else passOnAfter(fault, () => forwardRequest(target, req, res, body));
  });
}

/**
 * Runs `passOn` now, or `slow`'s delay later; the request's body waits unread meanwhile, and the caller's
 * SDK, which sets no request timeout, waits for the answer.
 */
function passOnAfter(fault: AwsRequestFault | undefined, passOn: () => void): void {
  if (fault?.kind !== 'delay') {
    passOn();
    return;
  }
  void sleep(fault.ms).then(passOn);
}

function actionOf(req: IncomingMessage): string {
  const header = req.headers['x-amz-target'];
  const value = Array.isArray(header) ? (header[0] ?? '') : (header ?? '');
  return value.slice(value.lastIndexOf('.') + 1);
}

/** moto makes the request; its whole answer is read and dropped, and the caller gets a 503. */
function forwardThenLose(target: URL, req: IncomingMessage, res: ServerResponse): void {
  forwardRequest(target, req, res, undefined, (answer) => {
    answer.resume();
    answer.once('end', () => sendAwsError(req, res, AWS_SERVICE_UNAVAILABLE));
  });
}

function sendAwsError(req: IncomingMessage, res: ServerResponse, error: AwsError): void {
  if (error.protocol === 'query') {
    // The lab's STS writes its own errors so; one writer for both.
    const { xml } = stsError(error.status, error.type, error.message);
    res
      .writeHead(error.status, {
        'x-amzn-requestid': randomUUID(),
        'content-type': 'text/xml',
        'content-length': Buffer.byteLength(xml),
      })
      .end(xml);
    return;
  }
  const body = JSON.stringify({ __type: error.type, message: error.message });
  res
    .writeHead(error.status, {
      'x-amzn-errortype': error.type,
      'x-amzn-requestid': randomUUID(),
      // The protocol's own media type, as the request sent it (application/x-amz-json-1.0 or 1.1);
      // a REST-JSON request without a body (EKS's GET) gets JSON, as EKS answers.
      'content-type': req.headers['content-type'] ?? 'application/json',
      'content-length': Buffer.byteLength(body),
    })
    .end(body);
}
