// The model lab's pace (lab/lab-pace.ts): small fleets keep the lifetime and probe rate they ask for,
// a fleet whose renewals or probes would outrun the lab gets longer lifetimes, spread renewals and
// spaced probe rounds, and the resolved lab options carry what it got.
import { lifeLeftMs, renewalDelayMs } from '../../../lab/istio/istiod-model.js';
import { LabOptionsError } from '../../../lab/lab-errors.js';
import { resolveLabOptions } from '../../../lab/lab-options.js';
import {
  describeLabPace,
  LAB_HANDSHAKES_PER_SECOND,
  LAB_RENEWALS_PER_SECOND,
  LAB_ROUND_MAX_HANDSHAKES,
  labPace,
  STRETCHED_RENEWAL_JITTER,
} from '../../../lab/lab-pace.js';
import { seededProxyCount } from '../../../lab/seed-cluster.js';

const asked = { workloadCertTtlMs: 15_000, renewFraction: 0.5, proberIntervalMs: 1000 };

describe('labPace: renewals', () => {
  it('keeps the lifetime asked for, without jitter, while the fleet renews within the budget', () => {
    // Prepare: the rehearsal's default fleet, 3 x 10 (52 proxies), renewing every 7.5 s
    const request = { ...asked, clusters: 3, proxies: 52 };

    // Act
    const pace = labPace(request);

    // Assess
    expect(pace).toMatchObject({ workloadCertTtlMs: 15_000, renewalJitter: 0, stretched: false });
    expect(pace.renewalsPerSecond).toBeCloseTo(52 / 7.5);
  });

  it('stretches the lifetime of 10 x 100 so its 1,521 proxies renew at most 40 a second, spread', () => {
    // Prepare
    const request = { ...asked, clusters: 10, proxies: 1521 };

    // Act
    const pace = labPace(request);

    // Assess: 1521 / (40 x 0.5) = 76.05 s, in whole seconds
    expect(pace).toMatchObject({
      workloadCertTtlMs: 77_000,
      renewalJitter: STRETCHED_RENEWAL_JITTER,
      stretched: true,
    });
    expect(pace.renewalsPerSecond).toBeLessThanOrEqual(LAB_RENEWALS_PER_SECOND);
    expect(pace.renewalsPerSecond).toBeGreaterThan(LAB_RENEWALS_PER_SECOND * 0.95);
  });

  it('stretches from the lab default of 8 s exactly as from the rehearsal 15 s: the fleet decides', () => {
    // Prepare, Act
    const fromLab = labPace({ ...asked, workloadCertTtlMs: 8000, clusters: 10, proxies: 1521 });
    const fromRehearsal = labPace({ ...asked, clusters: 10, proxies: 1521 });

    // Assess
    expect(fromLab.workloadCertTtlMs).toBe(fromRehearsal.workloadCertTtlMs);
  });

  it('never shortens a lifetime asked for: a long one stays as it is', () => {
    // Prepare, Act
    const pace = labPace({ ...asked, workloadCertTtlMs: 600_000, clusters: 10, proxies: 1521 });

    // Assess
    expect(pace).toMatchObject({ workloadCertTtlMs: 600_000, renewalJitter: 0, stretched: false });
  });

  it('spreads the renewals of a fleet that keeps its lifetime but renews more than half the budget', () => {
    // Prepare: 30 x 2 (150 proxies) at the lab default of 8 s renews 37.5 a second; 3 x 4 (36) 9 a second
    const busy = labPace({ ...asked, workloadCertTtlMs: 8000, clusters: 30, proxies: 150 });
    const quiet = labPace({ ...asked, workloadCertTtlMs: 8000, clusters: 3, proxies: 36 });

    // Assess
    expect(busy).toMatchObject({
      workloadCertTtlMs: 8000,
      renewalJitter: STRETCHED_RENEWAL_JITTER,
      stretched: false,
    });
    expect(quiet.renewalJitter).toBe(0);
  });

  it('keeps a jitter asked for, and a stretched one inside the life for a late renewFraction', () => {
    // Prepare, Act
    const askedJitter = labPace({ ...asked, clusters: 1, proxies: 4, renewalJitter: 0.01 });
    const late = labPace({ ...asked, renewFraction: 0.9, clusters: 10, proxies: 1521 });

    // Assess
    expect(askedJitter.renewalJitter).toBe(0.01);
    expect(late.renewalJitter).toBeCloseTo(0.05);
    expect(late.workloadCertTtlMs).toBe(Math.ceil(1521 / (LAB_RENEWALS_PER_SECOND * 0.9)) * 1000);
  });
});

describe('labPace: probes', () => {
  it('keeps 2 handshakes per ordered cluster pair and the interval asked for in small fleets', () => {
    // Prepare, Act
    const three = labPace({ ...asked, clusters: 3, proxies: 52 });
    const fastTest = labPace({ ...asked, proberIntervalMs: 100, clusters: 3, proxies: 36 });
    const onDemand = labPace({ ...asked, proberIntervalMs: 0, clusters: 3, proxies: 36 });

    // Assess
    expect(three).toMatchObject({ proberPairsPerRound: 18, proberIntervalMs: 1000 });
    expect(fastTest).toMatchObject({ proberPairsPerRound: 18, proberIntervalMs: 100 });
    expect(onDemand).toMatchObject({ proberIntervalMs: 0 });
  });

  it('gives 10 clusters one handshake per ordered pair, rounds spaced to the handshake budget', () => {
    // Prepare, Act
    const pace = labPace({ ...asked, clusters: 10, proxies: 1521 });

    // Assess: 100 ordered pairs, 100 / 40 a second = 2.5 s
    expect(pace).toMatchObject({ proberPairsPerRound: 100, proberIntervalMs: 2500 });
    expect(pace.proberPairsPerRound / (pace.proberIntervalMs / 1000)).toBeLessThanOrEqual(
      LAB_HANDSHAKES_PER_SECOND,
    );
  });

  it('caps a 5-cluster round at the budget, still covering every ordered pair', () => {
    // Prepare, Act
    const pace = labPace({ ...asked, clusters: 5, proxies: 85 });

    // Assess
    expect(pace.proberPairsPerRound).toBe(LAB_HANDSHAKES_PER_SECOND);
    expect(pace.proberPairsPerRound).toBeGreaterThanOrEqual(25);
    expect(pace.proberIntervalMs).toBe(1000);
  });

  it('keeps a round of 30 and 100 clusters at 100 handshakes every 2.5 s, fewer than their ordered pairs', () => {
    // Prepare, Act
    const thirty = labPace({ ...asked, clusters: 30, proxies: 511 });
    const hundred = labPace({ ...asked, clusters: 100, proxies: 1701 });

    // Assess: the rounds take the 900 and 10,000 ordered pairs in turn (mtls-prober.ts)
    for (const pace of [thirty, hundred]) {
      expect(pace).toMatchObject({ proberPairsPerRound: LAB_ROUND_MAX_HANDSHAKES, proberIntervalMs: 2500 });
    }
    expect(LAB_ROUND_MAX_HANDSHAKES).toBeLessThan(30 * 30);
  });

  it('keeps a round size asked for, and spaces it when it is over the budget', () => {
    // Prepare, Act
    const pace = labPace({ ...asked, clusters: 2, proxies: 10, proberPairsPerRound: 200 });

    // Assess
    expect(pace).toMatchObject({ proberPairsPerRound: 200, proberIntervalMs: 5000 });
  });
});

describe('labPace: start', () => {
  it('gives a small fleet 30 s to settle, 10 x 100 40 ms a proxy, and keeps a timeout asked for', () => {
    // Prepare, Act
    const small = labPace({ ...asked, clusters: 3, proxies: 52 });
    const big = labPace({ ...asked, clusters: 10, proxies: 1521 });
    const given = labPace({ ...asked, clusters: 10, proxies: 1521, settleTimeoutMs: 5000 });

    // Assess
    expect(small.settleTimeoutMs).toBe(30_000);
    expect(big.settleTimeoutMs).toBe(1521 * 40);
    expect(given.settleTimeoutMs).toBe(5000);
  });
});

describe('seededProxyCount', () => {
  it('counts replicas (1-2 a workload), the DaemonSet on both lab nodes in the first cluster, and 2 gateways', () => {
    // Prepare, Act, Assess
    expect(seededProxyCount({ count: 10, clusterIndex: 0 })).toBe(15 + 1 + 2);
    expect(seededProxyCount({ count: 10, clusterIndex: 1 })).toBe(15 + 2);
    expect(seededProxyCount({ count: 100, clusterIndex: 1 })).toBe(152);
    expect(seededProxyCount({ count: 1, clusterIndex: 0 })).toBe(3);
  });
});

describe('resolveLabOptions: the pace', () => {
  it('leaves the tests small fleets as they were: 8 s, no jitter, 2 handshakes per pair every second', () => {
    // Prepare, Act
    const resolved = resolveLabOptions({ clusters: 3, workloadsPerCluster: 4 });

    // Assess
    expect(resolved).toMatchObject({
      workloadCertTtlMs: 8000,
      renewalJitter: 0,
      proberIntervalMs: 1000,
      proberPairsPerRound: 18,
    });
  });

  it('paces 10 x 100 from the fleet it seeds', () => {
    // Prepare, Act
    const resolved = resolveLabOptions({ clusters: 10, workloadsPerCluster: 100, workloadCertTtlMs: 15_000 });

    // Assess: 10 x 152 proxies + the first cluster's DaemonSet pod on a second node = 1,521
    expect(resolved).toMatchObject({
      workloadCertTtlMs: 77_000,
      renewalJitter: STRETCHED_RENEWAL_JITTER,
      proberIntervalMs: 2500,
      proberPairsPerRound: 100,
    });
  });

  it('refuses a jitter that would move a renewal out of the life, naming it', () => {
    // Prepare
    const act = () => resolveLabOptions({ renewalJitter: 0.5 });

    // Act, Assess
    expect(act).toThrow(LabOptionsError);
    expect(act).toThrow(/lab option renewalJitter must be a number from 0 that keeps renewFraction/);
  });
});

describe('renewalDelayMs: pilot-agent rotateTime', () => {
  it('renews at the fraction without jitter, and within fraction +- jitter of the life with it', () => {
    // Prepare, Act
    const plain = renewalDelayMs(10_000, 0.5, 0, () => 0.99);
    const earliest = renewalDelayMs(10_000, 0.5, 0.1, () => 0);
    const middle = renewalDelayMs(10_000, 0.5, 0.1, () => 0.5);
    const latest = renewalDelayMs(10_000, 0.5, 0.1, () => 0.999_999);

    // Assess
    expect(plain).toBe(5000);
    expect(earliest).toBeCloseTo(4000);
    expect(middle).toBeCloseTo(5000);
    expect(latest).toBeCloseTo(6000, 0);
    expect(latest).toBeLessThan(6000);
  });
});

describe('lifeLeftMs: the life pilot-agent renews a fraction of', () => {
  it('counts from when the proxy holds the certificate, so a late signature is renewed before expiry', () => {
    // Prepare: a 10 s certificate whose signature took 3 s
    const issuedAt = Date.UTC(2026, 11, 2, 12, 0, 0);
    const expiresAt = new Date(issuedAt + 10_000);
    const receivedAt = new Date(issuedAt + 3_000);

    // Act
    const renewsAt =
      receivedAt.getTime() + renewalDelayMs(lifeLeftMs(expiresAt, receivedAt), 0.5, 0, Math.random);

    // Assess: half of the 7 s left, 6.5 s after issue (10 s x 0.5 after receipt would be 8 s)
    expect(renewsAt - issuedAt).toBe(6_500);
    expect(lifeLeftMs(expiresAt, new Date(issuedAt + 12_000))).toBe(0);
  });
});

describe('describeLabPace', () => {
  it('names the lifetime, the renewal point with its jitter, and the probe rounds', () => {
    // Prepare
    const paced = resolveLabOptions({ clusters: 10, workloadsPerCluster: 100 });
    const small = resolveLabOptions({ clusters: 1, workloadsPerCluster: 1, proberIntervalMs: 0 });

    // Act, Assess
    expect(describeLabPace(paced)).toBe(
      'certificates of 77 s renewed at 50% +- 10% of their life, 100 handshakes every 2.5 s (after the round before)',
    );
    expect(describeLabPace(small)).toBe(
      'certificates of 8 s renewed at 50% of their life, probe rounds of 2 handshakes on demand',
    );
  });
});
