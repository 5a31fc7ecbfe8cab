// The mTLS prober makes real TLS 1.3 handshakes between lab workloads, within and across clusters: none
// fails on a settled lab, and each side really verifies the peer against its own bundle and trust domain.

import { connect } from 'node:net';
import type { WorkloadIdentity } from '../../../lab/istio/istiod-model.js';
import { mtlsHandshake } from '../../../lab/istio/mtls-handshake.js';
import { releasedTlsContexts, tlsContextReleasesSettled } from '../../../lab/istio/tls-context-release.js';
import { type Lab, startLab } from '../../../lab/start-lab.js';
import { createRootCa, TrustBundle } from '../../../lambdas/core/pki/index.js';

let lab: Lab;

function someIdentity(cluster: string, index = 0): WorkloadIdentity {
  const istiod = lab.cluster(cluster).istiod;
  const summary = istiod.identities()[index];
  const identity = istiod.identityOf(summary.namespace, summary.podName);
  if (!identity) throw new Error(`no identity for ${summary.podName}`);
  return identity;
}

beforeAll(async () => {
  lab = await startLab({ clusters: 3, workloadsPerCluster: 4, proberIntervalMs: 100 });
}, 60_000);

afterAll(async () => {
  await lab?.stop();
});

describe('mTLS prober on a settled lab', () => {
  it('shakes hands within and across every pair of clusters without a failure', async () => {
    // Prepare
    lab.prober.setPhase('settled');

    // Act
    const round = await lab.prober.runRound();
    const stats = lab.prober.stats();

    // Assess
    expect(round.attempted).toBeGreaterThan(0);
    expect(round.failures).toEqual([]);
    expect(stats.byPhase.settled.attempted).toBeGreaterThan(0);
    expect(stats.byPhase.settled.failed).toBe(0);
    const pairs = Object.keys(stats.byClusterPair);
    expect(pairs).toEqual(expect.arrayContaining(['lab-1 -> lab-1', 'lab-1 -> lab-2', 'lab-3 -> lab-2']));
    expect(pairs).toHaveLength(9);
  });

  it('keeps probing on its own while the lab runs', async () => {
    // Prepare
    const roundsBefore = lab.prober.stats().rounds;

    // Act
    await new Promise((resolve) => setTimeout(resolve, 1500));

    // Assess
    expect(lab.prober.stats().rounds).toBeGreaterThan(roundsBefore);
    expect(lab.prober.stats().failed).toBe(0);
  });
});

describe('one handshake', () => {
  it('succeeds between two pods of different clusters holding root A', async () => {
    // Prepare
    const client = someIdentity('lab-1');
    const server = someIdentity('lab-2');

    // Act
    const outcome = await mtlsHandshake(client, server, { trustDomain: lab.trustDomain, timeoutMs: 3000 });

    // Assess
    expect(outcome).toEqual({ ok: true });
  });

  it("is not failed by another process's plain HTTP request to the server's port", async () => {
    // Prepare: what a client of a server that used this loopback port before would send
    const client = someIdentity('lab-1');
    const server = someIdentity('lab-2');
    const stranger = async (port: number) => {
      const socket = connect({ host: '127.0.0.1', port });
      socket.on('error', () => undefined);
      await new Promise((resolve) => socket.once('connect', resolve));
      socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      // Long enough for the server to read it and refuse it as ERR_SSL_HTTP_REQUEST.
      await new Promise((resolve) => setTimeout(resolve, 100));
      socket.destroy();
    };

    // Act
    const outcome = await mtlsHandshake(client, server, {
      trustDomain: lab.trustDomain,
      timeoutMs: 3000,
      onListening: stranger,
    });

    // Assess
    expect(outcome).toEqual({ ok: true });
  });

  it('fails on the client when the client does not trust the root behind the server', async () => {
    // Prepare
    const stranger = await createRootCa({ commonName: 'Stranger' });
    const client = {
      ...someIdentity('lab-1'),
      trustBundlePem: TrustBundle.parse(stranger.certificatePem).toPem(),
    };

    // Act
    const outcome = await mtlsHandshake(client, someIdentity('lab-2'), {
      trustDomain: lab.trustDomain,
      timeoutMs: 3000,
    });

    // Assess
    expect(outcome).toMatchObject({ ok: false, side: 'client' });
    expect(outcome.ok || outcome.error).toMatch(
      /UNABLE_TO_GET_ISSUER_CERT_LOCALLY|unable to get local issuer/,
    );
  });

  it('fails on the server when the server does not trust the root behind the client', async () => {
    // Prepare
    const stranger = await createRootCa({ commonName: 'Stranger' });
    const server = {
      ...someIdentity('lab-3'),
      trustBundlePem: TrustBundle.parse(stranger.certificatePem).toPem(),
    };

    // Act
    const outcome = await mtlsHandshake(someIdentity('lab-1'), server, {
      trustDomain: lab.trustDomain,
      timeoutMs: 3000,
    });

    // Assess
    expect(outcome).toMatchObject({ ok: false, side: 'server' });
  });

  it('fails when the peer is not a SPIFFE id of the expected trust domain', async () => {
    // Prepare
    const client = someIdentity('lab-1');
    const server = someIdentity('lab-2');

    // Act
    const outcome = await mtlsHandshake(client, server, { trustDomain: 'other.domain', timeoutMs: 3000 });

    // Assess
    expect(outcome).toMatchObject({ ok: false, side: 'client' });
    expect(outcome.ok || outcome.error).toContain('spiffe://other.domain/');
  });
});

describe("one handshake, with the lab's own prober stopped", () => {
  beforeAll(async () => {
    // Its handshakes, and the tests' before, would free contexts of their own while these run.
    await lab.prober.stop();
    await tlsContextReleasesSettled();
  });

  it("frees both sides' TLS contexts when it ends, passed or failed", async () => {
    // Prepare
    const client = someIdentity('lab-1');
    const server = someIdentity('lab-2');
    const before = releasedTlsContexts();

    // Act
    const passed = await mtlsHandshake(client, server, { trustDomain: lab.trustDomain, timeoutMs: 3000 });
    const failed = await mtlsHandshake(client, server, { trustDomain: 'other.domain', timeoutMs: 3000 });
    const again = await mtlsHandshake(client, server, { trustDomain: lab.trustDomain, timeoutMs: 3000 });

    // Assess: they are freed just after each handshake returns
    await tlsContextReleasesSettled();
    expect([passed.ok, failed.ok, again.ok]).toEqual([true, false, true]);
    expect(releasedTlsContexts() - before).toBe(6);
  });
});
