// Envoy's admin endpoint, for the one thing the product reads from it: which certificate a proxy
// serves. In production that read is `istioctl proxy-config secret`'s: a port-forward to the sidecar's
// admin port 15000 (Envoy binds it to localhost in the pod), then GET /config_dump with a mask or
// resource naming the secrets, whose `default` secret holds the served chain (private key redacted by
// Envoy) and `ROOTCA` the roots. The lab cannot build Envoy (envoy-stand-in.ts), so each proxy pod
// gets this stand-in on its own address, port 15000, answering from the files its real pilot-agent
// last wrote (OUTPUT_CERTS): the same source the pod's TLS endpoint (the prober) uses, read at each
// request. It never reads key.pem, so it cannot serve the key.
//
// The JSON is Envoy's (envoy.admin.v3.ConfigDump as Envoy prints it: proto field names, bytes in
// base64, Any with "@type"), as istio.io/istio's istioctl/pkg/util/configdump parses it; Istio's SDS
// server (security/pkg/nodeagent/sds) gives Envoy the chain and roots as inline_bytes, and Envoy's
// config dump replaces the private key's bytes with "[redacted]".
import { readFile, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { LabError } from '../lab-errors.js';

/** Envoy's admin port in an Istio sidecar or gateway (pilot-agent's bootstrap, proxyAdminPort). */
export const ENVOY_ADMIN_PORT = 15000;

const SECRETS_CONFIG_DUMP = 'type.googleapis.com/envoy.admin.v3.SecretsConfigDump';
const DYNAMIC_SECRET = 'type.googleapis.com/envoy.admin.v3.SecretsConfigDump.DynamicSecret';
const TLS_SECRET = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret';
/** What Envoy prints instead of a sensitive field's bytes (MessageUtil::redact). */
const REDACTED = '[redacted]';
/** The SDS resource names Istio's agent serves: the workload certificate and the roots. */
export const WORKLOAD_SECRET = 'default';
export const ROOT_SECRET = 'ROOTCA';

/** What the proxy's agent holds now, public parts only. */
export interface ServedSecrets {
  readonly certChainPem: string;
  readonly rootCertPem: string;
  /** When the agent last wrote them. */
  readonly updatedAt: Date;
}

interface DynamicSecret {
  readonly name: string;
  readonly version_info: string;
  readonly last_updated: string;
  readonly secret: Record<string, unknown>;
}

/** SecretsConfigDump.dynamic_active_secrets as Envoy prints it: `default` then `ROOTCA`. */
export function dynamicActiveSecrets(served: ServedSecrets): DynamicSecret[] {
  const version = served.updatedAt.toISOString();
  const entry = (name: string, body: Record<string, unknown>): DynamicSecret => ({
    name,
    version_info: version,
    last_updated: version,
    secret: { '@type': TLS_SECRET, name, ...body },
  });
  return [
    entry(WORKLOAD_SECRET, {
      tls_certificate: {
        certificate_chain: { inline_bytes: base64(served.certChainPem) },
        private_key: { inline_bytes: base64(REDACTED) },
      },
    }),
    entry(ROOT_SECRET, {
      validation_context: { trusted_ca: { inline_bytes: base64(served.rootCertPem) } },
    }),
  ];
}

/**
 * The body of GET /config_dump for a query, or undefined for one the stand-in cannot answer.
 * `resource=dynamic_active_secrets`: each secret its own config (Envoy's resource form);
 * `mask=...` naming secret fields, or nothing: one SecretsConfigDump (what istioctl asks for, with
 * `mask=dynamic_active_secrets,dynamic_warming_secrets`). Before the agent has a certificate there
 * are no active secrets, and Envoy leaves the empty list out.
 */
export function configDump(query: URLSearchParams, served: ServedSecrets | undefined): object | undefined {
  const active = served === undefined ? [] : dynamicActiveSecrets(served);
  const resource = query.get('resource');
  if (resource !== null && resource !== '') {
    if (resource === 'dynamic_active_secrets') {
      return { configs: active.map((secret) => ({ '@type': DYNAMIC_SECRET, ...secret })) };
    }
    if (resource === 'dynamic_warming_secrets') return { configs: [] };
    return undefined;
  }
  const mask = query.get('mask');
  const fields = mask === null || mask === '' ? undefined : mask.split(',');
  if (fields !== undefined && !fields.some((field) => field.endsWith('_secrets'))) return undefined;
  const withActive = (fields ?? ['dynamic_active_secrets']).includes('dynamic_active_secrets');
  return {
    configs: [
      {
        '@type': SECRETS_CONFIG_DUMP,
        ...(withActive && active.length > 0 ? { dynamic_active_secrets: active } : {}),
      },
    ],
  };
}

/** The chain and roots pilot-agent wrote (OUTPUT_CERTS), or undefined before it has written them. */
export async function readServedSecrets(certsDir: string): Promise<ServedSecrets | undefined> {
  try {
    const [certChainPem, rootCertPem, written] = await Promise.all([
      readFile(join(certsDir, 'cert-chain.pem'), 'utf8'),
      readFile(join(certsDir, 'root-cert.pem'), 'utf8'),
      stat(join(certsDir, 'cert-chain.pem')),
    ]);
    return { certChainPem, rootCertPem, updatedAt: written.mtime };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

export interface EnvoyAdminStandIn {
  readonly address: string;
  readonly port: number;
  stop(): Promise<void>;
}

export class EnvoyAdminStandInError extends LabError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'EnvoyAdminStandInError';
  }
}

/** Serves the admin endpoint on `address`:`port` (the pod's own address) from `certsDir`. */
export async function startEnvoyAdminStandIn(options: {
  readonly address: string;
  readonly certsDir: string;
  /** @default ENVOY_ADMIN_PORT */
  readonly port?: number;
}): Promise<EnvoyAdminStandIn> {
  const port = options.port ?? ENVOY_ADMIN_PORT;
  const server = createServer((request, response) => {
    answer(request, response, options.certsDir).catch((error: unknown) => {
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain' });
      response.end(`${error instanceof Error ? error.message : String(error)}\n`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) =>
      reject(
        new EnvoyAdminStandInError(`the Envoy admin stand-in cannot listen on ${options.address}:${port}`, {
          cause: error,
        }),
      ),
    );
    server.listen({ host: options.address, port, exclusive: true }, () => resolve());
  });
  const bound = server.address();
  return {
    address: options.address,
    port: typeof bound === 'object' && bound !== null ? bound.port : port,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function answer(request: IncomingMessage, response: ServerResponse, certsDir: string): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://envoy-admin');
  if (request.method !== 'GET' || url.pathname !== '/config_dump') {
    response
      .writeHead(404, { 'content-type': 'text/plain' })
      .end("the lab's Envoy admin stand-in answers GET /config_dump for secrets only\n");
    return;
  }
  const body = configDump(url.searchParams, await readServedSecrets(certsDir));
  if (body === undefined) {
    response
      .writeHead(404, { 'content-type': 'text/plain' })
      .end("the lab's Envoy admin stand-in holds secrets only (resource or mask *_secrets)\n");
    return;
  }
  response.writeHead(200, { 'content-type': 'application/json' }).end(`${JSON.stringify(body, null, 1)}\n`);
}

function base64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}
