/**
 * LogEntry in the JSON form `gcloud logging read --format=json` prints (the
 * REST API's LogEntry: https://cloud.google.com/logging/docs/reference/v2/rest/v2/LogEntry)
 * ↔ the client library's object form, which decodeEntry (lib/gather/log-query.ts)
 * reads. Only the fields that differ between the two are converted:
 * - timestamp / receiveTimestamp: RFC 3339 text ↔ google.protobuf.Timestamp;
 * - jsonPayload: plain JSON ↔ google.protobuf.Struct;
 * - protoPayload: fields inline next to "@type" ↔ google.protobuf.Any bytes
 *   (decodeEntry already reads the inline form, so reading passes it as is).
 * Everything else (logName, resource, severity as its enum name, labels,
 * insertId, textPayload) has the same shape in both.
 */
import type { protos } from '@google-cloud/logging';
import { fromStruct, inlineAuditPayload, timestampText, type AnyLike, type LogEntry } from '../gather/log-query.js';
import { parseRfc3339 } from '../timestamp.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A field of an input file that is not what the export prints; `path` names it (e.g. [3].timestamp). */
export class FieldError extends Error {
  override name = 'FieldError';
  constructor(
    readonly path: string,
    problem: string,
  ) {
    super(`${path}: ${problem}`);
  }
}

export function describeJson(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  return typeof v === 'object' ? 'an object' : `${typeof v} ${String(v)}`;
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function toValue(v: unknown, path: string): protos.google.protobuf.IValue {
  if (v === null) return { nullValue: 'NULL_VALUE' as never };
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'number') return { numberValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  if (Array.isArray(v)) return { listValue: { values: v.map((x, i) => toValue(x, `${path}[${i}]`)) } };
  if (isPlainObject(v)) return { structValue: toStruct(v, path) };
  throw new FieldError(path, `expected JSON, got ${describeJson(v)}`);
}

function toStruct(o: Record<string, unknown>, path: string): protos.google.protobuf.IStruct {
  return { fields: Object.fromEntries(Object.entries(o).map(([k, v]) => [k, toValue(v, `${path}.${k}`)])) };
}

function timestamp(v: unknown, path: string): protos.google.protobuf.ITimestamp | undefined {
  if (v === undefined) return undefined;
  const t = typeof v === 'string' ? parseRfc3339(v) : null;
  if (t === null) throw new FieldError(path, `expected an RFC 3339 timestamp such as "2026-11-26T18:02:44.123456Z", got ${describeJson(v)}`);
  return t;
}

/** One element of a gcloud logging read --format=json array → the client library's LogEntry. `at` names it ([3]). */
export function logEntryFromJson(json: unknown, at: string): LogEntry {
  if (!isPlainObject(json)) throw new FieldError(at, `expected a LogEntry object, got ${describeJson(json)}`);
  const e: LogEntry = { ...(json as LogEntry) };
  e.timestamp = timestamp(json.timestamp, `${at}.timestamp`);
  e.receiveTimestamp = timestamp(json.receiveTimestamp, `${at}.receiveTimestamp`);
  if (json.severity !== undefined && typeof json.severity !== 'string' && typeof json.severity !== 'number') {
    throw new FieldError(`${at}.severity`, `expected a LogSeverity name such as "NOTICE", got ${describeJson(json.severity)}`);
  }
  if (json.textPayload !== undefined && typeof json.textPayload !== 'string') {
    throw new FieldError(`${at}.textPayload`, `expected a string, got ${describeJson(json.textPayload)}`);
  }
  if (json.jsonPayload !== undefined) {
    if (!isPlainObject(json.jsonPayload)) throw new FieldError(`${at}.jsonPayload`, `expected an object, got ${describeJson(json.jsonPayload)}`);
    e.jsonPayload = toStruct(json.jsonPayload, `${at}.jsonPayload`);
  }
  if (json.protoPayload !== undefined) {
    const p = json.protoPayload;
    if (!isPlainObject(p) || typeof p['@type'] !== 'string') {
      throw new FieldError(`${at}.protoPayload`, `expected an object with its "@type" (e.g. type.googleapis.com/google.cloud.audit.AuditLog), got ${isPlainObject(p) ? 'an object without "@type"' : describeJson(p)}`);
    }
    for (const k of ['status', 'authenticationInfo', 'requestMetadata', 'request', 'response', 'metadata']) {
      if (p[k] !== undefined && !isPlainObject(p[k])) throw new FieldError(`${at}.protoPayload.${k}`, `expected an object, got ${describeJson(p[k])}`);
    }
    const status = p.status as Record<string, unknown> | undefined;
    if (status?.code !== undefined && !Number.isInteger(status.code)) throw new FieldError(`${at}.protoPayload.status.code`, `expected a google.rpc.Code number, got ${describeJson(status.code)}`);
  }
  return e;
}

/** The client library's LogEntry → the element gcloud logging read --format=json prints for it. */
export async function logEntryToJson(e: LogEntry): Promise<Record<string, Json>> {
  const out: Record<string, Json> = {};
  if (e.logName) out.logName = e.logName;
  if (e.resource) out.resource = { type: e.resource.type ?? '', labels: { ...(e.resource.labels ?? {}) } };
  const ts = timestampText(e.timestamp);
  if (ts !== null) out.timestamp = ts;
  const received = timestampText(e.receiveTimestamp);
  if (received !== null) out.receiveTimestamp = received;
  if (typeof e.severity === 'string' || typeof e.severity === 'number') out.severity = e.severity;
  if (e.insertId) out.insertId = e.insertId;
  if (e.labels && Object.keys(e.labels).length > 0) out.labels = { ...e.labels };
  const kind = (e as { payload?: unknown }).payload;
  if (typeof e.textPayload === 'string' && (kind === undefined || kind === 'textPayload')) out.textPayload = e.textPayload;
  else if (e.jsonPayload && (kind === undefined || kind === 'jsonPayload')) out.jsonPayload = fromStruct(e.jsonPayload);
  else if (e.protoPayload) {
    const any = e.protoPayload as AnyLike;
    // A payload type this project does not decode keeps only its type: its bytes are not read anyway.
    out.protoPayload = ((await inlineAuditPayload(any)) as Record<string, Json> | null) ?? { '@type': any.type_url ?? any.typeUrl ?? '' };
  }
  return out;
}
