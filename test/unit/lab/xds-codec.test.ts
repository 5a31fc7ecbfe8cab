// The stand-in's codec checked against an independent decoder: protobufjs reflection over a descriptor
// written by hand in test/support/xds-descriptor.ts (no code shared with lab/node-agent/xds-codec.ts),
// plus bytes worked out by hand from the protobuf encoding rules.
import fc from 'fast-check';
import {
  type DiscoveryRequest,
  decodeDiscoveryResponse,
  encodeDiscoveryRequest,
  type JsonValue,
  XdsCodecError,
} from '../../../lab/node-agent/xds-codec.js';
import {
  referenceDecodeMetadataStruct,
  referenceDecodeRequest,
  referenceEncodeResponse,
} from '../../support/xds-descriptor.js';

const LDS = 'type.googleapis.com/envoy.config.listener.v3.Listener';

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

// JSON objects with a "__proto__" key cannot be rebuilt faithfully by the reference decoder's plain
// objects; pilot-agent never writes such a key.
const jsonMetadata = fc
  .dictionary(fc.string({ unit: 'grapheme' }), fc.jsonValue({ maxDepth: 4 }))
  .filter((metadata) => !JSON.stringify(metadata).includes('"__proto__"'))
  .map((metadata) => metadata as { [key: string]: JsonValue });

describe('encodeDiscoveryRequest', () => {
  it('writes the bytes the protobuf rules give for a null and a number in the node metadata', () => {
    // Prepare
    const request: DiscoveryRequest = { typeUrl: 't', node: { id: 'n', metadata: { a: null, b: 1 } } };
    // Act
    const bytes = encodeDiscoveryRequest(request);
    // Assess
    // Value{null_value=0}: 08 00. Value{number_value=1.0}: 11 + little-endian double 3ff0000000000000.
    const entryA = '0a0161' + '1202' + '0800';
    const entryB = '0a0162' + '1209' + '11000000000000f03f';
    const struct = `0a07${entryA}0a0e${entryB}`;
    const node = `0a016e1a19${struct}`;
    expect(hex(bytes)).toBe(`121e${node}220174`);
  });

  it('sends the first request of a stream with node, wildcard LDS and no version or nonce', () => {
    // Prepare
    const metadata = {
      GENERATOR: 'grpc',
      NAMESPACE: 'shop',
      PILOT_SAN: ['istiod.istio-system.svc'],
      PROXY_CONFIG: { concurrency: 2, holdApplicationUntilProxyStarts: false, proxyMetadata: {} },
      ISTIO_META_EMPTY: '',
      SOMETHING_NULL: null,
    };
    // Act
    const decoded = referenceDecodeRequest(
      encodeDiscoveryRequest({
        node: {
          id: 'sidecar~127.0.0.2~app-01-x.shop~shop.svc.cluster.local',
          cluster: 'app-01.shop',
          metadata,
        },
        typeUrl: LDS,
        resourceNames: [],
      }),
    );
    // Assess
    expect(decoded).toEqual({
      resource_names: [],
      type_url: LDS,
      node: {
        id: 'sidecar~127.0.0.2~app-01-x.shop~shop.svc.cluster.local',
        cluster: 'app-01.shop',
        metadata,
      },
    });
  });

  it('writes every Value kind, its default included, in the oneof field of that kind', () => {
    // Prepare
    const metadata = { zero: 0, no: false, empty: '', nothing: null, list: [], object: {} };
    // Act
    const struct = referenceDecodeMetadataStruct(
      encodeDiscoveryRequest({ typeUrl: LDS, node: { id: 'n', metadata } }),
    );
    // Assess
    expect(struct).toEqual({
      fields: {
        zero: { kind: 'number_value', number_value: 0 },
        no: { kind: 'bool_value', bool_value: false },
        empty: { kind: 'string_value', string_value: '' },
        nothing: { kind: 'null_value', null_value: 0 },
        list: { kind: 'list_value', list_value: { values: [] } },
        object: { kind: 'struct_value', struct_value: {} },
      },
    });
  });

  it('writes an ACK: names, version and nonce, no node', () => {
    // Prepare
    const ack: DiscoveryRequest = {
      typeUrl: LDS,
      resourceNames: ['a.shop.svc.cluster.local:80', ''],
      versionInfo: '2026-11-25T13:25:58Z/7',
      responseNonce: 'f1e2d3',
    };
    // Act
    const decoded = referenceDecodeRequest(encodeDiscoveryRequest(ack));
    // Assess
    expect(decoded).toEqual({
      version_info: '2026-11-25T13:25:58Z/7',
      resource_names: ['a.shop.svc.cluster.local:80', ''],
      type_url: LDS,
      response_nonce: 'f1e2d3',
    });
  });

  it('round-trips any JSON metadata through a google.protobuf.Struct (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1 }), jsonMetadata, (id, metadata) => {
        // Prepare, Act
        const decoded = referenceDecodeRequest(
          encodeDiscoveryRequest({ typeUrl: LDS, node: { id, metadata } }),
        );
        // Assess
        expect(decoded.node).toEqual({ id, metadata });
      }),
      { numRuns: 200 },
    );
  });

  it('refuses a metadata value JSON cannot hold, naming where it is', () => {
    // Prepare
    const metadata = { PROXY_CONFIG: { drain: [1, 10n] } } as unknown as { [key: string]: JsonValue };
    // Act
    const act = () => encodeDiscoveryRequest({ typeUrl: LDS, node: { id: 'n', metadata } });
    // Assess
    expect(act).toThrow(XdsCodecError);
    expect(act).toThrow(/node metadata\.PROXY_CONFIG\.drain\[1\] is a bigint/);
  });
});

describe('decodeDiscoveryResponse', () => {
  it('reads version, type, nonce and each resource, skipping canary and control_plane', () => {
    // Prepare
    const bytes = referenceEncodeResponse({
      version_info: 'v7',
      resources: [
        { type_url: LDS, value: Uint8Array.from([1, 2, 3]) },
        { type_url: LDS, value: new Uint8Array(0) },
      ],
      canary: true,
      type_url: LDS,
      nonce: 'n-42',
      control_plane: { identifier: '{"Component":"istiod","ID":"istiod-1"}' },
    });
    // Act
    const response = decodeDiscoveryResponse(bytes);
    // Assess
    expect(response).toEqual({
      versionInfo: 'v7',
      resources: [
        { typeUrl: LDS, value: Uint8Array.from([1, 2, 3]) },
        { typeUrl: LDS, value: new Uint8Array(0) },
      ],
      typeUrl: LDS,
      nonce: 'n-42',
    });
  });

  it('round-trips what the reference encoder writes (property)', () => {
    const resource = fc.record({
      type_url: fc.string({ unit: 'grapheme' }),
      value: fc.uint8Array({ maxLength: 64 }),
    });
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme' }),
        fc.array(resource, { maxLength: 5 }),
        fc.string({ unit: 'grapheme' }),
        fc.string({ unit: 'grapheme' }),
        (version, resources, typeUrl, nonce) => {
          // Prepare
          const bytes = referenceEncodeResponse({
            version_info: version,
            resources,
            type_url: typeUrl,
            nonce,
          });
          // Act
          const response = decodeDiscoveryResponse(bytes);
          // Assess
          expect(response).toEqual({
            versionInfo: version,
            resources: resources.map((r) => ({ typeUrl: r.type_url, value: Uint8Array.from(r.value) })),
            typeUrl,
            nonce,
          });
        },
      ),
      { numRuns: 200 },
    );
  });

  it('refuses bytes that end inside a field', () => {
    // Prepare: field 1, length 5, then only two bytes.
    const truncated = Uint8Array.from([0x0a, 0x05, 0x61, 0x62]);
    // Act
    const act = () => decodeDiscoveryResponse(truncated);
    // Assess
    expect(act).toThrow(XdsCodecError);
    expect(act).toThrow(/not a DiscoveryResponse/);
  });
});
