/**
 * Messages of Google's APIs in proto3 JSON, the form gcloud --format=json
 * and the REST APIs print, ↔ the object form the Node client libraries
 * return. The conversion is google-gax's proto3 JSON serializer over the
 * message types in each client package's own protos.json; what is added
 * here is Google's printing conventions (defaults left out, as few
 * fractional digits as a Timestamp needs) and errors that name the field.
 */
import { createRequire } from 'node:module';
import { protobuf, serializer } from 'google-gax';
import { FieldError, isPlainObject, describeJson } from './log-entry-json.js';

const roots = new Map<string, protobuf.Root>();

/** A message type from a client package's protos.json (e.g. @google-cloud/container/build/protos/protos.json). */
export function protoType(protosJson: string, name: string): protobuf.Type {
  let root = roots.get(protosJson);
  if (!root) {
    root = protobuf.Root.fromJSON(createRequire(import.meta.url)(protosJson) as protobuf.INamespace);
    roots.set(protosJson, root);
  }
  return root.lookupType(name);
}

/**
 * Google's JSON printer writes a Timestamp with 0, 3, 6 or 9 fractional
 * digits, as few as the value needs (2026-11-26T18:02:44Z); the serializer
 * always writes at least three.
 */
export function googleTimestamp(value: string): string {
  const m = /^(.*T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?Z$/.exec(value);
  if (!m) return value;
  const nanos = (m[2] ?? '').padEnd(9, '0');
  const digits = /^0+$/.test(nanos) ? '' : nanos.endsWith('000000') ? nanos.slice(0, 3) : nanos.endsWith('000') ? nanos.slice(0, 6) : nanos;
  return `${m[1]}${digits ? `.${digits}` : ''}Z`;
}

function isDefaultScalar(value: unknown): boolean {
  return value === '' || value === 0 || value === '0' || value === false;
}

/**
 * proto3 JSON leaves out fields that hold their default, but the client's
 * objects carry every field, so fromObject marks them all as set. Drops
 * defaults again, except where proto3 tracks presence (oneof members,
 * `optional` fields); well-known types are already in their JSON form.
 */
function pruneDefaults(type: protobuf.Type, json: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(json)) {
    const field = type.fields[key];
    if (!field) {
      out[key] = value;
      continue;
    }
    field.resolve();
    if (field.resolvedType instanceof protobuf.Type && field.resolvedType.fullName === '.google.protobuf.Timestamp' && typeof value === 'string') {
      out[key] = googleTimestamp(value);
      continue;
    }
    const nested = field.resolvedType instanceof protobuf.Type && !field.resolvedType.fullName.startsWith('.google.protobuf.') ? field.resolvedType : null;
    const hasPresence = field.partOf !== null;
    if (field.map) {
      const entries = Object.entries((value ?? {}) as Record<string, unknown>);
      if (entries.length === 0) continue;
      out[key] = nested ? Object.fromEntries(entries.map(([k, v]) => [k, pruneDefaults(nested, v as Record<string, unknown>)])) : value;
    } else if (field.repeated) {
      if (!Array.isArray(value) || value.length === 0) continue;
      out[key] = nested ? value.map((v) => pruneDefaults(nested, v as Record<string, unknown>)) : value;
    } else if (nested) {
      if (value === null || value === undefined) continue;
      out[key] = pruneDefaults(nested, value as Record<string, unknown>);
    } else if (field.resolvedType instanceof protobuf.Enum) {
      const zero = Object.entries(field.resolvedType.values).find(([, n]) => n === 0)?.[0];
      if (!hasPresence && value === zero) continue;
      out[key] = value;
    } else {
      if (!hasPresence && isDefaultScalar(value)) continue;
      out[key] = value;
    }
  }
  return out;
}

/** The client library's object form of a message → proto3 JSON as Google's tools print it (gcloud --format=json). */
export function toJson(type: protobuf.Type, object: unknown): Record<string, unknown> {
  const message = type.fromObject(object as Record<string, unknown>);
  return pruneDefaults(type, serializer.toProto3JSON(message as never) as Record<string, unknown>);
}


function accepts(type: protobuf.Type, json: Record<string, unknown>): boolean {
  try {
    return serializer.fromProto3JSON(type, json as never) !== null;
  } catch {
    return false;
  }
}

/** The path of the field the serializer refused, found by converting one field at a time. */
function locate(type: protobuf.Type, json: Record<string, unknown>, at: string): string {
  for (const [key, value] of Object.entries(json)) {
    if (accepts(type, { [key]: value })) continue;
    const field = type.fields[key];
    field?.resolve();
    const nested = field?.resolvedType instanceof protobuf.Type && !field.resolvedType.fullName.startsWith('.google.protobuf.') ? field.resolvedType : null;
    if (nested && !field!.map) {
      if (field!.repeated && Array.isArray(value)) {
        const i = value.findIndex((v) => !isPlainObject(v) || !accepts(nested, v));
        if (i >= 0) return isPlainObject(value[i]) ? locate(nested, value[i], `${at}.${key}[${i}]`) : `${at}.${key}[${i}]`;
      } else if (isPlainObject(value)) {
        return locate(nested, value, `${at}.${key}`);
      }
    }
    return `${at}.${key}`;
  }
  return at;
}

/**
 * proto3 JSON (as gcloud prints it) → the client library's object form
 * (enums as names, int64 as strings, unset fields absent). `at` names the
 * value in errors; the serializer's own message says what was wrong.
 */
export function fromJson(type: protobuf.Type, json: unknown, at: string): Record<string, unknown> {
  if (!isPlainObject(json)) throw new FieldError(at, `expected a ${type.name} object, got ${describeJson(json)}`);
  let message;
  try {
    message = serializer.fromProto3JSON(type, json as never);
  } catch (err) {
    throw new FieldError(locate(type, json, at), `not valid in a ${type.name}: ${(err as Error).message.replace(/^fromProto3JSONToInternalRepresentation: /, '')}`);
  }
  if (message === null) throw new FieldError(at, `not a valid ${type.name}`);
  return type.toObject(message as protobuf.Message, { longs: String, enums: String, defaults: false });
}
