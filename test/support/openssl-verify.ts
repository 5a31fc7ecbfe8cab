// openssl's own verdict on a certificate chain, for tests that judge what a real component (pilot-agent,
// istiod) produced with an independent tool rather than with meshtrust's rules.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * `openssl verify -CAfile root -untrusted chain chain`: the chain (leaf first, as a file or as PEM text
 * written to `dir`) against one trusted root. Returns openssl's last line, `<file>: OK` on success, its
 * error otherwise (never throws for a failed verification).
 */
export async function opensslVerify(
  chain: { readonly file: string } | { readonly pem: string },
  rootPem: string,
  dir: string,
): Promise<string> {
  const name = randomUUID().slice(0, 8);
  const rootFile = join(dir, `root-${name}.pem`);
  await writeFile(rootFile, rootPem);
  let chainFile: string;
  if ('file' in chain) chainFile = chain.file;
  else {
    chainFile = join(dir, `chain-${name}.pem`);
    await writeFile(chainFile, chain.pem);
  }
  const result = await run('openssl', [
    'verify',
    '-CAfile',
    rootFile,
    '-untrusted',
    chainFile,
    chainFile,
  ]).catch((error: { stdout?: string; stderr?: string }) => ({
    stdout: `${error.stdout ?? ''}${error.stderr ?? ''}`,
  }));
  return result.stdout.trim();
}
