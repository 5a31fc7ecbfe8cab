import {
  clientRequestTokenFor,
  isValidClientRequestToken,
} from '../../../../lambdas/adapters/secrets/client-request-token.js';

const arn = 'arn:aws:states:us-east-1:123456789012:execution:meshtrust:run-1';

describe('clientRequestTokenFor', () => {
  it('is the same for the same execution and purpose', () => {
    // Act / Assess
    expect(clientRequestTokenFor(arn, 'root')).toBe(clientRequestTokenFor(arn, 'root'));
  });

  it('differs per purpose and per execution', () => {
    // Act
    const tokens = new Set([
      clientRequestTokenFor(arn, 'root'),
      clientRequestTokenFor(arn, 'intermediate/east'),
      clientRequestTokenFor(`${arn}x`, 'root'),
      clientRequestTokenFor(`${arn}:root`, ''.padEnd(1, 'x')),
    ]);
    // Assess
    expect(tokens.size).toBe(4);
  });

  it('is a UUID (version 8) within the 32-64 characters Secrets Manager accepts', () => {
    // Act
    const token = clientRequestTokenFor(arn, 'root');
    // Assess
    expect(token).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(isValidClientRequestToken(token)).toBe(true);
  });

  it('refuses an empty execution or purpose', () => {
    // Act / Assess
    expect(() => clientRequestTokenFor('', 'root')).toThrow(/needs an execution ARN and a purpose/);
    expect(() => clientRequestTokenFor(arn, ' ')).toThrow(/needs an execution ARN and a purpose/);
  });
});
