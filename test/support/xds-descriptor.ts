// An independent reading of the xDS messages the Envoy stand-in speaks: protobufjs reflection over a
// descriptor written here by hand from the .proto files (envoy/service/discovery/v3/discovery.proto,
// envoy/config/core/v3/base.proto, google/protobuf/{any,struct}.proto, istio/api
// mesh/v1alpha1/proxy.proto), sharing no code with
// lab/node-agent/xds-codec.ts. It includes fields the stand-in skips (canary, control_plane,
// error_detail, user_agent_name) so that tests can send them.
import protobuf from 'protobufjs';

const descriptor = {
  nested: {
    google: {
      nested: {
        protobuf: {
          nested: {
            Any: { fields: { type_url: { type: 'string', id: 1 }, value: { type: 'bytes', id: 2 } } },
            Struct: { fields: { fields: { keyType: 'string', type: 'Value', id: 1 } } },
            Value: {
              oneofs: {
                kind: {
                  oneof: [
                    'null_value',
                    'number_value',
                    'string_value',
                    'bool_value',
                    'struct_value',
                    'list_value',
                  ],
                },
              },
              fields: {
                null_value: { type: 'NullValue', id: 1 },
                number_value: { type: 'double', id: 2 },
                string_value: { type: 'string', id: 3 },
                bool_value: { type: 'bool', id: 4 },
                struct_value: { type: 'Struct', id: 5 },
                list_value: { type: 'ListValue', id: 6 },
              },
            },
            NullValue: { values: { NULL_VALUE: 0 } },
            ListValue: { fields: { values: { rule: 'repeated', type: 'Value', id: 1 } } },
          },
        },
        rpc: {
          nested: {
            Status: { fields: { code: { type: 'int32', id: 1 }, message: { type: 'string', id: 2 } } },
          },
        },
      },
    },
    istio: {
      nested: {
        // istio/api mesh/v1alpha1/proxy.proto: only the field PCDS fills.
        ProxyConfig: { fields: { ca_certificates_pem: { rule: 'repeated', type: 'string', id: 34 } } },
      },
    },
    envoy: {
      nested: {
        Node: {
          fields: {
            id: { type: 'string', id: 1 },
            cluster: { type: 'string', id: 2 },
            metadata: { type: 'google.protobuf.Struct', id: 3 },
            user_agent_name: { type: 'string', id: 6 },
          },
        },
        DiscoveryRequest: {
          fields: {
            version_info: { type: 'string', id: 1 },
            node: { type: 'Node', id: 2 },
            resource_names: { rule: 'repeated', type: 'string', id: 3 },
            type_url: { type: 'string', id: 4 },
            response_nonce: { type: 'string', id: 5 },
            error_detail: { type: 'google.rpc.Status', id: 6 },
          },
        },
        ControlPlane: { fields: { identifier: { type: 'string', id: 1 } } },
        DiscoveryResponse: {
          fields: {
            version_info: { type: 'string', id: 1 },
            resources: { rule: 'repeated', type: 'google.protobuf.Any', id: 2 },
            canary: { type: 'bool', id: 3 },
            type_url: { type: 'string', id: 4 },
            nonce: { type: 'string', id: 5 },
            control_plane: { type: 'ControlPlane', id: 6 },
          },
        },
      },
    },
  },
};

const root = protobuf.Root.fromJSON(descriptor);
const requestType = root.lookupType('envoy.DiscoveryRequest');
const responseType = root.lookupType('envoy.DiscoveryResponse');
const structType = root.lookupType('google.protobuf.Struct');
const proxyConfigType = root.lookupType('istio.ProxyConfig');

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

interface DecodedValue {
  kind?: string;
  null_value?: number;
  number_value?: number;
  string_value?: string;
  bool_value?: boolean;
  struct_value?: { fields?: Record<string, DecodedValue> };
  list_value?: { values?: DecodedValue[] };
}

function valueToJson(value: DecodedValue): Json {
  switch (value.kind) {
    case 'null_value':
      return null;
    case 'number_value':
      return value.number_value as number;
    case 'string_value':
      return value.string_value as string;
    case 'bool_value':
      return value.bool_value as boolean;
    case 'struct_value':
      return structToJson(value.struct_value ?? {});
    case 'list_value':
      return (value.list_value?.values ?? []).map(valueToJson);
    default:
      throw new Error(`a google.protobuf.Value with no kind set: ${JSON.stringify(value)}`);
  }
}

function structToJson(struct: { fields?: Record<string, DecodedValue> }): { [key: string]: Json } {
  return Object.fromEntries(
    Object.entries(struct.fields ?? {}).map(([key, value]) => [key, valueToJson(value)]),
  );
}

const toObjectOptions = { oneofs: true, defaults: false, arrays: true, bytes: Array } as const;

export interface ReferenceRequest {
  version_info?: string;
  node?: { id?: string; cluster?: string; metadata?: { [key: string]: Json } };
  resource_names: string[];
  type_url?: string;
  response_nonce?: string;
}

/** A DiscoveryRequest as protobufjs reads it, the node's metadata turned back into JSON. */
export function referenceDecodeRequest(bytes: Uint8Array): ReferenceRequest {
  const object = requestType.toObject(requestType.decode(bytes), toObjectOptions) as ReferenceRequest & {
    node?: { metadata?: { fields?: Record<string, DecodedValue> } };
  };
  const { node, ...rest } = object;
  if (node === undefined) return rest;
  const { metadata, ...nodeRest } = node;
  return {
    ...rest,
    node: metadata === undefined ? nodeRest : { ...nodeRest, metadata: structToJson(metadata) },
  };
}

/** The raw Struct of a DiscoveryRequest's node, to check which oneof field each value used. */
export function referenceDecodeMetadataStruct(bytes: Uint8Array): unknown {
  const request = requestType.decode(bytes) as unknown as { node?: { metadata?: protobuf.Message } };
  const metadata = request.node?.metadata;
  return metadata === undefined ? undefined : structType.toObject(metadata, toObjectOptions);
}

export interface ReferenceResponse {
  version_info?: string;
  resources?: { type_url: string; value: Uint8Array }[];
  canary?: boolean;
  type_url?: string;
  nonce?: string;
  control_plane?: { identifier: string };
}

export function referenceEncodeResponse(response: ReferenceResponse): Uint8Array {
  const message = responseType.fromObject(response);
  const problem = responseType.verify(message);
  if (problem !== null) throw new Error(`bad reference DiscoveryResponse: ${problem}`);
  return responseType.encode(message).finish();
}

/** An istio.mesh.v1alpha1.ProxyConfig as istiod's PCDS sends it: the mesh's trust bundle. */
export function referenceEncodeProxyConfig(caCertificatesPem: readonly string[]): Uint8Array {
  return proxyConfigType
    .encode(proxyConfigType.fromObject({ ca_certificates_pem: caCertificatesPem }))
    .finish();
}
