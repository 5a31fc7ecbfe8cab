// What a V8 CPU profile (`node --cpu-prof`) of a bundled process spent its time on, in a few named
// costs, for the bench's "what bounds it" lines (issue 14 wants a profile, not a guess, where a target
// is missed). Each sample's time goes to the first cost its stack names, from the sampled frame
// outwards; the caller says what a frame costs (pki-profile-costs.ts, import-profile.ts), and for
// bundled code which module esbuild wrote it from can be read from the bundle (an unminified esbuild
// bundle names each module in a `// path` comment line before its code).

/** The parts of Chrome's .cpuprofile format read here. */
export interface CpuProfile {
  readonly nodes: readonly {
    readonly id: number;
    readonly callFrame: ProfileFrame;
    readonly children?: readonly number[];
  }[];
  /** When profiling began, in microseconds of the monotonic clock (`process.hrtime`'s, divided by 1000). */
  readonly startTime?: number;
  readonly samples: readonly number[];
  /** Microseconds since the previous sample, one per sample. */
  readonly timeDeltas: readonly number[];
}

/** A function's frame: its name, script, and where it starts (0-based; -1 for V8's own). */
export interface ProfileFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
  readonly columnNumber?: number;
}

/** Microseconds of the monotonic clock, as the profile's startTime: only samples taken in it count. */
export interface ProfileWindow {
  readonly fromUs: number;
  readonly toUs: number;
}

/** Where each module of a bundle starts: 0-based line of its `// path` comment, in file order. */
export interface BundleModule {
  readonly line: number;
  readonly path: string;
}

export interface ProfileCost {
  readonly what: string;
  readonly ms: number;
}

export interface ProfileSummary {
  /** Every sample's time. */
  readonly totalMs: number;
  /** Largest first; costs under 1% of the total are summed into "other". */
  readonly costs: readonly ProfileCost[];
}

/** The `// path` module markers of an unminified esbuild bundle, in file order. */
export function bundleModules(bundleText: string): BundleModule[] {
  const modules: BundleModule[] = [];
  bundleText.split('\n').forEach((text, line) => {
    const match =
      /^\/\/ ((?:\.\.\/)*(?:node_modules|lambdas|bench|lab|rehearsal)\/\S+\.(?:[cm]?js|ts|json))$/.exec(text);
    if (match) modules.push({ line, path: (match[1] as string).replace(/^(\.\.\/)+/, '') });
  });
  return modules;
}

/** The module a 0-based line of the bundle belongs to: the last marker at or before it. */
export function moduleAt(modules: readonly BundleModule[], line: number): string | undefined {
  let low = 0;
  let high = modules.length - 1;
  let found: string | undefined;
  while (low <= high) {
    const middle = (low + high) >> 1;
    const entry = modules[middle] as BundleModule;
    if (entry.line <= line) {
      found = entry.path;
      low = middle + 1;
    } else {
      high = middle - 1;
    }
  }
  return found;
}

/** The cost samples no frame of their stack names. */
export const OTHER_COST = 'other';

/**
 * What a FrameCost returns for a frame whose own time is its callees' (a wrapper that runs, and makes
 * V8 compile, the function it calls): that time is shared out as the samples below the frame were.
 */
export const LIKE_CALLEES = Symbol('like its callees');

/**
 * A cost a frame's time counts for only when no frame further out names one (node loading a built-in
 * module counts for the code that asked for it, if that code is known).
 */
export interface UnlessCallerNamed {
  readonly unlessCallerNamed: string;
}

/** The cost a frame's time counts for; undefined leaves the sample to the frame's caller. */
export type FrameCost = (frame: ProfileFrame) => string | typeof LIKE_CALLEES | UnlessCallerNamed | undefined;

/**
 * Sums a profile's sample time per cost: each sample goes to the first cost `costOf` names for a frame
 * of its stack, from the sampled frame outwards, else to the first it named unless a caller did, else
 * to "other". A sample that first meets a frame
 * LIKE_CALLEES is shared out over the costs of that frame's other samples (the ones taken below it);
 * with none, its walk goes on outwards. With a window, only the samples taken in it count (a profile
 * needs its startTime for that).
 */
export function summarizeCpuProfile(
  profile: CpuProfile,
  costOf: FrameCost,
  window?: ProfileWindow,
): ProfileSummary {
  if (window !== undefined && profile.startTime === undefined) {
    throw new RangeError('a profile without a startTime cannot be read for a window of time');
  }
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const frameCosts = new Map<number, ReturnType<FrameCost>>();
  const costOfNode = (id: number) => {
    if (!frameCosts.has(id))
      frameCosts.set(id, costOf((byId.get(id) as CpuProfile['nodes'][number]).callFrame));
    return frameCosts.get(id);
  };
  /** The first cost from `id` outwards, or the frame LIKE_CALLEES met first. */
  const resolve = (from: number | undefined): { cost: string } | { likeCallees: number } => {
    let fallback: string | undefined;
    for (let current = from; current !== undefined; current = parentOf.get(current)) {
      const named = costOfNode(current);
      if (named === LIKE_CALLEES) return { likeCallees: current };
      if (typeof named === 'string') return { cost: named };
      if (named !== undefined) fallback ??= named.unlessCallerNamed;
    }
    return { cost: fallback ?? OTHER_COST };
  };

  const microseconds = new Map<string, number>();
  const add = (into: Map<string, number>, what: string, us: number) =>
    into.set(what, (into.get(what) ?? 0) + us);
  /** Per frame LIKE_CALLEES: the costs of the samples below it, and its own time to share out. */
  const below = new Map<number, Map<string, number>>();
  const deferred = new Map<number, number>();
  /** Counts time of a cost spent at `id` for every frame LIKE_CALLEES above it. */
  const addBelow = (id: number, what: string, us: number) => {
    for (let current = parentOf.get(id); current !== undefined; current = parentOf.get(current)) {
      if (costOfNode(current) !== LIKE_CALLEES) continue;
      below.set(current, add(below.get(current) ?? new Map<string, number>(), what, us));
    }
  };
  let total = 0;
  let at = profile.startTime ?? 0;
  profile.samples.forEach((id, index) => {
    const delta = profile.timeDeltas[index] ?? 0;
    at += delta;
    if (window !== undefined && (at < window.fromUs || at > window.toUs)) return;
    total += delta;
    const resolved = resolve(id);
    if ('likeCallees' in resolved) {
      deferred.set(resolved.likeCallees, (deferred.get(resolved.likeCallees) ?? 0) + delta);
      return;
    }
    add(microseconds, resolved.cost, delta);
    addBelow(id, resolved.cost, delta);
  });
  // Deepest first, so that a frame's share of time reaches the frames LIKE_CALLEES above it.
  const depthOf = (id: number) => {
    let depth = 0;
    for (let current = parentOf.get(id); current !== undefined; current = parentOf.get(current)) depth += 1;
    return depth;
  };
  const pending = [...deferred.keys()].sort((a, b) => depthOf(b) - depthOf(a));
  for (const id of pending) {
    const us = deferred.get(id) ?? 0;
    const shares = below.get(id);
    const sharesUs = [...(shares?.values() ?? [])].reduce((sum, value) => sum + value, 0);
    const parts: [string, number][] = [];
    if (shares === undefined || sharesUs === 0) {
      // Nothing ran below it: its time is its caller's, as a frame of no cost would leave it.
      const outer = resolve(parentOf.get(id));
      if ('likeCallees' in outer) {
        deferred.set(outer.likeCallees, (deferred.get(outer.likeCallees) ?? 0) + us);
        if (!pending.includes(outer.likeCallees)) pending.push(outer.likeCallees);
        continue;
      }
      parts.push([outer.cost, us]);
    } else {
      for (const [what, share] of shares) parts.push([what, (us * share) / sharesUs]);
    }
    for (const [what, part] of parts) {
      add(microseconds, what, part);
      addBelow(id, what, part);
    }
  }

  const costs: ProfileCost[] = [];
  let other = microseconds.get(OTHER_COST) ?? 0;
  for (const [what, us] of microseconds) {
    if (what === OTHER_COST) continue;
    if (us < total / 100) other += us;
    else costs.push({ what, ms: us / 1000 });
  }
  costs.sort((a, b) => b.ms - a.ms);
  if (other > 0) costs.push({ what: OTHER_COST, ms: other / 1000 });
  return { totalMs: total / 1000, costs };
}

/** True for node's own code and V8's: a frame of no script, or of a `node:` one. */
export function isNodeCode(frame: ProfileFrame): boolean {
  return frame.url === '' || frame.url.startsWith('node:');
}
