/** Runs the real openssl CLI in a scratch directory, so tests can cross-check the PKI core. */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export interface OpensslResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export class ScratchDir {
  static async create(): Promise<ScratchDir> {
    return new ScratchDir(await mkdtemp(join(tmpdir(), 'meshtrust-openssl-')));
  }

  private constructor(readonly path: string) {}

  async write(files: Readonly<Record<string, string>>): Promise<void> {
    for (const [name, content] of Object.entries(files)) await writeFile(join(this.path, name), content);
  }

  read(name: string): Promise<string> {
    return readFile(join(this.path, name), 'utf8');
  }

  /** openssl with `args`, in this directory; never throws on a non-zero exit (tests assert on it). */
  async openssl(...args: string[]): Promise<OpensslResult> {
    try {
      const { stdout, stderr } = await execFileAsync('openssl', args, { cwd: this.path });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const failed = error as { code?: number; stdout?: string; stderr?: string };
      return {
        code: typeof failed.code === 'number' ? failed.code : 1,
        stdout: failed.stdout ?? '',
        stderr: failed.stderr ?? '',
      };
    }
  }

  /** openssl that must succeed; returns stdout. */
  async mustOpenssl(...args: string[]): Promise<string> {
    const result = await this.openssl(...args);
    if (result.code !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${result.stderr}`);
    return result.stdout;
  }

  remove(): Promise<void> {
    return rm(this.path, { recursive: true, force: true });
  }
}

/** Istio's tools/certs/common.mk root-ca.conf (RSA root, SHA-256, CA:true, keyCertSign). */
export function istioRootCaConf(keyBits = 4096): string {
  return [
    '[ req ]',
    'encrypt_key = no',
    'prompt = no',
    'utf8 = yes',
    'default_md = sha256',
    `default_bits = ${keyBits}`,
    'req_extensions = req_ext',
    'x509_extensions = req_ext',
    'distinguished_name = req_dn',
    '[ req_ext ]',
    'subjectKeyIdentifier = hash',
    'basicConstraints = critical, CA:true',
    'keyUsage = critical, digitalSignature, nonRepudiation, keyEncipherment, keyCertSign',
    '[ req_dn ]',
    'O = Istio',
    'CN = Root CA',
    '',
  ].join('\n');
}

/** Istio's %/intermediate.conf; `basicConstraints` overridable to build a broken variant. */
export function istioIntermediateConf(
  cluster: string,
  basicConstraints = 'critical, CA:true, pathlen:0',
): string {
  return [
    '[ req ]',
    'encrypt_key = no',
    'prompt = no',
    'utf8 = yes',
    'default_md = sha256',
    'default_bits = 4096',
    'req_extensions = req_ext',
    'x509_extensions = req_ext',
    'distinguished_name = req_dn',
    '[ req_ext ]',
    'subjectKeyIdentifier = hash',
    `basicConstraints = ${basicConstraints}`,
    'keyUsage = critical, digitalSignature, nonRepudiation, keyEncipherment, keyCertSign',
    'subjectAltName=@san',
    '[ san ]',
    'DNS.1 = istiod.istio-system.svc',
    '[ req_dn ]',
    'O = Istio',
    'CN = Intermediate CA',
    `L = ${cluster}`,
    '',
  ].join('\n');
}

/** The Makefile's root recipe: key, CSR, self-signed certificate (root-key.pem, root-cert.pem). */
export async function makeIstioRoot(
  dir: ScratchDir,
  keyArgs: string[] = ['genrsa', '-traditional', '-out', 'root-key.pem', '4096'],
): Promise<void> {
  await dir.write({ 'root-ca.conf': istioRootCaConf() });
  await dir.mustOpenssl(...keyArgs);
  await dir.mustOpenssl(
    'req',
    '-sha256',
    '-new',
    '-key',
    'root-key.pem',
    '-config',
    'root-ca.conf',
    '-out',
    'root-cert.csr',
  );
  await dir.mustOpenssl(
    'x509',
    '-req',
    '-sha256',
    '-days',
    '3650',
    '-signkey',
    'root-key.pem',
    '-extensions',
    'req_ext',
    '-extfile',
    'root-ca.conf',
    '-in',
    'root-cert.csr',
    '-out',
    'root-cert.pem',
  );
}

/**
 * The Makefile's per-cluster recipe, writing `<prefix>ca-key.pem`, `<prefix>ca-cert.pem` and
 * `<prefix>cert-chain.pem` (ca-cert then root-cert), signed by root-cert.pem/root-key.pem.
 */
export async function makeIstioIntermediate(
  dir: ScratchDir,
  options: { cluster: string; prefix: string; keyArgs: string[]; basicConstraints?: string },
): Promise<void> {
  const { cluster, prefix } = options;
  await dir.write({
    [`${prefix}intermediate.conf`]: istioIntermediateConf(cluster, options.basicConstraints),
  });
  const [command, ...keyOptions] = options.keyArgs;
  await dir.mustOpenssl(command, '-out', `${prefix}ca-key.pem`, ...keyOptions);
  await dir.mustOpenssl(
    'req',
    '-sha256',
    '-new',
    '-config',
    `${prefix}intermediate.conf`,
    '-key',
    `${prefix}ca-key.pem`,
    '-out',
    `${prefix}cluster-ca.csr`,
  );
  await dir.mustOpenssl(
    'x509',
    '-req',
    '-sha256',
    '-days',
    '730',
    '-CA',
    'root-cert.pem',
    '-CAkey',
    'root-key.pem',
    '-CAcreateserial',
    '-extensions',
    'req_ext',
    '-extfile',
    `${prefix}intermediate.conf`,
    '-in',
    `${prefix}cluster-ca.csr`,
    '-out',
    `${prefix}ca-cert.pem`,
  );
  await dir.write({
    [`${prefix}cert-chain.pem`]: (await dir.read(`${prefix}ca-cert.pem`)) + (await dir.read('root-cert.pem')),
  });
}
