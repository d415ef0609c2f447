/**
 * What the three log gatherers (pod, cluster audit, node) share: the query
 * window, filter text, the one-page ListLogEntries call under the shared
 * deadline, decoding entries (audit payloads included) and turning entries
 * into redacted, cleaned excerpt lines plus a Logs Explorer link that
 * reproduces the query.
 *
 * Why the low-level client: the high-level Logging.getEntries silently adds a
 * last-24-hours restriction when a filter has no timestamp, and pages on its
 * own. Here every query carries an explicit [start, end] and reads one page.
 */
import type { protos } from '@google-cloud/logging';
import type { protobuf as protobufTypes } from 'google-gax';
import type { LoggingClient } from '../clients.js';
import { describeError } from '../errors.js';
import type { SocatFinding } from '../finding/types.js';
import { redactArgv, redactSecrets } from '../redact.js';
import { cleanLine, truncate } from '../sanitize.js';
import { toMillis } from '../timestamp.js';
import type { GatherDeps, GatherSettings } from './deps.js';
import type { GatheredSections, LogLine, LogSection } from './sections.js';
import { GatherGap, type GatherContext } from './types.js';
import { untilAborted } from './abort.js';
import { DROPPED_CONNECTION_RETRY, isDroppedOrQuota, isQuotaExceeded, LOG_READ_RETRY, retry, Throttle, type RetryPolicy } from '../retry.js';
import { LOG_READ_CUT, type EvidenceFile } from './evidence.js';

export type LogEntry = protos.google.logging.v2.ILogEntry;
export type LogGatherContext = GatherContext<GatherDeps, GatheredSections>;

export const LOGGING_API = 'logging.googleapis.com LoggingServiceV2.ListLogEntries';
/**
 * Admin Activity audit logs (the only audit log read here) need no more than
 * logging.logEntries.list; Data Access audit logs would also need
 * logging.privateLogEntries.list, which this function deliberately lacks.
 */
export const LOGGING_PERMISSIONS = ['logging.logEntries.list'] as const;

// ---------------------------------------------------------------------------
// Project

/** A project id as Resource Manager allows it (6–30 chars, lower case, starts with a letter). */
const PROJECT_ID = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/;

export interface LogProject {
  /** For resourceNames: what the cluster resource name carries (id or number); the API accepts both. */
  resource: string;
  /**
   * For resource.labels.project_id and logName, which always hold the project
   * ID. When the cluster resource name carries a number, projectDisplayName is
   * used if it has the shape of a project id (for GKE findings it is the id).
   * resourceNames still uses the number, so a display name that is not the id
   * can make the query match nothing, but never read another project.
   */
  id: string;
  /** Only a project number is known: the project_id / logName restrictions will probably match nothing. */
  numberOnly: boolean;
}

export function logProject(finding: SocatFinding): LogProject | null {
  const p = finding.cluster?.project;
  if (!p) return null;
  if (!/^\d+$/.test(p)) return { resource: p, id: p, numberOnly: false };
  const display = finding.projectDisplayName;
  if (display && PROJECT_ID.test(display)) return { resource: p, id: display, numberOnly: false };
  return { resource: p, id: p, numberOnly: true };
}

export function numberOnlyGap(project: LogProject): string {
  return (
    `the finding gives project ${project.resource} only as a number and no project id; resource.labels.project_id and logName ` +
    'hold the project id, so this query may have matched nothing: rerun it in Logs Explorer with the project id'
  );
}

// ---------------------------------------------------------------------------
// Window, filter text, link

export interface LogWindow {
  start: string;
  end: string;
}

/**
 * [eventTime − before, eventTime + after]. Without a usable eventTime the
 * window is centred on now, and `centredOnNow` says so for the gap note.
 */
export function logWindow(eventTime: string | null, settings: GatherSettings, now: Date): { window: LogWindow; centredOnNow: boolean } {
  const parsed = eventTime === null ? null : toMillis(eventTime);
  const centre = parsed ?? now.getTime();
  return {
    window: {
      start: new Date(centre - settings.logWindowBeforeMinutes * 60_000).toISOString(),
      end: new Date(centre + settings.logWindowAfterMinutes * 60_000).toISOString(),
    },
    centredOnNow: parsed === null,
  };
}

/** A Logging query language string literal. Finding fields are untrusted: nothing can close the quote. */
export function quoteValue(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t')}"`;
}

export function restriction(field: string, value: string): string {
  return `${field}=${quoteValue(value)}`;
}

/**
 * One restriction per line, as the playbook writes them: Cloud Logging reads
 * juxtaposed restrictions as AND, and the text pastes into Logs Explorer as is.
 */
export function filterWithWindow(lines: readonly string[], window: LogWindow): string {
  return [...lines, `timestamp>=${quoteValue(window.start)}`, `timestamp<=${quoteValue(window.end)}`].join('\n');
}

export function logsExplorerLink(filter: string, window: LogWindow, project: string): string {
  return (
    'https://console.cloud.google.com/logs/query' +
    `;query=${encodeURIComponent(filter)}` +
    `;timeRange=${encodeURIComponent(window.start)}%2F${encodeURIComponent(window.end)}` +
    `?project=${encodeURIComponent(project)}`
  );
}

// ---------------------------------------------------------------------------
// The call

/**
 * Every log read of the instance waits behind this gate: Cloud Logging's read
 * quota is per project (60 entries.list requests a minute,
 * https://cloud.google.com/logging/quotas#api-limits), so once one read is
 * refused the others would be too, and they pause together (lib/retry.ts).
 */
export const LOG_READ_GATE = new Throttle(LOG_READ_RETRY);

/**
 * How a read meets a spent quota. "wait": retried under LOG_READ_GATE until
 * the caller's deadline (the shared audit read, which attribution needs and
 * which serves every finding on its cluster). "yield": no quota retry, and no
 * call at all while the gate is paused (a pod's or node's own logs): in a
 * burst these per-finding reads would otherwise take every slot of the quota
 * from the one read per cluster that matters most. A yielded read is a gap
 * naming the quota.
 */
export type LogReadPriority = 'wait' | 'yield';

/** "yield" reads retry only a dropped connection. */
const LOG_READ_DROPPED_RETRY: RetryPolicy = { ...DROPPED_CONNECTION_RETRY, retryable: (err) => isDroppedOrQuota(err) && !isQuotaExceeded(err) };

function quotaYield(): GatherGap {
  return new GatherGap(
    'Cloud Logging read quota exhausted (60 entries.list requests a minute per project): this read yielded to the shared audit-log read, which attribution needs',
  );
}

function abortError(): GatherGap {
  return new GatherGap('deadline reached while waiting for Cloud Logging');
}

type ListLogEntriesRequest = protos.google.logging.v2.IListLogEntriesRequest;
type ListLogEntriesResult = [LogEntry[] | null, ListLogEntriesRequest | null, protos.google.logging.v2.IListLogEntriesResponse | null];

/** The API's own maximum page size (ListLogEntriesRequest.page_size in google/logging/v2/logging.proto). */
export const MAX_PAGE_SIZE = 1000;

export interface LogReadBudget {
  /** ListLogEntries calls at most. */
  pages: number;
  /** Entries at most, over all pages. */
  entries: number;
}

export interface LogRead {
  /** In the order read (the request's orderBy). */
  entries: LogEntry[];
  pagesRead: number;
  /** Why the read stopped before the last page; null: every page was read, so an absence in it is evidence. */
  incomplete: string | null;
}

/**
 * ListLogEntries page after page until no nextPageToken remains, the budget is
 * spent or the signal aborts. A page may hold fewer entries than asked for,
 * or none, and still carry a token: the proto says an empty page with a token
 * means the search "did not have time to search all the possible log entries"
 * and is to be continued with that token (ListLogEntriesResponse.next_page_token,
 * google/logging/v2/logging.proto; https://cloud.google.com/logging/docs/reference/v2/rest/v2/entries/list).
 * So only a missing token ends the read as complete. gax's own retry (up to
 * 10 minutes for this method) is off: refused and dropped calls go through
 * LOG_READ_RETRY under the caller's signal instead.
 */
export async function readLogPages(
  client: LoggingClient,
  request: ListLogEntriesRequest,
  budget: LogReadBudget,
  signal: AbortSignal,
  priority: LogReadPriority = 'wait',
): Promise<LogRead> {
  const entries: LogEntry[] = [];
  let pagesRead = 0;
  let token = '';
  for (;;) {
    const left = budget.entries - entries.length;
    if (pagesRead >= budget.pages) return { entries, pagesRead, incomplete: `stopped at the budget of ${budget.pages} pages with more to read` };
    if (left <= 0) return { entries, pagesRead, incomplete: `stopped at the budget of ${budget.entries} entries with more to read` };
    if (signal.aborted) return { entries, pagesRead, incomplete: `the deadline stopped the read after ${pagesRead} pages with more to read` };
    const pageRequest: ListLogEntriesRequest = { ...request, pageSize: Math.min(MAX_PAGE_SIZE, left), ...(token ? { pageToken: token } : {}) };
    if (priority === 'yield' && LOG_READ_GATE.paused) throw quotaYield();
    let result: ListLogEntriesResult;
    try {
      // LoggingClient is `any` (@google-cloud/logging declares its v2 export untyped): pin the documented result shape.
      result = await untilAborted(
        priority === 'wait'
          ? retry(() => client.listLogEntries(pageRequest, { autoPaginate: false, retry: null }) as Promise<ListLogEntriesResult>, LOG_READ_RETRY, { signal, gate: LOG_READ_GATE })
          : retry(() => client.listLogEntries(pageRequest, { autoPaginate: false, retry: null }) as Promise<ListLogEntriesResult>, LOG_READ_DROPPED_RETRY, { signal }),
        signal,
        abortError,
      );
    } catch (err) {
      // A refusal tells every reader of the instance, waiting or not, that the quota is spent.
      if (isQuotaExceeded(err)) LOG_READ_GATE.pause(LOG_READ_RETRY.baseMs);
      if (signal.aborted && pagesRead > 0) return { entries, pagesRead, incomplete: `the deadline stopped the read after ${pagesRead} pages with more to read` };
      throw explain(err, request);
    }
    const [page, , response] = result;
    pagesRead++;
    entries.push(...(page ?? []));
    token = response?.nextPageToken ?? '';
    if (!token) return { entries, pagesRead, incomplete: null };
  }
}

function explain(err: unknown, request: ListLogEntriesRequest): unknown {
  if (err instanceof GatherGap) return err;
  const code = (err as { code?: unknown } | null)?.code;
  if (code === 8) {
    return new GatherGap(
      `Cloud Logging read quota exhausted (RESOURCE_EXHAUSTED; entries.list is limited to 60 requests a minute per project) and still refused after waiting: ${describeError(err)}`,
    );
  }
  if (code === 7 && err instanceof Error) {
    // Keep the code so the runner files it as a denial; add what is missing.
    const where = (request.resourceNames ?? []).join(', ');
    return Object.assign(new Error(`${err.message.split('\n')[0] ?? ''} (needs logging.logEntries.list on ${where})`), { code: 7 });
  }
  return err;
}

// ---------------------------------------------------------------------------
// Decoding entries

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface AuditRecord {
  serviceName: string | null;
  methodName: string | null;
  resourceName: string | null;
  principal: string | null;
  callerIp: string | null;
  userAgent: string | null;
  statusCode: number | null;
  statusMessage: string | null;
  /** false when any authorizationInfo[] entry says granted: false; null when none says either way. */
  granted: boolean | null;
  request: Record<string, Json> | null;
  response: Record<string, Json> | null;
  metadata: Record<string, Json> | null;
}

export interface DecodedEntry {
  timestamp: string | null;
  severity: string | null;
  /** Raw, untrusted text of the entry (before redaction and cleaning). */
  text: string;
  audit: AuditRecord | null;
  /** LogEntry.labels: GKE puts the authorizer's decision and an exec's command here (test/fixtures/gke-audit/SOURCES.md). */
  labels: Record<string, string>;
}

const AUDIT_LOG_TYPE = 'google.cloud.audit.AuditLog';

// Neither the Logging client nor google-gax ships audit_log.proto, so the
// fields read here are declared with the numbers googleapis gives them in
// google/cloud/audit/audit_log.proto (and google/rpc/status.proto).
const AUDIT_DESCRIPTOR = {
  google: {
    nested: {
      cloud: {
        nested: {
          audit: {
            nested: {
              AuditLog: {
                fields: {
                  serviceName: { type: 'string', id: 7 },
                  methodName: { type: 'string', id: 8 },
                  resourceName: { type: 'string', id: 11 },
                  status: { type: 'google.rpc.Status', id: 2 },
                  authenticationInfo: { type: 'AuthenticationInfo', id: 3 },
                  authorizationInfo: { rule: 'repeated', type: 'AuthorizationInfo', id: 9 },
                  requestMetadata: { type: 'RequestMetadata', id: 4 },
                  request: { type: 'google.protobuf.Struct', id: 16 },
                  response: { type: 'google.protobuf.Struct', id: 17 },
                  metadata: { type: 'google.protobuf.Struct', id: 18 },
                },
              },
              AuthenticationInfo: { fields: { principalEmail: { type: 'string', id: 1 }, principalSubject: { type: 'string', id: 8 } } },
              AuthorizationInfo: { fields: { resource: { type: 'string', id: 1 }, permission: { type: 'string', id: 2 }, granted: { type: 'bool', id: 3 } } },
              RequestMetadata: { fields: { callerIp: { type: 'string', id: 1 }, callerSuppliedUserAgent: { type: 'string', id: 2 } } },
            },
          },
        },
      },
      rpc: { nested: { Status: { fields: { code: { type: 'int32', id: 1 }, message: { type: 'string', id: 2 } } } } },
    },
  },
};

let auditLogType: Promise<protobufTypes.Type> | null = null;

// google-gax is already loaded by the time an entry is decoded (the client needs it): the import costs nothing extra.
function auditType(): Promise<protobufTypes.Type> {
  auditLogType ??= import('google-gax').then(({ protobuf }) => {
    const root = new protobuf.Root();
    const struct = protobuf.common.get('google/protobuf/struct.proto') as { nested: Record<string, protobufTypes.AnyNestedObject> } | null;
    if (!struct) throw new Error('protobufjs lacks its bundled google/protobuf/struct.proto');
    root.addJSON(struct.nested);
    root.addJSON(AUDIT_DESCRIPTOR);
    return root.lookupType(AUDIT_LOG_TYPE);
  });
  return auditLogType;
}

type ProtoValue = protos.google.protobuf.IValue;

function fromValue(v: ProtoValue | null | undefined): Json {
  if (!v) return null;
  if (typeof v.stringValue === 'string') return v.stringValue;
  if (typeof v.numberValue === 'number') return v.numberValue;
  if (typeof v.boolValue === 'boolean') return v.boolValue;
  if (v.structValue) return fromStruct(v.structValue);
  if (v.listValue) return (v.listValue.values ?? []).map(fromValue);
  return null;
}

export function fromStruct(s: protos.google.protobuf.IStruct | null | undefined): Record<string, Json> {
  return Object.fromEntries(Object.entries(s?.fields ?? {}).map(([k, v]) => [k, fromValue(v)]));
}

const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);

export function timestampText(t: protos.google.protobuf.ITimestamp | null | undefined): string | null {
  if (!t || t.seconds === null || t.seconds === undefined) return null;
  const seconds = Number(t.seconds);
  const nanos = Number(t.nanos ?? 0);
  if (!Number.isFinite(seconds) || !Number.isFinite(nanos)) return null;
  const d = new Date(seconds * 1000);
  if (Number.isNaN(d.getTime())) return null;
  const base = d.toISOString().slice(0, 19);
  return nanos === 0 ? `${base}Z` : `${base}.${String(nanos).padStart(9, '0').replace(/0+$/, '')}Z`;
}

function severityText(s: unknown): string | null {
  if (typeof s === 'string') return s;
  if (typeof s === 'number') return String(s);
  return null;
}

export interface AnyLike {
  type_url?: string | null;
  typeUrl?: string | null;
  value?: Uint8Array | string | null;
  '@type'?: string;
  [key: string]: unknown;
}

function grantedOf(info: unknown): boolean | null {
  if (!Array.isArray(info)) return null;
  const flags = info.map((i) => (i && typeof i === 'object' ? (i as { granted?: unknown }).granted : undefined)).filter((g): g is boolean => typeof g === 'boolean');
  if (flags.includes(false)) return false;
  return flags.length > 0 ? true : null;
}

/**
 * An AuditLog payload in the JSON form (fields inline next to "@type", as
 * the REST API and `gcloud logging read --format=json` print it), whichever
 * form it arrived in; null for another payload type or undecodable bytes.
 * decodeAudit reads this form, and --save-evidence writes it.
 */
export async function inlineAuditPayload(payload: AnyLike): Promise<Record<string, any> | null> {
  // Over gRPC the payload is a google.protobuf.Any; protobufjs names its type
  // field type_url regardless of keepCase. A JSON transport would instead
  // inline the fields next to "@type".
  const typeUrl = payload.type_url ?? payload.typeUrl ?? payload['@type'] ?? '';
  if (!typeUrl.endsWith(`/${AUDIT_LOG_TYPE}`)) return null;
  if (payload.value !== undefined && payload.value !== null && typeof payload['@type'] !== 'string') {
    const type = await auditType();
    const bytes = typeof payload.value === 'string' ? Buffer.from(payload.value, 'base64') : payload.value;
    let o: Record<string, any>;
    try {
      o = type.toObject(type.decode(bytes), { longs: String, enums: String, defaults: false }) as Record<string, any>;
    } catch {
      return null;
    }
    for (const k of ['request', 'response', 'metadata']) if (o[k]) o[k] = fromStruct(o[k]);
    return { '@type': typeUrl, ...o };
  }
  return payload;
}

async function decodeAudit(payload: AnyLike): Promise<AuditRecord | null> {
  const o = await inlineAuditPayload(payload);
  if (o === null) return null;
  const asObject = (v: unknown): Record<string, Json> | null => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, Json>) : null);
  return {
    serviceName: str(o.serviceName),
    methodName: str(o.methodName),
    resourceName: str(o.resourceName),
    principal: str(o.authenticationInfo?.principalEmail) ?? str(o.authenticationInfo?.principalSubject),
    callerIp: str(o.requestMetadata?.callerIp),
    userAgent: str(o.requestMetadata?.callerSuppliedUserAgent),
    statusCode: typeof o.status?.code === 'number' ? o.status.code : null,
    statusMessage: str(o.status?.message),
    granted: grantedOf(o.authorizationInfo),
    request: asObject(o.request),
    response: asObject(o.response),
    metadata: asObject(o.metadata),
  };
}

/**
 * A pods/exec resource name carries the command in its query, one `command=`
 * parameter per argument, so a flag and its value (`--password`, `VALUE`) are
 * separate parameters that text redaction cannot pair up: they are redacted
 * as an argv. Unchanged when there is nothing to redact.
 */
function redactExecQuery(resourceName: string): string {
  const q = resourceName.indexOf('?');
  if (q < 0) return resourceName;
  const params = [...new URLSearchParams(resourceName.slice(q + 1))];
  const command = params.filter(([k]) => k === 'command').map(([, v]) => v);
  const redacted = redactArgv(command);
  if (redacted.every((v, i) => v === command[i])) return resourceName;
  let i = 0;
  // Markers stay readable ([REDACTED:password]); everything else is encoded as a query is.
  const encode = (v: string) => encodeURIComponent(v).replace(/%5B|%5D|%3A/g, decodeURIComponent);
  const query = params.map(([k, v]) => `${encode(k)}=${encode(k === 'command' ? (redacted[i++] as string) : v)}`).join('&');
  return `${resourceName.slice(0, q)}?${query}`;
}

export function auditSummary(a: AuditRecord): string {
  const target = a.resourceName ? ` on ${redactExecQuery(a.resourceName)}` : '';
  const denied = a.statusCode !== null && a.statusCode !== 0 ? ` (failed with status ${a.statusCode})` : '';
  return `${a.methodName ?? 'unknown method'}${target} by ${a.principal ?? 'unknown principal'} from ${a.callerIp ?? 'unknown IP'}${denied}`;
}

/**
 * Where a structured entry keeps its text, most specific first:
 * - `MESSAGE`: journald fields as GKE's node agent ships them, upper case,
 *   next to SYSLOG_IDENTIFIER, _SYSTEMD_UNIT, _PID, ... (k8s_node entries of
 *   containerd and kubelet; public sample: SEKOIA-IO/documentation,
 *   _shared_content/operations_center/integrations/generated/00bbde4f-cb17-4c3f-9f5e-a585fc7c8fc0.md,
 *   "gke_container_runtime2.json"; the field is journald's own, see
 *   https://www.freedesktop.org/software/systemd/man/latest/systemd.journal-fields.html).
 * - `message`: Cloud Logging's special field for structured logs written to
 *   stdout (https://cloud.google.com/logging/docs/structured-logging) and the
 *   Kubernetes event entries GKE writes (same SEKOIA sample set, "gke_log_id_event.json").
 * - `msg` (klog/logr JSON, zap, logrus), `log` (fluent-bit's raw line), `textPayload`
 *   (a JSON producer that named its field like the LogEntry field).
 * journald ships a MESSAGE that is not valid UTF-8 as an array of byte values
 * (systemd's JSON export format, https://systemd.io/JOURNAL_EXPORT_FORMATS/);
 * those bytes are decoded, invalid sequences replaced. Anything else falls
 * back to the whole payload as JSON, so nothing is silently dropped.
 */
const MESSAGE_FIELDS = ['MESSAGE', 'message', 'msg', 'log', 'textPayload'] as const;
/** journald fields naming who wrote the line, in preference order; shown as "name: text" as syslog does. */
const JOURNALD_SOURCE_FIELDS = ['SYSLOG_IDENTIFIER', '_COMM', '_SYSTEMD_UNIT'] as const;

function messageText(v: Json | undefined): string | null {
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && v.length > 0 && v.every((b) => typeof b === 'number' && Number.isInteger(b) && b >= 0 && b <= 255)) {
    return new TextDecoder('utf-8', { fatal: false }).decode(Uint8Array.from(v as number[]));
  }
  return null;
}

export function jsonPayloadText(json: Record<string, Json>): string {
  for (const field of MESSAGE_FIELDS) {
    if (!Object.hasOwn(json, field)) continue;
    const text = messageText(json[field]);
    if (text === null) continue;
    if (field !== 'MESSAGE') return text;
    const source = JOURNALD_SOURCE_FIELDS.map((k) => (Object.hasOwn(json, k) ? json[k] : null)).find((v): v is string => typeof v === 'string' && v !== '');
    return source === undefined ? text : `${source}: ${text}`;
  }
  return JSON.stringify(json);
}

function payloadKind(e: LogEntry): 'textPayload' | 'jsonPayload' | 'protoPayload' | null {
  const named = (e as { payload?: unknown }).payload;
  if (named === 'textPayload' || named === 'jsonPayload' || named === 'protoPayload') return named;
  if (typeof e.textPayload === 'string') return 'textPayload';
  if (e.jsonPayload) return 'jsonPayload';
  if (e.protoPayload) return 'protoPayload';
  return null;
}

function labelsOf(labels: unknown): Record<string, string> {
  if (!labels || typeof labels !== 'object' || Array.isArray(labels)) return {};
  return Object.fromEntries(Object.entries(labels).filter((kv): kv is [string, string] => typeof kv[1] === 'string'));
}

export async function decodeEntry(e: LogEntry): Promise<DecodedEntry> {
  const out: DecodedEntry = { timestamp: timestampText(e.timestamp), severity: severityText(e.severity), text: '', audit: null, labels: labelsOf(e.labels) };
  switch (payloadKind(e)) {
    case 'textPayload':
      out.text = e.textPayload ?? '';
      break;
    case 'jsonPayload':
      out.text = jsonPayloadText(fromStruct(e.jsonPayload));
      break;
    case 'protoPayload': {
      const payload = e.protoPayload as AnyLike;
      out.audit = await decodeAudit(payload);
      out.text = out.audit ? auditSummary(out.audit) : `[protoPayload ${payload.type_url ?? payload.typeUrl ?? payload['@type'] ?? 'of unknown type'}]`;
      break;
    }
    default:
      break;
  }
  return out;
}

// ---------------------------------------------------------------------------
// Excerpts

// Cloud Logging caps an entry at 256 KB; anything longer did not come from it.
const RAW_CAP = 1 << 20;

/**
 * Redact, clean, redact again, then cap: cleaning can join a secret that
 * invisible characters had split ("pass\u200bword=..."), and the cap comes
 * last so it can neither cut a secret in half nor be undone by a marker.
 */
export function excerptLine(raw: string, maxChars: number): string {
  const head = raw.length > RAW_CAP ? raw.slice(0, RAW_CAP) : raw;
  const once = cleanLine(redactSecrets(head), Number.MAX_SAFE_INTEGER);
  const twice = redactSecrets(once);
  return truncate(twice, maxChars, head.length === raw.length ? twice.length : raw.length);
}

function toLine(d: DecodedEntry, maxChars: number): LogLine {
  return { timestamp: d.timestamp, severity: d.severity, text: excerptLine(d.text, maxChars) };
}

/** First and last N entries; `last` never repeats an entry already in `first`. */
export function excerpts(decoded: readonly DecodedEntry[], settings: GatherSettings): { first: LogLine[]; last: LogLine[] } {
  const n = Math.max(0, settings.logExcerptEntries);
  const first = decoded.slice(0, n);
  const last = decoded.slice(Math.max(n, decoded.length - n));
  return { first: first.map((d) => toLine(d, settings.logLineMaxChars)), last: last.map((d) => toLine(d, settings.logLineMaxChars)) };
}

// ---------------------------------------------------------------------------
// The whole query

export interface LogQuerySpec {
  /** Restrictions without the time window, one per line. */
  restrictions: string[];
  /** Project for resourceNames. */
  resourceProject: string;
  /** Project for the console link. */
  linkProject: string;
  /**
   * One read serves every finding whose eventTime falls in the same bucket of
   * this many minutes: the window is [bucket start − before, bucket end + after],
   * which covers each one's own window (the audit read; see audit-logs.ts).
   */
  sharedBucketMinutes?: number;
}

export interface LogQueryResult {
  section: LogSection;
  decoded: DecodedEntry[];
  /** The entries as the API returned them, for --save-evidence. */
  entries: LogEntry[];
}

export interface LogPlan {
  filter: string;
  window: LogWindow;
  /** Why the window is not where it should be (no usable eventTime), or null. */
  gap: string | null;
}

/** The query a log section names: its window and filter text. Pure; shared with `analyze --evidence`. */
export function planLogQuery(eventTime: string | null, spec: LogQuerySpec, settings: GatherSettings, now: Date): LogPlan {
  const own = logWindow(eventTime, settings, now);
  const { centredOnNow } = own;
  let window = own.window;
  if (spec.sharedBucketMinutes) {
    const centre = (eventTime === null ? null : toMillis(eventTime)) ?? now.getTime();
    const bucketMs = spec.sharedBucketMinutes * 60_000;
    const bucketStart = Math.floor(centre / bucketMs) * bucketMs;
    window = {
      start: new Date(bucketStart - settings.logWindowBeforeMinutes * 60_000).toISOString(),
      end: new Date(bucketStart + bucketMs + settings.logWindowAfterMinutes * 60_000).toISOString(),
    };
  }
  const gap = centredOnNow ? `the finding has no usable eventTime: the log window is centred on the time of triage (${window.start} to ${window.end})` : null;
  return { filter: filterWithWindow(spec.restrictions, window), window, gap };
}

/** The section from the decoded entries of a plan's query. Pure; shared with `analyze --evidence`. */
export function logSection(plan: LogPlan, spec: LogQuerySpec, decoded: DecodedEntry[], truncated: boolean, settings: GatherSettings): LogSection {
  const { first, last } = excerpts(decoded, settings);
  return { filter: plan.filter, window: plan.window, count: decoded.length, truncated, first, last, link: logsExplorerLink(plan.filter, plan.window, spec.linkProject) };
}

export function logReadBudget(settings: GatherSettings): LogReadBudget {
  return { pages: settings.logPagesMax, entries: settings.logEntriesMax };
}

/**
 * Newest first: the entries closest before the finding matter most (the
 * exec that started socat), so a budget that runs out drops the oldest.
 */
export const READ_ORDER = 'timestamp desc';

/** The section for entries already decoded, in chronological order, and how the read went. */
export function readSection(
  decoded: readonly DecodedEntry[],
  read: { pagesRead: number; incomplete: string | null },
  query: { filter: string; window: LogWindow; linkProject: string },
  settings: GatherSettings,
): LogSection {
  const { first, last } = excerpts(decoded, settings);
  return {
    filter: query.filter,
    window: query.window,
    count: decoded.length,
    truncated: read.incomplete !== null,
    first,
    last,
    link: logsExplorerLink(query.filter, query.window, query.linkProject),
  };
}

/** Reads a window newest first within the budget; decoded entries come back oldest first, for people. */
export async function readDecoded(
  deps: GatherDeps,
  signal: AbortSignal,
  resourceProject: string,
  filter: string,
  priority: LogReadPriority = 'wait',
): Promise<{ decoded: DecodedEntry[]; entries: LogEntry[]; pagesRead: number; incomplete: string | null }> {
  const client: LoggingClient = await untilAborted(deps.logging(), signal, abortError);
  const read = await readLogPages(client, { resourceNames: [`projects/${resourceProject}`], filter, orderBy: READ_ORDER }, logReadBudget(deps.settings), signal, priority);
  const decoded = await Promise.all(read.entries.map(decodeEntry));
  return { decoded: decoded.reverse(), entries: [...read.entries].reverse(), pagesRead: read.pagesRead, incomplete: read.incomplete };
}

export async function queryLogs(ctx: LogGatherContext, spec: LogQuerySpec): Promise<LogQueryResult> {
  const settings = ctx.deps.settings;
  const plan = planLogQuery(ctx.finding.eventTime, spec, settings, ctx.deps.now());
  if (plan.gap !== null) ctx.addGap(plan.gap);
  const read = await readDecoded(ctx.deps, ctx.signal, spec.resourceProject, plan.filter, 'yield');
  return { section: readSection(read.decoded, read, { filter: plan.filter, window: plan.window, linkProject: spec.linkProject }, settings), decoded: read.decoded, entries: read.entries };
}

/** A gatherer's own log query: its section, with what it read kept as the evidence file `triage --save-evidence` writes. */
export async function readLogSection(ctx: LogGatherContext, spec: LogQuerySpec, file: EvidenceFile): Promise<LogSection> {
  const { section, entries } = await queryLogs(ctx, spec);
  ctx.deps.evidence?.record(file, entries, section.truncated ? LOG_READ_CUT : null);
  return section;
}

// ---------------------------------------------------------------------------
// One read for many findings

type DecodedRead = Awaited<ReturnType<typeof readDecoded>>;

/**
 * A shared read is not tied to any one triage's deadline: it serves every
 * finding on its cluster and bucket, so it carries on after the triage that
 * started it has given up (that triage reports a gap), and a late success
 * serves the findings after it, as GetCluster's shared call does
 * (lib/gather/cluster.ts). It is bounded by this instead.
 */
export const SHARED_READ_MAX_MS = 60_000;

class SharedRead {
  private readonly controller = new AbortController();
  readonly result: Promise<DecodedRead>;

  constructor(run: (signal: AbortSignal) => Promise<DecodedRead>) {
    const timer = setTimeout(() => this.controller.abort(), SHARED_READ_MAX_MS);
    timer.unref?.();
    this.result = run(this.controller.signal);
    this.result.then(
      () => clearTimeout(timer),
      () => clearTimeout(timer),
    );
  }

  /** Its time ran out before the read ended: what it holds is cut short. */
  get abandoned(): boolean {
    return this.controller.signal.aborted;
  }

  join(signal: AbortSignal): Promise<DecodedRead> {
    return untilAborted(this.result, signal, abortError);
  }
}

/**
 * The read for `key` (one query), shared through the instance cache by every
 * triage that asks for the same query while it is cached. A read that failed
 * or that every waiter abandoned is not kept: the next triage reads again.
 */
export async function sharedRead(deps: GatherDeps, signal: AbortSignal, key: string, resourceProject: string, filter: string): Promise<DecodedRead> {
  const load = () => Promise.resolve(new SharedRead((s) => readDecoded(deps, s, resourceProject, filter)));
  let shared = await deps.cache.memo('logRead', key, load);
  if (shared.abandoned) {
    deps.cache.forget('logRead', key);
    shared = await deps.cache.memo('logRead', key, load);
  }
  const mine = shared;
  mine.result.then(
    () => {
      if (mine.abandoned) deps.cache.forget('logRead', key);
    },
    () => deps.cache.forget('logRead', key),
  );
  return mine.join(signal);
}
