// What a V8 CPU profile (`node --cpu-prof`) of a bundled process spent its time on, in a few named
// costs, for the bench's "what bounds it" lines (issue 14 wants a profile, not a guess, where a target
// is missed). Each sample's time goes to the first rule that matches its stack, from the sampled frame
// outwards: node's own crypto by the function's name, bundled code by the module esbuild wrote it from
// (an unminified esbuild bundle names each module in a `// path` comment line before its code).

/** The parts of Chrome's .cpuprofile format read here. */
export interface CpuProfile {
  readonly nodes: readonly {
    readonly id: number;
    readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
    readonly children?: readonly number[];
  }[];
  readonly samples: readonly number[];
  /** Microseconds since the previous sample, one per sample. */
  readonly timeDeltas: readonly number[];
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

/** A frame as the rules see it: its function and, for bundled code, the module it came from. */
interface Frame {
  readonly functionName: string;
  readonly url: string;
  readonly module?: string;
}

const RULES: readonly { readonly what: string; matches(frame: Frame): boolean }[] = [
  { what: 'garbage collection', matches: (f) => f.functionName === '(garbage collector)' },
  {
    what: "idle: waiting on node's thread pool (crypto jobs such as RSA key generation, async file writes)",
    matches: (f) => f.functionName === '(idle)',
  },
  {
    what: 'node itself (startup, parsing and compiling code)',
    matches: (f) => f.functionName === '(program)',
  },
  {
    what: 'key generation (node crypto)',
    matches: (f) => isNodeCode(f) && /^(generateKeyPair|ecGenerateKey|rsaKeyGenerate)/.test(f.functionName),
  },
  {
    what: 'key encoding: PEM/PKCS#8/SPKI import and export (node crypto)',
    matches: (f) =>
      isNodeCode(f) &&
      /^(createPrivateKey|createPublicKey|importKey|exportKey|export|ecImportKey|ecExportKey|rsaImportKey|rsaExportKey)$/.test(
        f.functionName,
      ),
  },
  {
    what: 'signing (node crypto)',
    matches: (f) =>
      isNodeCode(f) && /^(sign|signOneShot|signVerify|ecdsaSignVerify|rsaSignVerify)$/.test(f.functionName),
  },
  { what: 'hashing (node crypto)', matches: (f) => isNodeCode(f) && /[dD]igest/.test(f.functionName) },
  {
    what: 'file writes',
    matches: (f) =>
      isNodeCode(f) &&
      /^(writeFile|writeFileSync|openSync|writeSync|closeSync|openFileHandle|close|writeFileHandle)$/.test(
        f.functionName,
      ),
  },
  {
    what: 'module loading (imports)',
    matches: (f) =>
      isNodeCode(f) && /(compileSourceTextModule|ModuleJob|moduleStrategy)/.test(f.functionName),
  },
  {
    what: 'ASN.1 encoding and parsing (asn1js, @peculiar/asn1-*, @peculiar/utils)',
    matches: (f) =>
      /node_modules\/(asn1js|@peculiar\/asn1-[a-z0-9-]+|@peculiar\/utils|pvtsutils|pvutils)\//.test(
        f.module ?? '',
      ),
  },
  {
    what: 'certificate building (@peculiar/x509 and its runtime: tsyringe, tslib, reflect-metadata)',
    matches: (f) =>
      /node_modules\/(@peculiar\/x509|tsyringe|tslib|reflect-metadata|@peculiar\/json-schema)\//.test(
        f.module ?? '',
      ),
  },
  { what: 'meshtrust PKI core', matches: (f) => (f.module ?? '').startsWith('lambdas/') },
  { what: 'the bench worker', matches: (f) => (f.module ?? '').startsWith('bench/') },
];

const OTHER = 'other';

function isNodeCode(frame: Frame): boolean {
  return frame.url === '' || frame.url.startsWith('node:');
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
function moduleAt(modules: readonly BundleModule[], line: number): string | undefined {
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

/**
 * Sums a profile's sample time per rule. `bundleUrl` tells the bundle's frames (by the end of their
 * URL) from node's own; each sample goes to the first rule any frame of its stack matches, from the
 * sampled frame outwards, else to "other".
 */
export function summarizeCpuProfile(
  profile: CpuProfile,
  bundle: { readonly url: string; readonly modules: readonly BundleModule[] },
): ProfileSummary {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const frameOf = (id: number): Frame => {
    const { functionName, url, lineNumber } = (byId.get(id) as CpuProfile['nodes'][number]).callFrame;
    const module = url.endsWith(bundle.url) ? moduleAt(bundle.modules, lineNumber) : undefined;
    return { functionName, url, ...(module !== undefined && { module }) };
  };
  const categoryOf = new Map<number, string>();
  const categorize = (id: number): string => {
    const known = categoryOf.get(id);
    if (known !== undefined) return known;
    let what = OTHER;
    for (let current: number | undefined = id; current !== undefined; current = parentOf.get(current)) {
      const frame = frameOf(current);
      const rule = RULES.find((candidate) => candidate.matches(frame));
      if (rule !== undefined) {
        what = rule.what;
        break;
      }
    }
    categoryOf.set(id, what);
    return what;
  };
  const microseconds = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, index) => {
    const delta = profile.timeDeltas[index] ?? 0;
    total += delta;
    const what = categorize(id);
    microseconds.set(what, (microseconds.get(what) ?? 0) + delta);
  });
  const costs: ProfileCost[] = [];
  let other = microseconds.get(OTHER) ?? 0;
  for (const [what, us] of microseconds) {
    if (what === OTHER) continue;
    if (us < total / 100) other += us;
    else costs.push({ what, ms: us / 1000 });
  }
  costs.sort((a, b) => b.ms - a.ms);
  if (other > 0) costs.push({ what: OTHER, ms: other / 1000 });
  return { totalMs: total / 1000, costs };
}
