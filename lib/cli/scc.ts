/**
 * Reading findings from SCC v2 for the operator commands. v2 has no
 * GetFinding: one finding is a ListFindings with a `name="…"` filter on its
 * source. Results come back in the client's object form (defaults filled in,
 * oneof helper keys); toNotificationJson turns one into the proto3 JSON of a
 * NotificationMessage, byte for byte the shape SCC publishes, so the same
 * parseNotification reads it as reads a real notification.
 */
import { createRequire } from 'node:module';
import type { protos } from '@google-cloud/security-center';
import { protobuf, serializer } from 'google-gax';
import { Throttle } from './retry.js';
import type { FindingRef } from './input.js';

export type ListFindingsRequest = protos.google.cloud.securitycenter.v2.IListFindingsRequest;
export type ListFindingsResult = protos.google.cloud.securitycenter.v2.ListFindingsResponse.IListFindingsResult;
export type V2Finding = protos.google.cloud.securitycenter.v2.IFinding;

/** The part of v2.SecurityCenterClient the commands read with. */
export interface SccReader {
  listFindings(request: ListFindingsRequest, options: { autoPaginate: false }): Promise<[ListFindingsResult[], ListFindingsRequest | null, unknown]>;
}

export interface NotificationJson {
  finding: Record<string, unknown>;
  resource?: Record<string, unknown>;
}

let types: { finding: protobuf.Type; resource: protobuf.Type } | null = null;

function sccTypes(): { finding: protobuf.Type; resource: protobuf.Type } {
  if (!types) {
    const json = createRequire(import.meta.url)('@google-cloud/security-center/build/protos/protos.json') as protobuf.INamespace;
    const root = protobuf.Root.fromJSON(json);
    types = {
      finding: root.lookupType('google.cloud.securitycenter.v2.Finding'),
      resource: root.lookupType('google.cloud.securitycenter.v2.Resource'),
    };
  }
  return types;
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

function toJson(type: protobuf.Type, object: unknown): Record<string, unknown> {
  const message = type.fromObject(object as Record<string, unknown>);
  return pruneDefaults(type, serializer.toProto3JSON(message as never) as Record<string, unknown>);
}

/** One ListFindings result → the NotificationMessage SCC would publish for it (without notificationConfigName). */
export function toNotificationJson(result: ListFindingsResult): NotificationJson {
  const { finding, resource } = sccTypes();
  if (!result.finding) throw new Error('ListFindings returned a result without a finding');
  const out: NotificationJson = { finding: toJson(finding, result.finding) };
  // ListFindingsResult.Resource and v2.Resource carry the same fields under the same numbers.
  if (result.resource) out.resource = toJson(resource, result.resource);
  return out;
}

export async function fetchFinding(scc: SccReader, ref: FindingRef, throttle = new Throttle()): Promise<ListFindingsResult | null> {
  const [results] = await throttle.run(() => scc.listFindings({ parent: ref.parent, filter: `name="${ref.name}"`, pageSize: 1 }, { autoPaginate: false }));
  return results.find((r) => r.finding?.name === ref.name) ?? null;
}

/** Every page of a listing, each page fetched with backoff. */
export async function* listAllFindings(
  scc: SccReader,
  request: ListFindingsRequest,
  throttle: Throttle,
  onRetry?: (attempt: number, delayMs: number, err: unknown) => void,
  signal?: AbortSignal,
): AsyncGenerator<ListFindingsResult[]> {
  let next: ListFindingsRequest | null = request;
  while (next !== null && !signal?.aborted) {
    const current: ListFindingsRequest = next;
    const [results, following] = await throttle.run(() => scc.listFindings(current, { autoPaginate: false }), onRetry, signal);
    yield results;
    next = following && following.pageToken ? following : null;
  }
}

/** Security marks of a v2 finding as a plain map. */
export function marksOf(finding: V2Finding | null | undefined): Record<string, string> {
  return { ...((finding?.securityMarks?.marks ?? {}) as Record<string, string>) };
}

