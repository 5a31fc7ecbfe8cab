// Reads the parts of a go.mod the lab build needs: the go directive, required module versions,
// replacements and tool directives. A small reader, not a full one: no retract, exclude or godebug
// (they are ignored), which is all `go mod` writes for lab/go.

export interface GoModReplace {
  readonly path: string;
  /** Only this version is replaced; undefined = every version. */
  readonly version?: string;
  readonly newPath: string;
  /** Undefined when the replacement is a local directory. */
  readonly newVersion?: string;
}

export interface GoMod {
  readonly module: string;
  /** The go directive, e.g. "1.26.0". */
  readonly go?: string;
  /** Module path -> required version, direct and indirect. */
  readonly requires: ReadonlyMap<string, string>;
  readonly replaces: readonly GoModReplace[];
  /** Packages of the tool directives. */
  readonly tools: readonly string[];
}

type Verb = 'module' | 'go' | 'require' | 'replace' | 'tool';
const VERBS: ReadonlySet<string> = new Set<Verb>(['module', 'go', 'require', 'replace', 'tool']);

export function parseGoMod(text: string): GoMod {
  let module = '';
  let go: string | undefined;
  const requires = new Map<string, string>();
  const replaces: GoModReplace[] = [];
  const tools: string[] = [];
  let block: string | undefined;

  const apply = (verb: string, args: readonly string[]) => {
    if (verb === 'module' && args[0] !== undefined) module = args[0];
    else if (verb === 'go' && args[0] !== undefined) go = args[0];
    else if (verb === 'require' && args[0] !== undefined && args[1] !== undefined)
      requires.set(args[0], args[1]);
    else if (verb === 'tool' && args[0] !== undefined) tools.push(args[0]);
    else if (verb === 'replace') {
      const arrow = args.indexOf('=>');
      const [path, version] = args.slice(0, arrow);
      const [newPath, newVersion] = args.slice(arrow + 1);
      if (arrow < 1 || path === undefined || newPath === undefined) return;
      replaces.push({
        path,
        newPath,
        ...(version !== undefined ? { version } : {}),
        ...(newVersion !== undefined ? { newVersion } : {}),
      });
    }
  };

  for (const rawLine of text.split('\n')) {
    const words = tokens(rawLine);
    const [first, ...rest] = words;
    if (first === undefined) continue;
    if (block !== undefined) {
      if (first === ')') block = undefined;
      else apply(block, words);
    } else if (VERBS.has(first) && rest[0] === '(') {
      block = first;
    } else {
      apply(first, rest);
    }
  }
  return { module, ...(go !== undefined ? { go } : {}), requires, replaces, tools };
}

/**
 * The version of `modulePath` the build uses: the required one, or the replacement's when a replace
 * directive points the module at another version. Undefined when not required, or replaced by a local
 * directory (which has no version).
 */
export function effectiveVersion(goMod: GoMod, modulePath: string): string | undefined {
  const required = goMod.requires.get(modulePath);
  if (required === undefined) return undefined;
  const replace =
    goMod.replaces.find((r) => r.path === modulePath && r.version === required) ??
    goMod.replaces.find((r) => r.path === modulePath && r.version === undefined);
  if (replace === undefined) return required;
  return replace.newVersion;
}

/** Words of one line without its comment; quoted paths lose their quotes. */
function tokens(line: string): string[] {
  const comment = line.indexOf('//');
  const code = comment === -1 ? line : line.slice(0, comment);
  return (code.match(/"[^"]*"|`[^`]*`|=>|\S+/g) ?? []).map((word) =>
    /^["`]/.test(word) ? word.slice(1, -1) : word,
  );
}
