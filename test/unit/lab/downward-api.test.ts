// The downward API's text as kubelet writes it: maps as FormatMap prints them, resources rounded up in
// units of the divisor, undeclared limits from the node, and fields kubelet does not know refused.
import type { V1Pod } from '@kubernetes/client-node';
import {
  containerResourceValue,
  DownwardApiError,
  formatMap,
  parseQuantity,
  podFieldValue,
} from '../../../lab/node-agent/downward-api.js';

const pod: V1Pod = {
  metadata: { name: 'app-01-abc', namespace: 'shop', uid: 'u-1', labels: { b: '2', a: '1' } },
  spec: {
    serviceAccountName: 'app-01',
    containers: [
      { name: 'app', resources: { limits: { cpu: '250m', memory: '1.5Gi' }, requests: { cpu: '100m' } } },
      { name: 'bare' },
    ],
    initContainers: [{ name: 'istio-init', resources: { limits: { cpu: '2' } } }],
  },
};
const context = { podAddress: '127.1.0.9', nodeName: 'lab-1-node', nodeAddress: '127.1.0.1' };

describe('formatMap', () => {
  it('prints sorted key="value" lines with Go quoting', () => {
    // Act
    const text = formatMap({ zeta: 'plain', alpha: 'say "hi"\n\tback\\slash', mid: '\u0001' });

    // Assess
    expect(text).toBe('alpha="say \\"hi\\"\\n\\tback\\\\slash"\nmid="\\x01"\nzeta="plain"');
  });
});

describe('podFieldValue', () => {
  it.each([
    ['metadata.name', 'app-01-abc'],
    ['metadata.namespace', 'shop'],
    ['metadata.uid', 'u-1'],
    ['metadata.labels', 'a="1"\nb="2"'],
    ["metadata.labels['b']", '2'],
    ["metadata.annotations['none']", ''],
    ['spec.serviceAccountName', 'app-01'],
    ['spec.nodeName', 'lab-1-node'],
    ['status.podIP', '127.1.0.9'],
    ['status.hostIP', '127.1.0.1'],
  ])('reads %s', (fieldPath, expected) => {
    // Act
    const value = podFieldValue(pod, fieldPath, context);

    // Assess
    expect(value).toBe(expected);
  });

  it('refuses a field kubelet does not serve', () => {
    // Act
    const read = () => podFieldValue(pod, 'spec.containers', context);

    // Assess
    expect(read).toThrow(DownwardApiError);
  });
});

describe('containerResourceValue', () => {
  it.each([
    ['limits.cpu of 250m reads as 1 (rounded up)', 'app', 'limits.cpu', undefined, '1'],
    ['limits.cpu in millicores', 'app', 'limits.cpu', '1m', '250'],
    ['requests.cpu in millicores', 'app', 'requests.cpu', '1m', '100'],
    ['limits.memory in Mi', 'app', 'limits.memory', '1Mi', '1536'],
    ['an undeclared limit, from the node', 'bare', 'limits.cpu', undefined, '1'],
    ['an undeclared memory limit, from the node', 'bare', 'limits.memory', '1Gi', '64'],
    ['an undeclared request', 'bare', 'requests.memory', undefined, '0'],
    ['an init container', 'istio-init', 'limits.cpu', undefined, '2'],
  ])('reads %s', (_what, container, resource, divisor, expected) => {
    // Act
    const value = containerResourceValue(pod, container, { resource, ...(divisor ? { divisor } : {}) });

    // Assess
    expect(value).toBe(expected);
  });

  it('takes undeclared limits from the node allocatable it is given', () => {
    // Act
    const value = containerResourceValue(pod, 'bare', { resource: 'limits.cpu' }, { cpu: '16' });

    // Assess
    expect(value).toBe('16');
  });

  it('refuses a container the pod does not have', () => {
    // Act
    const read = () => containerResourceValue(pod, 'ghost', { resource: 'limits.cpu' });

    // Assess
    expect(read).toThrow(/container "ghost" not found/);
  });
});

describe('parseQuantity', () => {
  it.each([
    ['100m', 0.1],
    ['2', 2],
    ['1.5Gi', 1.5 * 2 ** 30],
    ['2k', 2000],
    ['1e3', 1000],
    ['64Mi', 64 * 2 ** 20],
  ])('reads %s', (quantity, expected) => {
    // Act
    const value = parseQuantity(quantity);

    // Assess
    expect(value).toBeCloseTo(expected, 9);
  });

  it('refuses what is not a quantity', () => {
    // Act
    const parse = () => parseQuantity('ten');

    // Assess
    expect(parse).toThrow(DownwardApiError);
  });
});
