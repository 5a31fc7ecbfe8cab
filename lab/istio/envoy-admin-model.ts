// The model engine's Envoy admin endpoint: port 15000 of every pod with an istio-proxy sidecar, reached
// through pods/portforward (lab/kube/pod-port-forward.ts) as `istioctl proxy-config secret` reaches
// Envoy's. It answers GET /config_dump for the secrets with exactly the JSON the istio engine's stand-in
// serves (lab/node-agent/envoy-admin-stand-in.ts, configDump), from what the istiod model says the
// pod's proxy holds now: `default` = its certificate chain (leaf, then intermediates), `ROOTCA` = the
// roots its agent trusts, the key redacted (never read). A pod without an identity yet has no `default`
// secret, as Envoy before SDS answers. No socket: an HTTP server that never listens is handed each
// forwarded connection.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Duplex, PassThrough } from 'node:stream';
import type { KubeObjectStore } from '../kube/object-store.js';
import type { PodPortDialer } from '../kube/pod-port-forward.js';
import { configDump, ENVOY_ADMIN_PORT, type ServedSecrets } from '../node-agent/envoy-admin-stand-in.js';
import { hasSidecar } from '../workloads/sidecar-injection.js';
import type { IstiodModel } from './istiod-model.js';

export { ENVOY_ADMIN_PORT };

export interface EnvoyAdminModel {
  /** pods/portforward's dialer: port 15000 of a running pod with a sidecar, nothing elsewhere. */
  readonly dial: PodPortDialer;
  /** Closes every forwarded connection. */
  stop(): void;
}

/** What the pod's Envoy holds now, by the istiod model; undefined before its first certificate. */
export function servedSecretsOf(
  istiod: IstiodModel,
  namespace: string,
  pod: string,
): ServedSecrets | undefined {
  const identity = istiod.identityOf(namespace, pod);
  if (identity === undefined) return undefined;
  return {
    certChainPem: identity.certChainPem,
    rootCertPem: identity.trustBundlePem,
    updatedAt: identity.issuedAt,
  };
}

export function startEnvoyAdminModel(options: {
  readonly store: KubeObjectStore;
  readonly istiod: IstiodModel;
}): EnvoyAdminModel {
  const connections = new Set<Duplex>();
  const servers = new Map<string, ReturnType<typeof createServer>>();
  // One admin server per pod (as one Envoy per pod), made at the first forward to it.
  const serverOf = (namespace: string, pod: string) => {
    const key = `${namespace}/${pod}`;
    let server = servers.get(key);
    if (server === undefined) {
      server = createServer((request, response) =>
        answer(request, response, servedSecretsOf(options.istiod, namespace, pod)),
      );
      servers.set(key, server);
    }
    return server;
  };
  return {
    dial: ({ namespace, pod, port }) => {
      const object = options.store.tryGet('Pod', namespace, pod);
      if (port !== ENVOY_ADMIN_PORT || object === undefined || !hasSidecar(object)) return undefined;
      if (object.status?.phase !== 'Running') return undefined;
      const toServer = new PassThrough();
      const toClient = new PassThrough();
      const serverSide = Duplex.from({ readable: toServer, writable: toClient });
      const clientSide = Duplex.from({ readable: toClient, writable: toServer });
      connections.add(clientSide);
      clientSide.once('close', () => {
        connections.delete(clientSide);
        serverSide.destroy();
      });
      serverOf(namespace, pod).emit('connection', serverSide);
      return clientSide;
    },
    stop: () => {
      for (const connection of connections) connection.destroy();
      connections.clear();
      servers.clear();
    },
  };
}

function answer(request: IncomingMessage, response: ServerResponse, served: ServedSecrets | undefined): void {
  const url = new URL(request.url ?? '/', 'http://envoy-admin');
  const body =
    request.method === 'GET' && url.pathname === '/config_dump'
      ? configDump(url.searchParams, served)
      : undefined;
  if (body === undefined) {
    response
      .writeHead(404, { 'content-type': 'text/plain' })
      .end("the lab's Envoy admin model answers GET /config_dump for secrets only\n");
    return;
  }
  response.writeHead(200, { 'content-type': 'application/json' }).end(`${JSON.stringify(body, null, 1)}\n`);
}
