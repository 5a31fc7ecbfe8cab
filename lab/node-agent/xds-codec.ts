// Just enough of the xDS wire format for the Envoy stand-in (envoy-stand-in.ts): encode a
// DiscoveryRequest (with its Node and the node's metadata as a google.protobuf.Struct), decode a
// DiscoveryResponse. Field numbers are those of envoy/service/discovery/v3/discovery.proto,
// envoy/config/core/v3/base.proto and google/protobuf/struct.proto; fields the stand-in does not need
// (error_detail, locality, canary, control_plane, ...) are not written and are skipped when read.
// protobufjs/minimal gives the wire primitives (varints, length-delimited fields, doubles); generated
// code for the whole Envoy API would be thousands of lines for five fields.
import protobuf from 'protobufjs/minimal.js';
import { LabError } from '../lab-errors.js';

/** A JSON value, as in the gRPC xDS bootstrap's node metadata. */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | readonly JsonValue[]
  | { readonly [key: string]: JsonValue };

/** envoy.config.core.v3.Node, the fields istiod reads from a proxy. */
export interface XdsNode {
  /** e.g. `sidecar~10.0.0.1~app-01-abc.shop~shop.svc.cluster.local` */
  readonly id: string;
  readonly cluster?: string;
  /** Istio's node metadata (NAMESPACE, SERVICE_ACCOUNT, ISTIO_VERSION, ...), encoded as a Struct. */
  readonly metadata?: { readonly [key: string]: JsonValue };
}

/** envoy.service.discovery.v3.DiscoveryRequest without error_detail (the stand-in never NACKs). */
export interface DiscoveryRequest {
  readonly versionInfo?: string;
  /** Only on a stream's first request, as Envoy does with set_node_on_first_message_only. */
  readonly node?: XdsNode;
  readonly resourceNames?: readonly string[];
  readonly typeUrl: string;
  readonly responseNonce?: string;
}

/** google.protobuf.Any as it arrives: the stand-in never looks inside. */
export interface XdsResource {
  readonly typeUrl: string;
  readonly value: Uint8Array;
}

export interface DiscoveryResponse {
  readonly versionInfo: string;
  readonly resources: readonly XdsResource[];
  readonly typeUrl: string;
  readonly nonce: string;
}

export class XdsCodecError extends LabError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'XdsCodecError';
  }
}

const { Reader, Writer } = protobuf;
type ProtoWriter = protobuf.Writer;
type ProtoReader = protobuf.Reader;

const VARINT = 0;
const FIXED64 = 1;
const LENGTH_DELIMITED = 2;

function tag(field: number, wireType: number): number {
  return ((field << 3) | wireType) >>> 0;
}

function writeString(writer: ProtoWriter, field: number, value: string | undefined): void {
  // proto3: an empty singular string is the default and is not written.
  if (value !== undefined && value !== '') writer.uint32(tag(field, LENGTH_DELIMITED)).string(value);
}

export function encodeDiscoveryRequest(request: DiscoveryRequest): Uint8Array {
  const writer = Writer.create();
  writeString(writer, 1, request.versionInfo);
  if (request.node !== undefined) {
    writeNode(writer.uint32(tag(2, LENGTH_DELIMITED)).fork(), request.node);
    writer.ldelim();
  }
  // Repeated strings are written even when empty: an empty name is still a name.
  for (const name of request.resourceNames ?? []) writer.uint32(tag(3, LENGTH_DELIMITED)).string(name);
  writeString(writer, 4, request.typeUrl);
  writeString(writer, 5, request.responseNonce);
  return writer.finish();
}

function writeNode(writer: ProtoWriter, node: XdsNode): void {
  writeString(writer, 1, node.id);
  writeString(writer, 2, node.cluster);
  if (node.metadata !== undefined) {
    writeStruct(writer.uint32(tag(3, LENGTH_DELIMITED)).fork(), node.metadata, 'metadata');
    writer.ldelim();
  }
}

// google.protobuf.Struct { map<string, Value> fields = 1; }: each entry is a message {key = 1, value = 2}.
function writeStruct(writer: ProtoWriter, object: { readonly [key: string]: JsonValue }, path: string): void {
  for (const [key, value] of Object.entries(object)) {
    // As JSON.stringify does: a property whose value is undefined is not there.
    if (value === undefined) continue;
    writer.uint32(tag(1, LENGTH_DELIMITED)).fork();
    writer.uint32(tag(1, LENGTH_DELIMITED)).string(key);
    writeValue(writer.uint32(tag(2, LENGTH_DELIMITED)).fork(), value, `${path}.${key}`);
    writer.ldelim();
    writer.ldelim();
  }
}

// google.protobuf.Value is a oneof: the chosen field is always written, even when it holds its
// type's default (null_value 0, number 0, false, ""), because its presence is what says the kind.
function writeValue(writer: ProtoWriter, value: JsonValue, path: string): void {
  if (value === null) {
    writer.uint32(tag(1, VARINT)).int32(0); // NullValue.NULL_VALUE
  } else if (typeof value === 'number') {
    writer.uint32(tag(2, FIXED64)).double(value);
  } else if (typeof value === 'string') {
    writer.uint32(tag(3, LENGTH_DELIMITED)).string(value);
  } else if (typeof value === 'boolean') {
    writer.uint32(tag(4, VARINT)).bool(value);
  } else if (Array.isArray(value)) {
    // ListValue { repeated Value values = 1; }
    writer.uint32(tag(6, LENGTH_DELIMITED)).fork();
    value.forEach((item: JsonValue, index: number) => {
      // JSON.stringify writes null for a hole or undefined in an array; so do we.
      writeValue(
        writer.uint32(tag(1, LENGTH_DELIMITED)).fork(),
        item === undefined ? null : item,
        `${path}[${index}]`,
      );
      writer.ldelim();
    });
    writer.ldelim();
  } else if (typeof value === 'object') {
    writer.uint32(tag(5, LENGTH_DELIMITED)).fork();
    writeStruct(writer, value as { readonly [key: string]: JsonValue }, path);
    writer.ldelim();
  } else {
    throw new XdsCodecError(`node ${path} is a ${typeof value}, which a google.protobuf.Value cannot hold`);
  }
}

export function decodeDiscoveryResponse(bytes: Uint8Array): DiscoveryResponse {
  try {
    return readDiscoveryResponse(Reader.create(bytes));
  } catch (error) {
    if (error instanceof XdsCodecError) throw error;
    throw new XdsCodecError(`not a DiscoveryResponse: ${(error as Error).message}`, { cause: error });
  }
}

function readDiscoveryResponse(reader: ProtoReader): DiscoveryResponse {
  let versionInfo = '';
  let typeUrl = '';
  let nonce = '';
  const resources: XdsResource[] = [];
  while (reader.pos < reader.len) {
    const key = reader.uint32();
    const field = key >>> 3;
    const wireType = key & 7;
    // A known field with an unexpected wire type is skipped like an unknown one, as protobuf does.
    if (wireType !== LENGTH_DELIMITED) {
      reader.skipType(wireType);
      continue;
    }
    switch (field) {
      case 1:
        versionInfo = reader.string();
        break;
      case 2:
        resources.push(readAny(Reader.create(reader.bytes())));
        break;
      case 4:
        typeUrl = reader.string();
        break;
      case 5:
        nonce = reader.string();
        break;
      default:
        reader.skipType(wireType);
    }
  }
  return { versionInfo, resources, typeUrl, nonce };
}

// google.protobuf.Any { string type_url = 1; bytes value = 2; }
function readAny(reader: ProtoReader): XdsResource {
  let typeUrl = '';
  let value = new Uint8Array(0);
  while (reader.pos < reader.len) {
    const key = reader.uint32();
    const field = key >>> 3;
    const wireType = key & 7;
    if (field === 1 && wireType === LENGTH_DELIMITED) typeUrl = reader.string();
    else if (field === 2 && wireType === LENGTH_DELIMITED) value = Uint8Array.from(reader.bytes());
    else reader.skipType(wireType);
  }
  return { typeUrl, value };
}
