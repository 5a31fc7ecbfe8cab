// istiod's log as the istio engine reads it: one "Update Istiod cacerts" per reload, then the line that
// ends it. Lines are in Istio's format (<time>\t<level>\t<message>), as pilot-discovery writes them.
import { describe, expect, it } from '@jest/globals';
import { istiodReloads } from '../../../lab/istio-install/istiod-reload-log.js';

const line = (time: string, level: string, message: string) => `${time}\t${level}\t${message}`;

describe('istiodReloads', () => {
  it('reads each reload with its verdict, time and message', () => {
    const log = [
      line('2026-11-30T10:00:00.000Z', 'info', 'starting discovery'),
      line('2026-11-30T10:00:01.000Z', 'info', 'Update Istiod cacerts'),
      line('2026-11-30T10:00:01.100Z', 'info', 'Updating new ROOT-CA'),
      line(
        '2026-11-30T10:00:01.200Z',
        'info',
        'Istiod has detected the newly added intermediate CA and updated its key and certs accordingly',
      ),
      line('2026-11-30T10:00:05.000Z', 'info', 'Update Istiod cacerts'),
      line('2026-11-30T10:00:05.100Z', 'warn', 'Updating new ROOT-CA not supported'),
      line('2026-11-30T10:00:09.000Z', 'info', 'Update Istiod cacerts'),
    ].join('\n');
    expect(istiodReloads(log)).toEqual([
      {
        verdict: 'accepted',
        at: '2026-11-30T10:00:01.200Z',
        line: 'Istiod has detected the newly added intermediate CA and updated its key and certs accordingly',
      },
      { verdict: 'dropped', at: '2026-11-30T10:00:05.100Z', line: 'Updating new ROOT-CA not supported' },
      {},
    ]);
  });

  it('tells multi-root off, a bad bundle and a half-taken reload apart', () => {
    const log = [
      'Update Istiod cacerts',
      line('t1', 'warn', 'Multi root is disabled, updating new ROOT-CA not supported'),
      'Update Istiod cacerts',
      line(
        't2',
        'error',
        'Failed to update new Plug-in CA certs: x509: certificate signed by unknown authority',
      ),
      'Update Istiod cacerts',
      line('t3', 'error', 'Failed generating plugged-in istiod key cert: boom'),
    ].join('\n');
    expect(istiodReloads(log).map((reload) => reload.verdict)).toEqual(['dropped', 'dropped', 'half-taken']);
    expect(istiodReloads(log)[0]?.line).toBe('Multi root is disabled, updating new ROOT-CA not supported');
  });

  it('ignores an ending line with no reload before it, and a second ending of one reload', () => {
    const log = [
      line('t0', 'warn', 'Updating new ROOT-CA not supported'),
      'Update Istiod cacerts',
      line('t1', 'warn', 'Updating new ROOT-CA not supported'),
      line('t2', 'error', 'Failed to update new Plug-in CA certs: late'),
    ].join('\n');
    expect(istiodReloads(log)).toEqual([
      { verdict: 'dropped', at: 't1', line: 'Updating new ROOT-CA not supported' },
    ]);
  });
});
