// What clients learn about the lab API before they touch an object: /version, the legacy and the
// aggregated (apidiscovery.k8s.io/v2) discovery documents and the OpenAPI v3 documents. All of them
// are derived from resource-kinds.ts.
import { apiVersionOf, type ResourceKind, resourceKinds } from './resource-kinds.js';

/** kubectl here is a dispatcher that runs the kubectl of the server's minor; 1.32 is installed. */
export const serverVersion = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.9-lab',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2026-01-01T00:00:00Z',
  goVersion: 'go1.23.12',
  compiler: 'gc',
  platform: 'linux/amd64',
} as const;

export const aggregatedDiscoveryContentType =
  'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';

const namespacedVerbs = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'];
const statusVerbs = ['get', 'patch', 'update'];

function groupVersions(): { group: string; version: string; kinds: ResourceKind[] }[] {
  const byGroupVersion = new Map<string, { group: string; version: string; kinds: ResourceKind[] }>();
  for (const kind of resourceKinds) {
    const key = apiVersionOf(kind);
    const entry = byGroupVersion.get(key) ?? { group: kind.group, version: kind.version, kinds: [] };
    entry.kinds.push(kind);
    byGroupVersion.set(key, entry);
  }
  return [...byGroupVersion.values()];
}

/** GET /api, legacy form. */
export function legacyCoreVersions(serverAddress: string): object {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

/** GET /apis, legacy form. */
export function legacyGroupList(): object {
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: groupVersions()
      .filter((gv) => gv.group !== '')
      .map((gv) => legacyGroup(gv.group, gv.version)),
  };
}

/** GET /apis/{group}. */
export function legacyGroup(group: string, version: string): object {
  const groupVersion = { groupVersion: `${group}/${version}`, version };
  return {
    kind: 'APIGroup',
    apiVersion: 'v1',
    name: group,
    versions: [groupVersion],
    preferredVersion: groupVersion,
  };
}

/** GET /api/v1 or /apis/{group}/{version}; undefined when the lab does not serve that group version. */
export function legacyResourceList(group: string, version: string): object | undefined {
  const gv = groupVersions().find((g) => g.group === group && g.version === version);
  if (!gv) return undefined;
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: group === '' ? version : `${group}/${version}`,
    resources: gv.kinds.flatMap((kind) => [
      {
        name: kind.plural,
        singularName: kind.singular,
        namespaced: kind.namespaced,
        kind: kind.kind,
        verbs: namespacedVerbs,
        ...(kind.shortNames.length > 0 ? { shortNames: kind.shortNames } : {}),
        ...(kind.group === 'apps'
          ? { categories: ['all'] }
          : kind.kind === 'Pod'
            ? { categories: ['all'] }
            : {}),
      },
      ...(kind.hasStatus
        ? [
            {
              name: `${kind.plural}/status`,
              singularName: '',
              namespaced: kind.namespaced,
              kind: kind.kind,
              verbs: statusVerbs,
            },
          ]
        : []),
    ]),
  };
}

/** GET /api (core: true) or /apis (core: false) with Accept asking for aggregated discovery v2. */
export function aggregatedDiscovery(core: boolean): object {
  return {
    kind: 'APIGroupDiscoveryList',
    apiVersion: 'apidiscovery.k8s.io/v2',
    metadata: {},
    items: groupVersions()
      .filter((gv) => (gv.group === '') === core)
      .map((gv) => ({
        metadata: core ? { creationTimestamp: null } : { name: gv.group, creationTimestamp: null },
        versions: [
          {
            version: gv.version,
            resources: gv.kinds.map((kind) => {
              const responseKind = { group: kind.group, version: kind.version, kind: kind.kind };
              return {
                resource: kind.plural,
                responseKind,
                scope: kind.namespaced ? 'Namespaced' : 'Cluster',
                singularResource: kind.singular,
                verbs: namespacedVerbs,
                ...(kind.shortNames.length > 0 ? { shortNames: kind.shortNames } : {}),
                ...(kind.kind === 'Pod' || kind.group === 'apps' ? { categories: ['all'] } : {}),
                ...(kind.hasStatus
                  ? { subresources: [{ subresource: 'status', responseKind, verbs: statusVerbs }] }
                  : {}),
              };
            }),
            freshness: 'Current',
          },
        ],
      })),
  };
}

/** GET /openapi/v3: where each group version's document is. */
export function openApiV3Root(): object {
  return {
    paths: Object.fromEntries(
      groupVersions().map((gv) => {
        const path = gv.group === '' ? `api/${gv.version}` : `apis/${gv.group}/${gv.version}`;
        return [path, { serverRelativeURL: `/openapi/v3/${path}?hash=${documentHash}` }];
      }),
    ),
  };
}

// The documents never change while a server runs; a constant hash lets clients cache them.
const documentHash = 'LAB0000000000000000000000000000000000000000000000000000000000000001';

/**
 * GET /openapi/v3/api/v1 or /openapi/v3/apis/{group}/{version}. Minimal but valid: every path and
 * operation kubectl looks up (the PATCH operation advertising the `fieldValidation` query parameter,
 * which makes kubectl leave validation to the server instead of fetching the v2 protobuf schema),
 * and permissive schemas that keep unknown fields. The PATCH operation deliberately does not list
 * strategic-merge-patch+json: if it did, `kubectl apply` would compute its patch from these schemas,
 * which lack the fields, and warn; without it kubectl computes the patch from its built-in Go types,
 * which carry the real merge keys.
 */
export function openApiV3Document(group: string, version: string): object | undefined {
  const gv = groupVersions().find((g) => g.group === group && g.version === version);
  if (!gv) return undefined;
  const prefix = group === '' ? `/api/${version}` : `/apis/${group}/${version}`;
  const paths: Record<string, object> = {};
  const schemas: Record<string, object> = {
    'io.k8s.apimachinery.pkg.apis.meta.v1.Patch': { type: 'object' },
    'io.k8s.apimachinery.pkg.apis.meta.v1.Status': {
      type: 'object',
      'x-kubernetes-preserve-unknown-fields': true,
    },
    'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta': objectMetaSchema,
  };
  for (const kind of gv.kinds) {
    const gvk = { group: kind.group, version: kind.version, kind: kind.kind };
    const schemaName = `${group === '' ? 'io.k8s.api.core' : `io.k8s.api.${group}`}.${version}.${kind.kind}`;
    schemas[schemaName] = kindSchema(gvk);
    schemas[`${schemaName}List`] = {
      type: 'object',
      'x-kubernetes-preserve-unknown-fields': true,
      'x-kubernetes-group-version-kind': [{ ...gvk, kind: kind.listKind }],
    };
    const ref = { $ref: `#/components/schemas/${schemaName}` };
    const collection = kind.namespaced
      ? `${prefix}/namespaces/{namespace}/${kind.plural}`
      : `${prefix}/${kind.plural}`;
    paths[collection] = {
      get: operation('list', gvk, { $ref: `#/components/schemas/${schemaName}List` }),
      post: { ...operation('post', gvk, ref), requestBody: jsonBody(ref) },
    };
    paths[`${collection}/{name}`] = {
      get: operation('get', gvk, ref),
      put: { ...operation('put', gvk, ref), requestBody: jsonBody(ref) },
      patch: { ...operation('patch', gvk, ref), requestBody: patchBody },
      delete: operation('delete', gvk, ref),
    };
  }
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: serverVersion.gitVersion },
    paths,
    components: { schemas },
  };
}

const objectMetaSchema = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    namespace: { type: 'string' },
    labels: { type: 'object', additionalProperties: { type: 'string', default: '' } },
    annotations: { type: 'object', additionalProperties: { type: 'string', default: '' } },
    resourceVersion: { type: 'string' },
    uid: { type: 'string' },
  },
  'x-kubernetes-preserve-unknown-fields': true,
};

function kindSchema(gvk: { group: string; version: string; kind: string }): object {
  return {
    type: 'object',
    properties: {
      apiVersion: { type: 'string' },
      kind: { type: 'string' },
      metadata: {
        allOf: [{ $ref: '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' }],
        default: {},
      },
    },
    'x-kubernetes-preserve-unknown-fields': true,
    'x-kubernetes-group-version-kind': [gvk],
  };
}

const queryParameters = ['dryRun', 'fieldManager', 'fieldValidation', 'pretty'].map((name) => ({
  name,
  in: 'query',
  schema: { type: 'string', uniqueItems: true },
}));

function operation(action: string, gvk: object, responseSchema: object): object {
  return {
    parameters: action === 'patch' || action === 'put' || action === 'post' ? queryParameters : [],
    responses: { '200': { description: 'OK', content: { 'application/json': { schema: responseSchema } } } },
    'x-kubernetes-action': action,
    'x-kubernetes-group-version-kind': gvk,
  };
}

function jsonBody(schema: object): object {
  return { content: { '*/*': { schema } }, required: true };
}

const patchSchema = { schema: { $ref: '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Patch' } };
const patchBody = {
  content: {
    'application/json-patch+json': patchSchema,
    'application/merge-patch+json': patchSchema,
  },
  required: true,
};
