// Strategic merge patch, the subset our kinds need: what `kubectl apply` (client-side), `kubectl patch`
// and `kubectl rollout restart` send. Maps merge like a JSON merge patch; lists whose Kubernetes field
// declares a merge key (containers by name, env by name, ...) merge element by element; other lists
// replace. Directives: $patch (replace/delete/merge), $setElementOrder/<list>,
// $deleteFromPrimitiveList/<list>, $retainKeys.
// Real Kubernetes picks merge keys per Go type; the lab picks them per field name, which is unambiguous
// for the kinds it serves.
import { InvalidError } from './errors.js';
import { isJsonObject, type Json } from './json-merge-patch.js';
import { deepEqual } from './json-patch.js';

const mergeKeys: Readonly<Record<string, string>> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  volumeDevices: 'devicePath',
  imagePullSecrets: 'name',
  ports: 'containerPort',
  hostAliases: 'ip',
  conditions: 'type',
  ownerReferences: 'uid',
};

// Primitive lists with patchStrategy merge: union instead of replace.
const mergedPrimitiveLists = new Set(['finalizers']);

const setOrderPrefix = '$setElementOrder/';
const deletePrimitivePrefix = '$deleteFromPrimitiveList/';

export function applyStrategicMergePatch(target: Json | undefined, patch: Json): Json {
  if (!isJsonObject(patch)) {
    throw new InvalidError('a strategic merge patch must be a JSON object');
  }
  return mergeMap(isJsonObject(target) ? target : {}, patch);
}

function mergeMap(
  original: { [key: string]: Json },
  patch: { [key: string]: Json },
): { [key: string]: Json } {
  const directive = patch.$patch;
  if (directive === 'replace') {
    return stripDirectives(patch) as { [key: string]: Json };
  }
  let result: { [key: string]: Json } = { ...original };
  const retainKeys = patch.$retainKeys;
  if (Array.isArray(retainKeys)) {
    result = Object.fromEntries(Object.entries(result).filter(([key]) => retainKeys.includes(key)));
  }
  for (const [key, value] of Object.entries(patch)) {
    if (key === '$patch' || key === '$retainKeys' || key.startsWith(setOrderPrefix)) continue;
    if (key.startsWith(deletePrimitivePrefix)) {
      const field = key.slice(deletePrimitivePrefix.length);
      const current = result[field];
      if (Array.isArray(current) && Array.isArray(value)) {
        result[field] = current.filter((item) => !value.some((v) => deepEqual(v, item)));
      }
      continue;
    }
    if (value === null) {
      delete result[key];
      continue;
    }
    if (isJsonObject(value) && value.$patch === 'delete') {
      delete result[key];
      continue;
    }
    if (isJsonObject(value)) {
      const current = result[key];
      result[key] = mergeMap(isJsonObject(current) ? current : {}, value);
    } else if (Array.isArray(value)) {
      result[key] = mergeList(key, result[key], value);
    } else {
      result[key] = value;
    }
  }
  for (const [key, order] of Object.entries(patch)) {
    if (key.startsWith(setOrderPrefix) && Array.isArray(order)) {
      const field = key.slice(setOrderPrefix.length);
      const list = result[field];
      if (Array.isArray(list)) {
        result[field] = reorder(field, list, order);
      }
    }
  }
  return result;
}

function mergeList(field: string, current: Json | undefined, patch: Json[]): Json {
  const original = Array.isArray(current) ? current : [];
  if (
    patch.some((item) => isJsonObject(item) && item.$patch === 'replace' && Object.keys(item).length === 1)
  ) {
    return patch
      .filter((item) => !(isJsonObject(item) && item.$patch === 'replace'))
      .map((item) => stripDirectives(item));
  }
  if (mergedPrimitiveLists.has(field)) {
    const union = [...original];
    for (const item of patch) {
      if (!union.some((existing) => deepEqual(existing, item))) union.push(item);
    }
    return union;
  }
  const mergeKey = mergeKeys[field];
  if (mergeKey === undefined) {
    return patch.map((item) => stripDirectives(item));
  }
  const result = [...original];
  for (const item of patch) {
    if (!isJsonObject(item)) {
      throw new InvalidError(`list ${field} merges by ${mergeKey}; its patch elements must be objects`);
    }
    const index = result.findIndex(
      (existing) => isJsonObject(existing) && deepEqual(existing[mergeKey], item[mergeKey]),
    );
    if (item.$patch === 'delete') {
      if (index >= 0) result.splice(index, 1);
    } else if (index >= 0) {
      result[index] = mergeMap(result[index] as { [key: string]: Json }, item);
    } else {
      result.push(stripDirectives(item));
    }
  }
  return result;
}

// Orders the merged list as $setElementOrder says; elements it does not name keep their relative order
// after the named ones, which is what the API server does for elements the patch did not mention.
function reorder(field: string, list: Json[], order: Json[]): Json[] {
  const mergeKey = mergeKeys[field];
  const identity = (item: Json): Json =>
    mergeKey !== undefined && isJsonObject(item) ? item[mergeKey] : item;
  const rank = (item: Json): number => {
    const index = order.findIndex((o) =>
      deepEqual(mergeKey !== undefined && isJsonObject(o) ? o[mergeKey] : o, identity(item)),
    );
    return index < 0 ? order.length : index;
  };
  return list
    .map((item, position) => ({ item, position, rank: rank(item) }))
    .sort((a, b) => a.rank - b.rank || a.position - b.position)
    .map(({ item }) => item);
}

function stripDirectives(value: Json): Json {
  if (Array.isArray(value)) return value.map(stripDirectives);
  if (!isJsonObject(value)) return value;
  const result: { [key: string]: Json } = {};
  for (const [key, child] of Object.entries(value)) {
    if (key === '$patch' || key === '$retainKeys' || key.startsWith('$setElementOrder/')) continue;
    if (key.startsWith(deletePrimitivePrefix)) continue;
    result[key] = stripDirectives(child);
  }
  return result;
}
