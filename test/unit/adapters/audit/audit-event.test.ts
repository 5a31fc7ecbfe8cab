import { generateKeyPairSync } from 'node:crypto';
import {
  AUDIT_MESSAGE,
  type AuditEvent,
  emitAuditEvent,
} from '../../../../lambdas/adapters/audit/audit-event.js';
import { createLogger } from '../../../../lambdas/adapters/audit/logger.js';
import { PrivateKeyInLogError } from '../../../../lambdas/adapters/audit/private-key-guard.js';
import { captureOutput } from '../../../support/capture-output.js';

const keyPem = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  .privateKey.export({ format: 'pem', type: 'pkcs8' })
  .toString();

const event: AuditEvent = {
  phase: 'distribute-bundle',
  action: 'write-cacerts',
  cluster: 'east',
  executionId: 'arn:aws:states:us-east-1:123456789012:execution:meshtrust:run-1',
  actor: 'arn:aws:iam::123456789012:role/operator',
  fingerprintsBefore: ['aaaa'],
  fingerprintsAfter: ['aaaa', 'bbbb'],
  outcome: 'succeeded',
  detail: { resourceVersion: '101', namespaces: 12 },
};

describe('emitAuditEvent', () => {
  it('writes exactly one JSON line marked audit with the event fields at the top level', () => {
    // Prepare
    const logger = createLogger();
    // Act
    const lines = captureOutput(() => emitAuditEvent(event, { logger }));
    // Assess
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0] as string);
    expect(line).toMatchObject({
      level: 'INFO',
      message: AUDIT_MESSAGE,
      service: 'meshtrust',
      audit: true,
      phase: 'distribute-bundle',
      action: 'write-cacerts',
      cluster: 'east',
      executionId: event.executionId,
      actor: event.actor,
      fingerprintsBefore: ['aaaa'],
      fingerprintsAfter: ['aaaa', 'bbbb'],
      outcome: 'succeeded',
      detail: { resourceVersion: '101', namespaces: 12 },
    });
  });

  it('logs a failed outcome at error level', () => {
    // Prepare
    const logger = createLogger();
    // Act
    const lines = captureOutput(() => emitAuditEvent({ ...event, outcome: 'failed' }, { logger }));
    // Assess
    expect(JSON.parse(lines[0] as string)).toMatchObject({ level: 'ERROR', outcome: 'failed', audit: true });
  });

  it('writes only the audit fields, not whatever else the object carries', () => {
    // Prepare
    const logger = createLogger();
    const withExtra = { ...event, payload: { big: 'state' } } as AuditEvent;
    // Act
    const lines = captureOutput(() => emitAuditEvent(withExtra, { logger }));
    // Assess
    expect(JSON.parse(lines[0] as string)).not.toHaveProperty('payload');
  });

  it('refuses an event holding a private key and writes nothing', () => {
    // Prepare
    const logger = createLogger();
    let thrown: unknown;
    // Act
    const lines = captureOutput(() => {
      try {
        emitAuditEvent({ ...event, detail: { note: keyPem } }, { logger });
      } catch (error) {
        thrown = error;
      }
    });
    // Assess
    expect(thrown).toBeInstanceOf(PrivateKeyInLogError);
    expect(lines).toEqual([]);
  });

  it('refuses an event without an execution id', () => {
    // Act / Assess
    expect(() => emitAuditEvent({ ...event, executionId: ' ' }, { logger: createLogger() })).toThrow(
      /executionId/,
    );
  });
});

describe('the shared logger', () => {
  it('refuses any line with a private key in an attribute, an appended key or an error, writing nothing', () => {
    // Prepare
    const logger = createLogger();
    const attempts = [
      () => logger.info('read cacerts', { data: { 'ca-key.pem': Buffer.from(keyPem).toString('base64') } }),
      () => logger.error('write failed', new Error('bad', { cause: new Error(keyPem) })),
      () => logger.warn(`key is ${keyPem}`),
      () => {
        const child = createLogger();
        child.appendKeys({ leaked: keyPem });
        child.info('harmless message');
      },
    ];
    // Act
    const outcomes: unknown[] = [];
    const lines = captureOutput(() => {
      for (const attempt of attempts) {
        try {
          attempt();
          outcomes.push('logged');
        } catch (error) {
          outcomes.push(error);
        }
      }
    });
    // Assess
    expect(outcomes).toEqual(attempts.map(() => expect.any(PrivateKeyInLogError)));
    expect(lines).toEqual([]);
  });

  it('still logs lines without key material', () => {
    // Prepare
    const logger = createLogger();
    logger.appendKeys({ cluster: 'east' });
    // Act
    const lines = captureOutput(() => logger.info('cacerts written', { resourceVersion: '7' }));
    // Assess
    expect(JSON.parse(lines[0] as string)).toMatchObject({
      message: 'cacerts written',
      cluster: 'east',
      resourceVersion: '7',
    });
  });
});
