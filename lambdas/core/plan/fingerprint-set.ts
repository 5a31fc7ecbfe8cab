// Root sets as sorted, duplicate-free arrays of fingerprints: plain data that compares by value.

export function toRootSet(fingerprints: Iterable<string>): string[] {
  return [...new Set(fingerprints)].sort();
}

export function union(a: readonly string[], b: readonly string[]): string[] {
  return toRootSet([...a, ...b]);
}

export function intersection(a: readonly string[], b: readonly string[]): string[] {
  const inB = new Set(b);
  return toRootSet(a.filter((fp) => inB.has(fp)));
}

export function isSubset(a: readonly string[], b: readonly string[]): boolean {
  const inB = new Set(b);
  return a.every((fp) => inB.has(fp));
}

export function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return isSubset(a, b) && isSubset(b, a);
}

/** istiod's multiroot rule: a root-cert change is accepted only towards a superset or a subset. */
export function isAcceptedRootTransition(previous: readonly string[], next: readonly string[]): boolean {
  return isSubset(previous, next) || isSubset(next, previous);
}
