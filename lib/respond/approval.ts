/**
 * Who approved a response: the principal that set the `socat_response` mark
 * on our enrichment finding, read from the audit log of that marks update.
 *
 * Facts this rests on:
 * - UpdateSecurityMarks is audited as a Data Access log (permission
 *   securitycenter.findingsecuritymarks.update, type DATA_WRITE) under the
 *   method names google.cloud.securitycenter.{v1,v1beta1,v1p1beta1,v2}.SecurityCenter.UpdateSecurityMarks
 *   (https://cloud.google.com/security-command-center/docs/audit-logging,
 *   "Methods by permission type"). Data Access logs are off by default, so
 *   Terraform enables DATA_WRITE for securitycenter.googleapis.com on the
 *   organization, and reading them needs logging.privateLogEntries.list.
 *   The console may call any of these versions, so all are accepted.
 * - An AuditLog carries authenticationInfo.principalEmail, resourceName,
 *   status and the request as a Struct (google/cloud/audit/audit_log.proto);
 *   the request of UpdateSecurityMarks is UpdateSecurityMarksRequest
 *   {security_marks {name, marks}, update_mask} (securitycenter_service.proto),
 *   in proto3 JSON, where a FieldMask is one comma-separated string.
 *   "If empty or set to "marks", all marks will be replaced. Individual marks
 *   can be updated using "marks.<mark_key>"" (UpdateSecurityMarksRequest.update_mask).
 * - Mark keys are case-insensitive in SCC (lib/filter.ts).
 *
 * Everything in an audit entry and the mark value is attacker-reachable text:
 * anyone with marks permission can set the mark to anything, and a principal
 * is shown to people only cleaned and capped.
 */
import type { protos } from '@google-cloud/logging';
import type { LoggingClient } from '../clients.js';
import { isAdminPrincipal } from '../decide/verdict-settings.js';
import { decodeEntry, quoteValue, readLogPages, type DecodedEntry, type Json, type LogReadBudget } from '../gather/log-query.js';
import { cleanLine } from '../sanitize.js';
import { markValue } from '../scc/marks.js';
import { toMillis } from '../timestamp.js';
import { RESPONSE_ACTIONS, isResponseAction, type ResponseAction } from './types.js';

/** The mark an engineer sets on the enrichment finding to approve actions: `socat_response = capture,block-c2`. */
export const APPROVAL_MARK = 'socat_response';

export const UPDATE_MARKS_METHODS: readonly string[] = ['v1', 'v1beta1', 'v1p1beta1', 'v2'].map(
  (v) => `google.cloud.securitycenter.${v}.SecurityCenter.UpdateSecurityMarks`,
);

/** Attacker-reachable text, as it may appear in a reason: cleaned, capped and quoted. */
export function shown(text: string, max = 120): string {
  return JSON.stringify(cleanLine(text, max));
}


export type RequestedActions = { ok: true; actions: ResponseAction[] } | { ok: false; reason: string };

/**
 * The mark's value → the actions it asks for: one action or several separated
 * by commas, in any case and order, each at most once. They are carried out in
 * RESPONSE_ACTIONS order, so capture always comes before delete-pod.
 */
export function parseRequestedActions(value: string): RequestedActions {
  const items = value
    .split(',')
    .map((a) => a.trim().toLowerCase())
    .filter((a) => a !== '');
  if (items.length === 0) return { ok: false, reason: `the ${APPROVAL_MARK} mark names no action; set it to one or more of ${RESPONSE_ACTIONS.join(', ')}, separated by commas` };
  const unknown = items.filter((a) => !isResponseAction(a));
  if (unknown.length > 0) {
    return {
      ok: false,
      reason: `the ${APPROVAL_MARK} mark ${shown(value)} names ${unknown.length === 1 ? 'an unknown action' : 'unknown actions'} ${unknown.slice(0, 3).map((a) => shown(a, 40)).join(', ')}; known: ${RESPONSE_ACTIONS.join(', ')} (comma-separated). Nothing was done`,
    };
  }
  return { ok: true, actions: RESPONSE_ACTIONS.filter((a) => items.includes(a)) };
}

// ---------------------------------------------------------------------------
// The audit log query

export interface ApprovalQuery {
  /** organizations/O: where SCC's audit logs are written for organization-level findings. */
  organization: string;
  /** Our enrichment finding, organizations/O/sources/S/locations/global/findings/F. */
  enrichmentFinding: string;
  /** [start, end] of the search, RFC 3339. */
  window: { start: string; end: string };
}

const ENRICHMENT_NAME = /^(organizations\/\d+)\/sources\/(\d+)(?:\/locations\/[a-z0-9-]+)?\/findings\/([A-Za-z0-9]{1,32})$/;

/** Both name forms of one finding: v1 (no location) and v2 (…/locations/L/…), with or without /securityMarks. */
function findingNameKey(name: string): string | null {
  const m = /^(organizations\/\d+\/sources\/\d+)(?:\/locations\/[^/]+)?\/findings\/([A-Za-z0-9]{1,32})(?:\/securityMarks)?$/.exec(name);
  return m ? `${m[1]}/findings/${m[2]}` : null;
}

/**
 * The filter: our organization's Data Access audit log, SCC's marks updates,
 * on this finding in either API version's name form. Finding and source ids
 * are digits and alphanumerics (checked), so the regular expression needs no
 * escaping beyond the dots.
 */
export function approvalLogFilter(q: ApprovalQuery): string {
  const m = ENRICHMENT_NAME.exec(q.enrichmentFinding);
  if (!m) throw new Error(`not an enrichment finding name: ${q.enrichmentFinding}`);
  const [, org, source, id] = m as unknown as [string, string, string, string];
  return [
    `logName=${quoteValue(`${q.organization}/logs/cloudaudit.googleapis.com%2Fdata_access`)}`,
    `protoPayload.serviceName="securitycenter.googleapis.com"`,
    `protoPayload.methodName=~"^google\\\\.cloud\\\\.securitycenter\\\\.v[0-9a-z]+\\\\.SecurityCenter\\\\.UpdateSecurityMarks$"`,
    `protoPayload.resourceName=~"^${org}/sources/${source}(/locations/[^/]+)?/findings/${id}(/securityMarks)?$"`,
    `timestamp>=${quoteValue(q.window.start)}`,
    `timestamp<=${quoteValue(q.window.end)}`,
  ].join('\n');
}

// ---------------------------------------------------------------------------
// Reading one entry

/** The change one audit entry made to the mark. */
export interface MarkChange {
  /** authenticationInfo.principalEmail (raw: compare, never show uncleaned). */
  principal: string | null;
  /** The entry's timestamp, RFC 3339. */
  time: string | null;
  /** LogEntry.insert_id: names this approval in the records (the loop guard). */
  entryId: string;
  /** The value it set; null when it removed the mark; undefined when the entry does not show the value. */
  value: string | null | undefined;
  method: string;
}

function asObject(v: Json | undefined): Record<string, Json> | null {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? v : null;
}

/** A FieldMask as proto3 JSON writes it ("a,b") or as an object ({paths: [...]}) → its paths. */
function maskPaths(mask: Json | undefined): string[] | null {
  if (mask === undefined || mask === null) return [];
  if (typeof mask === 'string') return mask.split(',').map((p) => p.trim()).filter((p) => p !== '');
  const paths = asObject(mask)?.['paths'];
  if (Array.isArray(paths) && paths.every((p) => typeof p === 'string')) return (paths as string[]).filter((p) => p !== '');
  return null;
}

export type EntryReading =
  | { kind: 'other' }
  | { kind: 'change'; change: MarkChange }
  /** It may have changed the mark, but the entry does not show whether. */
  | { kind: 'unreadable'; why: string };

/** What one decoded entry says about `key` on this finding. Pure. */
export function readEntry(decoded: DecodedEntry, insertId: string, findingName: string, key: string): EntryReading {
  const a = decoded.audit;
  if (!a || a.methodName === null || !UPDATE_MARKS_METHODS.includes(a.methodName)) return { kind: 'other' };
  const target = findingNameKey(findingName);
  if (a.resourceName === null || target === null || findingNameKey(a.resourceName) !== target) return { kind: 'other' };
  // A refused or failed call changed nothing (google.rpc.Status code 0 is OK).
  if ((a.statusCode !== null && a.statusCode !== 0) || a.granted === false) return { kind: 'other' };
  const request = a.request;
  if (request === null) return { kind: 'unreadable', why: 'the audit entry does not carry its request, so which marks it changed cannot be told' };
  const paths = maskPaths(request['updateMask'] ?? request['update_mask']);
  if (paths === null) return { kind: 'unreadable', why: 'the audit entry carries an update mask in an unknown form' };
  const replacesAll = paths.length === 0 || (paths.length === 1 && paths[0] === 'marks');
  const touches = replacesAll || paths.some((p) => p.toLowerCase() === `marks.${key.toLowerCase()}`);
  if (!touches) return { kind: 'other' };
  const sm = asObject(request['securityMarks'] ?? request['security_marks']);
  // proto3 JSON omits an empty map: securityMarks without marks asked for none, so the key was removed.
  const marks = sm === null ? undefined : sm['marks'] === undefined ? {} : (asObject(sm['marks']) ?? undefined);
  const v = marks === undefined ? undefined : markValue(marks, key);
  const value: string | null | undefined = marks === undefined ? undefined : v === undefined ? null : v.trim();
  return { kind: 'change', change: { principal: a.principal, time: decoded.timestamp, entryId: insertId, value, method: a.methodName } };
}

// ---------------------------------------------------------------------------
// The lookup

export type SetterLookup =
  | { status: 'found'; change: MarkChange; note: string | null }
  /** retryable: the entry may not be readable yet (audit logs arrive with a delay), so Pub/Sub should redeliver. */
  | { status: 'unavailable'; reason: string; retryable: boolean };

/**
 * From the entries of a read, newest first: the latest change of the mark is
 * who set what the notification shows. An entry that may have touched it but
 * does not say so stops the search (an older one cannot be trusted past it).
 */
export function setterFromEntries(
  entries: ReadonlyArray<{ decoded: DecodedEntry; insertId: string }>,
  read: { incomplete: string | null },
  target: { findingName: string; key: string; value: string; publishedAtMs: number },
  young: boolean,
): SetterLookup {
  for (const { decoded, insertId } of entries) {
    const r = readEntry(decoded, insertId, target.findingName, target.key);
    if (r.kind === 'other') continue;
    if (r.kind === 'unreadable') return { status: 'unavailable', reason: r.why, retryable: false };
    const c = r.change;
    if (c.value !== undefined && c.value !== target.value.trim()) {
      const set = c.value === null ? 'removed it' : `set it to ${shown(c.value)}`;
      return {
        status: 'unavailable',
        reason: `the latest change of the ${target.key} mark in the audit log (${c.time ?? 'no time'}) ${set}, not ${shown(target.value)} as notified; a newer change may not be in the log yet`,
        retryable: young,
      };
    }
    // Without the value, only an entry from before the notification can be the change it announces.
    if (c.value === undefined && (c.time === null || (toMillis(c.time) ?? Infinity) > target.publishedAtMs)) {
      return { status: 'unavailable', reason: `the latest change of the ${target.key} mark in the audit log does not show its value and is not from before the notification`, retryable: false };
    }
    if (c.principal === null) return { status: 'unavailable', reason: `the audit entry of the change (${c.time ?? 'no time'}) names no principal`, retryable: false };
    return { status: 'found', change: c, note: c.value === undefined ? 'the audit entry does not show the value it set; it is the latest change of the mark' : null };
  }
  if (read.incomplete !== null) return { status: 'unavailable', reason: `the audit log read was incomplete (${read.incomplete}) and found no change of the ${target.key} mark`, retryable: young };
  return {
    status: 'unavailable',
    reason:
      `no Data Access audit entry records who set the ${target.key} mark (read every page of the window); ` +
      'check that DATA_WRITE audit logs are enabled for securitycenter.googleapis.com on the organization, then set the mark again',
    retryable: young,
  };
}

/** Audit log entries reach the index some time after the call; until then an absence proves nothing. */
export const AUDIT_LOG_GRACE_MS = 5 * 60_000;

/**
 * The audit entry is stamped when the request is made, before SCC publishes
 * the notification; this much later is still accepted for clock differences
 * between Cloud Logging and Pub/Sub (a later change to another value is told
 * apart by its value).
 */
const SKEW_MS = 5_000;

export interface SetterRequest {
  organization: string;
  enrichmentFinding: string;
  value: string;
  /** When the notification was published (bounds the search); null: now. */
  publishedAt: string | null;
  now: Date;
  windowMinutes: number;
  budget: LogReadBudget;
  signal: AbortSignal;
}

/**
 * Reads the audit log newest first (lib/gather/log-query.ts readLogPages:
 * page after page within budget, incomplete when cut) and finds the setter.
 * Errors of the read itself are thrown to the caller (transient → retry).
 */
export async function findMarkSetter(client: LoggingClient, req: SetterRequest): Promise<SetterLookup> {
  const published = (req.publishedAt === null ? null : toMillis(req.publishedAt)) ?? req.now.getTime();
  const end = new Date(Math.min(published + SKEW_MS, req.now.getTime() + SKEW_MS));
  const window = { start: new Date(published - req.windowMinutes * 60_000).toISOString(), end: end.toISOString() };
  const filter = approvalLogFilter({ organization: req.organization, enrichmentFinding: req.enrichmentFinding, window });
  const request: protos.google.logging.v2.IListLogEntriesRequest = { resourceNames: [req.organization], filter, orderBy: 'timestamp desc' };
  const read = await readLogPages(client, request, req.budget, req.signal);
  const entries = await Promise.all(read.entries.map(async (e) => ({ decoded: await decodeEntry(e), insertId: e.insertId ?? '' })));
  const young = req.now.getTime() - published < AUDIT_LOG_GRACE_MS;
  return setterFromEntries(entries, read, { findingName: req.enrichmentFinding, key: APPROVAL_MARK, value: req.value, publishedAtMs: published }, young);
}

// ---------------------------------------------------------------------------
// Whether the setter may approve

export interface ApproverSettings {
  approvers: readonly string[];
  triageServiceAccount: string | null;
}

export type ApproverDecision =
  | { kind: 'person'; approver: string }
  | { kind: 'automatic' }
  | { kind: 'refused'; reason: string };

/** The setter → an approver on RESPONSE_APPROVERS, the triage's own automatic request, or a refusal naming the principal. */
export function decideApprover(principal: string, settings: ApproverSettings): ApproverDecision {
  const p = principal.trim().toLowerCase();
  if (settings.triageServiceAccount !== null && p === settings.triageServiceAccount) return { kind: 'automatic' };
  if (isAdminPrincipal(p, settings.approvers)) return { kind: 'person', approver: cleanLine(p, 200) };
  return {
    kind: 'refused',
    reason:
      settings.approvers.length === 0
        ? `${shown(principal)} set the ${APPROVAL_MARK} mark, but RESPONSE_APPROVERS is empty: no one may approve responses. Nothing was done`
        : `${shown(principal)} set the ${APPROVAL_MARK} mark but is not in RESPONSE_APPROVERS. Nothing was done; ask an approver to set the mark`,
  };
}

/**
 * AUTO_RESPONSE: the actions the triage requests itself for this verdict (by
 * setting the approval mark, lib/scc/writeback.ts), or none. The responder
 * checks the same conditions again before acting (lib/respond/responder.ts).
 */
export function automaticRequest(verdict: { level: string; score: number }, settings: { autoActions: readonly ResponseAction[]; autoMinScore: number }): ResponseAction[] {
  if (settings.autoActions.length === 0 || verdict.level !== 'likely_malicious' || verdict.score < settings.autoMinScore) return [];
  return [...settings.autoActions];
}
