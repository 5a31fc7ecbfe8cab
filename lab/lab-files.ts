// The files a running lab leaves for operators and tools in its directory: lab.json (what runs where),
// kubeconfig (exactly what `aws eks update-kubeconfig --alias <name>` writes for each lab cluster),
// env (the variables that point awscli, kubectl, the SDK and meshtrust at the lab; the only file with
// credentials), one env file per extra identity, the clusters' API server CAs and root A's certificate.
// See docs/cli.md for the layout.
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { certificateFingerprint } from '../lambdas/core/pki/index.js';
import type { LabIdentities, LabIdentity } from './eks/lab-identities.js';
import { writeFileAtomically } from './write-file-atomically.js';

export const LAB_FILE = 'lab.json';
export const KUBECONFIG_FILE = 'kubeconfig';
export const ENV_FILE = 'env';
export const CONTROL_FILE = 'control.json';
export const ROOT_CERTIFICATE_FILE = 'root-a.pem';
/** The istio engine's own files (keys, component logs, pod folders), removed when the lab stops. */
export const FLEET_DIR = 'fleet';
export const LAB_FILES_SCHEMA_VERSION = 1;

/** What the files describe: the parts of a started lab (lab/start-lab.ts `Lab`) they need. */
export interface LabFilesSource {
  readonly meshId: string;
  readonly region: string;
  readonly eksEndpoint: string;
  readonly identities: LabIdentities;
  readonly rootA: { readonly certificatePem: string };
  readonly clusters: readonly {
    readonly name: string;
    readonly arn: string;
    readonly endpoint: string;
    readonly caPem: string;
  }[];
}

/** The lab's engines: the in-process model, and real Kubernetes and Istio (docs/lab.md). */
export const LAB_ENGINES = ['model', 'istio'] as const;
export type LabEngineName = (typeof LAB_ENGINES)[number];

/** Which engine runs the lab, and for the istio engine the versions of what it runs. */
export interface LabEngineDescription {
  readonly name: LabEngineName;
  /** Kubernetes' release tag, e.g. v1.36.3 (istio engine). */
  readonly kubernetes?: string;
  /** What istiod reports, e.g. 1.31-dev (istio engine). */
  readonly istio?: string;
}

/** "istio engine: Kubernetes v1.36.3, Istio 1.31-dev", "model engine (istiod rules of Istio 1.29)". */
export function describeLabEngine(engine: LabEngineDescription): string {
  if (engine.name === 'istio') return `istio engine: Kubernetes ${engine.kubernetes}, Istio ${engine.istio}`;
  return engine.istio === undefined ? 'model engine' : `model engine (istiod rules of Istio ${engine.istio})`;
}

/** Where the lab's control endpoint listens and the bearer secret it wants (see lab-control-server.ts). */
export interface LabControlAccess {
  readonly url: string;
  readonly token: string;
}

export interface WriteLabFilesOptions {
  readonly dir: string;
  /** moto_server's endpoint; without it the env file points no AWS service but EKS at the lab. */
  readonly moto?: { readonly endpoint: string; readonly pid: number };
  readonly control?: LabControlAccess;
  /** @default { name: 'model' } */
  readonly engine?: LabEngineDescription;
  /** The process that serves the lab. @default process.pid */
  readonly pid?: number;
}

export interface LabClusterEntry {
  readonly name: string;
  readonly arn: string;
  readonly endpoint: string;
  /** Kubeconfig context of the cluster (its name). */
  readonly context: string;
  /** PEM of the cluster's Kubernetes API serving CA. */
  readonly caFile: string;
}

export interface LabIdentityEntry {
  readonly name: string;
  readonly arn: string;
  readonly principalArn: string;
  /** File (mode 0600) with this identity's `export AWS_...` lines; the rotator's is DIR/env. */
  readonly envFile: string;
}

/** DIR/lab.json. Holds no credential; identities point at the env files that hold them. */
export interface LabDescription {
  readonly schemaVersion: typeof LAB_FILES_SCHEMA_VERSION;
  readonly state: 'running' | 'stopped';
  readonly pid: number;
  readonly startedAt: string;
  readonly stoppedAt?: string;
  readonly dir: string;
  readonly meshId: string;
  readonly region: string;
  readonly engine: LabEngineDescription;
  readonly eksEndpoint: string;
  readonly moto?: { readonly endpoint: string; readonly pid: number };
  readonly files: {
    readonly kubeconfig: string;
    readonly env: string;
    readonly control?: string;
    readonly rootCertificate: string;
  };
  readonly rootA: { readonly fingerprint: string; readonly certificateFile: string };
  readonly identities: readonly LabIdentityEntry[];
  readonly clusters: readonly LabClusterEntry[];
}

export class LabFilesError extends Error {
  readonly file: string;
  constructor(message: string, file: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'LabFilesError';
    this.file = file;
  }
}

/**
 * Writes every lab file into `dir` (created if needed). lab.json comes last and appears atomically, so
 * a reader that sees it finds every other file complete.
 */
export async function writeLabFiles(
  lab: LabFilesSource,
  options: WriteLabFilesOptions,
): Promise<LabDescription> {
  const dir = resolve(options.dir);
  await mkdir(join(dir, 'clusters'), { recursive: true });
  const paths = {
    kubeconfig: join(dir, KUBECONFIG_FILE),
    env: join(dir, ENV_FILE),
    rootCertificate: join(dir, ROOT_CERTIFICATE_FILE),
    ...(options.control ? { control: join(dir, CONTROL_FILE) } : {}),
  };

  const clusters: LabClusterEntry[] = [];
  for (const cluster of lab.clusters) {
    const caFile = join(dir, 'clusters', `${cluster.name}-ca.pem`);
    await writeFile(caFile, cluster.caPem);
    clusters.push({
      name: cluster.name,
      arn: cluster.arn,
      endpoint: cluster.endpoint,
      context: cluster.name,
      caFile,
    });
  }
  await writeFile(paths.rootCertificate, lab.rootA.certificatePem);
  await writePrivateFile(paths.kubeconfig, renderEksKubeconfig(lab));

  const identities: LabIdentityEntry[] = [];
  for (const identity of lab.identities.all) {
    const envFile = identity === lab.identities.rotator ? paths.env : join(dir, `${identity.name}.env`);
    await writePrivateFile(
      envFile,
      renderEnvFile({ lab, dir, identity, motoEndpoint: options.moto?.endpoint }),
    );
    identities.push({ name: identity.name, arn: identity.arn, principalArn: identity.principalArn, envFile });
  }
  if (options.control && paths.control) {
    await writePrivateFile(paths.control, `${JSON.stringify(options.control, null, 2)}\n`);
  }

  const description: LabDescription = {
    schemaVersion: LAB_FILES_SCHEMA_VERSION,
    state: 'running',
    pid: options.pid ?? process.pid,
    startedAt: new Date().toISOString(),
    dir,
    meshId: lab.meshId,
    region: lab.region,
    engine: options.engine ?? { name: 'model' },
    eksEndpoint: lab.eksEndpoint,
    ...(options.moto ? { moto: options.moto } : {}),
    files: paths,
    rootA: {
      fingerprint: certificateFingerprint(lab.rootA.certificatePem),
      certificateFile: paths.rootCertificate,
    },
    identities,
    clusters,
  };
  await writeJsonAtomically(join(dir, LAB_FILE), description);
  return description;
}

/**
 * After the lab stopped: lab.json says so, and every file holding a credential or the control secret
 * is removed (the credentials were random per start and are worthless now; leaving them would only
 * invite a `source` against dead ports). kubeconfig, CA files and root-a.pem stay for inspection.
 */
export async function markLabStopped(dir: string): Promise<void> {
  const description = await readLabDescription(dir);
  await Promise.all([
    ...description.identities.map((identity) => rm(identity.envFile, { force: true })),
    ...(description.files.control ? [rm(description.files.control, { force: true })] : []),
  ]);
  await writeJsonAtomically(join(resolve(dir), LAB_FILE), {
    ...description,
    state: 'stopped',
    stoppedAt: new Date().toISOString(),
  } satisfies LabDescription);
}

/** Reads DIR/lab.json; the error says how to get one. */
export async function readLabDescription(dir: string): Promise<LabDescription> {
  const file = join(resolve(dir), LAB_FILE);
  const description = await readJson(
    file,
    `No lab in ${dir}: start one with \`meshtrust lab --out ${dir}\`.`,
  );
  if ((description as Partial<LabDescription>).schemaVersion !== LAB_FILES_SCHEMA_VERSION) {
    throw new LabFilesError(
      `${file} is not a lab description this meshtrust understands (schemaVersion ${JSON.stringify(
        (description as { schemaVersion?: unknown }).schemaVersion,
      )}); start the lab again with this version of meshtrust.`,
      file,
    );
  }
  return description as LabDescription;
}

/** Reads DIR/control.json, present while the lab runs. */
export async function readLabControlAccess(dir: string): Promise<LabControlAccess> {
  const file = join(resolve(dir), CONTROL_FILE);
  const access = (await readJson(
    file,
    `The lab in ${dir} is not running (no ${CONTROL_FILE}): start it with \`meshtrust lab --out ${dir}\`.`,
  )) as Partial<LabControlAccess>;
  if (typeof access.url !== 'string' || typeof access.token !== 'string') {
    throw new LabFilesError(`${file} lacks url or token; restart the lab to rewrite it.`, file);
  }
  return { url: access.url, token: access.token };
}

/**
 * The kubeconfig `aws eks update-kubeconfig --name <name> --alias <name>` writes for every cluster:
 * cluster and user named by the cluster ARN, context named after the cluster, a user whose exec
 * plugin runs `aws eks get-token`. Rendered as the same YAML awscli writes; the first cluster is the
 * current context.
 */
export function renderEksKubeconfig(lab: Pick<LabFilesSource, 'region' | 'clusters'>): string {
  const lines = ['apiVersion: v1', 'clusters:'];
  for (const cluster of lab.clusters) {
    lines.push(
      '- cluster:',
      `    certificate-authority-data: ${Buffer.from(cluster.caPem, 'utf8').toString('base64')}`,
      `    server: ${cluster.endpoint}`,
      `  name: ${cluster.arn}`,
    );
  }
  lines.push('contexts:');
  for (const cluster of lab.clusters) {
    lines.push(
      '- context:',
      `    cluster: ${cluster.arn}`,
      `    user: ${cluster.arn}`,
      `  name: ${cluster.name}`,
    );
  }
  lines.push(
    `current-context: ${lab.clusters[0]?.name ?? '""'}`,
    'kind: Config',
    'preferences: {}',
    'users:',
  );
  for (const cluster of lab.clusters) {
    const args = [
      '--region',
      lab.region,
      'eks',
      'get-token',
      '--cluster-name',
      cluster.name,
      '--output',
      'json',
    ];
    lines.push(
      `- name: ${cluster.arn}`,
      '  user:',
      '    exec:',
      '      apiVersion: client.authentication.k8s.io/v1beta1',
      '      args:',
      ...args.map((arg) => `      - ${arg}`),
      '      command: aws',
    );
  }
  return `${lines.join('\n')}\n`;
}

/**
 * The variables of one identity, as `export` lines for a POSIX shell.
 *
 * AWS_ENDPOINT_URL sends every AWS service to moto except two: EKS goes to the lab's EKS API, and STS
 * is pinned to its regional AWS host. The STS pin matters: `aws eks get-token` presigns an STS URL
 * with the STS endpoint it is configured with, and the lab (like EKS) accepts only tokens for the
 * STS host, so with STS at moto every kubectl call would get 401. Nothing sends a request to that host.
 */
/** The env file's mesh id: the CLI's fallback after the functions' MESH_ID (bin/cli/aws-options.ts). */
export const LAB_MESH_ID_ENV = 'MESHTRUST_MESH_ID';
/** The env file's lab directory: `meshtrust lab-probe` reads it when --lab is not given. */
export const LAB_DIR_ENV = 'MESHTRUST_LAB';

export function environmentFor(input: {
  readonly lab: Pick<LabFilesSource, 'region' | 'eksEndpoint' | 'meshId'>;
  readonly dir: string;
  readonly identity: LabIdentity;
  readonly motoEndpoint?: string;
}): Record<string, string> {
  const { lab, identity } = input;
  const dir = resolve(input.dir);
  return {
    AWS_ACCESS_KEY_ID: identity.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: identity.credentials.secretAccessKey,
    AWS_SESSION_TOKEN: identity.credentials.sessionToken,
    AWS_REGION: lab.region,
    AWS_DEFAULT_REGION: lab.region,
    AWS_ENDPOINT_URL_EKS: lab.eksEndpoint,
    AWS_ENDPOINT_URL_STS: `https://sts.${lab.region}.amazonaws.com`,
    ...(input.motoEndpoint
      ? { AWS_ENDPOINT_URL: input.motoEndpoint, AWS_ENDPOINT_URL_SECRETSMANAGER: input.motoEndpoint }
      : {}),
    KUBECONFIG: join(dir, KUBECONFIG_FILE),
    [LAB_MESH_ID_ENV]: lab.meshId,
    [LAB_DIR_ENV]: dir,
  };
}

function renderEnvFile(input: Parameters<typeof environmentFor>[0]): string {
  const variables = environmentFor(input);
  return [
    `# meshtrust lab, mesh ${input.lab.meshId}, identity ${input.identity.name} (${input.identity.arn}).`,
    '# `source` this file to point awscli, kubectl, the AWS SDK and meshtrust at the lab. It holds',
    '# credentials: keep it private. It is removed when the lab stops.',
    // A profile from the machine would otherwise win for tools that read AWS_PROFILE first.
    'unset AWS_PROFILE AWS_DEFAULT_PROFILE',
    ...Object.entries(variables).map(([key, value]) => `export ${key}=${shellQuote(value)}`),
    '',
  ].join('\n');
}

function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

async function writePrivateFile(file: string, content: string): Promise<void> {
  await writeFile(file, content, { mode: 0o600 });
  // writeFile's mode applies only when it creates the file: tighten one left by an earlier lab too.
  await chmod(file, 0o600);
}

async function writeJsonAtomically(file: string, value: unknown): Promise<void> {
  await writeFileAtomically(file, `${JSON.stringify(value, null, 2)}\n`);
}

async function readJson(file: string, whenMissing: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new LabFilesError(whenMissing, file);
    throw new LabFilesError(`Cannot read ${file}: ${(error as Error).message}`, file, { cause: error });
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new LabFilesError(`${file} is not valid JSON; start the lab again to rewrite it.`, file, {
      cause: error,
    });
  }
}
