// report.html: the report as one self-contained page (inline CSS and SVG, no script, no network) with
// a timeline picture: one row per cluster over time, which roots it trusts, which root signs its
// intermediate, handshake failures marked in red, the phases along the top.

import { describeLabEngine } from '../lab/lab-files.js';
import type { CacertsWrite } from './cacerts-timeline.js';
import type { RehearsalReport } from './rehearsal-report.js';
import { short } from './workload-moves.js';

const COLOURS: Record<string, string> = { A: '#3b6fd8', 'A+B': '#8e44ad', B: '#1e9e5a' };
const OTHER_COLOUR = '#888888';
const WIDTH = 1000;
const LABEL_WIDTH = 90;
const ROW_HEIGHT = 46;
const PHASE_BAND = 56;

export function renderReportHtml(report: RehearsalReport): string {
  const letters = new Map(Object.entries(report.rootLetters).map(([letter, fp]) => [fp, letter]));
  const letter = (fp: string | undefined) => (fp === undefined ? '?' : (letters.get(fp) ?? fp.slice(0, 8)));
  const rootSet = (write: CacertsWrite) => write.roots.map(letter).sort().join('+');
  const title = `meshtrust rehearsal: ${report.mode}, ${report.clusters.length} clusters, ${report.result}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(title)}</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; }
h1 { font-size: 20px; } h2 { font-size: 16px; margin-top: 28px; }
table { border-collapse: collapse; margin: 8px 0; } td, th { border: 1px solid #ccc; padding: 3px 8px; text-align: left; }
th { background: #f3f3f3; } code { font-size: 12px; }
.ok { color: #1e7e34; font-weight: bold; } .bad { color: #c0392b; font-weight: bold; }
.legend span { display: inline-block; margin-right: 14px; } .swatch { display: inline-block; width: 12px; height: 12px; vertical-align: middle; margin-right: 4px; }
</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
<p class="${report.ok ? 'ok' : 'bad'}" id="verdict">${report.ok ? 'OK' : 'NOT OK'}: result ${report.result} (expected ${report.expectedResult}); ${report.totals.handshakes.attempted} handshakes, ${report.totals.handshakes.failed} failed.</p>
${report.interrupted ? `<p class="bad" id="interrupted">Interrupted by ${escapeHtml(report.interrupted.signal)} in phase ${escapeHtml(report.interrupted.phase)} at ${escapeHtml(report.interrupted.at)}: a partial report, as far as the run got.</p>\n` : ''}<table>
<tr><th>mesh</th><td>${escapeHtml(report.meshId)}</td><th>mode</th><td>${escapeHtml(report.mode)}${report.cluster ? ` (${escapeHtml(report.cluster)})` : ''}</td></tr>
<tr><th>lab engine</th><td colspan="3">${escapeHtml(describeLabEngine(report.engine))}</td></tr>
<tr><th>execution</th><td colspan="3"><code>${escapeHtml(report.executionId)}</code></td></tr>
<tr><th>started</th><td>${escapeHtml(report.startedAt)}</td><th>duration</th><td>${(report.durationMs / 1000).toFixed(1)} s</td></tr>
<tr><th>state machine</th><td colspan="3"><code>${escapeHtml(report.assembly.stack)}</code> from <code>${escapeHtml(report.assembly.directory)}</code>${report.assembly.reused ? ' (reused)' : ' (synthesized)'}</td></tr>
${(report.accounts?.length ?? 0) > 1 ? `<tr><th>accounts</th><td colspan="3" id="accounts">${accountsCell(report)}</td></tr>` : ''}
${report.failAt ? `<tr><th>--fail-at</th><td colspan="3"><code>${escapeHtml(report.failAt)}</code></td></tr>` : ''}
${report.faults?.length ? `<tr><th>--fault</th><td colspan="3">${report.faults.map((fault) => `<code>${escapeHtml(fault.spec)}</code> fired ${fault.fired}x`).join(', ')}</td></tr>` : ''}
${report.error ? `<tr><th>error</th><td colspan="3"><code>${escapeHtml(report.error.name)}</code> ${escapeHtml(report.error.cause)}</td></tr>` : ''}
${(report.failedChildren ?? []).map((child) => `<tr><th>failed in</th><td colspan="3">${escapeHtml(child.map)} ${escapeHtml(child.cluster ?? '(no cluster)')}: ${escapeHtml(child.status)} <code>${escapeHtml(child.error ?? '')}</code> ${escapeHtml(child.cause ?? '')}</td></tr>`).join('\n')}
</table>
<h2>Timeline</h2>
<div class="legend">${Object.entries(COLOURS)
    .map(([label, colour]) => `<span><i class="swatch" style="background:${colour}"></i>${label}</span>`)
    .join('')}<span><i class="swatch" style="background:#d62728"></i>failed handshake</span>
${Object.entries(report.rootLetters)
  .map(([name, fp]) => `<span>root ${escapeHtml(name)} = <code>${escapeHtml(fp.slice(0, 16))}…</code></span>`)
  .join('')}</div>
${timelineSvg(report, rootSet, letter)}
<h2>Checks</h2>
<table><tr><th>check</th><th>result</th><th>detail</th></tr>
${report.checks.map((check) => `<tr><td>${escapeHtml(check.name)}</td><td class="${check.ok ? 'ok' : 'bad'}">${check.ok ? 'pass' : 'FAIL'}</td><td>${escapeHtml(check.detail)}</td></tr>`).join('\n')}
</table>
<h2>Rotation strategy per cluster</h2>
${strategyTable(report)}
<h2>Workloads: issuer at the start and at the end</h2>
${workloadTable(report)}
<h2>Phases</h2>
<table><tr><th>phase</th><th>started</th><th>ended</th><th>handshakes</th><th>failed</th></tr>
${report.phases.map((phase) => `<tr><td>${escapeHtml(phase.name)}</td><td>${escapeHtml(phase.startedAt)}</td><td>${escapeHtml(phase.endedAt ?? '')}</td><td>${phase.handshakes.attempted}</td><td>${phase.handshakes.failed}</td></tr>`).join('\n')}
</table>
<h2>cacerts writes</h2>
<table><tr><th>time</th><th>cluster</th><th>phase</th><th>trusts</th><th>signed by</th><th>ca-cert</th><th>resourceVersion</th></tr>
${report.timeline.map((write) => `<tr><td>${escapeHtml(write.at)}</td><td class="cluster">${escapeHtml(write.cluster)}</td><td>${escapeHtml(write.phase)}</td><td>${escapeHtml(rootSet(write))}</td><td>${escapeHtml(letter(write.issuer))}</td><td><code>${escapeHtml((write.caCert ?? '').slice(0, 16))}</code></td><td>${escapeHtml(write.resourceVersion)}</td></tr>`).join('\n')}
</table>
<h2>Updates istiod dropped</h2>
${report.rejectedUpdates.length === 0 ? '<p>none</p>' : `<table><tr><th>time</th><th>cluster</th><th>rules</th><th>reason</th></tr>${report.rejectedUpdates.map((r) => `<tr><td>${escapeHtml(r.at)}</td><td>${escapeHtml(r.cluster)}</td><td>${escapeHtml(r.rules.join(', '))}</td><td>${escapeHtml(r.reason)}</td></tr>`).join('')}</table>`}
<h2>Failed handshakes</h2>
${report.handshakeFailures.length === 0 ? '<p>none</p>' : `<table><tr><th>time</th><th>phase</th><th>from</th><th>to</th><th>refused by</th><th>error</th></tr>${report.handshakeFailures.map((f) => `<tr><td>${escapeHtml(f.at)}</td><td>${escapeHtml(f.phase)}</td><td>${escapeHtml(f.from)}</td><td>${escapeHtml(f.to)}</td><td>${escapeHtml(f.side)}</td><td>${escapeHtml(f.error)}</td></tr>`).join('')}</table>`}
</body>
</html>
`;
}

function timelineSvg(
  report: RehearsalReport,
  rootSet: (write: CacertsWrite) => string,
  letter: (fp: string | undefined) => string,
): string {
  const start = Date.parse(report.startedAt);
  const end = Math.max(Date.parse(report.endedAt), start + 1);
  const plot = WIDTH - LABEL_WIDTH - 10;
  const x = (iso: string) =>
    LABEL_WIDTH + Math.min(plot, Math.max(0, ((Date.parse(iso) - start) / (end - start)) * plot));
  const height = PHASE_BAND + report.clusters.length * ROW_HEIGHT + 24;
  const parts: string[] = [];
  report.phases.forEach((phase, index) => {
    const from = x(phase.startedAt);
    const to = x(phase.endedAt ?? report.endedAt);
    const y = index % 2 === 0 ? 4 : 22;
    parts.push(
      `<rect x="${from}" y="${y}" width="${Math.max(1, to - from)}" height="16" fill="${index % 2 === 0 ? '#eee' : '#ddd'}"><title>${escapeHtml(phase.name)}</title></rect>`,
      `<text x="${from + 2}" y="${y + 12}" font-size="10">${escapeHtml(phase.name)}</text>`,
    );
  });
  report.clusters.forEach((cluster, row) => {
    const top = PHASE_BAND + row * ROW_HEIGHT;
    parts.push(
      `<text x="4" y="${top + 24}" font-size="13" class="cluster-label">${escapeHtml(cluster)}</text>`,
    );
    const writes = report.timeline.filter((write) => write.cluster === cluster);
    writes.forEach((write, index) => {
      const from = write.phase === 'initial' ? LABEL_WIDTH : x(write.at);
      const next = writes[index + 1];
      const to = next === undefined ? LABEL_WIDTH + plot : x(next.at);
      const trusts = rootSet(write);
      const signer = letter(write.issuer);
      parts.push(
        `<rect x="${from}" y="${top + 4}" width="${Math.max(1, to - from)}" height="16" fill="${COLOURS[trusts] ?? OTHER_COLOUR}"><title>${escapeHtml(cluster)} trusts ${escapeHtml(trusts)} (${escapeHtml(write.phase)})</title></rect>`,
        `<text x="${from + 3}" y="${top + 16}" font-size="10" fill="#fff">trusts ${escapeHtml(trusts)}</text>`,
        `<rect x="${from}" y="${top + 22}" width="${Math.max(1, to - from)}" height="14" fill="${COLOURS[signer] ?? OTHER_COLOUR}" opacity="0.6"><title>${escapeHtml(cluster)} intermediate signed by ${escapeHtml(signer)}</title></rect>`,
        `<text x="${from + 3}" y="${top + 33}" font-size="10" fill="#fff">signed by ${escapeHtml(signer)}</text>`,
      );
    });
    for (const failure of report.handshakeFailures) {
      if (!failure.from.startsWith(`${cluster}/`) && !failure.to.startsWith(`${cluster}/`)) continue;
      const at = x(failure.at);
      parts.push(
        `<line x1="${at}" y1="${top + 2}" x2="${at}" y2="${top + 40}" stroke="#d62728" stroke-width="2"><title>${escapeHtml(failure.from)} -> ${escapeHtml(failure.to)}: ${escapeHtml(failure.error)}</title></line>`,
      );
    }
  });
  parts.push(
    `<text x="${LABEL_WIDTH}" y="${height - 6}" font-size="10">0 s</text>`,
    `<text x="${WIDTH - 60}" y="${height - 6}" font-size="10">${((end - start) / 1000).toFixed(1)} s</text>`,
  );
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" role="img" aria-label="timeline">\n${parts.join('\n')}\n</svg>`;
}

/** Each account's clusters; for another account, the roles assumed there and by which phases' sessions. */
function accountsCell(report: RehearsalReport): string {
  return (report.accounts ?? [])
    .map(
      (entry) =>
        `<code>${escapeHtml(entry.account)}</code> ${escapeHtml(entry.clusters.join(', '))}: ${
          entry.stack
            ? "the stack's"
            : (entry.assumedRoles ?? [])
                .map(
                  (assumed) =>
                    `<code>${escapeHtml(assumed.role)}</code> by ${escapeHtml(assumed.sessions.join(', '))}`,
                )
                .join('; ') || 'no role assumed'
        }`,
    )
    .join('<br>');
}

/** Per cluster: what preflight chose, and restart-workloads' figures (its resign wait, when it had one). */
function strategyTable(report: RehearsalReport): string {
  if (report.strategies.length === 0) return '<p>none: preflight did not finish</p>';
  const rows = report.strategies.map((entry) => {
    const answer = entry.restartWorkloads;
    const resign = answer?.resign;
    const wait =
      resign === undefined
        ? ''
        : `${resign.moved} of ${resign.pods} proxies moved in ${resign.waitedSeconds} s; ${resign.fallback} workload(s) restarted after the deadline${resign.fallbackWorkloads.length > 0 ? `: ${resign.fallbackWorkloads.join(', ')}` : ''}${(resign.unmovedUnmanaged ?? []).length > 0 ? `; not moved and not restartable: ${resign.unmovedUnmanaged?.join(', ')}` : ''}`;
    return `<tr><td class="cluster">${escapeHtml(entry.cluster)}</td><td class="strategy">${escapeHtml(entry.strategy ?? 'none')}</td><td>${answer === undefined ? 'did not finish' : `${answer.restarted}${answer.strategy === undefined ? '' : ` (${escapeHtml(answer.strategy)})`}`}</td><td>${escapeHtml(wait)}</td></tr>`;
  });
  return `<table><tr><th>cluster</th><th>strategy (preflight)</th><th>workloads restarted</th><th>resign wait</th></tr>\n${rows.join('\n')}\n</table>`;
}

/**
 * Per workload, as the lab saw it: the issuer of the certificate its pods held at the start and at the
 * end (fingerprint prefixes, marked when they are the cluster's start or final intermediate), its pods'
 * UIDs at both ends, and whether it was restarted.
 */
function workloadTable(report: RehearsalReport): string {
  if (report.workloadMoves.length === 0) return '<p>none observed</p>';
  const initial = new Map(report.initial.map((entry) => [entry.cluster, entry.caCert]));
  const final = new Map(report.final.map((entry) => [entry.cluster, entry.caCert]));
  const rows = report.workloadMoves.map((move) => {
    const issuer = (pods: typeof move.start) =>
      pods.length === 0
        ? 'no pod'
        : [...new Set(pods.map((pod) => pod.issuer))]
            .map((fp) => {
              const mark =
                fp === initial.get(move.cluster) && fp !== final.get(move.cluster)
                  ? ' (start)'
                  : fp === final.get(move.cluster) && fp !== initial.get(move.cluster)
                    ? ' (final)'
                    : '';
              return `${short(fp)}${mark}`;
            })
            .join(', ');
    const pods = (list: typeof move.start) =>
      list.length === 0 ? 'none' : list.map((pod) => `${pod.pod} (${pod.uid.slice(0, 8)})`).join(', ');
    return `<tr><td class="cluster">${escapeHtml(move.cluster)}</td><td>${escapeHtml(move.workload)}</td><td><code>${escapeHtml(issuer(move.start))}</code> &rarr; <code>${escapeHtml(issuer(move.end))}</code></td><td>${escapeHtml(pods(move.start))}</td><td>${escapeHtml(pods(move.end))}</td><td class="${move.restarted ? 'restarted' : 'kept'}">${move.restarted ? 'yes' : 'no'}</td></tr>`;
  });
  return `<table><tr><th>cluster</th><th>workload</th><th>issuer: start &rarr; end</th><th>pods at the start (UID)</th><th>pods at the end (UID)</th><th>restarted</th></tr>\n${rows.join('\n')}\n</table>`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}
