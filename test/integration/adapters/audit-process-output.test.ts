// The audit trail as CloudWatch would receive it: a separate Node process (as a Lambda function is)
// emits events through the real logger and metrics, and we read its stdout and stderr, with no
// console spying in between.
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const moduleUrl = (path: string) => pathToFileURL(resolve(path)).href;

const script = `
import { generateKeyPairSync } from 'node:crypto';
import { emitAuditEvent } from '${moduleUrl('lambdas/adapters/audit/audit-event.ts')}';
import { createMetrics, recordStateChange } from '${moduleUrl('lambdas/adapters/audit/metrics.ts')}';
const event = { phase: 'stage-root', action: 'stage-root-secret', executionId: 'run-1', outcome: 'succeeded',
  fingerprintsAfter: ['bbbb'], detail: { versionId: 'v-1' } };
emitAuditEvent(event);
recordStateChange(createMetrics(), event);
const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' });
try {
  emitAuditEvent({ ...event, detail: { versionId: String(key) } });
} catch (error) {
  process.stderr.write('refused: ' + error.name + '\\n');
}
`;

describe('audit output of a function process', () => {
  it('is one audit line and one EMF line on stdout; a leaking event is refused and never printed', async () => {
    // Prepare
    const env = { ...process.env, POWERTOOLS_DEV: '', POWERTOOLS_METRICS_NAMESPACE: 'MeshTrustTest' };
    // Act
    const { stdout, stderr } = await run(resolve('node_modules/.bin/tsx'), ['-e', script], { env });
    // Assess
    const lines = stdout
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      message: 'meshtrust.audit',
      audit: true,
      service: 'meshtrust',
      phase: 'stage-root',
      fingerprintsAfter: ['bbbb'],
    });
    expect(lines[1]._aws.CloudWatchMetrics[0].Namespace).toBe('MeshTrustTest');
    expect(stderr).toContain('refused: PrivateKeyInLogError');
    expect(`${stdout}${stderr}`).not.toContain('PRIVATE KEY');
  });
});
