// One lab cluster's Kubernetes API over HTTPS: the REST subset kubectl and @kubernetes/client-node use
// on our kinds (see docs/lab-kube.md), in front of a KubeObjectStore. Authentication and authorisation
// are plugged in, so the same server takes EKS bearer tokens in the lab and static tokens in tests.
import { type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocketServer } from 'ws';
import { createServingCertificates, type ServingCertificates } from '../tls/serving-certificates.js';
import {
  aggregatedDiscovery,
  aggregatedDiscoveryContentType,
  legacyCoreVersions,
  legacyGroup,
  legacyGroupList,
  legacyResourceList,
  openApiV3Document,
  openApiV3Root,
  serverVersion,
} from './discovery-documents.js';
import {
  BadRequestError,
  ForbiddenError,
  KubeApiError,
  MethodNotAllowedError,
  UnauthorizedError,
  UnsupportedMediaTypeError,
} from './errors.js';
import type { KubeObject, WatchEvent } from './kube-object.js';
import { parseResourcePath, type ResourcePath } from './kube-request-path.js';
import type { KubeObjectStore, ListOptions, PatchType } from './object-store.js';
import {
  chooseWebSocketProtocol,
  PORT_FORWARD_WEBSOCKET_PROTOCOL,
  type PodPortDialer,
  portsOfQuery,
  servePortForwardWebSocket,
} from './pod-port-forward.js';
import { decodeProtobufObject, protobufMediaType } from './protobuf-request-body.js';
import { apiVersionOf, resourceKinds } from './resource-kinds.js';
import { type IncludeObject, toTable, wantsTable } from './server-side-table.js';
import {
  SPDY_PORT_FORWARD_PROTOCOL,
  SPDY_TUNNEL_WEBSOCKET_PROTOCOL,
  servePortForwardSpdy,
} from './spdy-port-forward.js';

/** Who a bearer token belongs to. */
export interface KubeIdentity {
  readonly username: string;
  readonly groups: string[];
}

export type KubeVerb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete';

/** What a request wants to do, as Kubernetes RBAC sees it. */
export interface KubeRequestAttributes {
  readonly verb: KubeVerb;
  /** Plural resource name: secrets, deployments, ... */
  readonly resource: string;
  /** '' for the core group, 'apps', ... */
  readonly apiGroup: string;
  readonly namespace?: string;
  readonly name?: string;
  readonly subresource?: string;
}

export interface KubeApiServerOptions {
  readonly clusterName: string;
  readonly store: KubeObjectStore;
  /** Resolves a bearer token to an identity; undefined (or a throw) means 401. */
  readonly authenticate: (bearerToken: string) => Promise<KubeIdentity | undefined>;
  /** Decides on resource requests; discovery and OpenAPI are open to every authenticated identity. */
  readonly authorize: (identity: KubeIdentity, attributes: KubeRequestAttributes) => boolean;
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** @default 0 (a free port) */
  readonly port?: number;
  /** Serving CA and certificate to use; a fresh pair is made when absent (e.g. pass one to keep the CA across restarts). */
  readonly tls?: ServingCertificates;
  /**
   * What answers the pods/proxy subresource (GET /api/v1/namespaces/NS/pods/NAME:PORT/proxy/PATH), after
   * RBAC allowed it; undefined means nothing listens there (503, as the real server's dial error).
   */
  readonly podProxy?: (request: PodProxyRequest) => PodProxyResponse | undefined;
  /**
   * What listens on a pod's port for the pods/portforward subresource (a WebSocket, subprotocol
   * v4.channel.k8s.io), after RBAC allowed it and the pod was found: a connection to the port, or
   * undefined when nothing listens (the forward reports it on the port's error channel). Absent: nothing
   * listens on any port of any pod.
   */
  readonly podPortForward?: PodPortDialer;
  /**
   * Validating admission of a CONNECT (pods/portforward), after RBAC allowed it and before the pod is
   * looked up, as a real API server runs ValidatingAdmissionPolicies: an error whose Status answers the
   * request instead, or undefined to let it through.
   */
  readonly admitConnect?: (identity: KubeIdentity, request: KubeConnectRequest) => KubeApiError | undefined;
  /** Mutating admission of a created object (the model's sidecar injector for Pods). */
  readonly admit?: (object: KubeObject) => KubeObject;
  /**
   * Asked before each request is served (the rehearsal's --fault): answer with an error instead, serve
   * it late, or reset its connection; undefined serves it as usual.
   */
  readonly fault?: (request: KubeFaultRequest) => KubeRequestFault | undefined;
}

/** What admission sees of a CONNECT: the object is PodPortForwardOptions, from the query. */
export interface KubeConnectRequest {
  readonly namespace: string;
  readonly name: string;
  readonly subresource: 'portforward';
  /** The ports the request names (?ports=); undefined when it names none (kubectl's SPDY streams name theirs inside). */
  readonly ports?: readonly number[];
}

/** What the fault hook knows of a request before it is served. */
export interface KubeFaultRequest {
  readonly method: string;
  readonly path: string;
  /** What a resource path names; undefined for discovery, health and other paths. */
  readonly resource?: {
    readonly plural: string;
    /** '' for the core group. */
    readonly group: string;
    readonly namespace?: string;
    readonly name?: string;
  };
}

export type KubeRequestFault =
  /** Answer this error's Status instead of serving the request. */
  | { readonly kind: 'error'; readonly error: KubeApiError }
  /** Serve the request this much later. */
  | { readonly kind: 'delay'; readonly ms: number }
  /** Reset the connection without an answer, as an unreachable server. */
  | { readonly kind: 'reset' };

export interface PodProxyRequest {
  readonly namespace: string;
  readonly pod: string;
  readonly port: string;
  /** The path after /proxy, e.g. /metrics. */
  readonly path: string;
}

export interface PodProxyResponse {
  readonly contentType: string;
  readonly body: string;
}

export interface KubeApiServer {
  /** https://127.0.0.1:<port> */
  readonly url: string;
  /** The serving CA (PEM) clients must trust. */
  readonly caPem: string;
  stop(): Promise<void>;
}

const maxBodyBytes = 4 * 1024 * 1024;

export async function startKubeApiServer(options: KubeApiServerOptions): Promise<KubeApiServer> {
  const tls = options.tls ?? (await createServingCertificates({ clusterName: options.clusterName }));
  const watches = new Set<ServerResponse>();
  const server: Server = createServer({ key: tls.keyPem, cert: tls.certChainPem }, (req, res) => {
    handle(options, watches, req, res).catch((error: unknown) => sendError(res, error));
  });
  const spdySockets = new Set<Duplex>();
  // Upgrades are the port-forward's (ws answers only what handleUpgrade hands it; it opens no port).
  const webSockets = new WebSocketServer({
    noServer: true,
    handleProtocols: (offered) =>
      offered.has(SPDY_TUNNEL_TOKEN)
        ? SPDY_TUNNEL_WEBSOCKET_PROTOCOL
        : (chooseWebSocketProtocol(offered, WEBSOCKET_PORT_FORWARD_PROTOCOLS) ?? false),
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    handleUpgrade(options, webSockets, spdySockets, req, socket, head).catch((error: unknown) =>
      refuseUpgrade(socket, error),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  return {
    url: `https://${address.address}:${address.port}`,
    caPem: tls.caPem,
    stop: async () => {
      for (const res of watches) res.end();
      watches.clear();
      for (const ws of webSockets.clients) ws.terminate();
      webSockets.close();
      // Upgraded connections are no longer the HTTP server's to close.
      for (const socket of spdySockets) socket.destroy();
      spdySockets.clear();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

async function handle(
  options: KubeApiServerOptions,
  watches: Set<ServerResponse>,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'https://lab.invalid');
  const path = url.pathname.replace(/\/+$/, '') || '/';
  const method = req.method ?? 'GET';
  const resourcePath = parseResourcePath(path);

  const fault = options.fault?.(kubeFaultRequest(method, req.url));
  if (fault?.kind === 'reset') {
    req.socket.destroy();
    return;
  }
  if (fault?.kind === 'error') throw fault.error;
  if (fault?.kind === 'delay') await sleep(fault.ms);

  if (path === '/healthz' || path === '/livez' || path === '/readyz') {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    return;
  }
  const identity = await authenticateRequest(options, req);

  // Clients escape the ':' of NAME:PORT (client-node sends istiod-x%3A15014).
  const proxied = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/:]+)(?::(\d+))?\/proxy(\/.*)?$/.exec(
    decodeURIComponent(path),
  );
  if (proxied) {
    const [, namespace = '', pod = '', port = '', rest = '/'] = proxied;
    if (method !== 'GET') throw new MethodNotAllowedError(method, path);
    const attributes: KubeRequestAttributes = {
      verb: 'get',
      resource: 'pods',
      apiGroup: '',
      namespace,
      name: pod,
      subresource: 'proxy',
    };
    if (!options.authorize(identity, attributes)) throw forbidden(identity, attributes);
    options.store.get('Pod', namespace, pod);
    const answer = options.podProxy?.({ namespace, pod, port, path: rest });
    if (answer === undefined) {
      res
        .writeHead(503, { 'content-type': 'text/plain' })
        .end(`error trying to reach service: nothing listens on ${pod}:${port}${rest} in the lab\n`);
      return;
    }
    res.writeHead(200, { 'content-type': answer.contentType }).end(answer.body);
    return;
  }

  if (PORT_FORWARD_PATH.test(path)) {
    throw new BadRequestError(
      'Upgrade request required: pods/portforward is a WebSocket (GET, subprotocol v4.channel.k8s.io)',
    );
  }
  if (!resourcePath) {
    if (method !== 'GET') throw new MethodNotAllowedError(method, path);
    const document = nonResourceDocument(req, path);
    sendJson(res, 200, document.body, document.contentType);
    return;
  }
  const verb = verbOf(method, resourcePath, url.searchParams);
  const attributes: KubeRequestAttributes = {
    verb,
    resource: resourcePath.kind.plural,
    apiGroup: resourcePath.kind.group,
    namespace: resourcePath.namespace,
    name: resourcePath.name,
    subresource: resourcePath.subresource,
  };
  if (!options.authorize(identity, attributes)) {
    throw forbidden(identity, attributes);
  }
  if (url.searchParams.has('dryRun')) {
    throw new BadRequestError(
      'the lab API server does not support dryRun; run the command without --dry-run=server',
    );
  }
  const store = options.store;
  const { kind, namespace, name, subresource } = resourcePath;
  const table = wantsTable(req.headers.accept) ? includeObjectOf(url.searchParams) : undefined;
  switch (verb) {
    case 'get': {
      const object = store.get(kind.kind, namespace, name as string);
      sendJson(res, 200, table ? toTable(kind, [object], store.resourceVersion, table) : object);
      return;
    }
    case 'list': {
      const list = store.list(kind.kind, listOptions(resourcePath, url.searchParams));
      if (table) {
        sendJson(res, 200, toTable(kind, list.items, list.resourceVersion, table));
        return;
      }
      sendJson(res, 200, {
        kind: kind.listKind,
        apiVersion: apiVersionOf(kind),
        metadata: { resourceVersion: list.resourceVersion },
        items: list.items,
      });
      return;
    }
    case 'watch':
      serveWatch(store, watches, resourcePath, url.searchParams, req, res, table);
      return;
    case 'create': {
      const object = checkBody(await readObjectBody(req), resourcePath);
      sendJson(res, 201, store.create(options.admit?.(object) ?? object));
      return;
    }
    case 'update': {
      const object = checkBody(await readObjectBody(req), resourcePath);
      if (object.metadata.name !== name) {
        throw new BadRequestError(
          `the name of the object (${object.metadata.name}) does not match the name on the URL (${name}); send the object to its own URL`,
        );
      }
      sendJson(res, 200, store.update(object, { subresource }));
      return;
    }
    case 'patch': {
      const patchType = patchTypeOf(req.headers['content-type']);
      const patch = await readJsonBody(req);
      sendJson(
        res,
        200,
        store.patch(kind.kind, namespace, name as string, patchType, patch, { subresource }),
      );
      return;
    }
    case 'delete':
      sendJson(res, 200, store.delete(kind.kind, namespace, name as string));
      return;
  }
}

const PORT_FORWARD_PATH = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/portforward$/;

/**
 * What the fault hook is told of a request: its method, its path, and the resource the path names; an
 * upgrade (a port-forward) names its pod. The fault proxy in front of a real API server asks the same
 * question (lab/kube-fault-proxy.ts), so one fault plan decides alike on both engines.
 */
export function kubeFaultRequest(
  method: string,
  rawUrl: string | undefined,
  kind: 'request' | 'upgrade' = 'request',
): KubeFaultRequest {
  const path = new URL(rawUrl ?? '/', 'https://lab.invalid').pathname.replace(/\/+$/, '') || '/';
  if (kind === 'upgrade') {
    const forward = PORT_FORWARD_PATH.exec(path);
    if (forward === null) return { method, path };
    const [namespace, name] = [decodeURIComponent(forward[1] ?? ''), decodeURIComponent(forward[2] ?? '')];
    return { method, path, resource: { plural: 'pods', group: '', namespace, name } };
  }
  const resourcePath = parseResourcePath(path);
  if (resourcePath === undefined) return { method, path };
  const { kind: resourceKind, namespace, name } = resourcePath;
  return {
    method,
    path,
    resource: { plural: resourceKind.plural, group: resourceKind.group, namespace, name },
  };
}

/**
 * pods/portforward, authorised as Kubernetes does it: a SPDY upgrade (POST) is `create`; a WebSocket's
 * GET is `get` and, as from Kubernetes 1.35 (AuthorizePodWebsocketUpgradeCreatePermission), `create`
 * as well, so the lab is as strict as the newest API servers. A missing pod is 404 before any upgrade.
 * WebSocket subprotocols: v4.channel.k8s.io (the product's port-forward, client-node) and
 * SPDY/3.1+portforward.k8s.io (kubectl); SPDY/3.1 directly (kubectl's fallback).
 */
async function handleUpgrade(
  options: KubeApiServerOptions,
  webSockets: WebSocketServer,
  spdySockets: Set<Duplex>,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'https://lab.invalid');
  const path = url.pathname.replace(/\/+$/, '') || '/';
  const method = req.method ?? 'GET';
  const forward = PORT_FORWARD_PATH.exec(path);
  const [namespace, pod] = forward
    ? [decodeURIComponent(forward[1] ?? ''), decodeURIComponent(forward[2] ?? '')]
    : [];
  const fault = options.fault?.(kubeFaultRequest(method, req.url, 'upgrade'));
  if (fault?.kind === 'reset') {
    socket.destroy();
    return;
  }
  if (fault?.kind === 'error') throw fault.error;
  if (fault?.kind === 'delay') await sleep(fault.ms);

  const identity = await authenticateRequest(options, req);
  if (namespace === undefined || pod === undefined) {
    throw new KubeApiError(`the lab API server upgrades only pods/portforward, not ${path}`, {
      code: 404,
      reason: 'NotFound',
    });
  }
  const verbs: KubeVerb[] = method === 'GET' ? ['get', 'create'] : ['create'];
  for (const verb of verbs) {
    const attributes: KubeRequestAttributes = {
      verb,
      resource: 'pods',
      apiGroup: '',
      namespace,
      name: pod,
      subresource: 'portforward',
    };
    if (!options.authorize(identity, attributes)) throw forbidden(identity, attributes);
  }
  const refusal = options.admitConnect?.(identity, {
    namespace,
    name: pod,
    subresource: 'portforward',
    ...(url.searchParams.has('ports') ? { ports: portsOfQuery(url.searchParams) } : {}),
  });
  if (refusal !== undefined) throw refusal;
  const found = options.store.get('Pod', namespace, pod);
  const target = {
    namespace,
    pod,
    uid: String(found.metadata.uid ?? ''),
    dial: options.podPortForward ?? (() => undefined),
  };
  const upgrade = req.headers.upgrade?.toLowerCase();
  if (method === 'POST' && upgrade === 'spdy/3.1') {
    spdySockets.add(socket);
    socket.once('close', () => spdySockets.delete(socket));
    serveSpdyUpgrade(req, socket, head, target);
    return;
  }
  if (method !== 'GET' || upgrade !== 'websocket') {
    throw new BadRequestError(
      `pods/portforward upgrades to a WebSocket (GET) or to SPDY/3.1 (POST), not ${method} with Upgrade: ${req.headers.upgrade ?? ''}`,
    );
  }
  const offered = String(req.headers['sec-websocket-protocol'] ?? '')
    .split(',')
    .map((protocol) => protocol.trim())
    .filter((protocol) => protocol !== '');
  const protocol = chooseWebSocketProtocol(new Set(offered), WEBSOCKET_PORT_FORWARD_PROTOCOLS);
  if (protocol === undefined) {
    throw new BadRequestError(
      `requested protocol(s) are not supported: [${offered.join(' ')}]; supports [${WEBSOCKET_PORT_FORWARD_PROTOCOLS.join(' ')}]`,
    );
  }
  if (protocol === SPDY_TUNNEL_WEBSOCKET_PROTOCOL) {
    // kubectl: SPDY frames carried as binary messages; its ports are named inside the streams. ws
    // refuses the protocol's name as a header token ('/' and '+' are separators in RFC 7230), so it is
    // handed a token of ours and answers the real name (handleProtocols above).
    req.headers['sec-websocket-protocol'] = SPDY_TUNNEL_TOKEN;
    webSockets.handleUpgrade(req, socket, head, (ws) => {
      const session = servePortForwardSpdy({ ...target, send: (bytes) => ws.send(bytes) });
      ws.on('message', (data: Buffer) => session.receive(data));
      ws.on('close', () => session.close());
    });
    return;
  }
  const ports = portsOfQuery(url.searchParams);
  webSockets.handleUpgrade(req, socket, head, (ws) => servePortForwardWebSocket(ws, { ...target, ports }));
}

const SPDY_TUNNEL_TOKEN = 'lab-spdy-tunnel';

/** Order of preference, as the API server negotiates them: client-node's channels, kubectl's tunnel. */
const WEBSOCKET_PORT_FORWARD_PROTOCOLS = [PORT_FORWARD_WEBSOCKET_PROTOCOL, SPDY_TUNNEL_WEBSOCKET_PROTOCOL];

/** kubectl's fallback: the connection itself becomes the SPDY session (101 Switching Protocols). */
function serveSpdyUpgrade(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  target: Omit<Parameters<typeof servePortForwardSpdy>[0], 'send'>,
): void {
  const requested = String(req.headers['x-stream-protocol-version'] ?? '')
    .split(',')
    .map((protocol) => protocol.trim());
  if (!requested.includes(SPDY_PORT_FORWARD_PROTOCOL)) {
    throw new BadRequestError(
      `unable to upgrade: X-Stream-Protocol-Version must offer ${SPDY_PORT_FORWARD_PROTOCOL}, got [${requested.join(' ')}]`,
    );
  }
  socket.write(
    'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n' +
      `X-Stream-Protocol-Version: ${SPDY_PORT_FORWARD_PROTOCOL}\r\n\r\n`,
  );
  const session = servePortForwardSpdy({
    ...target,
    send: (bytes) => {
      if (!socket.destroyed) socket.write(bytes);
    },
  });
  socket.on('data', (bytes: Buffer) => session.receive(bytes));
  socket.on('close', () => session.close());
  socket.on('error', () => session.close());
  if (head.length > 0) session.receive(head);
}

/** An upgrade refused before it happened: the error's Status as a plain HTTP answer on the socket. */
function refuseUpgrade(socket: Duplex, error: unknown): void {
  const apiError = error instanceof KubeApiError ? error : internalError();
  if (!(error instanceof KubeApiError)) console.error('lab kube-apiserver: unexpected error', error);
  if (socket.destroyed) return;
  const body = JSON.stringify(apiError.toStatus());
  socket.end(
    `HTTP/1.1 ${apiError.code} ${STATUS_CODES[apiError.code] ?? ''}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

async function authenticateRequest(
  options: KubeApiServerOptions,
  req: IncomingMessage,
): Promise<KubeIdentity> {
  const header = req.headers.authorization ?? '';
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) throw new UnauthorizedError();
  let identity: KubeIdentity | undefined;
  try {
    identity = await options.authenticate(match[1]);
  } catch (error) {
    throw new UnauthorizedError({ cause: error });
  }
  if (!identity) throw new UnauthorizedError();
  return identity;
}

function forbidden(identity: KubeIdentity, attributes: KubeRequestAttributes): ForbiddenError {
  const resource = attributes.subresource
    ? `${attributes.resource}/${attributes.subresource}`
    : attributes.resource;
  const subject = attributes.name ? `${attributes.resource} "${attributes.name}"` : attributes.resource;
  const scope = attributes.namespace
    ? ` in the namespace "${attributes.namespace}"`
    : ' at the cluster scope';
  return new ForbiddenError(
    `${subject} is forbidden: User "${identity.username}" cannot ${attributes.verb} resource "${resource}" in API group "${attributes.apiGroup}"${scope}`,
    { resource: attributes.resource, objectName: attributes.name },
  );
}

function verbOf(method: string, path: ResourcePath, query: URLSearchParams): KubeVerb {
  const named = path.name !== undefined;
  const watch = query.get('watch');
  switch (method) {
    case 'GET':
      if (named) return 'get';
      return watch === 'true' || watch === '1' ? 'watch' : 'list';
    case 'POST':
      if (!named) return 'create';
      break;
    case 'PUT':
      if (named) return 'update';
      break;
    case 'PATCH':
      if (named) return 'patch';
      break;
    case 'DELETE':
      if (named) return 'delete';
      break;
  }
  throw new MethodNotAllowedError(method, named ? `${path.kind.plural}/${path.name}` : path.kind.plural);
}

function listOptions(path: ResourcePath, query: URLSearchParams): ListOptions {
  const fields = parseFieldSelector(query.get('fieldSelector') ?? '');
  if (fields.namespace !== undefined && path.namespace !== undefined && fields.namespace !== path.namespace) {
    return { namespace: path.namespace, name: '\0no-object-matches' };
  }
  return {
    namespace: path.namespace ?? fields.namespace,
    name: fields.name,
    labelSelector: query.get('labelSelector') ?? undefined,
  };
}

// The field selectors clients use on our kinds: metadata.name (kubectl rollout status, get -w NAME)
// and metadata.namespace.
function parseFieldSelector(selector: string): { name?: string; namespace?: string } {
  const result: { name?: string; namespace?: string } = {};
  for (const term of selector.split(',').filter((t) => t.trim() !== '')) {
    const match = /^\s*(metadata\.name|metadata\.namespace)\s*==?\s*([^\s,]*)\s*$/.exec(term);
    if (!match) {
      throw new BadRequestError(
        `field selector "${term}" is not supported by the lab; use metadata.name=<name> or metadata.namespace=<namespace>`,
      );
    }
    if (match[1] === 'metadata.name') result.name = match[2];
    else result.namespace = match[2];
  }
  return result;
}

function serveWatch(
  store: KubeObjectStore,
  watches: Set<ServerResponse>,
  path: ResourcePath,
  query: URLSearchParams,
  req: IncomingMessage,
  res: ServerResponse,
  table: IncludeObject | undefined,
): void {
  const options = listOptions(path, query);
  const resourceVersion = query.get('resourceVersion') ?? '';
  const send = (event: WatchEvent | { type: 'ERROR'; object: unknown }): void => {
    const object =
      table && event.type !== 'ERROR'
        ? toTable(path.kind, [event.object], event.object.metadata.resourceVersion ?? '', table)
        : event.object;
    res.write(`${JSON.stringify({ type: event.type, object })}\n`);
  };
  // Headers go out at once: clients block on them before they read events.
  res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-cache, private' });
  res.flushHeaders();
  watches.add(res);

  let unsubscribe = (): void => {};
  try {
    if (resourceVersion === '' || resourceVersion === '0') {
      // Without a resourceVersion a watch starts with the current state as ADDED events.
      for (const object of store.list(path.kind.kind, options).items) send({ type: 'ADDED', object });
      unsubscribe = store.watch({ ...options, kind: path.kind.kind }, send);
    } else {
      unsubscribe = store.watch({ ...options, kind: path.kind.kind, resourceVersion }, send);
    }
  } catch (error) {
    // A watch that cannot start reports an ERROR event on the open stream (410 makes clients relist).
    const status = error instanceof KubeApiError ? error.toStatus() : internalError().toStatus();
    send({ type: 'ERROR', object: status });
    watches.delete(res);
    res.end();
    return;
  }
  const timeoutSeconds = Number(query.get('timeoutSeconds') ?? '1800');
  const timer = setTimeout(() => res.end(), Math.max(1, timeoutSeconds) * 1000);
  const finish = (): void => {
    clearTimeout(timer);
    unsubscribe();
    watches.delete(res);
  };
  res.on('close', finish);
  res.on('finish', finish);
  req.on('close', () => res.end());
}

// Discovery and OpenAPI: open to every authenticated identity, like the system:discovery role.
function nonResourceDocument(req: IncomingMessage, path: string): { body: object; contentType?: string } {
  const aggregated = (req.headers.accept ?? '').includes('as=APIGroupDiscoveryList');
  const segments = path.split('/').filter((s) => s !== '');
  let body: object | undefined;
  if (path === '/version') body = serverVersion;
  else if (path === '/api' && aggregated) {
    return { body: aggregatedDiscovery(true), contentType: aggregatedDiscoveryContentType };
  } else if (path === '/apis' && aggregated) {
    return { body: aggregatedDiscovery(false), contentType: aggregatedDiscoveryContentType };
  } else if (path === '/api') body = legacyCoreVersions(req.socket.localAddress ?? '127.0.0.1');
  else if (path === '/apis') body = legacyGroupList();
  else if (segments[0] === 'api' && segments.length === 2) body = legacyResourceList('', segments[1]);
  else if (segments[0] === 'apis' && segments.length === 2 && segments[1] === 'apps')
    body = legacyGroup('apps', 'v1');
  else if (segments[0] === 'apis' && segments.length === 3)
    body = legacyResourceList(segments[1], segments[2]);
  else if (path === '/openapi/v3') body = openApiV3Root();
  else if (
    segments[0] === 'openapi' &&
    segments[1] === 'v3' &&
    segments[2] === 'api' &&
    segments.length === 4
  ) {
    body = openApiV3Document('', segments[3]);
  } else if (
    segments[0] === 'openapi' &&
    segments[1] === 'v3' &&
    segments[2] === 'apis' &&
    segments.length === 5
  ) {
    body = openApiV3Document(segments[3], segments[4]);
  }
  // /openapi/v2 is not served: kubectl then falls back to its built-in types (see discovery-documents.ts).
  if (!body) {
    throw new KubeApiError(
      `the server could not find the requested resource (${path}); the lab serves ${resourceKinds.map((k) => k.plural).join(', ')} and discovery`,
      { code: 404, reason: 'NotFound' },
    );
  }
  return { body };
}

function includeObjectOf(query: URLSearchParams): IncludeObject {
  const value = query.get('includeObject');
  return value === 'None' || value === 'Object' ? value : 'Metadata';
}

function checkBody(body: unknown, path: ResourcePath): KubeObject {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new BadRequestError(`the request body must be a ${path.kind.kind} object in JSON`);
  }
  const object = body as KubeObject;
  if (object.kind !== undefined && object.kind !== path.kind.kind) {
    throw new BadRequestError(
      `the body is a ${object.kind} but the URL is for ${path.kind.plural}; send it to the ${object.kind}'s URL`,
    );
  }
  object.kind = path.kind.kind;
  object.metadata ??= { name: '' };
  if (path.kind.namespaced) {
    if (object.metadata.namespace && object.metadata.namespace !== path.namespace) {
      throw new BadRequestError(
        'the namespace of the provided object does not match the namespace sent on the request',
      );
    }
    object.metadata.namespace = path.namespace;
  }
  return object;
}

function patchTypeOf(contentType: string | undefined): PatchType {
  const mediaType = (contentType ?? '').split(';')[0].trim().toLowerCase();
  switch (mediaType) {
    case 'application/merge-patch+json':
      return 'merge';
    case 'application/strategic-merge-patch+json':
      return 'strategic';
    case 'application/json-patch+json':
      return 'json';
    default:
      throw new UnsupportedMediaTypeError(mediaType || '(none)');
  }
}

// Objects arrive as JSON, or as protobuf from kubectl's typed clients (see protobuf-request-body.ts).
async function readObjectBody(req: IncomingMessage): Promise<unknown> {
  const mediaType = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (mediaType === protobufMediaType) return decodeProtobufObject(await readBody(req));
  return parseJson(await readBody(req));
}

async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  return parseJson(await readBody(req));
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBodyBytes) {
      throw new BadRequestError(
        `the request body is larger than ${maxBodyBytes} bytes; send a smaller object`,
      );
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function parseJson(body: Buffer): unknown {
  const text = body.toString('utf8');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new BadRequestError('the request body is not valid JSON; send the object as JSON', {
      cause: error,
    });
  }
}

function sendJson(res: ServerResponse, code: number, body: unknown, contentType = 'application/json'): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'content-type': contentType, 'content-length': Buffer.byteLength(text) }).end(text);
}

function internalError(): KubeApiError {
  return new KubeApiError('internal error in the lab API server; see the server log', {
    code: 500,
    reason: 'InternalError',
  });
}

function sendError(res: ServerResponse, error: unknown): void {
  const apiError = error instanceof KubeApiError ? error : internalError();
  if (!(error instanceof KubeApiError)) {
    // Not a client mistake: keep the cause visible to whoever runs the lab.
    console.error('lab kube-apiserver: unexpected error', error);
  }
  if (res.headersSent) {
    res.end();
    return;
  }
  sendJson(res, apiError.code, apiError.toStatus());
}
