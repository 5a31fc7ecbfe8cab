import {
  DEFAULT_DISCOVERY_ADDRESS,
  type EndpointSliceReading,
  REMOTE_ISTIOD_REACH_RULE,
  type RemoteIstiodReachReading,
  type RemoteServiceReading,
  reviewRemoteIstiodReach,
  serviceOfAddress,
} from '../../../../lambdas/core/topology/remote-istiod-reach.js';

/** What Istio's remote profile renders with values.global.remotePilotAddress an IP. */
const remoteProfileService: RemoteServiceReading = {
  state: 'found',
  type: 'ClusterIP',
  selector: false,
  ports: [
    { name: 'tcp-istiod', port: 15012 },
    { name: 'tcp-webhook', port: 443 },
  ],
};
const remoteProfileSlice: EndpointSliceReading = {
  name: 'istiod',
  ports: [
    { name: 'tcp-istiod', port: 15012 },
    { name: 'tcp-webhook', port: 15017 },
  ],
  endpoints: [{ addresses: ['198.51.100.7'], ready: true }],
};

function reading(overrides: Partial<RemoteIstiodReachReading> = {}): RemoteIstiodReachReading {
  return {
    remote: 'lab-2',
    primary: 'lab-1',
    discoveryAddress: DEFAULT_DISCOVERY_ADDRESS,
    discoveryAddressSource: 'defaultConfig.discoveryAddress of ConfigMap istio-system/istio',
    service: remoteProfileService,
    slices: { state: 'read', slices: [remoteProfileSlice] },
    ...overrides,
  };
}

describe('serviceOfAddress', () => {
  it.each([
    ['istiod.istio-system.svc:15012', { name: 'istiod', namespace: 'istio-system', port: 15012 }],
    [
      'istiod-canary.istio-system.svc.cluster.local:15012',
      { name: 'istiod-canary', namespace: 'istio-system', port: 15012 },
    ],
    ['istiod.istio-system:15012', { name: 'istiod', namespace: 'istio-system', port: 15012 }],
  ])('reads %s as the Service cluster DNS resolves it to', (address, service) => {
    expect(serviceOfAddress(address)).toEqual(service);
  });

  it.each(['203.0.113.4:15012', 'istiod.example.com:15012', 'istiod:15012', 'istiod.istio-system.svc'])(
    'names no Service for %s (an IP, an outside host, no namespace, no port)',
    (address) => {
      expect(serviceOfAddress(address)).toBeUndefined();
    },
  );
});

describe('reviewRemoteIstiodReach', () => {
  it("is compliant for Istio's remote profile, naming the address each port reaches", () => {
    // Act
    const finding = reviewRemoteIstiodReach(reading());
    // Assess
    expect(finding).toMatchObject({ rule: REMOTE_ISTIOD_REACH_RULE, status: 'compliant', cluster: 'lab-2' });
    expect(finding.reason).toBe(
      "lab-2 reaches lab-1's istiod through Service istio-system/istiod (tcp-istiod (15012) -> 198.51.100.7; " +
        'tcp-webhook (443) -> 198.51.100.7)',
    );
  });

  it('refuses a remote without the istiod Service, naming the remote, the Service and what installs it', () => {
    // Act
    const finding = reviewRemoteIstiodReach(reading({ service: { state: 'absent' } }));
    // Assess
    expect(finding).toMatchObject({ level: 'refusal', status: 'non-compliant', cluster: 'lab-2' });
    expect(finding.reason).toMatch(
      /^cluster lab-2 \(a remote of lab-1\): no Service istio-system\/istiod, so its proxies .* cannot reach lab-1's istiod: .*values\.global\.remotePilotAddress/,
    );
  });

  it('refuses a Service without an EndpointSlice, as a remote left with no address for its primary', () => {
    // Act
    const finding = reviewRemoteIstiodReach(reading({ slices: { state: 'read', slices: [] } }));
    // Assess
    expect(finding).toMatchObject({ level: 'refusal', status: 'non-compliant', cluster: 'lab-2' });
    expect(finding.reason).toMatch(
      /has no EndpointSlice \(label kubernetes\.io\/service-name=istiod\) for port tcp-istiod \(15012\), tcp-webhook \(443\)/,
    );
  });

  it('refuses a slice whose only endpoint is not ready', () => {
    // Prepare
    const notReady = { ...remoteProfileSlice, endpoints: [{ addresses: ['198.51.100.7'], ready: false }] };
    // Act
    const finding = reviewRemoteIstiodReach(reading({ slices: { state: 'read', slices: [notReady] } }));
    // Assess
    expect(finding.status).toBe('non-compliant');
    expect(finding.reason).toMatch(/EndpointSlice\(s\) istiod with no ready address on that port name/);
  });

  it('refuses a slice that lacks the webhook port: new pods of the remote would not be injected', () => {
    // Prepare: kube-proxy matches slice ports to Service ports by name
    const xdsOnly = { ...remoteProfileSlice, ports: [{ name: 'tcp-istiod', port: 15012 }] };
    // Act
    const finding = reviewRemoteIstiodReach(reading({ slices: { state: 'read', slices: [xdsOnly] } }));
    // Assess
    expect(finding.status).toBe('non-compliant');
    expect(finding.reason).toMatch(/for port tcp-webhook \(443\),/);
  });

  it('says of a Service with a selector that a remote runs no istiod for it to pick', () => {
    // Act
    const finding = reviewRemoteIstiodReach(
      reading({
        service: { ...remoteProfileService, selector: true },
        slices: { state: 'read', slices: [] },
      }),
    );
    // Assess
    expect(finding.reason).toMatch(/its selector picks pods, but a remote runs no istiod for it to pick/);
  });

  it('refuses a Service without the port the discovery address names', () => {
    // Act
    const finding = reviewRemoteIstiodReach(
      reading({ service: { ...remoteProfileService, ports: [{ name: 'tcp-webhook', port: 443 }] } }),
    );
    // Assess
    expect(finding.status).toBe('non-compliant');
    expect(finding.reason).toMatch(
      /Service istio-system\/istiod has no port 15012 \(it has tcp-webhook \(443\)\)/,
    );
  });

  it('refuses when RBAC keeps meshtrust from reading the Service or its slices, naming the Role', () => {
    // Act
    const service = reviewRemoteIstiodReach(
      reading({ service: { state: 'forbidden', problem: '403 forbidden' } }),
    );
    const slices = reviewRemoteIstiodReach(
      reading({ slices: { state: 'forbidden', problem: '403 forbidden' } }),
    );
    // Assess
    for (const finding of [service, slices]) {
      expect(finding).toMatchObject({ level: 'refusal', status: 'non-compliant', cluster: 'lab-2' });
      expect(finding.reason).toMatch(/Role meshtrust-remote-istiod/);
    }
  });

  it('accepts an ExternalName Service (remotePilotAddress a host name), which DNS resolves', () => {
    // Act
    const finding = reviewRemoteIstiodReach(
      reading({
        service: {
          state: 'found',
          type: 'ExternalName',
          externalName: 'istiod.lab-1.example',
          selector: false,
          ports: [],
        },
      }),
    );
    // Assess
    expect(finding.status).toBe('compliant');
    expect(finding.reason).toMatch(/ExternalName istiod\.lab-1\.example/);
  });

  it('only notes a discovery address that is no Service of the remote, which the API cannot check', () => {
    // Act
    const finding = reviewRemoteIstiodReach(reading({ discoveryAddress: 'istiod.lab-1.example:15012' }));
    // Assess
    expect(finding).toMatchObject({ level: 'note', status: 'non-compliant', cluster: 'lab-2' });
  });
});
