// The lab's Amazon EKS control-plane API: the REST (restJson1) routes @aws-sdk/client-eks calls for
// ListClusters, DescribeCluster and ListTagsForResource, with the response and error shapes of the
// real service. Requests must be SigV4-signed by a lab identity. Product code reaches it through
// AWS_ENDPOINT_URL_EKS, so nothing in lambdas/ knows it is talking to the lab. It also answers STS's
// AssumeRole (lab-sts.ts) for AWS_ENDPOINT_URL_STS.
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LAB_ACCOUNT_ID, type LabIdentities, type LabIdentity } from './lab-identities.js';
import { answerStsCall, isStsCall, stsError } from './lab-sts.js';
import { verifySigV4Request } from './sigv4-request-verifier.js';

export type LabClusterStatus = 'CREATING' | 'ACTIVE' | 'DELETING' | 'FAILED' | 'UPDATING' | 'PENDING';

export interface LabEksCluster {
  readonly name: string;
  /** The cluster's Kubernetes API, e.g. https://127.0.0.1:6443. */
  readonly endpoint: string;
  /** PEM of the CA that signed the Kubernetes API's serving certificate. */
  readonly caPem: string;
  /** Kubernetes minor version, e.g. '1.32'. */
  readonly version: string;
  readonly tags: Readonly<Record<string, string>>;
  /**
   * The cluster's region, for a cluster outside the lab's own (issue 13): EKS answers for it only to a
   * request signed for this region. @default the server's region
   */
  readonly region?: string;
  /**
   * The cluster's account: EKS answers for it only to a caller of this account (a session of a role of
   * it, e.g. assumed through the lab's sts:AssumeRole). @default 000000000000 (LAB_ACCOUNT_ID)
   */
  readonly accountId?: string;
  /** @default arn:aws:eks:<region>:<account>:cluster/<name> */
  readonly arn?: string;
  /** @default arn:aws:iam::000000000000:role/eks-cluster-<name> */
  readonly roleArn?: string;
  /** @default 'ACTIVE' */
  readonly status?: LabClusterStatus;
}

export interface StartEksApiServerOptions {
  readonly region: string;
  readonly clusters: readonly LabEksCluster[];
  /** Who may call the API: requests must be SigV4-signed with one of these identities' keys. */
  readonly identities: LabIdentities;
}

export interface EksApiServer {
  /** http://127.0.0.1:<port>; set AWS_ENDPOINT_URL_EKS (or the client's `endpoint`) to it. */
  readonly url: string;
  stop(): Promise<void>;
}

const DEFAULT_MAX_RESULTS = 100;
const MAX_BODY_BYTES = 1024 * 1024;

interface ApiError {
  readonly status: number;
  readonly errorType: string;
  readonly body: Record<string, string>;
}

class EksApiError extends Error {
  readonly error: ApiError;
  constructor(status: number, errorType: string, body: Record<string, string>) {
    super(body.message);
    this.name = 'EksApiError';
    this.error = { status, errorType, body };
  }
}

/** Starts the lab EKS API on a free loopback port. */
export async function startEksApiServer(options: StartEksApiServerOptions): Promise<EksApiServer> {
  const described = new Map(
    options.clusters.map((cluster) => [cluster.name, describe(cluster, options.region)]),
  );
  // Each cluster lives in one account and region: EKS lists and describes it only to that account's
  // callers, at that region's endpoint (here: a request signed for that region).
  const placeOf = new Map(
    options.clusters.map((cluster) => [
      cluster.name,
      `${cluster.accountId ?? LAB_ACCOUNT_ID}/${cluster.region ?? options.region}`,
    ]),
  );
  const visibleTo = (caller: { identity: LabIdentity; region: string }) => (name: string) =>
    placeOf.get(name) === `${accountOf(caller.identity)}/${caller.region}`;
  if (described.size !== options.clusters.length) {
    throw new Error('Lab EKS clusters need unique names; rename the duplicates.');
  }
  const startedAt = Math.floor(Date.now() / 1000);

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      const apiError =
        error instanceof EksApiError
          ? error.error
          : {
              status: 500,
              errorType: 'ServerException',
              body: { message: 'The lab EKS API failed; see its log.' },
            };
      if (!(error instanceof EksApiError)) {
        console.error('lab EKS API: request failed', error);
      }
      sendError(response, apiError);
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = await readBody(request);
    const target = request.url ?? '/';
    const sts = request.method === 'POST' && target === '/' && isStsCall(body.toString('utf8'));
    const verdict = await verifySigV4Request(
      { method: request.method ?? 'GET', target, headers: request.headers, body },
      { identities: options.identities, service: sts ? 'sts' : 'eks' },
    );
    if (sts) {
      const answer = verdict.ok
        ? answerStsCall(options.identities, verdict.identity, body.toString('utf8'))
        : stsError(403, verdict.errorType, verdict.message);
      response.writeHead(answer.status, {
        'content-type': 'text/xml',
        'content-length': Buffer.byteLength(answer.xml),
        'x-amzn-requestid': randomUUID(),
      });
      response.end(answer.xml);
      return;
    }
    if (!verdict.ok) {
      throw new EksApiError(403, verdict.errorType, { message: verdict.message });
    }
    const url = new URL(target, 'http://lab');
    const segments = url.pathname.split('/').slice(1);
    const visible = visibleTo(verdict);
    if (request.method === 'GET' && url.pathname === '/clusters') {
      sendJson(response, listClusters([...described.keys()].filter(visible), url.searchParams));
      return;
    }
    if (request.method === 'GET' && segments.length === 2 && segments[0] === 'clusters') {
      const name = decodeURIComponent(segments[1]);
      const cluster = visible(name) ? described.get(name) : undefined;
      if (!cluster) {
        throw new EksApiError(404, 'ResourceNotFoundException', {
          clusterName: name,
          message: `No cluster found for name: ${name}.`,
        });
      }
      sendJson(response, { cluster: { ...cluster, createdAt: startedAt } });
      return;
    }
    if (request.method === 'GET' && segments.length === 2 && segments[0] === 'tags') {
      const arn = decodeURIComponent(segments[1]);
      if (!arn.startsWith('arn:')) {
        throw new EksApiError(400, 'BadRequestException', { message: `${arn} is not a valid ARN.` });
      }
      const cluster = [...described.values()].find(
        (candidate) => candidate.arn === arn && visible(candidate.name),
      );
      if (!cluster) {
        throw new EksApiError(404, 'NotFoundException', { message: `Resource ${arn} not found.` });
      }
      sendJson(response, { tags: cluster.tags });
      return;
    }
    throw new EksApiError(404, 'UnknownOperationException', {
      message: `The lab EKS API does not serve ${request.method} ${url.pathname}.`,
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

function listClusters(
  names: readonly string[],
  query: URLSearchParams,
): { clusters: string[]; nextToken?: string } {
  const maxResultsText = query.get('maxResults');
  const maxResults = maxResultsText === null ? DEFAULT_MAX_RESULTS : Number(maxResultsText);
  if (!Number.isInteger(maxResults) || maxResults < 1 || maxResults > 100) {
    throw new EksApiError(400, 'InvalidParameterException', {
      message: `maxResults must be an integer from 1 to 100, got ${maxResultsText}.`,
    });
  }
  const nextToken = query.get('nextToken');
  const start = nextToken === null ? 0 : decodeNextToken(nextToken);
  const page = names.slice(start, start + maxResults);
  const end = start + page.length;
  return end < names.length ? { clusters: page, nextToken: encodeNextToken(end) } : { clusters: page };
}

// Opaque to clients, like EKS's own tokens; the lab only needs the offset of the next page.
function encodeNextToken(offset: number): string {
  return Buffer.from(JSON.stringify({ offset }), 'utf8').toString('base64url');
}

function decodeNextToken(token: string): number {
  try {
    const { offset } = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { offset?: unknown };
    if (typeof offset === 'number' && Number.isInteger(offset) && offset >= 0) {
      return offset;
    }
  } catch {
    // fall through to the error below
  }
  throw new EksApiError(400, 'InvalidParameterException', {
    message: 'The nextToken is not valid; pass back the nextToken of the previous response unchanged.',
  });
}

interface ClusterDescription {
  readonly name: string;
  readonly arn: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly [field: string]: unknown;
}

/** The account of a lab identity: the one of the role it is a session of. */
function accountOf(identity: LabIdentity): string {
  return /^arn:aws:iam::(\d{12}):/.exec(identity.principalArn)?.[1] ?? '';
}

function describe(cluster: LabEksCluster, serverRegion: string): ClusterDescription {
  const region = cluster.region ?? serverRegion;
  const account = cluster.accountId ?? LAB_ACCOUNT_ID;
  const arn = cluster.arn ?? `arn:aws:eks:${region}:${account}:cluster/${cluster.name}`;
  // Stable per-cluster ids, so that describing twice gives the same answer.
  const id = createHash('sha256').update(arn).digest('hex');
  return {
    name: cluster.name,
    arn,
    version: cluster.version,
    endpoint: cluster.endpoint,
    roleArn: cluster.roleArn ?? `arn:aws:iam::${account}:role/eks-cluster-${cluster.name}`,
    resourcesVpcConfig: {
      subnetIds: [`subnet-${id.slice(0, 17)}`],
      securityGroupIds: [],
      clusterSecurityGroupId: `sg-${id.slice(17, 34)}`,
      vpcId: `vpc-${id.slice(34, 51)}`,
      endpointPublicAccess: true,
      endpointPrivateAccess: false,
      publicAccessCidrs: ['0.0.0.0/0'],
    },
    kubernetesNetworkConfig: { serviceIpv4Cidr: '10.100.0.0/16', ipFamily: 'ipv4' },
    logging: {
      clusterLogging: [
        { types: ['api', 'audit', 'authenticator', 'controllerManager', 'scheduler'], enabled: false },
      ],
    },
    identity: {
      oidc: { issuer: `https://oidc.eks.${region}.amazonaws.com/id/${id.slice(0, 32).toUpperCase()}` },
    },
    status: cluster.status ?? 'ACTIVE',
    certificateAuthority: { data: Buffer.from(cluster.caPem, 'utf8').toString('base64') },
    platformVersion: 'eks.1',
    tags: { ...cluster.tags },
    accessConfig: { authenticationMode: 'API' },
    health: { issues: [] },
    upgradePolicy: { supportType: 'STANDARD' },
  };
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) {
      throw new EksApiError(413, 'BadRequestException', {
        message: 'The request body is larger than 1 MiB.',
      });
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function sendJson(response: ServerResponse, payload: unknown): void {
  const body = JSON.stringify(payload);
  response.writeHead(200, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'x-amzn-requestid': randomUUID(),
  });
  response.end(body);
}

function sendError(response: ServerResponse, error: ApiError): void {
  const body = JSON.stringify(error.body);
  if (response.headersSent) {
    response.destroy();
    return;
  }
  // The SDK reads the error code from x-amzn-ErrorType, and the modelled fields from the JSON body.
  response.writeHead(error.status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'x-amzn-errortype': error.errorType,
    'x-amzn-requestid': randomUUID(),
  });
  response.end(body);
}
