/**
 * What the rotation's state keeps of an answer, as dotted paths (`plan.soak`): the stack turns them into
 * a ResultSelector (lib/rotation-state-machine.ts) and preflight into the bytes the state will hold
 * (lambdas/application/preflight-verdict.ts), from this one rule. Nothing here imports anything.
 */

/** Dotted paths into an answer; each keeps its value whole, at the same place. None lies inside another. */
export type KeptPaths = readonly string[];

/**
 * An object with each of `paths` at its place and `leaf(path)` as its value, in the order given:
 * `['a', 'b.c']` gives `{ a: leaf('a'), b: { c: leaf('b.c') } }`.
 */
export function nestPaths<T>(paths: KeptPaths, leaf: (path: string) => T): Record<string, unknown> {
  const nested: Record<string, unknown> = {};
  for (const path of paths) {
    const keys = path.split('.');
    const last = keys.pop() as string;
    let parent = nested;
    for (const key of keys) {
      parent[key] ??= {};
      parent = parent[key] as Record<string, unknown>;
    }
    parent[last] = leaf(path);
  }
  return nested;
}

/** What the state keeps of `answer`: the value at each of `paths` (undefined where it has none). */
export function keptOf(answer: unknown, paths: KeptPaths): Record<string, unknown> {
  return nestPaths(paths, (path) =>
    path
      .split('.')
      .reduce<unknown>(
        (value, key) =>
          typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined,
        answer,
      ),
  );
}
