// Who may do what in a lab cluster: the rules of deploy/kubernetes/rbac.yaml, which meshtrust applies to
// every real cluster, evaluated the way Kubernetes RBAC evaluates them (a request is allowed when one
// rule of one of the caller's groups matches; resourceNames limit by name, so they never allow a list).
// Keep this table in step with that file. Anyone else gets nothing (403). Of the file's admission
// policies, meshtrust-envoy-admin-only (the rotator's and the verifier's port-forwards name their ports,
// all 15000) is stated below and evaluated by the model (admitLabConnect); meshtrust-rotator-restart-only (the rotator's
// workload patches may change only the restart annotations) is CEL over a patch, not evaluated here: the
// model lets any rotator patch of a workload through, and the istio engine's real kube-apiserver
// enforces it (test/integration/lab/rotator-restart-policy.test.ts).
import { EXPIRY_CHECK_GROUP, ROTATOR_GROUP, VERIFIER_GROUP, VIEWER_GROUP } from './eks/lab-identities.js';
import { ForbiddenError, type KubeApiError } from './kube/errors.js';
import type {
  KubeConnectRequest,
  KubeIdentity,
  KubeRequestAttributes,
  KubeVerb,
} from './kube/kube-api-server.js';

export interface LabRbacRule {
  readonly apiGroups: readonly string[];
  readonly resources: readonly string[];
  readonly verbs: readonly KubeVerb[];
  readonly resourceNames?: readonly string[];
  /** Set for a Role (namespaced); a ClusterRole's rules apply in every namespace. */
  readonly namespace?: string;
}

const WORKLOADS = ['deployments', 'statefulsets', 'daemonsets'];

// ClusterRole meshtrust-viewer, bound to the viewer and the verifier: never a secret.
const VIEW: readonly LabRbacRule[] = [
  { apiGroups: [''], resources: ['namespaces'], verbs: ['get', 'list'] },
  { apiGroups: [''], resources: ['configmaps'], resourceNames: ['istio-ca-root-cert'], verbs: ['get'] },
  { apiGroups: ['apps'], resources: WORKLOADS, verbs: ['get', 'list'] },
  { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] },
  { apiGroups: ['apps'], resources: ['replicasets'], verbs: ['list'] },
  { apiGroups: ['policy'], resources: ['poddisruptionbudgets'], verbs: ['get', 'list'] },
];

// Role meshtrust-mesh-config in istio-system, bound to both groups: istiod's mesh config, by name.
const MESH_CONFIG: LabRbacRule = {
  namespace: 'istio-system',
  apiGroups: [''],
  resources: ['configmaps'],
  resourceNames: ['istio'],
  verbs: ['get'],
};

// Role meshtrust-remote-istiod in istio-system, bound to both groups: a remote's istiod Service, by
// name, and its EndpointSlices (a list, which no name limits).
const REMOTE_ISTIOD: readonly LabRbacRule[] = [
  {
    namespace: 'istio-system',
    apiGroups: [''],
    resources: ['services'],
    resourceNames: ['istiod'],
    verbs: ['get'],
  },
  {
    namespace: 'istio-system',
    apiGroups: ['discovery.k8s.io'],
    resources: ['endpointslices'],
    verbs: ['list'],
  },
];

// ClusterRole meshtrust-envoy-admin, bound to the rotator and the verifier: a port-forward (to Envoy's
// admin port only, by admitLabConnect) to read the certificate a proxy serves.
const ENVOY_ADMIN_PORT_FORWARD: LabRbacRule = {
  apiGroups: [''],
  resources: ['pods/portforward'],
  verbs: ['get', 'create'],
};

export const LAB_RBAC_RULES: Readonly<Record<string, readonly LabRbacRule[]>> = {
  [ROTATOR_GROUP]: [
    // Role meshtrust-rotator-cacerts in istio-system
    {
      namespace: 'istio-system',
      apiGroups: [''],
      resources: ['secrets'],
      resourceNames: ['cacerts'],
      verbs: ['get', 'update', 'patch'],
    },
    MESH_CONFIG,
    ...REMOTE_ISTIOD,
    // Role meshtrust-istiod-monitoring in istio-system: istiod's /metrics through the pod proxy
    { namespace: 'istio-system', apiGroups: [''], resources: ['pods/proxy'], verbs: ['get'] },
    // ClusterRole meshtrust-rotator
    { apiGroups: [''], resources: ['namespaces'], verbs: ['get', 'list'] },
    { apiGroups: [''], resources: ['configmaps'], resourceNames: ['istio-ca-root-cert'], verbs: ['get'] },
    { apiGroups: ['apps'], resources: WORKLOADS, verbs: ['get', 'list', 'watch', 'patch'] },
    { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] },
    { apiGroups: ['apps'], resources: ['replicasets'], verbs: ['list'] },
    { apiGroups: ['policy'], resources: ['poddisruptionbudgets'], verbs: ['list'] },
    ENVOY_ADMIN_PORT_FORWARD,
  ],
  [VIEWER_GROUP]: [MESH_CONFIG, ...REMOTE_ISTIOD, ...VIEW],
  // The rotation gates (verify-trust, verify-workloads): the viewer's ClusterRole, and the port-forward
  // verify-workloads reads served certificates through
  [VERIFIER_GROUP]: [...VIEW, ENVOY_ADMIN_PORT_FORWARD],
  // Role meshtrust-expiry-check in istio-system: find istiod's pods and read their /metrics, nothing else
  [EXPIRY_CHECK_GROUP]: [
    { namespace: 'istio-system', apiGroups: [''], resources: ['pods'], verbs: ['list'] },
    { namespace: 'istio-system', apiGroups: [''], resources: ['pods/proxy'], verbs: ['get'] },
  ],
};

export function authorizeLabRequest(identity: KubeIdentity, request: KubeRequestAttributes): boolean {
  return identity.groups.some((group) => (LAB_RBAC_RULES[group] ?? []).some((rule) => allows(rule, request)));
}

function allows(rule: LabRbacRule, request: KubeRequestAttributes): boolean {
  const resource = request.subresource ? `${request.resource}/${request.subresource}` : request.resource;
  if (!rule.apiGroups.includes(request.apiGroup) || !rule.resources.includes(resource)) return false;
  if (!rule.verbs.includes(request.verb)) return false;
  if (rule.namespace !== undefined && rule.namespace !== request.namespace) return false;
  if (rule.resourceNames !== undefined) {
    return request.name !== undefined && rule.resourceNames.includes(request.name);
  }
  return true;
}

/** rbac.yaml's ValidatingAdmissionPolicy that keeps port-forwards to Envoy's admin port. */
export const ENVOY_ADMIN_PORT_FORWARD_POLICY = 'meshtrust-envoy-admin-only';
/** The groups it matches: those ClusterRole meshtrust-envoy-admin is bound to. */
export const ENVOY_ADMIN_PORT_FORWARD_GROUPS: readonly string[] = [ROTATOR_GROUP, VERIFIER_GROUP];
/** The port it allows; rbac.yaml's expression names it (model-port-forward.test.ts reads the file). */
export const ENVOY_ADMIN_PORT_FORWARD_PORT = 15000;
/** Its validation message, word for word from rbac.yaml (the test compares them). */
export const ENVOY_ADMIN_PORT_FORWARD_MESSAGE =
  "meshtrust-rotator and meshtrust-verifier may port-forward only to Envoy's admin port 15000, named in the request (a WebSocket port-forward with ?ports=15000)";

/**
 * meshtrust-envoy-admin-only as the model's admission of a CONNECT: a request of group meshtrust-rotator
 * or meshtrust-verifier must name its ports (`has(object.ports) && size(object.ports) > 0`) and all must
 * be 15000; refused with the real API server's wording for a policy denial (403 Forbidden).
 */
export function admitLabConnect(
  identity: KubeIdentity,
  request: KubeConnectRequest,
): KubeApiError | undefined {
  if (!identity.groups.some((group) => ENVOY_ADMIN_PORT_FORWARD_GROUPS.includes(group))) return undefined;
  const ports = request.ports ?? [];
  if (ports.length > 0 && ports.every((port) => port === ENVOY_ADMIN_PORT_FORWARD_PORT)) return undefined;
  return new ForbiddenError(
    `pods "${request.name}" is forbidden: ValidatingAdmissionPolicy '${ENVOY_ADMIN_PORT_FORWARD_POLICY}' with binding '${ENVOY_ADMIN_PORT_FORWARD_POLICY}' denied request: ${ENVOY_ADMIN_PORT_FORWARD_MESSAGE}`,
    { resource: 'pods', objectName: request.name },
  );
}
