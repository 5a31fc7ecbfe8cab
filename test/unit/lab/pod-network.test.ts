// The istio engine's pod network: Kubernetes sees each pod at 10.<100+i>.a.b, the pod serves on
// 127.<100+i>.a.b, and the API server's egress proxy routes the one to the other and nothing else.
import { describe, expect, it } from '@jest/globals';
import {
  podAddress,
  podLoopbackAddress,
  podNetworkAddress,
} from '../../../lab/control-plane/lab-addresses.js';
import { routeOf } from '../../../lab/control-plane/pod-network-proxy.js';

describe('pod network addresses', () => {
  it('maps each pod loopback address to a routable one and back', () => {
    for (const ordinal of [0, 1, 249, 250, 62_499]) {
      const loopback = podAddress(3, ordinal);
      const network = podNetworkAddress(loopback);
      expect(network).toMatch(/^10\.103\.\d+\.\d+$/);
      expect(podLoopbackAddress(network)).toBe(loopback);
    }
  });

  it('refuses what is not a lab pod address', () => {
    expect(() => podNetworkAddress('127.10.1.1')).toThrow(RangeError);
    expect(() => podNetworkAddress('127.201.0.1')).toThrow(RangeError);
    expect(podLoopbackAddress('10.10.1.1')).toBeUndefined();
    expect(podLoopbackAddress('192.168.1.1')).toBeUndefined();
  });
});

describe('the egress proxy route', () => {
  it('sends a pod address to its loopback address and a lab loopback address as it is', () => {
    expect(routeOf('10.101.0.7:15014')).toEqual({ host: '127.101.0.7', port: 15014 });
    expect(routeOf('127.201.0.12:443')).toEqual({ host: '127.201.0.12', port: 443 });
  });

  it('refuses anything else: another network, a host name, a bad port', () => {
    expect(routeOf('8.8.8.8:443')).toBeUndefined();
    expect(routeOf('10.0.0.1:443')).toBeUndefined();
    expect(routeOf('istiod.istio-system.svc:443')).toBeUndefined();
    expect(routeOf('10.101.0.7:0')).toBeUndefined();
    expect(routeOf('10.101.0.7:70000')).toBeUndefined();
  });
});
