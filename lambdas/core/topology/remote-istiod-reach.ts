/**
 * Whether a remote cluster's proxies can reach the istiod that serves them, judged from what the
 * remote's API says (read only, before any write). A remote runs no istiod: its proxies dial their
 * discovery address (the CA address defaults to it), `istiod.istio-system.svc:15012` as Istio's remote
 * profile writes it into the mesh config (manifests/charts/istio-control/istio-discovery/templates/
 * configmap.yaml, with values.global.remotePilotAddress set). That name resolves in the remote to its
 * own `istiod` Service, which has no selector: Istio renders it with an EndpointSlice naming the
 * primary's address (its east-west gateway or istiod), or as an ExternalName Service when the address is
 * a host name (templates/remote-istiod-service.yaml, remote-istiod-endpointslices.yaml). The injection
 * webhook of an istiodless remote calls the same Service, on port 443 (target 15017)
 * (templates/mutatingwebhook.yaml). kube-proxy routes a Service port only to EndpointSlice ports of the
 * same name, so a missing slice, a slice without the port's name or without a ready address leaves the
 * proxies without istiod: restarted pods would get no certificate (or no sidecar) and restart-workloads
 * would hang part-way through a rotation. Pure: lambdas/adapters/kube/remote-istiod-reach.ts reads.
 */
import type { IstioFinding } from '../istio/istio-settings.js';

export const REMOTE_ISTIOD_REACH_RULE = 'remote-istiod-reachable';
/** What Istio's remote profile sets as the proxies' discovery address (istio-system, default revision). */
export const DEFAULT_DISCOVERY_ADDRESS = 'istiod.istio-system.svc:15012';
/** The Role of deploy/kubernetes/rbac.yaml that lets meshtrust read the remote's istiod Service and slices. */
export const REMOTE_ISTIOD_ROLE = 'meshtrust-remote-istiod';

/** An in-cluster Service named by a `host:port` address. */
export interface ServiceAddress {
  readonly name: string;
  readonly namespace: string;
  readonly port: number;
}

/**
 * The Service a discovery address names, as cluster DNS resolves it (`name.ns`, `name.ns.svc`,
 * `name.ns.svc.<domain>`), or undefined for any other host (an IP, an external name), whose reach the
 * Kubernetes API cannot tell. Istio's discovery address always carries a port.
 */
export function serviceOfAddress(address: string): ServiceAddress | undefined {
  const match =
    /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.([a-z0-9]([-a-z0-9]*[a-z0-9])?)(\.svc(\.[a-z0-9.-]+)?)?:(\d+)$/.exec(
      address.trim(),
    );
  if (match === null) return undefined;
  const [, name, , namespace, , , , port] = match;
  if (name === undefined || namespace === undefined || port === undefined) return undefined;
  return { name, namespace, port: Number(port) };
}

/** One port of the Service as read. */
export interface ServicePortReading {
  readonly name?: string;
  readonly port: number;
}

export type RemoteServiceReading =
  | {
      readonly state: 'found';
      /** spec.type; `ExternalName` resolves by DNS to externalName and has no endpoints. */
      readonly type?: string;
      readonly externalName?: string;
      /** Whether spec.selector selects pods (a remote runs no istiod for it to select). */
      readonly selector: boolean;
      readonly ports: readonly ServicePortReading[];
    }
  | { readonly state: 'absent' }
  | { readonly state: 'forbidden'; readonly problem: string };

/** One EndpointSlice of the Service (label kubernetes.io/service-name) as read. */
export interface EndpointSliceReading {
  readonly name: string;
  readonly ports: readonly { readonly name?: string; readonly port?: number }[];
  /** Each endpoint's addresses and whether it is ready (an unset condition counts as ready). */
  readonly endpoints: readonly { readonly addresses: readonly string[]; readonly ready: boolean }[];
}

export type EndpointSlicesReading =
  | { readonly state: 'read'; readonly slices: readonly EndpointSliceReading[] }
  | { readonly state: 'forbidden'; readonly problem: string };

/** What was read of one remote for its reach to its primary's istiod. */
export interface RemoteIstiodReachReading {
  readonly remote: string;
  readonly primary: string;
  /** The address the remote's proxies dial for istiod (discovery and, by default, the CA). */
  readonly discoveryAddress: string;
  /** Where it comes from, for messages: the remote's mesh config, or Istio's default. */
  readonly discoveryAddressSource: string;
  /** The Service the address names; undefined when it names none (not read). */
  readonly service?: RemoteServiceReading;
  /** Its EndpointSlices; undefined when not read (no Service, an ExternalName one). */
  readonly slices?: EndpointSlicesReading;
}

/**
 * One finding for the remote: a refusal naming the remote, the object and what is missing; compliant
 * with how it reaches istiod (shown by `meshtrust plan`); a note when its discovery address is no
 * Service of the remote, which meshtrust cannot check from the API.
 */
export function reviewRemoteIstiodReach(reading: RemoteIstiodReachReading): IstioFinding {
  const { remote, primary, discoveryAddress, discoveryAddressSource } = reading;
  const target = serviceOfAddress(discoveryAddress);
  const lead = `cluster ${remote} (a remote of ${primary})`;
  if (target === undefined) {
    return finding(
      'note',
      'non-compliant',
      remote,
      `${lead}: its proxies reach istiod at ${discoveryAddress} (${discoveryAddressSource}), which is no Service of ` +
        `the cluster, so meshtrust cannot check from the Kubernetes API that they reach ${primary}'s istiod`,
    );
  }
  const where = `Service ${target.namespace}/${target.name}`;
  const cannot =
    `so its proxies (discovery address ${discoveryAddress}, ${discoveryAddressSource}) cannot reach ${primary}'s istiod: ` +
    'restarted pods would get no certificate (and no sidecar from the injection webhook that calls it), and the rotation would ' +
    'hang in restart-workloads after its writes';
  const service = reading.service;
  if (service === undefined || service.state === 'forbidden') {
    const why = service?.state === 'forbidden' ? service.problem : 'it was not read';
    return refusal(
      remote,
      `${lead}: meshtrust may not read ${where} (${why}), which the discovery address ${discoveryAddress} names ` +
        `(${discoveryAddressSource}), so it cannot check that the remote's proxies reach ` +
        `${primary}'s istiod. Apply deploy/kubernetes/rbac.yaml to ${remote} (Role ${REMOTE_ISTIOD_ROLE}; add ${target.name} ` +
        'to its resourceNames if it names another revision), then start again',
    );
  }
  if (service.state === 'absent') {
    return refusal(
      remote,
      `${lead}: no ${where}, ${cannot}. Install Istio's remote profile on ${remote} with values.global.remotePilotAddress ` +
        `set to the address of ${primary}'s east-west gateway (or istiod); it creates ${where} and its EndpointSlice`,
    );
  }
  if (service.type === 'ExternalName') {
    const host = service.externalName ?? '';
    if (host === '') {
      return refusal(remote, `${lead}: ${where} is an ExternalName Service without externalName, ${cannot}`);
    }
    return finding(
      'refusal',
      'compliant',
      remote,
      `${remote} reaches ${primary}'s istiod through ${where}, ExternalName ${host} (resolved by DNS, not checked further)`,
    );
  }
  if (!service.ports.some((port) => port.port === target.port)) {
    return refusal(
      remote,
      `${lead}: ${where} has no port ${target.port} (it has ${service.ports.map(describePort).join(', ') || 'none'}), ${cannot}. ` +
        `Install Istio's remote profile again with values.global.remotePilotAddress set`,
    );
  }
  const slices = reading.slices;
  if (slices === undefined || slices.state === 'forbidden') {
    const why = slices?.state === 'forbidden' ? slices.problem : 'they were not read';
    return refusal(
      remote,
      `${lead}: meshtrust may not list the EndpointSlices of ${where} (${why}), so it cannot check that the remote's ` +
        `proxies reach ${primary}'s istiod. Apply deploy/kubernetes/rbac.yaml to ${remote} (Role ${REMOTE_ISTIOD_ROLE}), then start again`,
    );
  }
  // Every port the Service offers (xDS and CA on 15012, the injection webhook on 443) needs a ready address.
  const served = service.ports.map((port) => ({ port, addresses: readyAddresses(slices.slices, port.name) }));
  const missing = served.filter(({ addresses }) => addresses.length === 0);
  if (missing.length > 0) {
    const found =
      slices.slices.length === 0
        ? `no EndpointSlice (label kubernetes.io/service-name=${target.name})`
        : `EndpointSlice(s) ${slices.slices.map((slice) => slice.name).join(', ')} with no ready address on that port name`;
    const selector = service.selector
      ? '; its selector picks pods, but a remote runs no istiod for it to pick'
      : '';
    return refusal(
      remote,
      `${lead}: ${where} has ${found} for port ${missing.map(({ port }) => describePort(port)).join(', ')}${selector}, ${cannot}. ` +
        `Give ${where} an EndpointSlice naming ${primary}'s east-west gateway (or istiod) address on the same port names, as ` +
        "Istio's remote profile does with values.global.remotePilotAddress",
    );
  }
  const through = served
    .map(({ port, addresses }) => `${describePort(port)} -> ${[...new Set(addresses)].join(', ')}`)
    .join('; ');
  return finding(
    'refusal',
    'compliant',
    remote,
    `${remote} reaches ${primary}'s istiod through ${where} (${through})`,
  );
}

/** Ready addresses of the slices that carry a port of this name (kube-proxy matches ports by name). */
function readyAddresses(slices: readonly EndpointSliceReading[], portName: string | undefined): string[] {
  const name = portName ?? '';
  return slices
    .filter((slice) => slice.ports.some((port) => (port.name ?? '') === name && port.port !== undefined))
    .flatMap((slice) => slice.endpoints.filter((endpoint) => endpoint.ready).flatMap((e) => e.addresses));
}

function describePort(port: ServicePortReading): string {
  return port.name === undefined || port.name === '' ? String(port.port) : `${port.name} (${port.port})`;
}

function refusal(cluster: string, reason: string): IstioFinding {
  return finding('refusal', 'non-compliant', cluster, reason);
}

function finding(
  level: IstioFinding['level'],
  status: IstioFinding['status'],
  cluster: string,
  reason: string,
): IstioFinding {
  return { rule: REMOTE_ISTIOD_REACH_RULE, level, status, cluster, reason };
}
