// Splits a Kubernetes resource URL path into what it names, the way the API server's request info
// resolver does for the paths the lab serves.
import { findKindByPlural, type ResourceKind } from './resource-kinds.js';

export interface ResourcePath {
  readonly kind: ResourceKind;
  readonly namespace?: string;
  readonly name?: string;
  readonly subresource?: 'status';
}

/** Returns undefined when the path is not a resource path of a served kind. */
export function parseResourcePath(pathname: string): ResourcePath | undefined {
  const segments = pathname
    .split('/')
    .filter((s) => s !== '')
    .map(decodeURIComponent);
  let group: string;
  let version: string;
  let rest: string[];
  if (segments[0] === 'api' && segments.length >= 3) {
    group = '';
    version = segments[1];
    rest = segments.slice(2);
  } else if (segments[0] === 'apis' && segments.length >= 4) {
    group = segments[1];
    version = segments[2];
    rest = segments.slice(3);
  } else {
    return undefined;
  }
  let namespace: string | undefined;
  // namespaces/{ns}/{plural}/... is a namespaced resource; namespaces[/{name}[/status]] is the Namespace kind.
  if (rest[0] === 'namespaces' && rest.length >= 3 && rest[2] !== 'status') {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const kind = findKindByPlural(group, version, rest[0]);
  if (!kind || rest.length > 3) return undefined;
  if (namespace !== undefined && !kind.namespaced) return undefined;
  const name = rest[1];
  const sub = rest[2];
  if (sub !== undefined && (sub !== 'status' || !kind.hasStatus)) return undefined;
  return { kind, namespace, name, subresource: sub === 'status' ? 'status' : undefined };
}
