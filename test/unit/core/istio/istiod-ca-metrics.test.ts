// istiod's CA gauges, as its /metrics prints them (Prometheus text), and the verdict the restart gate
// takes from them: every replica must sign with the intermediate now in cacerts.
import { describe, expect, it } from '@jest/globals';
import {
  earliestCertChainExpiry,
  gaugeValue,
  istiodCaGauges,
  istiodsNotOnIntermediate,
} from '../../../../lambdas/core/istio/index.js';

// The shape of real istiod's output (pilot-discovery 1.31-dev, port 15014), trimmed.
const METRICS = [
  '# HELP citadel_server_cert_chain_expiry_timestamp The unix timestamp, in seconds, when Citadel cert chain will expire.',
  '# TYPE citadel_server_cert_chain_expiry_timestamp gauge',
  'citadel_server_cert_chain_expiry_timestamp 1.8120384e+09',
  '# TYPE citadel_server_root_cert_expiry_timestamp gauge',
  'citadel_server_root_cert_expiry_timestamp 2.1276e+09',
  'citadel_server_root_cert_expiry_seconds 3.2e+08',
  'pilot_xds_pushes{type="cds"} 3',
  '',
].join('\n');

describe('istiod CA gauges', () => {
  it('reads a gauge in exponent notation, and not a longer name that starts alike', () => {
    expect(gaugeValue(METRICS, 'citadel_server_cert_chain_expiry_timestamp')).toBe(1_812_038_400);
    expect(gaugeValue(METRICS, 'citadel_server_root_cert_expiry_timestamp')).toBe(2_127_600_000);
    expect(gaugeValue(METRICS, 'citadel_server_root_cert_expiry')).toBeUndefined();
    expect(
      gaugeValue(
        'citadel_server_cert_chain_expiry_timestamp NaN\n',
        'citadel_server_cert_chain_expiry_timestamp',
      ),
    ).toBeUndefined();
  });

  it('passes when every replica signs with the intermediate expiring then', () => {
    const replicas = [istiodCaGauges('istiod-a', METRICS), istiodCaGauges('istiod-b', METRICS)];
    expect(istiodsNotOnIntermediate(replicas, new Date(1_812_038_400_000))).toEqual([]);
  });

  it('names each replica still on another intermediate, or with no CA loaded, or that there is none', () => {
    const old = METRICS.replace('1.8120384e+09', '1.7e+09');
    const replicas = [
      istiodCaGauges('istiod-a', METRICS),
      istiodCaGauges('istiod-b', old),
      istiodCaGauges('istiod-c', 'pilot_xds_pushes 1\n'),
    ];
    expect(istiodsNotOnIntermediate(replicas, new Date(1_812_038_400_000))).toEqual([
      'istiod-b signs with an intermediate expiring 2023-11-14T22:13:20.000Z',
      'istiod-c reports no citadel_server_cert_chain_expiry_timestamp',
    ]);
    expect(istiodsNotOnIntermediate([], new Date())).toEqual(['no running istiod pod']);
  });

  it('compares whole seconds, as istiod records them', () => {
    const replicas = [istiodCaGauges('istiod-a', METRICS)];
    expect(istiodsNotOnIntermediate(replicas, new Date(1_812_038_400_999))).toEqual([]);
  });

  it('takes the earliest signing chain of the replicas that report one, for the expiry check', () => {
    const silent = istiodCaGauges('istiod-c', 'pilot_xds_pushes 1\n');
    const replicas = [
      istiodCaGauges('istiod-a', METRICS),
      istiodCaGauges('istiod-b', METRICS.replace('1.8120384e+09', '1.7e+09')),
      silent,
    ];
    expect(earliestCertChainExpiry(replicas)).toEqual(new Date(1_700_000_000_000));
    expect(earliestCertChainExpiry([silent])).toBeUndefined();
    expect(earliestCertChainExpiry([])).toBeUndefined();
  });
});
