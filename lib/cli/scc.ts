/**
 * Reading findings from SCC v2 for the operator commands. v2 has no
 * GetFinding: one finding is a ListFindings with a `name="…"` filter on its
 * source. Results come back in the client's object form (defaults filled in,
 * oneof helper keys); toNotificationJson turns one into the proto3 JSON of a
 * NotificationMessage, byte for byte the shape SCC publishes, so the same
 * parseNotification reads it as reads a real notification.
 */
import type { protos } from '@google-cloud/security-center';
import type { protobuf } from 'google-gax';
import { fromJson, protoType, toJson } from './proto-json.js';
import { Throttle } from '../retry.js';
import { parseNotification } from '../finding/parse.js';
import type { SocatFinding } from '../finding/types.js';
import type { FindingRef } from './input.js';

import { fetchFinding as fetchOne, type ListFindingsRequest, type ListFindingsResult, type SccReader } from '../scc/find.js';

export type { ListFindingsRequest, ListFindingsResult, SccReader } from '../scc/find.js';
export type V2Finding = protos.google.cloud.securitycenter.v2.IFinding;

export interface NotificationJson {
  finding: Record<string, unknown>;
  resource?: Record<string, unknown>;
}

function sccTypes(): { finding: protobuf.Type; resource: protobuf.Type } {
  return {
    finding: protoType('@google-cloud/security-center/build/protos/protos.json', 'google.cloud.securitycenter.v2.Finding'),
    resource: protoType('@google-cloud/security-center/build/protos/protos.json', 'google.cloud.securitycenter.v2.Resource'),
  };
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

/**
 * One element of `gcloud scc findings list --format=json` (a ListFindingsResult
 * in proto3 JSON: {finding, resource}; see
 * https://cloud.google.com/security-command-center/docs/reference/rest/v2/ListFindingsResponse#ListFindingsResult)
 * → the client library's object form, as listFindings returns it.
 */
export function fromListResultJson(json: Record<string, unknown>, at: string): ListFindingsResult {
  const { finding, resource } = sccTypes();
  return {
    finding: json.finding === undefined ? null : (fromJson(finding, json.finding, `${at}.finding`) as V2Finding),
    resource: json.resource === undefined ? null : (fromJson(resource, json.resource, `${at}.resource`) as ListFindingsResult['resource']),
  };
}

/** lib/scc/find.ts fetchFinding, with the commands' quota backoff. */
export function fetchFinding(scc: SccReader, ref: FindingRef, throttle = new Throttle()): Promise<ListFindingsResult | null> {
  return fetchOne(scc, ref, throttle);
}

/**
 * One finding read by name and parsed as the triage parses a notification;
 * `text` is the NotificationMessage JSON, the finding.json `--save-evidence`
 * writes. Null when ListFindings does not return it. `triage NAME` and the
 * responder's re-gathering for capture (lib/respond/regather.ts) both read
 * the original finding this way.
 */
export async function readFindingByName(scc: SccReader, ref: FindingRef): Promise<{ finding: SocatFinding; text: string } | null> {
  const result = await fetchFinding(scc, ref);
  if (!result) return null;
  const notification = toNotificationJson(result);
  return { finding: parseNotification(notification), text: JSON.stringify(notification, null, 2) };
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

