// kubectl's typed clients (`kubectl create namespace`, `kubectl create secret generic`,
// `kubectl create configmap`) send request bodies as Kubernetes protobuf, not JSON (client-go's
// clientset defaults to protobuf; it accepts JSON back). The lab decodes just those kinds: the
// "k8s\0" envelope (runtime.Unknown), then Namespace, Secret and ConfigMap with the ObjectMeta fields
// that matter. Field numbers are those of k8s.io/api/core/v1/generated.proto and
// k8s.io/apimachinery/pkg/apis/meta/v1/generated.proto.
import { UnsupportedMediaTypeError } from './errors.js';
import type { KubeObject, ObjectMeta } from './kube-object.js';

export const protobufMediaType = 'application/vnd.kubernetes.protobuf';

const magic = Buffer.from([0x6b, 0x38, 0x73, 0x00]); // "k8s\0"

type FieldValue = number | Buffer;
interface Field {
  readonly number: number;
  readonly value: FieldValue;
}

/** Decodes a protobuf request body of a Namespace, Secret or ConfigMap into its JSON form. */
export function decodeProtobufObject(body: Buffer): KubeObject {
  if (body.length < magic.length || !body.subarray(0, magic.length).equals(magic)) {
    throw unsupported('the body does not start with the Kubernetes protobuf envelope');
  }
  let apiVersion = '';
  let kind = '';
  let raw: Buffer = Buffer.alloc(0);
  for (const field of readFields(body.subarray(magic.length))) {
    if (field.number === 1) {
      for (const typeField of readFields(asBytes(field))) {
        if (typeField.number === 1) apiVersion = asString(typeField);
        if (typeField.number === 2) kind = asString(typeField);
      }
    } else if (field.number === 2) {
      raw = asBytes(field);
    }
  }
  const object: KubeObject = { apiVersion, kind, metadata: { name: '' } };
  const fields = readFields(raw);
  switch (kind) {
    case 'Namespace':
      for (const field of fields) {
        if (field.number === 1) object.metadata = decodeObjectMeta(asBytes(field));
        if (field.number === 2) {
          const finalizers = readFields(asBytes(field))
            .filter((f) => f.number === 1)
            .map(asString);
          if (finalizers.length > 0) object.spec = { finalizers };
        }
      }
      return object;
    case 'Secret':
      for (const field of fields) {
        if (field.number === 1) object.metadata = decodeObjectMeta(asBytes(field));
        if (field.number === 2) {
          const [key, value] = mapEntry(field);
          object.data = { ...object.data, [key]: value.toString('base64') };
        }
        if (field.number === 3 && asString(field) !== '') object.type = asString(field);
        if (field.number === 4) {
          const [key, value] = mapEntry(field);
          object.stringData = { ...object.stringData, [key]: value.toString('utf8') };
        }
        if (field.number === 5) object.immutable = field.value === 1;
      }
      return object;
    case 'ConfigMap':
      for (const field of fields) {
        if (field.number === 1) object.metadata = decodeObjectMeta(asBytes(field));
        if (field.number === 2) {
          const [key, value] = mapEntry(field);
          object.data = { ...object.data, [key]: value.toString('utf8') };
        }
        if (field.number === 3) {
          const [key, value] = mapEntry(field);
          object.binaryData = { ...object.binaryData, [key]: value.toString('base64') };
        }
        if (field.number === 4) object.immutable = field.value === 1;
      }
      return object;
    default:
      throw unsupported(
        `the lab decodes protobuf only for Namespace, Secret and ConfigMap, not ${kind || 'this body'}`,
      );
  }
}

function decodeObjectMeta(bytes: Buffer): ObjectMeta {
  const meta: ObjectMeta = { name: '' };
  for (const field of readFields(bytes)) {
    switch (field.number) {
      case 1:
        meta.name = asString(field);
        break;
      case 2:
        meta.generateName = asString(field);
        break;
      case 3:
        meta.namespace = asString(field);
        break;
      case 6:
        meta.resourceVersion = asString(field);
        break;
      case 11: {
        const [key, value] = mapEntry(field);
        meta.labels = { ...meta.labels, [key]: value.toString('utf8') };
        break;
      }
      case 12: {
        const [key, value] = mapEntry(field);
        meta.annotations = { ...meta.annotations, [key]: value.toString('utf8') };
        break;
      }
      case 14:
        meta.finalizers = [...((meta.finalizers as string[] | undefined) ?? []), asString(field)];
        break;
    }
  }
  // Protobuf carries unset strings as ''; JSON clients leave them out.
  for (const key of ['name', 'generateName', 'namespace', 'resourceVersion'] as const) {
    if (meta[key] === '') delete meta[key];
  }
  return meta;
}

function mapEntry(field: Field): [string, Buffer] {
  let key = '';
  let value: Buffer = Buffer.alloc(0);
  for (const entryField of readFields(asBytes(field))) {
    if (entryField.number === 1) key = asString(entryField);
    if (entryField.number === 2) value = asBytes(entryField);
  }
  return [key, value];
}

function readFields(bytes: Buffer): Field[] {
  const fields: Field[] = [];
  let offset = 0;
  const varint = (): number => {
    let result = 0;
    let scale = 1;
    for (;;) {
      if (offset >= bytes.length) throw unsupported('truncated protobuf varint');
      const byte = bytes[offset++];
      result += (byte & 0x7f) * scale;
      if ((byte & 0x80) === 0) return result;
      scale *= 128;
    }
  };
  while (offset < bytes.length) {
    const key = varint();
    const number = Math.floor(key / 8);
    const wireType = key % 8;
    if (wireType === 0) {
      fields.push({ number, value: varint() });
    } else if (wireType === 2) {
      const length = varint();
      if (offset + length > bytes.length) throw unsupported('truncated protobuf field');
      fields.push({ number, value: bytes.subarray(offset, offset + length) });
      offset += length;
    } else if (wireType === 1) {
      offset += 8;
    } else if (wireType === 5) {
      offset += 4;
    } else {
      throw unsupported(`protobuf wire type ${wireType} is not supported`);
    }
  }
  return fields;
}

function asBytes(field: Field): Buffer {
  if (typeof field.value === 'number')
    throw unsupported(`protobuf field ${field.number} is not length-delimited`);
  return field.value;
}

function asString(field: Field): string {
  return asBytes(field).toString('utf8');
}

function unsupported(detail: string): UnsupportedMediaTypeError {
  return new UnsupportedMediaTypeError(protobufMediaType, `${detail}; send JSON (e.g. kubectl apply -f)`);
}
