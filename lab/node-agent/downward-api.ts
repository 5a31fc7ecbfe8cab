// The downward API as kubelet answers it (k8s.io/kubernetes pkg/fieldpath and pkg/api/v1/resource):
// a pod's own fields and its containers' resources, as text. Pod volumes use it for downwardAPI items;
// a runtime can use the same functions for env valueFrom.fieldRef / resourceFieldRef.
import type { V1Container, V1Pod, V1ResourceFieldSelector } from '@kubernetes/client-node';
import { LabError } from '../lab-errors.js';

export class DownwardApiError extends LabError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'DownwardApiError';
  }
}

/** What kubelet knows about a pod that its object may not say yet (it has no status while starting). */
export interface PodFieldContext {
  /** The pod's address (status.podIP, status.podIPs). */
  readonly podAddress: string;
  /** The node's name (spec.nodeName). */
  readonly nodeName: string;
  /** The node's address (status.hostIP, status.hostIPs). */
  readonly nodeAddress: string;
}

/**
 * What a limit that a container does not declare reads as. kubelet uses the node's allocatable
 * resources; the lab's default says one CPU so that a process sizing its threads from limits.cpu
 * (GOMAXPROCS in istiod and pilot-agent) stays small on a shared machine.
 */
export const LAB_NODE_ALLOCATABLE: Readonly<Record<string, string>> = {
  cpu: '1',
  memory: '64Gi',
  'ephemeral-storage': '64Gi',
};

/**
 * The value of `fieldPath` for `pod`: metadata.name, .namespace, .uid, .labels, .annotations (also
 * subscripted, `metadata.labels['app']`), spec.nodeName, spec.serviceAccountName, status.podIP(s),
 * status.hostIP(s). Maps print as kubelet's FormatMap does: `key="value"` lines in key order.
 * Note: the API server lets a downwardAPI volume ask only for metadata.*; the rest are for env.
 */
export function podFieldValue(pod: V1Pod, fieldPath: string, context: PodFieldContext): string {
  const subscripted = /^(metadata\.labels|metadata\.annotations)\['(.*)'\]$/.exec(fieldPath);
  if (subscripted) {
    const map = subscripted[1] === 'metadata.labels' ? pod.metadata?.labels : pod.metadata?.annotations;
    return map?.[subscripted[2] ?? ''] ?? '';
  }
  switch (fieldPath) {
    case 'metadata.name':
      return pod.metadata?.name ?? '';
    case 'metadata.namespace':
      return pod.metadata?.namespace ?? '';
    case 'metadata.uid':
      return pod.metadata?.uid ?? '';
    case 'metadata.labels':
      return formatMap(pod.metadata?.labels ?? {});
    case 'metadata.annotations':
      return formatMap(pod.metadata?.annotations ?? {});
    case 'spec.nodeName':
      return context.nodeName;
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName ?? 'default';
    case 'status.podIP':
    case 'status.podIPs':
      return context.podAddress;
    case 'status.hostIP':
    case 'status.hostIPs':
      return context.nodeAddress;
    default:
      throw new DownwardApiError(`unsupported fieldPath ${JSON.stringify(fieldPath)}`);
  }
}

/**
 * The value of a resourceFieldRef (limits.cpu, requests.memory, ...) of container `containerName`, in
 * units of its divisor (1 by default), rounded up as kubelet does: 100m of CPU reads as "1". A limit the
 * container does not declare reads as `nodeAllocatable`'s; a request it does not declare as "0".
 */
export function containerResourceValue(
  pod: V1Pod,
  containerName: string,
  selector: V1ResourceFieldSelector,
  nodeAllocatable: Readonly<Record<string, string>> = LAB_NODE_ALLOCATABLE,
): string {
  const container = findContainer(pod, containerName);
  const match = /^(limits|requests)\.(cpu|memory|ephemeral-storage)$/.exec(selector.resource);
  if (!match) throw new DownwardApiError(`unsupported resource ${JSON.stringify(selector.resource)}`);
  const [, kind, resource] = match as unknown as [string, 'limits' | 'requests', string];
  const declared = container.resources?.[kind]?.[resource];
  const quantity = declared !== undefined && parseQuantity(declared) !== 0 ? declared : undefined;
  const value =
    quantity !== undefined
      ? parseQuantity(quantity)
      : kind === 'limits'
        ? parseQuantity(nodeAllocatable[resource] ?? '0')
        : 0;
  const divisor =
    selector.divisor === undefined || parseQuantity(selector.divisor) === 0
      ? 1
      : parseQuantity(selector.divisor);
  // CPU is compared in millicores (Quantity.MilliValue), the others in whole units (Quantity.Value);
  // both round up.
  const result =
    resource === 'cpu'
      ? ceilExact(ceilExact(value * 1000) / ceilExact(divisor * 1000))
      : ceilExact(ceilExact(value) / ceilExact(divisor));
  return String(result);
}

/** A Kubernetes quantity (`100m`, `1.5Gi`, `2e3`) as a number of base units. */
export function parseQuantity(quantity: string): number {
  const match = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E))?$/.exec(
    quantity.trim(),
  );
  if (!match) throw new DownwardApiError(`not a quantity: ${JSON.stringify(quantity)}`);
  const base = Number(match[1]);
  if (match[2] !== undefined) return base * 10 ** Number(match[2].slice(1));
  const factor: Record<string, number> = {
    n: 1e-9,
    u: 1e-6,
    m: 1e-3,
    k: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
    P: 1e15,
    E: 1e18,
    Ki: 2 ** 10,
    Mi: 2 ** 20,
    Gi: 2 ** 30,
    Ti: 2 ** 40,
    Pi: 2 ** 50,
    Ei: 2 ** 60,
  };
  return base * (match[3] === undefined ? 1 : (factor[match[3]] ?? 1));
}

/** kubelet's FormatMap: `key="value"` per line, keys sorted, values quoted as Go's strconv.Quote. */
export function formatMap(map: Readonly<Record<string, string>>): string {
  return Object.keys(map)
    .sort()
    .map((key) => `${key}=${goQuote(map[key] ?? '')}`)
    .join('\n');
}

function goQuote(value: string): string {
  const escapes: Record<string, string> = {
    '"': '\\"',
    '\\': '\\\\',
    '\x07': '\\a',
    '\b': '\\b',
    '\f': '\\f',
    '\n': '\\n',
    '\r': '\\r',
    '\t': '\\t',
    '\v': '\\v',
  };
  let quoted = '"';
  for (const char of value) {
    const code = char.codePointAt(0) ?? 0;
    if (escapes[char] !== undefined) quoted += escapes[char];
    else if (code < 0x20 || code === 0x7f) quoted += `\\x${code.toString(16).padStart(2, '0')}`;
    else quoted += char;
  }
  return `${quoted}"`;
}

function findContainer(pod: V1Pod, name: string): V1Container {
  const container = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].find(
    (candidate) => candidate.name === name,
  );
  if (!container) throw new DownwardApiError(`container ${JSON.stringify(name)} not found`);
  return container;
}

/** Math.ceil that forgives float noise: 0.1 * 1000 is 100.00000000000001, which must read as 100. */
function ceilExact(value: number): number {
  const rounded = Math.round(value);
  return Math.abs(value - rounded) < 1e-9 * Math.max(1, Math.abs(value)) ? rounded : Math.ceil(value);
}
