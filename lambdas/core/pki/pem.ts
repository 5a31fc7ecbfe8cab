import { NotPemError, type PkiContext, TruncatedPemError, WrongBlockTypeError } from './pki-errors.js';

export interface PemBlock {
  /** The label between BEGIN and the dashes, e.g. `CERTIFICATE`. */
  readonly type: string;
  /** RFC 1421 headers such as `Proc-Type` (only traditional encrypted keys carry them). */
  readonly headers: Readonly<Record<string, string>>;
  readonly der: Uint8Array;
}

const BEGIN = /^-----BEGIN ([A-Z0-9][A-Z0-9 ]*)-----$/;
const END = /^-----END ([A-Z0-9][A-Z0-9 ]*)-----$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Every PEM block in `text`, in order. Text outside blocks (comments, `openssl x509 -text` output,
 * blank lines) is ignored, as openssl and Go's pem.Decode do; CRLF and indentation are tolerated.
 * Throws NotPemError when there is no block or a body is not base64, TruncatedPemError when a block
 * has no END line.
 */
export function parsePemBlocks(text: string, context: PkiContext = {}): PemBlock[] {
  const lines = text.split(/\r?\n|\r/).map((line) => line.trim());
  const blocks: PemBlock[] = [];
  let index = 0;
  while (index < lines.length) {
    const begin = BEGIN.exec(lines[index]);
    index += 1;
    if (!begin) continue;
    const type = begin[1];
    const headers: Record<string, string> = {};
    const body: string[] = [];
    let closed = false;
    for (; index < lines.length; index += 1) {
      const line = lines[index];
      const end = END.exec(line);
      if (end) {
        if (end[1] !== type) throw new TruncatedPemError(type, context);
        closed = true;
        index += 1;
        break;
      }
      if (BEGIN.test(line)) break;
      const header = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(line);
      if (header && body.length === 0) {
        headers[header[1]] = header[2];
      } else if (line !== '') {
        body.push(line);
      }
    }
    if (!closed) throw new TruncatedPemError(type, context);
    blocks.push({ type, headers, der: decodeBase64(body.join(''), type, blocks.length + 1, context) });
  }
  if (blocks.length === 0) {
    throw new NotPemError(text.trim() === '' ? 'it is empty' : 'no -----BEGIN ...----- line found', context);
  }
  return blocks;
}

/** Exactly one block of one of the `expected` types (e.g. a private key file). */
export function parseSinglePemBlock(
  text: string,
  expected: readonly string[],
  context: PkiContext = {},
): PemBlock {
  const blocks = parsePemBlocks(text, context);
  const wrong = blocks.find((block) => !expected.includes(block.type));
  if (wrong) throw new WrongBlockTypeError(expected, wrong.type, context);
  if (blocks.length !== 1) {
    throw new NotPemError(`expected exactly one PEM block, found ${blocks.length}`, context);
  }
  return blocks[0];
}

/** RFC 7468 text: BEGIN line, base64 wrapped at 64 columns, END line, trailing newline. */
export function encodePem(type: string, der: Uint8Array | ArrayBuffer): string {
  const base64 = Buffer.from(der instanceof Uint8Array ? der : new Uint8Array(der)).toString('base64');
  const lines = base64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${type}-----\n${lines.join('\n')}\n-----END ${type}-----\n`;
}

function decodeBase64(body: string, type: string, position: number, context: PkiContext): Uint8Array {
  if (body === '' || body.length % 4 !== 0 || !BASE64.test(body)) {
    throw new NotPemError(`the body of PEM block ${position} ("${type}") is not valid base64`, context);
  }
  return new Uint8Array(Buffer.from(body, 'base64'));
}
