// What real istiod did with each `cacerts` change, as its own log says it. pilot/pkg/bootstrap/
// istio_ca.go (handleEvent) logs "Update Istiod cacerts" when the mounted files change, then exactly one
// line that ends the reload: taken, or dropped and why. The istio engine reads these lines where the
// model engine keeps its own list of rejections.

/** 'half-taken': the CA took the files but istiod's own certificate failed. */
export type ReloadVerdict = 'accepted' | 'dropped' | 'half-taken';

export interface IstiodReload {
  /** The line that ended the reload (time and level removed); undefined while it has not ended. */
  readonly line?: string;
  readonly verdict?: ReloadVerdict;
  /** When istiod logged the end of the reload, as its log line says. */
  readonly at?: string;
}

const RELOAD_STARTS = 'Update Istiod cacerts';
const RELOAD_ENDS: readonly (readonly [string, ReloadVerdict])[] = [
  [
    'Istiod has detected the newly added intermediate CA and updated its key and certs accordingly',
    'accepted',
  ],
  ['Multi root is disabled, updating new ROOT-CA not supported', 'dropped'],
  ['Updating new ROOT-CA not supported', 'dropped'],
  ['Failed to update new Plug-in CA certs', 'dropped'],
  ['failed reading root-cert.pem', 'dropped'],
  ['unable to determine signing file format', 'dropped'],
  ['Failed generating plugged-in istiod key cert', 'half-taken'],
];

/** Every reload in a piece of istiod's log, oldest first. */
export function istiodReloads(log: string): IstiodReload[] {
  const reloads: { line?: string; verdict?: ReloadVerdict; at?: string }[] = [];
  for (const line of log.split('\n')) {
    if (line.includes(RELOAD_STARTS)) reloads.push({});
    const ends = RELOAD_ENDS.find(([message]) => line.includes(message));
    const open = reloads[reloads.length - 1];
    if (ends && open && open.verdict === undefined) {
      // Istio's log lines: <time>\t<level>\t<message>.
      const [at, , ...message] = line.trim().split('\t');
      open.verdict = ends[1];
      open.line = message.length > 0 ? message.join('\t') : line.trim();
      if (message.length > 0 && at !== undefined) open.at = at;
    }
  }
  return reloads;
}
