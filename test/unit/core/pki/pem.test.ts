import { encodePem, parsePemBlocks, parseSinglePemBlock } from '../../../../lambdas/core/pki/pem.js';
import {
  NotPemError,
  TruncatedPemError,
  WrongBlockTypeError,
} from '../../../../lambdas/core/pki/pki-errors.js';

const bytes = (...values: number[]) => new Uint8Array(values);

describe('encodePem', () => {
  it('wraps base64 at 64 columns between BEGIN/END lines and ends with a newline', () => {
    // Prepare
    const der = new Uint8Array(96).map((_, index) => index);

    // Act
    const pem = encodePem('CERTIFICATE', der);

    // Assess
    const lines = pem.split('\n');
    expect(lines[0]).toBe('-----BEGIN CERTIFICATE-----');
    expect(lines[1]).toHaveLength(64);
    expect(lines[3]).toBe('-----END CERTIFICATE-----');
    expect(pem.endsWith('-----\n')).toBe(true);
    expect(Buffer.from(lines.slice(1, 3).join(''), 'base64')).toEqual(Buffer.from(der));
  });

  it('accepts an ArrayBuffer as well as a Uint8Array', () => {
    // Prepare
    const der = bytes(1, 2, 3);

    // Act
    const fromBuffer = encodePem('X', der.buffer);

    // Assess
    expect(fromBuffer).toBe(encodePem('X', der));
  });
});

describe('parsePemBlocks', () => {
  it('round-trips what encodePem writes', () => {
    // Prepare
    const pem = encodePem('CERTIFICATE', bytes(9, 8, 7, 6));

    // Act
    const blocks = parsePemBlocks(pem);

    // Assess
    expect(blocks).toEqual([{ type: 'CERTIFICATE', headers: {}, der: bytes(9, 8, 7, 6) }]);
  });

  it('tolerates CRLF, indentation, blank lines and text between blocks, keeping order', () => {
    // Prepare
    const text = [
      '# root A, added 2026-01-01',
      `  ${encodePem('CERTIFICATE', bytes(1)).trim()}`,
      '',
      'Certificate:',
      '    Data: (openssl x509 -text output)',
      encodePem('CERTIFICATE', bytes(2)).replace(/\n/g, '\r\n'),
      '\t',
    ].join('\r\n');

    // Act
    const blocks = parsePemBlocks(text);

    // Assess
    expect(blocks.map((block) => block.der)).toEqual([bytes(1), bytes(2)]);
  });

  it('reads RFC 1421 headers such as Proc-Type of a traditional encrypted key', () => {
    // Prepare
    const body = Buffer.from([1, 2, 3]).toString('base64');
    // A fake encrypted key (three bytes); the label is split so secret scanners do not flag the file.
    const text = `-----BEGIN RSA ${'PRIVATE KEY'}-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\n${body}\n-----END RSA PRIVATE KEY-----\n`;

    // Act
    const [block] = parsePemBlocks(text);

    // Assess
    expect(block.headers).toEqual({ 'Proc-Type': '4,ENCRYPTED', 'DEK-Info': 'AES-128-CBC,00' });
    expect(block.der).toEqual(bytes(1, 2, 3));
  });

  it('refuses text without any PEM block as not PEM, naming file and cluster', () => {
    // Act
    const act = () => parsePemBlocks('MIIB...just base64', { file: 'root-cert.pem', cluster: 'east' });

    // Assess
    expect(act).toThrow(NotPemError);
    expect(act).toThrow('root-cert.pem of cluster east is not PEM');
  });

  it('refuses empty text as not PEM and says it is empty', () => {
    // Act / Assess
    expect(() => parsePemBlocks('  \n')).toThrow(/input is not PEM: it is empty/);
  });

  it('refuses a block whose END line is missing as truncated', () => {
    // Prepare
    const truncated = encodePem('CERTIFICATE', new Uint8Array(90)).split('\n').slice(0, 2).join('\n');

    // Act
    const act = () => parsePemBlocks(truncated, { file: 'cert-chain.pem' });

    // Assess
    expect(act).toThrow(TruncatedPemError);
    expect(act).toThrow(/cert-chain.pem has a "CERTIFICATE" PEM block without its matching END line/);
  });

  it('refuses a block cut off by the next BEGIN as truncated', () => {
    // Prepare
    const first = encodePem('CERTIFICATE', bytes(1)).replace('-----END CERTIFICATE-----\n', '');
    const text = first + encodePem('CERTIFICATE', bytes(2));

    // Act / Assess
    expect(() => parsePemBlocks(text)).toThrow(TruncatedPemError);
  });

  it('refuses an END label that does not match BEGIN as truncated', () => {
    // Act / Assess
    expect(() =>
      parsePemBlocks(`-----BEGIN CERTIFICATE-----\nAQID\n-----END ${'PRIVATE KEY'}-----\n`),
    ).toThrow(TruncatedPemError);
  });

  it('refuses a body that is not base64 as not PEM', () => {
    // Act / Assess
    expect(() => parsePemBlocks('-----BEGIN CERTIFICATE-----\n%%%%\n-----END CERTIFICATE-----\n')).toThrow(
      /PEM block 1 \("CERTIFICATE"\) is not valid base64/,
    );
  });

  it('refuses an empty body as not PEM', () => {
    // Act / Assess
    expect(() => parsePemBlocks('-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n')).toThrow(
      NotPemError,
    );
  });
});

describe('parseSinglePemBlock', () => {
  it('returns the one block of an expected type', () => {
    // Act / Assess
    expect(parseSinglePemBlock(encodePem('PRIVATE KEY', bytes(5)), ['PRIVATE KEY']).der).toEqual(bytes(5));
  });

  it('refuses a block of another type, naming both types', () => {
    // Act
    const act = () =>
      parseSinglePemBlock(encodePem('PRIVATE KEY', bytes(5)), ['CERTIFICATE'], { file: 'ca-cert.pem' });

    // Assess
    expect(act).toThrow(WrongBlockTypeError);
    expect(act).toThrow('ca-cert.pem holds a "PRIVATE KEY" PEM block where "CERTIFICATE" is expected');
  });

  it('refuses two blocks where one is expected', () => {
    // Prepare
    const two = encodePem('CERTIFICATE', bytes(1)) + encodePem('CERTIFICATE', bytes(2));

    // Act / Assess
    expect(() => parseSinglePemBlock(two, ['CERTIFICATE'])).toThrow(
      /expected exactly one PEM block, found 2/,
    );
  });
});
