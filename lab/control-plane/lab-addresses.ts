// Where the istio engine's components listen: each on its own loopback address, so that ports never
// clash between clusters and a log line says which cluster a connection belongs to. Linux routes all
// of 127.0.0.0/8 to the loopback interface, so these need no set-up.

/** The fleet's etcd and the lab's own servers. */
export const FLEET_ADDRESS = '127.10.0.1';

/** The API server (and controller manager) of cluster number `index` (1-based). */
export function controlPlaneAddress(index: number): string {
  return `127.10.${index}.1`;
}

/**
 * The Service range of cluster number `index`; the first address names the `kubernetes` Service.
 * Loopback, so that the node agent's service proxy can listen on every ClusterIP (it plays
 * kube-proxy) and a connection to a Service never leaves this machine.
 */
export function serviceCidr(index: number): { readonly cidr: string; readonly firstAddress: string } {
  return { cidr: `127.${200 + index}.0.0/16`, firstAddress: `127.${200 + index}.0.1` };
}

/** The lab node of cluster number `index`: its InternalIP, where the node agent's own servers listen. */
export function nodeAddress(index: number): string {
  return `127.10.${index}.2`;
}

/** Pods of cluster number `index` get addresses from 127.<100+index>.0.0/16. */
export const PODS_PER_CLUSTER_MAX = 250 * 250;

/** The `ordinal`-th pod address (0-based) of cluster number `index`. */
export function podAddress(index: number, ordinal: number): string {
  if (!Number.isInteger(ordinal) || ordinal < 0 || ordinal >= PODS_PER_CLUSTER_MAX) {
    throw new RangeError(`pod address ordinal must be 0..${PODS_PER_CLUSTER_MAX - 1}, got ${ordinal}`);
  }
  return `127.${100 + index}.${Math.floor(ordinal / 250)}.${(ordinal % 250) + 1}`;
}

/**
 * Where Kubernetes sees a pod: the pod's loopback address 127.<100+i>.a.b as 10.<100+i>.a.b in its
 * status. kube-apiserver proxies only to global unicast pod addresses (pod ResourceLocation refuses
 * loopback ones), so the pod network has a routable face that the API server reaches through its
 * egress selector (pod-network-proxy.ts), as a real cluster's API server reaches pods through its
 * node network or a Konnectivity proxy. Inside the pod, its address stays the loopback one it serves on.
 */
export function podNetworkAddress(loopback: string): string {
  const parts = loopback.split('.');
  if (parts.length !== 4 || parts[0] !== '127' || Number(parts[1]) <= 100 || Number(parts[1]) >= 200) {
    throw new RangeError(`not a lab pod address: ${loopback}`);
  }
  return ['10', ...parts.slice(1)].join('.');
}

/** The loopback address a pod network address stands for; undefined for any other address. */
export function podLoopbackAddress(address: string): string | undefined {
  const parts = address.split('.');
  if (parts.length !== 4 || parts[0] !== '10' || Number(parts[1]) <= 100 || Number(parts[1]) >= 200) {
    return undefined;
  }
  return ['127', ...parts.slice(1)].join('.');
}
