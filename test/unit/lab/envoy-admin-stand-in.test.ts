// The Envoy admin stand-in's config dump, in Envoy's JSON (field names from go-control-plane's
// envoy.admin.v3 and transport_sockets.tls.v3 protos, bytes in base64, the private key redacted), and
// the server on a pod's address that answers from the files pilot-agent wrote, never the key.
// Real istioctl parsing it through a real port-forward is test/integration/lab/envoy-admin-stand-in.test.ts.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  configDump,
  type EnvoyAdminStandIn,
  type ServedSecrets,
  startEnvoyAdminStandIn,
} from '../../../lab/node-agent/envoy-admin-stand-in.js';

const CHAIN = '-----BEGIN CERTIFICATE-----\nbGVhZg==\n-----END CERTIFICATE-----\n';
const ROOTS = '-----BEGIN CERTIFICATE-----\ncm9vdA==\n-----END CERTIFICATE-----\n';
// A real key, made here: a test never commits one.
const KEY = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  .privateKey.export({ type: 'pkcs8', format: 'pem' })
  .toString();
const SERVED: ServedSecrets = { certChainPem: CHAIN, rootCertPem: ROOTS, updatedAt: new Date(0) };

type Json = Record<string, unknown>;
const decode = (value: unknown) => Buffer.from(String(value), 'base64').toString('utf8');

describe('configDump', () => {
  it("answers istioctl's mask with one SecretsConfigDump holding default and ROOTCA", () => {
    // Act
    const dump = configDump(
      new URLSearchParams('mask=dynamic_active_secrets,dynamic_warming_secrets'),
      SERVED,
    ) as { configs: Json[] };

    // Assess
    expect(dump.configs).toHaveLength(1);
    const [secrets] = dump.configs as [{ '@type': string; dynamic_active_secrets: Json[] }];
    expect(secrets['@type']).toBe('type.googleapis.com/envoy.admin.v3.SecretsConfigDump');
    const [workload, roots] = secrets.dynamic_active_secrets as [
      { name: string; secret: Json & { tls_certificate: Json } },
      { name: string; secret: Json & { validation_context: Json } },
    ];
    expect(workload.name).toBe('default');
    expect(workload.secret).toMatchObject({
      '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret',
      name: 'default',
    });
    const certificate = workload.secret.tls_certificate as {
      certificate_chain: { inline_bytes: string };
      private_key: { inline_bytes: string };
    };
    expect(decode(certificate.certificate_chain.inline_bytes)).toBe(CHAIN);
    expect(certificate.private_key.inline_bytes).toBe('W3JlZGFjdGVkXQ==');
    expect(roots.name).toBe('ROOTCA');
    expect(
      decode(
        (roots.secret.validation_context as { trusted_ca: { inline_bytes: string } }).trusted_ca.inline_bytes,
      ),
    ).toBe(ROOTS);
  });

  it('answers resource=dynamic_active_secrets with each secret as its own DynamicSecret config', () => {
    // Act
    const dump = configDump(new URLSearchParams('resource=dynamic_active_secrets'), SERVED) as {
      configs: Json[];
    };

    // Assess
    expect(dump.configs.map((config) => [config['@type'], config.name])).toEqual([
      ['type.googleapis.com/envoy.admin.v3.SecretsConfigDump.DynamicSecret', 'default'],
      ['type.googleapis.com/envoy.admin.v3.SecretsConfigDump.DynamicSecret', 'ROOTCA'],
    ]);
  });

  it('leaves the active secrets out before the agent has a certificate, as Envoy leaves an empty list out', () => {
    expect(configDump(new URLSearchParams(), undefined)).toEqual({
      configs: [{ '@type': 'type.googleapis.com/envoy.admin.v3.SecretsConfigDump' }],
    });
  });

  it('answers nothing for a resource or mask it does not hold', () => {
    expect(configDump(new URLSearchParams('resource=dynamic_active_clusters'), SERVED)).toBeUndefined();
    expect(configDump(new URLSearchParams('mask=dynamic_listeners'), SERVED)).toBeUndefined();
  });
});

describe('startEnvoyAdminStandIn', () => {
  let dir: string;
  let admin: EnvoyAdminStandIn;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mt-envoy-admin-'));
    await Promise.all([
      writeFile(join(dir, 'cert-chain.pem'), CHAIN),
      writeFile(join(dir, 'root-cert.pem'), ROOTS),
      writeFile(join(dir, 'key.pem'), KEY),
    ]);
    admin = await startEnvoyAdminStandIn({ address: '127.0.0.1', port: 0, certsDir: dir });
  });

  afterAll(async () => {
    await admin?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves the chain pilot-agent wrote and never the key beside it', async () => {
    // Act
    const response = await fetch(
      `http://127.0.0.1:${admin.port}/config_dump?mask=dynamic_active_secrets,dynamic_warming_secrets`,
    );
    const body = await response.text();

    // Assess
    expect(response.status).toBe(200);
    expect(body).toContain(Buffer.from(CHAIN).toString('base64'));
    expect(body).not.toContain(Buffer.from(KEY).toString('base64'));
    expect(body).not.toContain('c2VjcmV0');
  });

  it('answers 404 to any other admin path', async () => {
    expect((await fetch(`http://127.0.0.1:${admin.port}/clusters`)).status).toBe(404);
  });
});
