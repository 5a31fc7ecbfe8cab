// JSON merge patch, RFC 7386: objects merge recursively, null deletes, anything else replaces.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export function isJsonObject(value: unknown): value is { [key: string]: Json } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function applyJsonMergePatch(target: Json | undefined, patch: Json): Json {
  if (!isJsonObject(patch)) {
    return structuredClone(patch);
  }
  const result: { [key: string]: Json } = isJsonObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) {
      delete result[key];
    } else {
      result[key] = applyJsonMergePatch(result[key], value);
    }
  }
  return result;
}
