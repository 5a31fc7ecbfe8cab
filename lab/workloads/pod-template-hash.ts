// The hash that names a pod template revision, computed as Kubernetes does (FNV-32a over the template,
// rendered with the "safe" alphabet that avoids vowels and look-alike digits), so pod names and the
// pod-template-hash label look like the real ones: web-7d9c8b5f6-x2kqz.

const safeAlphabet = 'bcdfghjklmnpqrstvwxz2456789';

export function podTemplateHash(template: unknown): string {
  // Kubernetes hashes the Go struct dump; the lab hashes canonical JSON. Same shape, different digits.
  const text = canonicalJson(template ?? {});
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return safeEncode(String(hash));
}

/** Random name suffix in Kubernetes' generateName style. */
export function randomPodSuffix(length = 5): string {
  let suffix = '';
  for (let i = 0; i < length; i++) suffix += safeAlphabet[Math.floor(Math.random() * safeAlphabet.length)];
  return suffix;
}

function safeEncode(decimal: string): string {
  return [...decimal].map((ch) => safeAlphabet[ch.charCodeAt(0) % safeAlphabet.length]).join('');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
