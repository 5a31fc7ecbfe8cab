// The Envoy stand-in: a small xDS client that connects to a pilot-agent's XDS socket the way Envoy
// does and keeps one ADS stream open, ACKing everything, so that the agent behaves as it does next to
// a real Envoy. The lab runs pilot-agent with DISABLE_ENVOY=true (Envoy cannot be built here), and
// without a downstream stream the agent never opens its own stream to istiod, so it never receives
// PCDS (the ProxyConfig that carries istiod's trust bundle) and never learns new roots without a
// restart: the lab would be kinder than production. What the agent needs, read in istio.io/istio
// pkg/istio-agent/xds_proxy.go:
//
// - XdsProxy.handleStream opens the upstream connection to istiod only when a downstream stream
//   arrives on the socket, and closes it when that stream ends (so the stand-in reconnects like Envoy).
// - XdsProxy.handleUpstreamRequest forwards every downstream request upstream as it is, and only after
//   the first request whose type_url is the Listener type (LDS) adds its own requests: NDS, PCDS (when
//   PROXY_CONFIG_XDS_AGENT=true registered the ProxyConfig handler in initXdsProxy) and the health
//   request. So the stand-in subscribes to LDS; any other type alone would never trigger PCDS.
// - istiod (pkg/xds/server.go) refuses a stream whose first request has no node id, and checks the
//   node's NAMESPACE / SERVICE_ACCOUNT metadata against the agent's credentials (pilot/pkg/xds/auth.go
//   checkConnectionIdentity). The node therefore comes from the agent itself: with GRPC_XDS_BOOTSTRAP
//   set, Agent.generateGRPCBootstrap writes it (id, metadata) into a gRPC xDS bootstrap file.
// - PCDS responses are consumed and ACKed by the agent (handleUpstreamResponse), which calls
//   SecretManagerClient.UpdateConfigTrustBundle: new roots, then a new workload certificate. They never
//   reach the stand-in; it sees, counts and ACKs only the LDS responses the agent forwards.
//
// Production Envoy speaks delta xDS by default (ISTIO_DELTA_XDS); the agent's delta path
// (xds_proxy_delta.go) has the same "first LDS request adds PCDS" rule, so state-of-the-world is as good
// here and simpler. The stand-in opens no listener and carries no traffic.
import { readFile, stat } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { LabError } from '../lab-errors.js';
import {
  type DiscoveryResponse,
  decodeDiscoveryResponse,
  encodeDiscoveryRequest,
  type JsonValue,
  type XdsNode,
} from './xds-codec.js';

export type { DiscoveryResponse, JsonValue, XdsNode } from './xds-codec.js';

export const ADS_METHOD = '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources';
export const LISTENER_TYPE_URL = 'type.googleapis.com/envoy.config.listener.v3.Listener';
export const PROXY_CONFIG_TYPE_URL = 'type.googleapis.com/istio.mesh.v1alpha1.ProxyConfig';

// sun_path is 108 bytes on Linux, one of them the terminating NUL; a longer path cannot be connected to.
const MAX_SOCKET_PATH_BYTES = 107;

export interface XdsSubscription {
  readonly typeUrl: string;
  /** Empty = wildcard, as Envoy subscribes to LDS. */
  readonly resourceNames: readonly string[];
}

export interface EnvoyStandInOptions {
  /** Absolute path of the agent's XDS socket: `<pod root>/etc/istio/proxy/XDS` in the lab. */
  readonly socketPath: string;
  /**
   * The node sent on each stream's first request, or a function that gives it, called before every
   * connection attempt (e.g. `() => readGrpcBootstrapNode(path)`: the agent writes that file only
   * after it has started, and again when it restarts). A function that throws counts as "not yet".
   */
  readonly node: XdsNode | (() => Promise<XdsNode>);
  /** @default LDS wildcard, the request that makes the agent ask istiod for PCDS (see above) */
  readonly subscription?: XdsSubscription;
  /** Called with every DiscoveryResponse, before it is ACKed. */
  readonly onResponse?: (response: DiscoveryResponse) => void;
  /** Called with each failed attempt or ended stream; the stand-in retries on its own. */
  readonly onError?: (error: EnvoyStandInError) => void;
  /** Wait after the first failure; doubles up to maxBackoffMs. @default 200 */
  readonly initialBackoffMs?: number;
  /** @default 5000 */
  readonly maxBackoffMs?: number;
}

export interface EnvoyStandInStats {
  /** DiscoveryResponses received (and ACKed) over all streams. */
  readonly responses: number;
  readonly byType: Readonly<Record<string, number>>;
  /** A stream is open and the agent has answered on it (headers or a response). */
  readonly connected: boolean;
  /** Streams opened so far (the first request written). */
  readonly streams: number;
}

export interface EnvoyStandIn {
  /** Ends the stream and every retry; resolves when no socket or timer of it is left. */
  stop(): Promise<void>;
  stats(): EnvoyStandInStats;
}

export type EnvoyStandInProblem =
  | 'bad-option'
  | 'node-unavailable'
  | 'socket-missing'
  | 'stream-failed'
  | 'stream-ended'
  | 'bootstrap-unreadable'
  | 'callback-failed';

export class EnvoyStandInError extends LabError {
  readonly problem: EnvoyStandInProblem;

  constructor(problem: EnvoyStandInProblem, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'EnvoyStandInError';
    this.problem = problem;
  }
}

/**
 * The node of a gRPC xDS bootstrap file as pilot-agent writes it (grpcxds.GenerateBootstrap):
 * `{ "node": { "id": ..., "metadata": { ...plain JSON... }, "locality": {} }, "xds_servers": [...] }`.
 * Its server_uri is not used: the agent writes `unix:///` + its socket path, which is wrong when that
 * path is relative, as it is in the lab (./etc/istio/proxy/XDS).
 */
export async function readGrpcBootstrapNode(path: string): Promise<XdsNode> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new EnvoyStandInError(
      'bootstrap-unreadable',
      `cannot read the gRPC xDS bootstrap ${path}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  const node = isObject(parsed) ? parsed.node : undefined;
  if (!isObject(node) || typeof node.id !== 'string' || node.id === '') {
    throw new EnvoyStandInError(
      'bootstrap-unreadable',
      `the gRPC xDS bootstrap ${path} has no node.id; is it a file pilot-agent wrote for GRPC_XDS_BOOTSTRAP?`,
    );
  }
  if (node.metadata !== undefined && node.metadata !== null && !isObject(node.metadata)) {
    throw new EnvoyStandInError('bootstrap-unreadable', `node.metadata of ${path} is not an object`);
  }
  return {
    id: node.id,
    ...(typeof node.cluster === 'string' && node.cluster !== '' ? { cluster: node.cluster } : {}),
    ...(isObject(node.metadata) ? { metadata: node.metadata as { [key: string]: JsonValue } } : {}),
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

interface OpenStream {
  readonly call: grpc.ClientDuplexStream<Uint8Array, DiscoveryResponse>;
}

export function startEnvoyStandIn(options: EnvoyStandInOptions): EnvoyStandIn {
  const { socketPath } = options;
  if (!isAbsolute(socketPath)) {
    throw new EnvoyStandInError(
      'bad-option',
      `socketPath must be absolute, got ${JSON.stringify(socketPath)}`,
    );
  }
  if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH_BYTES) {
    throw new EnvoyStandInError(
      'bad-option',
      `socketPath is ${Buffer.byteLength(socketPath)} bytes, more than the ${MAX_SOCKET_PATH_BYTES} a Unix ` +
        `socket address holds: ${socketPath}; use a shorter pod root`,
    );
  }
  const initialBackoffMs = options.initialBackoffMs ?? 200;
  const maxBackoffMs = options.maxBackoffMs ?? 5000;
  if (!(initialBackoffMs > 0) || !(maxBackoffMs >= initialBackoffMs)) {
    throw new EnvoyStandInError(
      'bad-option',
      `backoff must be 0 < initialBackoffMs <= maxBackoffMs, got ${initialBackoffMs} and ${maxBackoffMs}`,
    );
  }
  const subscription = options.subscription ?? { typeUrl: LISTENER_TYPE_URL, resourceNames: [] };

  const byType: Record<string, number> = {};
  let responses = 0;
  let streams = 0;
  let connected = false;
  let stopped = false;
  let open: OpenStream | undefined;
  let wake: (() => void) | undefined;

  // A throwing callback must not end the stand-in: it is reported (unless onError is the one throwing).
  const report = (error: EnvoyStandInError) => {
    try {
      options.onError?.(error);
    } catch {
      // nothing left to tell
    }
  };

  const resolveNode = async (): Promise<XdsNode> =>
    typeof options.node === 'function' ? options.node() : options.node;

  /** One connection: resolves when it failed or its stream ended, telling whether a response came. */
  const attempt = async (): Promise<{ answered: boolean; error: EnvoyStandInError }> => {
    // Encoded here, before connecting, so that a node the codec refuses is reported as such.
    let firstRequest: Uint8Array;
    try {
      const node = await resolveNode();
      firstRequest = encodeDiscoveryRequest({
        node,
        typeUrl: subscription.typeUrl,
        resourceNames: subscription.resourceNames,
      });
    } catch (error) {
      return {
        answered: false,
        error: new EnvoyStandInError('node-unavailable', `no node to send yet: ${(error as Error).message}`, {
          cause: error,
        }),
      };
    }
    try {
      // The agent creates the socket some time after it starts; without this check grpc-js would try
      // anyway and fail with a vaguer UNAVAILABLE.
      if (!(await stat(socketPath)).isSocket()) {
        return {
          answered: false,
          error: new EnvoyStandInError('socket-missing', `${socketPath} exists but is not a socket`),
        };
      }
    } catch (error) {
      return {
        answered: false,
        error: new EnvoyStandInError('socket-missing', `no XDS socket at ${socketPath} yet`, {
          cause: error,
        }),
      };
    }
    if (stopped) return { answered: false, error: new EnvoyStandInError('stream-ended', 'stopped') };

    // A new client per connection: grpc-js channels keep their own reconnect backoff (up to 2 minutes),
    // which would hide a restarted agent from us for longer than our own backoff says.
    const client = new grpc.Client(`unix://${socketPath}`, grpc.credentials.createInsecure(), {
      // Envoy sets no limit on what istiod (through the agent) may send; grpc-js's default is 4 MiB.
      'grpc.max_receive_message_length': -1,
    });
    return await new Promise((resolve) => {
      let answered = false;
      let failure: Error | undefined;
      const call = client.makeBidiStreamRequest<Uint8Array, DiscoveryResponse>(
        ADS_METHOD,
        (bytes) => Buffer.from(bytes),
        (bytes) => decodeDiscoveryResponse(bytes),
      );
      const stream: OpenStream = { call };
      open = stream;
      call.on('metadata', () => {
        if (open === stream) connected = true;
      });
      call.on('data', (response: DiscoveryResponse) => {
        if (open !== stream) return;
        answered = true;
        connected = true;
        responses += 1;
        byType[response.typeUrl] = (byType[response.typeUrl] ?? 0) + 1;
        try {
          options.onResponse?.(response);
        } catch (error) {
          report(
            new EnvoyStandInError('callback-failed', `onResponse threw: ${(error as Error).message}`, {
              cause: error,
            }),
          );
        }
        // ACK: the subscription again, with the version and nonce of what we accept. A response of a
        // type we never asked for is not ACKed: an ACK for it would subscribe us to that type.
        if (response.typeUrl === subscription.typeUrl) {
          call.write(
            encodeDiscoveryRequest({
              typeUrl: subscription.typeUrl,
              resourceNames: subscription.resourceNames,
              versionInfo: response.versionInfo,
              responseNonce: response.nonce,
            }),
          );
        }
      });
      // grpc-js emits 'error' (for a status other than OK) and then 'status'; 'status' ends the stream.
      call.on('error', (error: Error) => {
        failure = error;
      });
      call.on('status', (status: grpc.StatusObject) => {
        if (open === stream) {
          open = undefined;
          connected = false;
        }
        client.close();
        const error =
          failure === undefined
            ? new EnvoyStandInError(
                'stream-ended',
                `the agent ended the ADS stream (${status.details || 'OK'})`,
              )
            : new EnvoyStandInError('stream-failed', `the ADS stream failed: ${failure.message}`, {
                cause: failure,
              });
        resolve({ answered, error });
      });
      streams += 1;
      call.write(firstRequest);
    });
  };

  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        wake = undefined;
        resolve();
      }, ms);
      wake = () => {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      };
    });

  const run = async () => {
    let backoffMs = initialBackoffMs;
    while (!stopped) {
      const { answered, error } = await attempt().catch((unexpected: unknown) => ({
        answered: false,
        error: new EnvoyStandInError(
          'stream-failed',
          `could not open the ADS stream: ${String(unexpected)}`,
          {
            cause: unexpected,
          },
        ),
      }));
      if (stopped) return;
      report(error);
      // A stream the agent answered on was a working connection: start the backoff over, as Envoy does.
      if (answered) backoffMs = initialBackoffMs;
      await pause(backoffMs);
      backoffMs = Math.min(backoffMs * 2, maxBackoffMs);
    }
  };
  const running = run();

  return {
    async stop() {
      if (!stopped) {
        stopped = true;
        wake?.();
        // Cancelling emits 'status', which closes the client and lets attempt() resolve.
        open?.call.cancel();
      }
      await running;
    },
    stats() {
      return { responses, byType: { ...byType }, connected, streams };
    },
  };
}
