// Corrupt inputs against a 2-cluster lab and moto: each kind of bad `cacerts` in lab-2, a root about to
// expire and a CA store on another root are refused by preflight before any write, naming the cluster and
// the file (or object); `meshtrust plan` and `meshtrust verify` list the same problem (they review the
// fleet with preflight's code). "Nothing written": no cacerts resourceVersion and no secret version of
// the mesh changed.
import { createPrivateKey } from 'node:crypto';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { EXIT_CODES } from '../../../bin/cli/cli-errors.js';
import type { PlanReport } from '../../../bin/commands/plan.js';
import type { VerifyReport } from '../../../bin/commands/verify.js';
import { containsPrivateKey } from '../../../lambdas/adapters/audit/private-key-guard.js';
import { CaSecretStore } from '../../../lambdas/adapters/secrets/ca-secret-store.js';
import { clientRequestTokenFor } from '../../../lambdas/adapters/secrets/client-request-token.js';
import { rootSecretName } from '../../../lambdas/adapters/secrets/secret-names.js';
import {
  assembleCacerts,
  type CacertsFiles,
  type CaMaterial,
  certificateFingerprint,
  createRootCa,
  describeCertificate,
} from '../../../lambdas/core/pki/index.js';
import { x509 } from '../../../lambdas/core/pki/x509.js';
import { handler as preflight } from '../../../lambdas/handlers/preflight.js';
import { motoClientConfig } from '../../support/moto-endpoint.js';
import { CA_USAGE, issueTestCertificate } from '../../unit/core/pki/pki-test-kit.js';
import { type CliRun, runMeshtrustInProcess } from '../cli/in-process-cli.js';
import { type HandlerLab, startHandlerLab, withEnv } from './handler-lab.js';

const DAY_MS = 24 * 60 * 60 * 1000;

let h: HandlerLab;
beforeAll(async () => {
  h = await startHandlerLab({ clusters: 2, workloadsPerCluster: 1 });
});
afterAll(async () => {
  await h?.stop();
});

/** What a kind of corruption starts from: lab-2's cacerts as seeded, under root A. */
interface Start {
  readonly good: CacertsFiles;
  readonly rootA: CaMaterial;
}

/** lab-2's cacerts as it should be, `DELETED` for no secret at all. */
const DELETED = 'deleted';
type Corrupt = (start: Start) => Promise<Record<string, string> | typeof DELETED>;

interface CorruptKind {
  readonly kind: string;
  readonly corrupt: Corrupt;
  /** The problem as preflight, plan and verify state it, cluster and file (or object) first. */
  readonly names: RegExp;
}

/** A certificate under root A (or `issuer`) valid now, in the shape `options` asks for. */
function issueNow(
  rootA: CaMaterial,
  options: Partial<Parameters<typeof issueTestCertificate>[0]> = {},
): Promise<CaMaterial> {
  return issueTestCertificate({
    subject: 'CN=lab-2 corrupt intermediate',
    issuer: rootA,
    ca: true,
    pathLength: 0,
    keyUsage: CA_USAGE,
    notBefore: new Date(Date.now() - DAY_MS),
    notAfter: new Date(Date.now() + 365 * DAY_MS),
    ...options,
  });
}

/** The plug-in files of `leaf` with `above` as its chain and lab-2's root-cert.pem kept. */
function plugIn(start: Start, leaf: CaMaterial, above: readonly CaMaterial[] = [start.rootA]): CacertsFiles {
  return assembleCacerts({
    intermediate: leaf,
    chainAbove: above.map((ca) => ca.certificatePem),
    trustedRoots: start.good['root-cert.pem'],
  });
}

function encryptedKey(pem: string, type: 'pkcs8' | 'traditional'): string {
  const key = createPrivateKey(pem);
  const traditional = key.asymmetricKeyType === 'rsa' ? 'pkcs1' : 'sec1';
  return key
    .export({
      type: type === 'pkcs8' ? 'pkcs8' : traditional,
      format: 'pem',
      cipher: 'aes-256-cbc',
      passphrase: 'test-only',
    })
    .toString();
}

/**
 * The kinds a probe of the fleet saw refused by plan and verify before this suite, one per rule of
 * validateCacerts (lambdas/core/pki/cacerts-rules.ts) that they exercise. The probe did not record its
 * list of nine, so every rule's kind is kept.
 */
const KEPT_KINDS: readonly CorruptKind[] = [
  {
    kind: 'ca-key.pem missing',
    corrupt: async ({ good }) => {
      const { 'ca-key.pem': _key, ...rest } = good;
      return rest;
    },
    names: /cluster lab-2: ca-key\.pem: ca-key\.pem is missing or empty/,
  },
  {
    kind: 'root-cert.pem empty',
    corrupt: async ({ good }) => ({ ...good, 'root-cert.pem': '' }),
    names: /cluster lab-2: root-cert\.pem: root-cert\.pem is missing or empty/,
  },
  {
    kind: 'ca-cert.pem not PEM',
    corrupt: async ({ good }) => ({ ...good, 'ca-cert.pem': 'a certificate goes here\n' }),
    names: /cluster lab-2: ca-cert\.pem: ca-cert\.pem of cluster lab-2 is not PEM/,
  },
  {
    kind: 'cert-chain.pem truncated',
    corrupt: async ({ good }) => ({
      ...good,
      'cert-chain.pem': good['cert-chain.pem'].slice(0, good['cert-chain.pem'].length - 40),
    }),
    names: /cluster lab-2: cert-chain\.pem: .*looks truncated/,
  },
  {
    kind: 'cert-chain.pem not headed by ca-cert.pem',
    corrupt: async ({ good, rootA }) => ({ ...good, 'cert-chain.pem': rootA.certificatePem }),
    names: /cluster lab-2: cert-chain\.pem: the first certificate of cert-chain\.pem is not ca-cert\.pem/,
  },
  {
    kind: 'ca-cert.pem under a root that root-cert.pem does not hold',
    corrupt: async (start) => {
      const rootX = await createRootCa({ commonName: 'root X' });
      return plugIn(start, await issueNow(rootX), [rootX]);
    },
    names: /cluster lab-2: ca-cert\.pem: ca-cert\.pem does not chain to a root in root-cert\.pem/,
  },
  {
    kind: 'ca-cert.pem expired',
    corrupt: async (start) =>
      plugIn(
        start,
        await issueNow(start.rootA, {
          notBefore: new Date(Date.now() - 30 * DAY_MS),
          notAfter: new Date(Date.now() - DAY_MS),
        }),
      ),
    names: /cluster lab-2: ca-cert\.pem: .* expired at /,
  },
  {
    kind: 'ca-cert.pem not yet valid',
    corrupt: async (start) =>
      plugIn(start, await issueNow(start.rootA, { notBefore: new Date(Date.now() + DAY_MS) })),
    names: /cluster lab-2: ca-cert\.pem: .* is not valid before /,
  },
  {
    kind: 'ca-cert.pem not a CA',
    corrupt: async (start) =>
      plugIn(start, await issueNow(start.rootA, { ca: false, pathLength: undefined })),
    names: /cluster lab-2: ca-cert\.pem: .* is not a CA \(basicConstraints CA:TRUE missing\)/,
  },
  {
    kind: 'ca-cert.pem with a keyUsage that lacks keyCertSign',
    corrupt: async (start) =>
      plugIn(start, await issueNow(start.rootA, { keyUsage: x509.KeyUsageFlags.digitalSignature })),
    names: /cluster lab-2: ca-cert\.pem: .* has a keyUsage without keyCertSign/,
  },
  {
    kind: 'a pathlen:0 CA above ca-cert.pem',
    corrupt: async (start) => {
      const middle = await issueNow(start.rootA, { subject: 'CN=pathlen zero middle' });
      return plugIn(start, await issueNow(middle), [middle, start.rootA]);
    },
    names:
      /cluster lab-2: cert-chain\.pem: "CN=pathlen zero middle" \(cert-chain\.pem\) has pathlen:0 but 1 CA/,
  },
  {
    kind: 'ca-key.pem of another certificate',
    corrupt: async (start) => ({ ...start.good, 'ca-key.pem': (await issueNow(start.rootA)).privateKeyPem }),
    names: /cluster lab-2: ca-key\.pem: ca-key\.pem is not the private key of ca-cert\.pem/,
  },
];

/** Issue 15's additions. */
const ADDED_KINDS: readonly CorruptKind[] = [
  {
    kind: 'no secret istio-system/cacerts (istiod would self-sign)',
    corrupt: async () => DELETED,
    names: /cluster lab-2 has no secret istio-system\/cacerts: istiod then signs with a self-signed root/,
  },
  {
    kind: 'tls.crt and tls.key beside the plug-in files (istiod would read them instead)',
    corrupt: async (start) => {
      const other = await issueNow(start.rootA);
      return { ...start.good, 'tls.crt': other.certificatePem, 'tls.key': other.privateKeyPem };
    },
    names: /cluster lab-2: tls\.crt: cacerts holds tls\.crt and tls\.key: with tls\.crt present istiod signs/,
  },
  {
    kind: 'the whole kubernetes.io/tls layout (tls.crt, tls.key, ca.crt) beside the plug-in files',
    corrupt: async (start) => {
      const other = await issueNow(start.rootA);
      return {
        ...start.good,
        'tls.crt': other.certificatePem,
        'tls.key': other.privateKeyPem,
        'ca.crt': start.rootA.certificatePem,
      };
    },
    names:
      /cluster lab-2: tls\.crt: .*reads none of ca-cert\.pem, ca-key\.pem, cert-chain\.pem, root-cert\.pem/,
  },
  {
    kind: 'tls.key alone',
    corrupt: async (start) => ({ ...start.good, 'tls.key': (await issueNow(start.rootA)).privateKeyPem }),
    names: /cluster lab-2: tls\.key: cacerts holds tls\.key without tls\.crt/,
  },
  {
    kind: 'ca-key.pem encrypted (PKCS#8 ENCRYPTED PRIVATE KEY)',
    corrupt: async ({ good }) => ({ ...good, 'ca-key.pem': encryptedKey(good['ca-key.pem'], 'pkcs8') }),
    names: /cluster lab-2: ca-key\.pem: ca-key\.pem of cluster lab-2 holds an encrypted private key/,
  },
  {
    kind: 'ca-key.pem encrypted (traditional, Proc-Type: 4,ENCRYPTED)',
    corrupt: async ({ good }) => ({
      ...good,
      'ca-key.pem': encryptedKey(good['ca-key.pem'], 'traditional'),
    }),
    names: /cluster lab-2: ca-key\.pem: ca-key\.pem of cluster lab-2 holds an encrypted private key/,
  },
  {
    kind: 'an intermediate whose extendedKeyUsage lacks serverAuth',
    corrupt: async (start) =>
      plugIn(start, await issueNow(start.rootA, { extendedKeyUsage: [x509.ExtendedKeyUsage.clientAuth] })),
    names:
      /cluster lab-2: ca-cert\.pem: .* has extendedKeyUsage clientAuth without serverAuth, which istiod rejects/,
  },
];

/** Runs `act` with lab-2's cacerts as `corrupt` makes it, then puts the seeded one back. */
async function withLab2Cacerts<T>(corrupt: Corrupt, act: () => Promise<T>): Promise<T> {
  const store = h.lab.cluster('lab-2').store;
  const seeded = store.get('Secret', 'istio-system', 'cacerts');
  const files = await corrupt({ good: h.cacertsOf('lab-2'), rootA: h.lab.rootA });
  if (files === DELETED) store.delete('Secret', 'istio-system', 'cacerts');
  else h.replaceCacerts('lab-2', files);
  try {
    return await act();
  } finally {
    const { resourceVersion: _rv, ...metadata } = seeded.metadata;
    if (files === DELETED) store.create({ ...seeded, metadata });
    else store.update({ ...seeded, metadata: store.get('Secret', 'istio-system', 'cacerts').metadata });
    await h.lab.waitForSettled();
  }
}

async function meshtrust(...args: string[]): Promise<CliRun> {
  return runMeshtrustInProcess(args, { ...process.env, MESH_ID: '', MESHTRUST_MESH_ID: h.meshId });
}

/** The message names no key: no PEM block and nothing the private-key guard recognises. */
function expectNoKeyIn(text: string): void {
  expect(text).not.toMatch(/-----BEGIN [A-Z ]+-----/);
  expect(containsPrivateKey(text)).toBe(false);
}

describe.each([
  ['kept from before issue 15', KEPT_KINDS],
  ['added by issue 15', ADDED_KINDS],
])('a corrupt cacerts in lab-2 (%s)', (_group, kinds) => {
  it.each(kinds)(
    '$kind: preflight refuses, naming cluster and file, writes nothing; plan and verify list it',
    async ({ corrupt, names }) => {
      // Act
      const { error, before, after, plan, verify } = await withLab2Cacerts(corrupt, async () => {
        const before = await h.writableState();
        const error = await preflight({ executionId: h.executionId(), mode: 'scheduled' }).catch(
          (e: unknown) => e,
        );
        const after = await h.writableState();
        return {
          error,
          before,
          after,
          plan: await meshtrust('plan', '--json'),
          verify: await meshtrust('verify', '--json'),
        };
      });
      // Assess
      expect(error).toMatchObject({ name: 'PreconditionFailed', phase: 'preflight', cluster: 'lab-2' });
      const message = (error as Error).message;
      expect(message).toMatch(/^preflight refused to start the rotation; nothing was written\. /);
      expect(message).toMatch(names);
      expect(message).not.toContain('cluster lab-1');
      expectNoKeyIn(message);
      expect(after).toEqual(before);
      expect(plan.exitCode).toBe(EXIT_CODES.checkFailed);
      expect((JSON.parse(plan.stdout) as PlanReport).problems).toContainEqual(expect.stringMatching(names));
      expect(verify.exitCode).toBe(EXIT_CODES.checkFailed);
      expect((JSON.parse(verify.stdout) as VerifyReport).problems).toContainEqual(
        expect.stringMatching(names),
      );
    },
  );
});

describe('a current root about to expire', () => {
  /** MIN_ROOT_HEADROOM_DAYS one day beyond the lab root's life: the root is "about to expire". */
  function headroomBeyondRoot(): Record<string, string> {
    const left = describeCertificate(h.lab.rootA.certificatePem).notAfter.getTime() - Date.now();
    return { MIN_ROOT_HEADROOM_DAYS: String(Math.ceil(left / DAY_MS) + 1) };
  }
  const rootNamed = () =>
    new RegExp(
      `the current root ${h.currentRoot.fingerprint} \\(AWSCURRENT of ${rootSecretName(h.meshId)}; ` +
        'root-cert\\.pem of lab-1, lab-2\\) expires on ',
    );

  it('refuses a scheduled rotation, naming the CA store secret and each root-cert.pem, and writes nothing', async () => {
    // Prepare
    const before = await h.writableState();
    // Act
    const error = await withEnv(headroomBeyondRoot(), () =>
      preflight({ executionId: h.executionId(), mode: 'scheduled' }),
    ).catch((e: unknown) => e);
    // Assess
    expect(error).toMatchObject({ name: 'PreconditionFailed', phase: 'preflight' });
    expect((error as Error).message).toMatch(rootNamed());
    expect((error as Error).message).toMatch(/a scheduled rotation leans on it until retire-root/);
    expect((error as Error).message).toMatch(/Rotate it now with mode emergency/);
    expect(await h.writableState()).toEqual(before);
  });

  it('refuses an intermediate rekey under it', async () => {
    // Act
    const act = withEnv(headroomBeyondRoot(), () =>
      preflight({ executionId: h.executionId(), mode: 'intermediate', cluster: 'lab-2' }),
    );
    // Assess
    await expect(act).rejects.toThrow(
      /an intermediate rekey needs: the new intermediate would expire with it/,
    );
  });

  it('lets an emergency rotation replace it, with a note in the plan', async () => {
    // Act
    const output = await withEnv(headroomBeyondRoot(), () =>
      preflight({ executionId: h.executionId(), mode: 'emergency' }),
    );
    // Assess
    expect(output.plan.mode).toBe('emergency');
    expect(output.plan.notes).toContainEqual(expect.stringMatching(rootNamed()));
    expect(output.plan.notes).toContainEqual(expect.stringMatching(/; this rotation replaces it$/));
  });

  it('is what meshtrust plan lists too: a problem for scheduled, a note for emergency', async () => {
    // Act
    const [scheduled, emergency] = await withEnv(headroomBeyondRoot(), async () => [
      await meshtrust('plan', '--json'),
      await meshtrust('plan', '--mode', 'emergency', '--json'),
    ]);
    // Assess
    expect(scheduled.exitCode).toBe(EXIT_CODES.checkFailed);
    expect((JSON.parse(scheduled.stdout) as PlanReport).problems).toEqual([
      expect.stringMatching(rootNamed()),
    ]);
    expect(emergency.exitCode).toBe(EXIT_CODES.ok);
    expect((JSON.parse(emergency.stdout) as PlanReport).notes).toContainEqual(
      expect.stringMatching(rootNamed()),
    );
  });
});

describe('a CA store whose AWSCURRENT root is not the root the clusters trust', () => {
  it('refuses, naming each cluster, its root-cert.pem and the CA store secret, and writes nothing', async () => {
    // Prepare: another mesh id whose store holds root X as AWSCURRENT, over the same clusters
    const other = `${h.meshId}-x`;
    const rootX = await createRootCa({ commonName: 'root X, imported by mistake' });
    const fingerprintX = certificateFingerprint(rootX.certificatePem);
    const client = new SecretsManagerClient({ ...motoClientConfig(), region: h.lab.region });
    await new CaSecretStore({ client, meshId: other }).importRoot({
      material: { ...rootX, fingerprint: fingerprintX },
      token: clientRequestTokenFor(`adopt-${other}`, 'root'),
    });
    client.destroy();
    const before = { mesh: await h.writableState(), other: await h.writableState(other) };
    // Act
    const error = await withEnv({ MESH_ID: other, CLUSTERS: 'lab-1,lab-2' }, () =>
      preflight({ executionId: h.executionId(), mode: 'scheduled' }),
    ).catch((e: unknown) => e);
    // Assess
    expect(error).toMatchObject({ name: 'PreconditionFailed', phase: 'preflight' });
    for (const cluster of ['lab-1', 'lab-2']) {
      expect((error as Error).message).toContain(
        `cluster ${cluster}: root-cert.pem does not hold the mesh's current root ${fingerprintX} ` +
          `(AWSCURRENT of ${rootSecretName(other)})`,
      );
    }
    expect({ mesh: await h.writableState(), other: await h.writableState(other) }).toEqual(before);
  });
});
