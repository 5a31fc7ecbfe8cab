// kube-proxy and cluster DNS, in the lab's terms. Kubernetes refuses loopback addresses in
// Endpoints and EndpointSlices ("may not be in the loopback range"), and the lab's pods have
// loopback addresses, so the real endpoint controllers cannot serve the lab: this does their part
// and kube-proxy's. Each Service's ClusterIP (the lab's Service range is on loopback too) gets a
// TCP listener per port that forwards every connection to a ready pod the Service selects, on its
// target port; `kubernetes` forwards to the API server. Pods find Services by name through their
// /etc/hosts, which lists every Service's ClusterIP as cluster DNS would answer.
import { connect, createServer, type Server, type Socket } from 'node:net';
import {
  CoreV1Api,
  type KubeConfig,
  makeInformer,
  type V1Pod,
  type V1Service,
} from '@kubernetes/client-node';
import { podLoopbackAddress } from '../control-plane/lab-addresses.js';

/**
 * A Service without selector whose endpoint is on loopback, where Kubernetes refuses it in an
 * EndpointSlice: the address it forwards to, on the Service's own port. A remote cluster's `istiod`
 * Service (Istio's remote profile renders it with an EndpointSlice naming the primary's istiod) gets
 * this in place of that EndpointSlice, the primary's istiod Service address (istio-install/install-istio.ts).
 */
export const LOOPBACK_ENDPOINT_ANNOTATION = 'lab.meshtrust.io/loopback-endpoint';

export interface ServiceProxy {
  /** The hosts lines for every Service: `<ClusterIP> name.ns.svc.<domain> name.ns.svc name.ns`. */
  hosts(): string;
  /** Called with the new hosts lines whenever Services change. */
  onHostsChange(listener: (content: string) => void): void;
  stop(): Promise<void>;
}

export interface ServiceProxyOptions {
  readonly kubeConfig: KubeConfig;
  /** Where the `kubernetes` Service really is. */
  readonly apiServer: { readonly host: string; readonly port: number };
  readonly clusterDomain?: string;
  readonly onProblem?: (message: string) => void;
}

interface Listener {
  readonly server: Server;
  readonly sockets: Set<Socket>;
}

export async function startServiceProxy(options: ServiceProxyOptions): Promise<ServiceProxy> {
  const core = options.kubeConfig.makeApiClient(CoreV1Api);
  const domain = options.clusterDomain ?? 'cluster.local';
  const problem = options.onProblem ?? (() => undefined);
  const services = makeInformer<V1Service>(options.kubeConfig, '/api/v1/services', () =>
    core.listServiceForAllNamespaces(),
  );
  const pods = makeInformer<V1Pod>(options.kubeConfig, '/api/v1/pods', () => core.listPodForAllNamespaces());
  const listeners = new Map<string, Listener>();
  const hostsListeners: Array<(content: string) => void> = [];
  let hostsContent = '';
  let stopped = false;

  /** A ready pod of the Service, on the port the Service port targets. */
  const backendFor = (
    service: V1Service,
    servicePort: number,
  ): { host: string; port: number } | undefined => {
    const namespace = service.metadata?.namespace;
    if (namespace === 'default' && service.metadata?.name === 'kubernetes') return options.apiServer;
    const port = service.spec?.ports?.find((candidate) => candidate.port === servicePort);
    const external = service.metadata?.annotations?.[LOOPBACK_ENDPOINT_ANNOTATION];
    if (external !== undefined && port) return { host: external, port: servicePort };
    const selector = service.spec?.selector;
    if (!port || !selector || Object.keys(selector).length === 0) return undefined;
    const ready = pods
      .list(namespace)
      .filter(
        (pod) =>
          Object.entries(selector).every(([key, value]) => pod.metadata?.labels?.[key] === value) &&
          pod.status?.podIP &&
          !pod.metadata?.deletionTimestamp &&
          pod.status?.conditions?.some(
            (condition) => condition.type === 'Ready' && condition.status === 'True',
          ),
      )
      .sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
    // kube-proxy spreads connections over the endpoints; so does this, at random.
    const pod = ready[Math.floor(Math.random() * ready.length)];
    if (!pod?.status?.podIP) return undefined;
    const target = port.targetPort ?? port.port;
    const targetPort =
      typeof target === 'number' || /^\d+$/.test(String(target))
        ? Number(target)
        : pod.spec?.containers.flatMap((container) => container.ports ?? []).find((p) => p.name === target)
            ?.containerPort;
    const host = podLoopbackAddress(pod.status.podIP) ?? pod.status.podIP;
    return targetPort === undefined ? undefined : { host, port: targetPort };
  };

  const sync = () => {
    if (stopped) return;
    const wanted = new Map<string, { service: V1Service; port: number }>();
    for (const service of services.list()) {
      const clusterIp = service.spec?.clusterIP;
      if (!clusterIp || clusterIp === 'None' || !clusterIp.startsWith('127.')) continue;
      for (const port of service.spec?.ports ?? []) {
        if ((port.protocol ?? 'TCP') === 'TCP')
          wanted.set(`${clusterIp}:${port.port}`, { service, port: port.port });
      }
    }
    for (const [address, listener] of listeners) {
      if (wanted.has(address)) continue;
      listeners.delete(address);
      close(listener);
    }
    for (const [address, { service, port }] of wanted) {
      if (listeners.has(address)) continue;
      const key = `${service.metadata?.namespace}/${service.metadata?.name}`;
      const sockets = new Set<Socket>();
      const server = createServer((client) => {
        sockets.add(client);
        client.once('close', () => sockets.delete(client));
        // The Service as it is now, not as it was when the listener started.
        const current = services.get(service.metadata?.name ?? '', service.metadata?.namespace) ?? service;
        const backend = backendFor(current, port);
        if (!backend) {
          client.destroy();
          return;
        }
        const upstream = connect(backend.port, backend.host);
        sockets.add(upstream);
        upstream.once('close', () => sockets.delete(upstream));
        client.pipe(upstream).pipe(client);
        client.on('error', () => upstream.destroy());
        upstream.on('error', () => client.destroy());
      });
      server.on('error', (error) => problem(`service ${key} on ${address}: ${error.message}`));
      const [host, portText] = [
        address.slice(0, address.lastIndexOf(':')),
        address.slice(address.lastIndexOf(':') + 1),
      ];
      server.listen(Number(portText), host);
      listeners.set(address, { server, sockets });
    }
    const nextHosts = hostsLines(services.list(), domain);
    if (nextHosts !== hostsContent) {
      hostsContent = nextHosts;
      for (const listener of hostsListeners) listener(hostsContent);
    }
  };

  for (const informer of [services, pods] as const) {
    informer.on('error', () => {
      if (!stopped) setTimeout(() => void informer.start().catch(() => undefined), 1_000);
    });
  }
  services.on('add', sync);
  services.on('update', sync);
  services.on('delete', sync);
  await Promise.all([services.start(), pods.start()]);
  sync();

  return {
    hosts: () => hostsContent,
    onHostsChange: (listener) => {
      hostsListeners.push(listener);
    },
    stop: async () => {
      stopped = true;
      await Promise.all([services.stop(), pods.stop()]);
      await Promise.all([...listeners.values()].map(close));
      listeners.clear();
    },
  };
}

function close(listener: Listener): Promise<void> {
  for (const socket of listener.sockets) socket.destroy();
  return new Promise((resolve) => listener.server.close(() => resolve()));
}

/** What cluster DNS answers for each Service: its ClusterIP. */
export function hostsLines(services: readonly V1Service[], clusterDomain: string): string {
  return services
    .filter((service) => service.spec?.clusterIP && service.spec.clusterIP !== 'None')
    .map((service) => {
      const key = `${service.metadata?.name}.${service.metadata?.namespace}`;
      return `${service.spec?.clusterIP}\t${key}.svc.${clusterDomain} ${key}.svc ${key}\n`;
    })
    .sort()
    .join('');
}
