// The rotation strategy per cluster: resign only when every condition is known to hold (a root
// rotation, multi-root, PCDS in the mesh config and in every running proxy's env, proxies new enough),
// restart otherwise, with the reasons; a setting forces either, and forcing resign where a condition is
// known not to hold is refused, naming what to change.
import fc from 'fast-check';
import type { ClusterIstioSettings } from '../../../../lambdas/core/istio/istio-settings.js';
import {
  type ClusterStrategyInput,
  chooseFleetStrategies,
  chooseRotationStrategy,
  type ProxiedPodReading,
  RESIGN_MIN_PROXY_VERSION,
} from '../../../../lambdas/core/istio/rotation-strategy.js';
import type { RotationMode } from '../../../../lambdas/core/plan/phases.js';

const settings = (overrides: Partial<ClusterIstioSettings> = {}): ClusterIstioSettings => ({
  cluster: 'c1',
  istioVersion: '1.29',
  multiRoot: 'on',
  pcds: true,
  ...overrides,
});
const pod = (name: string, overrides: Partial<ProxiedPodReading> = {}): ProxiedPodReading => ({
  namespace: 'shop',
  name,
  pcdsEnv: { value: 'true' },
  envFrom: [],
  proxyVersion: '1.29',
  proxyImage: 'docker.io/istio/proxyv2:1.29.0',
  ...overrides,
});
const input = (overrides: Partial<ClusterStrategyInput> = {}): ClusterStrategyInput => ({
  settings: settings(),
  proxies: [pod('a-1'), pod('b-1', { namespace: 'istio-system' })],
  mode: 'scheduled',
  setting: 'auto',
  ...overrides,
});

describe('chooseRotationStrategy, setting auto', () => {
  it('chooses resign when PCDS is on in the mesh config and every running proxy, with multi-root', () => {
    // Act
    const decision = chooseRotationStrategy(input());
    // Assess
    expect(decision.strategy).toMatchObject({ cluster: 'c1', strategy: 'resign', chosenBy: 'mesh' });
    expect(decision.strategy.reasons.join(' ')).toContain(
      'every running proxy (2 pod(s)) has PROXY_CONFIG_XDS_AGENT=true',
    );
    expect(decision.findings).toEqual([]);
  });

  it.each<[string, Partial<ClusterStrategyInput>, string]>([
    [
      'PCDS off in the mesh config',
      { settings: settings({ pcds: false }) },
      'is not true in the defaultConfig.proxyMetadata',
    ],
    [
      'multi-root off',
      { settings: settings({ multiRoot: 'off' }) },
      'ISTIO_MULTIROOT_MESH is not true on every istiod',
    ],
    ['multi-root unresolved', { settings: settings({ multiRoot: 'unknown' }) }, 'does not resolve'],
    [
      'an intermediate rekey',
      { mode: 'intermediate' },
      'an intermediate rekey leaves root-cert.pem as it is',
    ],
    [
      'a running proxy injected without PCDS (before the mesh config had it)',
      { proxies: [pod('a-1'), pod('old-1', { pcdsEnv: undefined })] },
      '1 running proxy pod(s) without PROXY_CONFIG_XDS_AGENT=true in their istio-proxy env: shop/old-1 (unset)',
    ],
    [
      'a running proxy with PCDS set to a value Go does not read as true',
      { proxies: [pod('a-1', { pcdsEnv: { value: 'yes' } })] },
      'shop/a-1 ("yes")',
    ],
    [
      'a pod whose proxy.istio.io/config annotation turns PCDS off for its replacements',
      { proxies: [pod('a-1', { annotation: { pcds: 'false' } })] },
      'whose proxy.istio.io/config annotation sets PROXY_CONFIG_XDS_AGENT other than true: shop/a-1 ("false")',
    ],
    [
      'a proxy older than the agent that re-signs on a push',
      { proxies: [pod('a-1', { proxyVersion: '1.20' })] },
      `older than Istio ${RESIGN_MIN_PROXY_VERSION}`,
    ],
    [
      'a proxy image that names no version',
      { proxies: [pod('a-1', { proxyVersion: undefined, proxyImage: 'registry/proxyv2@sha256:ab' })] },
      'whose image names no Istio version: shop/a-1 (registry/proxyv2@sha256:ab)',
    ],
    [
      'a PCDS setting from valueFrom',
      { proxies: [pod('a-1', { pcdsEnv: { valueFrom: 'configMapKeyRef (ConfigMap x key y)' } })] },
      'whose PROXY_CONFIG_XDS_AGENT meshtrust cannot read',
    ],
    ['proxies that could not be read', { proxies: undefined }, 'could not be read'],
  ])('falls back to restart with %s, and says why', (_what, overrides, reason) => {
    // Act
    const decision = chooseRotationStrategy(input(overrides));
    // Assess
    expect(decision.strategy).toMatchObject({ strategy: 'restart', chosenBy: 'mesh' });
    expect(decision.strategy.reasons.join('\n')).toContain(reason);
    expect(decision.findings).toEqual([]);
  });

  it('names three pods and counts the rest', () => {
    const proxies = ['p1', 'p2', 'p3', 'p4', 'p5'].map((name) => pod(name, { pcdsEnv: { value: 'false' } }));
    const decision = chooseRotationStrategy(input({ proxies }));
    expect(decision.strategy.reasons.join('\n')).toContain(
      '5 running proxy pod(s) without PROXY_CONFIG_XDS_AGENT=true in their istio-proxy env: shop/p1 ("false"), shop/p2 ("false"), shop/p3 ("false") and 2 more',
    );
  });
});

describe('chooseRotationStrategy, forced by the setting', () => {
  it('restarts when forced to, even where resign would work, and says so', () => {
    const decision = chooseRotationStrategy(input({ setting: 'restart' }));
    expect(decision.strategy).toMatchObject({ strategy: 'restart', chosenBy: 'setting' });
    expect(decision.strategy.reasons).toEqual([
      'forced by the rotation strategy setting (restart); the mesh would allow resign',
    ]);
  });

  it('refuses a forced resign where PCDS is off, naming the cluster, the setting and what to change', () => {
    const decision = chooseRotationStrategy(
      input({ setting: 'resign', settings: settings({ pcds: false }) }),
    );
    expect(decision.findings).toHaveLength(1);
    expect(decision.findings[0]).toMatchObject({ level: 'refusal', status: 'non-compliant', cluster: 'c1' });
    expect(decision.findings[0]?.reason).toMatch(
      /^cluster c1: the rotation strategy setting forces resign, which this cluster cannot do: .*set PROXY_CONFIG_XDS_AGENT: "true" in meshConfig\.defaultConfig\.proxyMetadata of every revision.*set the rotation strategy to auto or restart/,
    );
  });

  it('lets a forced resign through where a condition is only unknown, with a note', () => {
    const decision = chooseRotationStrategy(
      input({ setting: 'resign', proxies: [pod('a-1', { proxyVersion: undefined })] }),
    );
    expect(decision.strategy).toMatchObject({ strategy: 'resign', chosenBy: 'setting' });
    expect(decision.findings).toMatchObject([{ level: 'note', cluster: 'c1' }]);
    expect(decision.findings[0]?.reason).toContain(
      'cannot confirm that 1 proxy pod(s) whose image names no Istio version',
    );
  });

  it('does not stop an intermediate rekey when resign is forced: a rekey restarts, with a note', () => {
    const decision = chooseRotationStrategy(input({ setting: 'resign', mode: 'intermediate' }));
    expect(decision.strategy.strategy).toBe('restart');
    expect(decision.findings).toMatchObject([{ level: 'note' }]);
  });
});

describe('chooseFleetStrategies', () => {
  it('decides per cluster and treats a cluster whose pods were not read as unknown', () => {
    const review = chooseFleetStrategies({
      clusters: [
        settings({ cluster: 'c1' }),
        settings({ cluster: 'c2', pcds: false }),
        settings({ cluster: 'c3' }),
      ],
      proxies: new Map([
        ['c1', [pod('a-1')]],
        ['c2', [pod('a-1')]],
      ]),
      mode: 'emergency',
      setting: 'auto',
    });
    expect(review.strategies.map(({ cluster, strategy }) => [cluster, strategy])).toEqual([
      ['c1', 'resign'],
      ['c2', 'restart'],
      ['c3', 'restart'],
    ]);
    // Only c1's push reaches every proxy: c2's mesh config has no PCDS, c3's pods were not read.
    expect(review.pushReaches).toEqual(['c1']);
  });

  it('counts on the push wherever every proxy takes it, even when restart is forced, and nowhere else', () => {
    const review = chooseFleetStrategies({
      clusters: [settings({ cluster: 'c1' }), settings({ cluster: 'c2' }), settings({ cluster: 'c3' })],
      proxies: new Map([
        ['c1', [pod('a-1')]],
        // A proxy injected before the mesh config had PCDS: it runs without it.
        ['c2', [pod('a-1'), pod('b-1', { pcdsEnv: { value: 'false' } })]],
        // An old proxy takes the push (roots), it only does not re-sign: the roots still reach it.
        ['c3', [pod('a-1', { proxyVersion: '1.20' })]],
      ]),
      mode: 'scheduled',
      setting: 'restart',
    });
    expect(review.strategies.map(({ strategy }) => strategy)).toEqual(['restart', 'restart', 'restart']);
    expect(review.pushReaches).toEqual(['c1', 'c3']);
  });
});

describe('chooseRotationStrategy, properties', () => {
  // Weighted towards proxies that can re-sign, so that one odd pod among good ones is common.
  const weighted = <T>(good: fc.Arbitrary<T>, odd: fc.Arbitrary<T>) =>
    fc.oneof({ arbitrary: good, weight: 4 }, { arbitrary: odd, weight: 1 });
  const absent = fc.constant(undefined);
  const podArb: fc.Arbitrary<ProxiedPodReading> = fc
    .record({
      namespace: fc.constantFrom('shop', 'istio-system', 'tools'),
      name: fc.string({ unit: fc.constantFrom(...'abcdef0123'), minLength: 1, maxLength: 6 }),
      pcdsEnv: weighted<ProxiedPodReading['pcdsEnv']>(
        fc.record({ value: fc.constantFrom('true', 'True', '1', 't') }),
        fc.oneof(
          fc.record({ value: fc.constantFrom('false', '0', 'yes', '') }),
          fc.constant({ valueFrom: 'fieldRef (x)' }),
          absent,
        ),
      ),
      envFrom: fc.constantFrom<string[]>([], ['configMap proxy-env']),
      annotation: weighted<ProxiedPodReading['annotation']>(
        fc.oneof(absent, fc.constant({}), fc.record({ pcds: fc.constantFrom('true', '1') })),
        fc.oneof(fc.record({ pcds: fc.constantFrom('false', 'no') }), fc.constant({ problem: 'not YAML' })),
      ),
      proxyVersion: weighted<string | undefined>(
        fc.constantFrom('1.21', '1.29', '1.30'),
        fc.constantFrom('1.9', '1.19', '1.20', undefined),
      ),
    })
    .map(({ pcdsEnv, annotation, proxyVersion, ...rest }) => ({
      ...rest,
      ...(pcdsEnv !== undefined && { pcdsEnv }),
      ...(annotation !== undefined && { annotation }),
      ...(proxyVersion !== undefined && { proxyVersion }),
    }));
  const inputArb: fc.Arbitrary<Omit<ClusterStrategyInput, 'setting'>> = fc
    .record({
      settings: fc.record({
        cluster: fc.constant('c1'),
        multiRoot: weighted<ClusterIstioSettings['multiRoot']>(
          fc.constant('on'),
          fc.constantFrom('off', 'unknown'),
        ),
        pcds: weighted(fc.constant(true), fc.constant(false)),
      }),
      proxies: weighted(fc.array(podArb, { maxLength: 6 }), absent),
      mode: fc.constantFrom<RotationMode>('scheduled', 'emergency', 'intermediate'),
    })
    .map(({ proxies, ...rest }) => ({ ...rest, ...(proxies !== undefined && { proxies }) }));
  const strategyOf = (i: Omit<ClusterStrategyInput, 'setting'>, setting: ClusterStrategyInput['setting']) =>
    chooseRotationStrategy({ ...i, setting });

  it('chooses resign only with evidence for every condition, stated here from Istio, not from the product', () => {
    // pilot-agent reads a Go bool; these are the spellings strconv.ParseBool takes as true.
    const goTrue = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
    fc.assert(
      fc.property(inputArb, (i) => {
        const expected =
          i.mode !== 'intermediate' &&
          i.settings.multiRoot === 'on' &&
          i.settings.pcds &&
          Boolean(
            i.proxies?.every(
              (p) =>
                p.pcdsEnv !== undefined &&
                'value' in p.pcdsEnv &&
                goTrue.has(p.pcdsEnv.value) &&
                (p.annotation === undefined ||
                  (!('problem' in p.annotation) &&
                    (p.annotation.pcds === undefined || goTrue.has(p.annotation.pcds)))) &&
                p.proxyVersion !== undefined &&
                Number(p.proxyVersion.split('.')[1]) >= 21,
            ),
          );
        return (strategyOf(i, 'auto').strategy.strategy === 'resign') === expected;
      }),
      { numRuns: 400 },
    );
  });

  it('never restarts a cluster where auto would resign, unless forced to, and a forced resign never restarts a root rotation', () => {
    fc.assert(
      fc.property(inputArb, (i) => {
        const auto = strategyOf(i, 'auto');
        const forcedResign = strategyOf(i, 'resign');
        const forcedRestart = strategyOf(i, 'restart');
        if (forcedRestart.strategy.strategy !== 'restart' || forcedRestart.findings.length > 0) return false;
        if (auto.strategy.strategy === 'resign') {
          // Whatever auto would pick, forcing it is never refused.
          if (forcedResign.findings.some((finding) => finding.level === 'refusal')) return false;
        }
        if (i.mode !== 'intermediate' && forcedResign.strategy.strategy !== 'resign') return false;
        return auto.findings.length === 0;
      }),
      { numRuns: 300 },
    );
  });

  it('does not depend on the order the pods were listed in', () => {
    fc.assert(
      fc.property(inputArb, fc.integer({ min: 0, max: 7 }), (i, shift) => {
        if (i.proxies === undefined) return true;
        const rotated = [...i.proxies.slice(shift), ...i.proxies.slice(0, shift)];
        return (
          strategyOf(i, 'auto').strategy.strategy ===
          strategyOf({ ...i, proxies: rotated }, 'auto').strategy.strategy
        );
      }),
    );
  });
});
