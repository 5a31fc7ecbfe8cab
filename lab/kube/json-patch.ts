// JSON patch, RFC 6902 (add, remove, replace, move, copy, test) with JSON pointers (RFC 6901).
// Applied to a copy: a failing operation leaves the target untouched, as the API server does.
import { InvalidError } from './errors.js';
import { isJsonObject, type Json } from './json-merge-patch.js';

export interface JsonPatchOperation {
  readonly op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  readonly path: string;
  readonly from?: string;
  readonly value?: Json;
}

export function applyJsonPatch(target: Json, operations: unknown): Json {
  if (!Array.isArray(operations)) {
    throw new InvalidError('a JSON patch must be an array of operations ({"op":..., "path":...})');
  }
  let doc = structuredClone(target);
  for (const operation of operations as JsonPatchOperation[]) {
    doc = applyOperation(doc, operation);
  }
  return doc;
}

function applyOperation(doc: Json, operation: JsonPatchOperation): Json {
  switch (operation.op) {
    case 'add':
      return add(doc, operation.path, requireValue(operation));
    case 'remove':
      return remove(doc, operation.path);
    case 'replace':
      return add(remove(doc, operation.path), operation.path, requireValue(operation));
    case 'move': {
      const value = get(doc, requireFrom(operation));
      return add(remove(doc, requireFrom(operation)), operation.path, value);
    }
    case 'copy':
      return add(doc, operation.path, structuredClone(get(doc, requireFrom(operation))));
    case 'test': {
      const actual = get(doc, operation.path);
      if (!deepEqual(actual, requireValue(operation))) {
        throw new InvalidError(
          `the server rejected our request due to an error in our request: testing value ${operation.path} failed; read the object again and rebuild the patch`,
        );
      }
      return doc;
    }
    default:
      throw new InvalidError(
        `unknown JSON patch operation ${JSON.stringify((operation as { op?: unknown }).op)}; use add, remove, replace, move, copy or test`,
      );
  }
}

function requireValue(operation: JsonPatchOperation): Json {
  if (!('value' in operation)) {
    throw new InvalidError(`JSON patch operation ${operation.op} at ${operation.path} needs a "value"`);
  }
  return operation.value as Json;
}

function requireFrom(operation: JsonPatchOperation): string {
  if (typeof operation.from !== 'string') {
    throw new InvalidError(`JSON patch operation ${operation.op} at ${operation.path} needs a "from"`);
  }
  return operation.from;
}

function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) {
    throw new InvalidError(`JSON pointer ${JSON.stringify(pointer)} must be empty or start with "/"`);
  }
  return pointer
    .slice(1)
    .split('/')
    .map((token) => token.replaceAll('~1', '/').replaceAll('~0', '~'));
}

function get(doc: Json, pointer: string): Json {
  let node: Json = doc;
  for (const token of parsePointer(pointer)) {
    const child = childOf(node, token);
    if (child === undefined) {
      throw new InvalidError(`JSON patch path ${pointer} does not exist in the object`);
    }
    node = child;
  }
  return node;
}

function childOf(node: Json, token: string): Json | undefined {
  if (Array.isArray(node)) {
    const index = Number(token);
    return Number.isInteger(index) ? node[index] : undefined;
  }
  return isJsonObject(node) && Object.hasOwn(node, token) ? node[token] : undefined;
}

function splitParent(doc: Json, pointer: string): { parent: Json; key: string } {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) {
    throw new InvalidError('JSON patch on the whole document ("" path) is not supported; patch a field');
  }
  const key = tokens.pop() as string;
  const parentPointer = tokens.map((t) => `/${t.replaceAll('~', '~0').replaceAll('/', '~1')}`).join('');
  return { parent: get(doc, parentPointer), key };
}

function add(doc: Json, pointer: string, value: Json): Json {
  const { parent, key } = splitParent(doc, pointer);
  if (Array.isArray(parent)) {
    const index = key === '-' ? parent.length : Number(key);
    if (!Number.isInteger(index) || index < 0 || index > parent.length) {
      throw new InvalidError(`JSON patch add: index ${key} out of range at ${pointer}`);
    }
    parent.splice(index, 0, value);
  } else if (isJsonObject(parent)) {
    parent[key] = value;
  } else {
    throw new InvalidError(`JSON patch add: parent of ${pointer} is not an object or array`);
  }
  return doc;
}

function remove(doc: Json, pointer: string): Json {
  const { parent, key } = splitParent(doc, pointer);
  if (Array.isArray(parent)) {
    const index = Number(key);
    if (!Number.isInteger(index) || index < 0 || index >= parent.length) {
      throw new InvalidError(`JSON patch remove: index ${key} out of range at ${pointer}`);
    }
    parent.splice(index, 1);
  } else if (isJsonObject(parent) && Object.hasOwn(parent, key)) {
    delete parent[key];
  } else {
    throw new InvalidError(`JSON patch remove: path ${pointer} does not exist in the object`);
  }
  return doc;
}

export function deepEqual(a: Json | undefined, b: Json | undefined): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((item, i) => deepEqual(item, b[i]));
  }
  if (isJsonObject(a) && isJsonObject(b)) {
    const keys = Object.keys(a);
    return (
      keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]))
    );
  }
  return false;
}
