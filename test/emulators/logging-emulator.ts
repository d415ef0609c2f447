/**
 * A local Cloud Logging v2 API (google.logging.v2.LoggingServiceV2) over real
 * gRPC, for tests, the demo and benchmarks. The real LoggingServiceV2Client
 * talks to it unchanged (createLoggingClient({loggingEmulatorHost: endpoint})).
 *
 * Only ListLogEntries is implemented; every other RPC answers UNIMPLEMENTED.
 * It validates what the service documents (resourceNames required and ≤ 100,
 * filter ≤ 20,000 characters, orderBy "timestamp asc|desc", pageSize ≤ 1000,
 * page tokens tied to their query) and evaluates the part of the Logging
 * query language this project sends: restrictions joined by AND or by
 * juxtaposition (which Cloud Logging reads as AND), `field = value`,
 * `field : value`, `field =~ "RE2 expression"`, ordering comparisons on
 * timestamp and severity, and global search terms. Everything else — OR,
 * NOT, "-" negation, parentheses, "!=", "!~", functions — is rejected with
 * INVALID_ARGUMENT naming the construct, so code can never pass here with a
 * filter the emulator merely guessed at.
 *
 * Pages come back the way the real service may send them: partial, and, for
 * a query that has matched nothing yet, empty but with a next_page_token.
 * The proto allows both: "The presence of next_page_token in the response
 * indicates that more results might be available", and an empty page with a
 * token means the search "did not have time to search all the possible log
 * entries" (ListLogEntriesRequest.page_size and
 * ListLogEntriesResponse.next_page_token in google/logging/v2/logging.proto).
 * So a reader that stops at a short or empty page, or ignores the token,
 * fails here as it would against Cloud Logging. `fullPages: true` turns it off.
 *
 * Cloud Logging's read quota: 60 entries.list requests per minute per project
 * (https://cloud.google.com/logging/quotas#api-limits). `quota` enforces it
 * (off by default; a benchmark may shrink limit and window together) and
 * refuses a call over it with RESOURCE_EXHAUSTED and the quota system's
 * message, before it reads anything.
 *
 * Audit entries carry protoPayload as a google.protobuf.Any holding a
 * google.cloud.audit.AuditLog. Neither client package ships audit_log.proto,
 * so the emulator encodes the AuditLog itself from the field numbers of
 * googleapis' google/cloud/audit/audit_log.proto (the subset below); the
 * client sees exactly the bytes the real service sends for those fields.
 *
 * Where Google documents nothing (error texts, page token format, string
 * comparison details) the emulator picks a deterministic behaviour and says so.
 */
import { createHash } from 'node:crypto';
import { protobuf } from 'google-gax';
import {
  GrpcEmulator,
  clientProtoIncludeDirs,
  invalidArgument,
  loadProtos,
  quotaProject,
  rateQuota,
  type CallContext,
  type FaultSpec,
  type LoadedProtos,
  type RequestLogEntry,
} from './grpc-harness.js';
import { parseRfc3339, type Instant } from '../../lib/timestamp.js';

export type { FaultSpec, RequestLogEntry } from './grpc-harness.js';

const SERVICE = 'google.logging.v2.LoggingServiceV2';
export const AUDIT_LOG_TYPE_URL = 'type.googleapis.com/google.cloud.audit.AuditLog';

/** The RPCs this emulator implements; every other one answers UNIMPLEMENTED. */
export const IMPLEMENTED_RPCS = ['ListLogEntries'] as const;

export const MAX_RESOURCE_NAMES = 100;
export const MAX_FILTER_CHARS = 20_000;
export const MAX_PAGE_SIZE = 1000;
export const DEFAULT_PAGE_SIZE = 50;

/** google.logging.type.LogSeverity: names and their ordering values. */
export const SEVERITIES: Readonly<Record<string, number>> = {
  DEFAULT: 0,
  DEBUG: 100,
  INFO: 200,
  NOTICE: 300,
  WARNING: 400,
  ERROR: 500,
  CRITICAL: 600,
  ALERT: 700,
  EMERGENCY: 800,
};

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Obj = Record<string, any>;

// ---------------------------------------------------------------------------
// Seeding shapes (proto3 JSON style, as Logs Explorer shows entries)

export interface AuditLogSeed {
  serviceName?: string;
  methodName?: string;
  resourceName?: string;
  authenticationInfo?: { principalEmail?: string; principalSubject?: string };
  requestMetadata?: { callerIp?: string; callerSuppliedUserAgent?: string };
  authorizationInfo?: Array<{ resource?: string; permission?: string; granted?: boolean }>;
  status?: { code?: number; message?: string };
  request?: Record<string, unknown>;
  response?: Record<string, unknown>;
  metadata?: Record<string, unknown>;
}

export interface SeedLogEntry {
  /** projects/P/logs/LOG_ID with LOG_ID URL-encoded (cloudaudit.googleapis.com%2Factivity). */
  logName: string;
  resource: { type: string; labels?: Record<string, string> };
  /** RFC 3339 (nanoseconds kept) or a Date. */
  timestamp: string | Date;
  severity?: keyof typeof SEVERITIES;
  /** Generated when absent. */
  insertId?: string;
  labels?: Record<string, string>;
  /** Exactly one payload. */
  textPayload?: string;
  jsonPayload?: Record<string, unknown>;
  protoPayload?: AuditLogSeed;
}

/** A stored entry as Logs Explorer would show it (protoPayload with its "@type"). */
export interface StoredLogEntry {
  logName: string;
  resource: { type: string; labels: Record<string, string> };
  timestamp: string;
  /** The emulator receives entries the instant they are written. */
  receiveTimestamp: string;
  severity: string;
  insertId: string;
  labels: Record<string, string>;
  textPayload?: string;
  jsonPayload?: Record<string, Json>;
  protoPayload?: Record<string, Json>;
}

export interface LoggingEmulatorOptions {
  host?: string;
  port?: number;
  /**
   * Project number → project id. Cloud Logging accepts either in resourceNames
   * and stores entries under the id; without an alias a number names a
   * project with no entries.
   */
  projectNumbers?: Record<string, string>;
  /** Every page as full as page_size allows, never an empty page with a token. Default false. */
  fullPages?: boolean;
  /** Cloud Logging's per-project read quota; none by default. */
  quota?: LoggingQuota;
}

/** entries.list requests per window per project (caller's quota project). */
export interface LoggingQuota {
  readsPerWindow: number;
  /** Default 60 000 (per minute). */
  windowMs?: number;
  clock?: () => number;
}

/** Cloud Logging's documented figure (https://cloud.google.com/logging/quotas#api-limits). */
export const READS_PER_MINUTE = 60;

export interface LoggingEmulator {
  /** 127.0.0.1:PORT, for createLoggingClient({loggingEmulatorHost}). */
  readonly endpoint: string;
  readonly port: number;
  /** Adds entries (validated; throws on a malformed one). */
  seed(entries: SeedLogEntry[]): void;
  /** Stored entries (copies), in timestamp order. */
  entries(): StoredLogEntry[];
  readonly requestLog: readonly RequestLogEntry[];
  requests(method?: string): RequestLogEntry[];
  clearRequestLog(): void;
  /** Delay calls of one RPC ("ListLogEntries") or of all ("*"); 0 removes it. */
  setLatency(method: string, ms: number): void;
  /** Fail the next N calls of an RPC with the given gRPC status. */
  injectFault(method: string, fault: FaultSpec): void;
  clearFaults(): void;
  /** Starts enforcing the read quota with fresh counters (null: none). */
  setQuota(quota: LoggingQuota | null): void;
  /** Calls refused by the quota so far. */
  readonly refusedByQuota: number;
  /** Drops entries, the request log, faults, latencies and the quota. */
  reset(): void;
  stop(): Promise<void>;
}

// ---------------------------------------------------------------------------
// Protos

let sharedProtos: LoadedProtos | null = null;

function loggingProtos(): LoadedProtos {
  sharedProtos ??= loadProtos(['google/logging/v2/logging.proto'], clientProtoIncludeDirs('@google-cloud/logging-api'));
  return sharedProtos;
}

// Field numbers from googleapis google/cloud/audit/audit_log.proto and
// google/rpc/status.proto; only the fields the emulator can be seeded with.
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

let auditType: protobuf.Type | null = null;

function auditLogType(): protobuf.Type {
  if (!auditType) {
    const root = new protobuf.Root();
    root.addJSON((protobuf.common.get('google/protobuf/struct.proto') as { nested: Record<string, protobuf.AnyNestedObject> }).nested);
    root.addJSON(AUDIT_DESCRIPTOR);
    auditType = root.lookupType('google.cloud.audit.AuditLog');
  }
  return auditType;
}

/**
 * protobufjs drops unknown keys silently; a misspelt seed field
 * (principalemail) would then vanish and a test would pass for the wrong
 * reason, so seeds are checked against the descriptor.
 */
function checkFields(type: protobuf.Type, value: Obj, path: string): void {
  for (const [key, v] of Object.entries(value)) {
    const field = type.fields[key];
    if (!field) throw new Error(`seed: ${path}.${key} is not a field of ${type.fullName.slice(1)} in this emulator`);
    const sub = field.resolve().resolvedType;
    if (!(sub instanceof protobuf.Type) || sub.fullName === '.google.protobuf.Struct' || v === null || typeof v !== 'object') continue;
    for (const item of field.repeated && Array.isArray(v) ? v : [v]) checkFields(sub, item as Obj, `${path}.${key}`);
  }
}

// ---------------------------------------------------------------------------
// Value conversion

function toProtoValue(v: unknown): Obj {
  if (v === null || v === undefined) return { nullValue: 'NULL_VALUE' };
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'number') return { numberValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  if (Array.isArray(v)) return { listValue: { values: v.map(toProtoValue) } };
  if (typeof v === 'object') return { structValue: toProtoStruct(v as Record<string, unknown>) };
  return { stringValue: String(v) };
}

function toProtoStruct(o: Record<string, unknown>): Obj {
  return { fields: Object.fromEntries(Object.entries(o).map(([k, x]) => [k, toProtoValue(x)])) };
}

/** Normalises seeded JSON to what survives a Struct round trip (no undefined, finite numbers). */
function plainJson(v: unknown): Json {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (Array.isArray(v)) return v.map(plainJson);
  if (typeof v === 'object') return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined).map(([k, x]) => [k, plainJson(x)]));
  return String(v);
}

function instantOf(value: string | Date): Instant | null {
  if (value instanceof Date) {
    const ms = value.getTime();
    if (Number.isNaN(ms)) return null;
    const seconds = Math.floor(ms / 1000);
    return { seconds, nanos: (ms - seconds * 1000) * 1e6 };
  }
  return parseRfc3339(value);
}

function instantText(t: Instant): string {
  const base = new Date(t.seconds * 1000).toISOString().slice(0, 19);
  return t.nanos === 0 ? `${base}Z` : `${base}.${String(t.nanos).padStart(9, '0').replace(/0+$/, '')}Z`;
}

function compareInstants(a: Instant, b: Instant): number {
  return a.seconds !== b.seconds ? a.seconds - b.seconds : a.nanos - b.nanos;
}

// ---------------------------------------------------------------------------
// Names

const PARENT = /^(projects|organizations|folders|billingAccounts)\/([^/]+)$/;
const VIEW = /^(projects|organizations|folders|billingAccounts)\/([^/]+)\/locations\/[^/]+\/buckets\/[^/]+\/views\/[^/]+$/;
const LOG_NAME = /^((?:projects|organizations|folders|billingAccounts)\/[^/]+)\/logs\/([^/]+)$/;

// ---------------------------------------------------------------------------
// The filter subset

type Op = '=' | ':' | '=~' | '<' | '<=' | '>' | '>=';

type Token =
  | { kind: 'string'; text: string; pos: number }
  | { kind: 'word'; text: string; pos: number }
  | { kind: 'path'; segments: string[]; pos: number }
  | { kind: 'op'; op: string; pos: number }
  | { kind: 'and'; pos: number };

type Predicate = (entry: StoredLogEntry) => boolean;

function unsupported(filter: string, pos: number, construct: string): Error {
  return invalidArgument(
    `Unsupported filter construct at position ${pos}: ${construct}. The local Logging emulator evaluates only AND-joined ` +
      `restrictions (field = "v", field : "v", timestamp/severity comparisons) and global search terms; ${JSON.stringify(filter.slice(0, 200))}`,
  );
}

function syntaxError(filter: string, pos: number, message: string): Error {
  return invalidArgument(`Invalid filter at position ${pos}: ${message}; ${JSON.stringify(filter.slice(0, 200))}`);
}

const WORD_CHAR = /[^\s()"'=:<>!~]/;

function readQuoted(filter: string, start: number): { text: string; end: number } {
  const quote = filter[start] as string;
  let text = '';
  let i = start + 1;
  while (i < filter.length) {
    const c = filter[i] as string;
    if (c === '\\') {
      const next = filter[i + 1];
      if (next === undefined) break;
      text += next === 'n' ? '\n' : next === 't' ? '\t' : next;
      i += 2;
      continue;
    }
    if (c === quote) return { text, end: i + 1 };
    text += c;
    i++;
  }
  throw syntaxError(filter, start, 'unterminated string');
}

function tokenize(filter: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < filter.length) {
    const c = filter[i] as string;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const pos = i;
    if (c === '(' || c === ')') throw unsupported(filter, pos, 'parentheses');
    if (c === '"' || c === "'") {
      const q = readQuoted(filter, i);
      tokens.push({ kind: 'string', text: q.text, pos });
      i = q.end;
      continue;
    }
    const two = filter.slice(i, i + 2);
    if (two === '!~') throw unsupported(filter, pos, `regular expression operator ${two}`);
    if (two === '=~') {
      tokens.push({ kind: 'op', op: two, pos });
      i += 2;
      continue;
    }
    if (two === '!=') throw unsupported(filter, pos, 'operator !=');
    if (two === '>=' || two === '<=') {
      tokens.push({ kind: 'op', op: two, pos });
      i += 2;
      continue;
    }
    if (c === '=' || c === ':' || c === '<' || c === '>') {
      tokens.push({ kind: 'op', op: c, pos });
      i++;
      continue;
    }
    if (c === '!' || c === '~') throw syntaxError(filter, pos, `unexpected ${c}`);
    // A word, possibly a dotted field path with quoted segments (labels."k8s-pod/app").
    let text = '';
    const segments: string[] = [];
    let current = '';
    let quotedSegment = false;
    while (i < filter.length) {
      const ch = filter[i] as string;
      if ((ch === '"' || ch === "'") && current === '' && segments.length > 0) {
        const q = readQuoted(filter, i);
        current = q.text;
        quotedSegment = true;
        i = q.end;
        continue;
      }
      if (!WORD_CHAR.test(ch)) break;
      if (ch === '.') {
        segments.push(current);
        current = '';
      } else {
        current += ch;
      }
      text += ch;
      i++;
    }
    segments.push(current);
    if (filter[i] === '(') throw unsupported(filter, pos, `function call ${text}()`);
    if (quotedSegment) {
      tokens.push({ kind: 'path', segments, pos });
      continue;
    }
    const isValue = tokens[tokens.length - 1]?.kind === 'op';
    if (text === 'AND') tokens.push({ kind: 'and', pos });
    else if (text === 'OR') throw unsupported(filter, pos, 'OR');
    else if (text === 'NOT') throw unsupported(filter, pos, 'NOT');
    else if (text.startsWith('-') && !isValue) throw unsupported(filter, pos, `negation "-" (${text})`);
    else tokens.push({ kind: 'word', text, pos });
  }
  return tokens;
}

const ROOT_FIELDS = new Set([
  'logName',
  'resource',
  'timestamp',
  'receiveTimestamp',
  'severity',
  'insertId',
  'labels',
  'textPayload',
  'jsonPayload',
  'protoPayload',
  'httpRequest',
  'operation',
  'trace',
  'spanId',
  'traceSampled',
  'sourceLocation',
  'split',
]);

function valueAt(entry: StoredLogEntry, path: string[]): unknown {
  let v: unknown = entry;
  for (const key of path) {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

function leaves(v: unknown, out: string[] = []): string[] {
  if (v === null || v === undefined) return out;
  if (typeof v === 'object') {
    for (const x of Array.isArray(v) ? v : Object.values(v as object)) leaves(x, out);
  } else {
    out.push(String(v));
  }
  return out;
}

// Cloud Logging documents string comparisons as case-insensitive.
const fold = (s: string): string => s.toLowerCase();

function severityRank(filter: string, pos: number, value: string): number {
  const upper = value.toUpperCase();
  const rank = SEVERITIES[upper] ?? (/^\d+$/.test(value) ? Number(value) : undefined);
  if (rank === undefined) throw syntaxError(filter, pos, `unknown severity ${JSON.stringify(value)}`);
  return rank;
}

function compileComparison(filter: string, path: string[], pathText: string, op: Op, value: string, pos: number): Predicate {
  const root = path[0] as string;
  if (!ROOT_FIELDS.has(root)) throw syntaxError(filter, pos, `unknown field ${pathText}`);
  if (root === 'resource' && path[1] !== 'type' && path[1] !== 'labels') throw syntaxError(filter, pos, `unknown field ${pathText}`);
  if (root === 'timestamp' || root === 'receiveTimestamp') {
    if (path.length !== 1) throw syntaxError(filter, pos, `unknown field ${pathText}`);
    if (op === ':') throw unsupported(filter, pos, `":" on ${root}`);
    const bound = parseRfc3339(value);
    if (!bound) throw syntaxError(filter, pos, `${root} needs an RFC 3339 value, got ${JSON.stringify(value)}`);
    return (entry) => {
      const raw = valueAt(entry, path);
      const t = typeof raw === 'string' ? parseRfc3339(raw) : null;
      if (!t) return false;
      const c = compareInstants(t, bound);
      return op === '=' ? c === 0 : op === '<' ? c < 0 : op === '<=' ? c <= 0 : op === '>' ? c > 0 : c >= 0;
    };
  }
  if (root === 'severity') {
    if (op === ':') throw unsupported(filter, pos, '":" on severity');
    const bound = severityRank(filter, pos, value);
    return (entry) => {
      const c = (SEVERITIES[entry.severity] ?? 0) - bound;
      return op === '=' ? c === 0 : op === '<' ? c < 0 : op === '<=' ? c <= 0 : op === '>' ? c > 0 : c >= 0;
    };
  }
  if (op === '=~') {
    const re = compileRe2(filter, pos, value);
    return (entry) => leaves(valueAt(entry, path)).some((s) => re.test(s));
  }
  if (op !== '=' && op !== ':') throw unsupported(filter, pos, `ordering comparison ${op} on ${pathText} (only timestamp and severity)`);
  const want = fold(value);
  if (op === '=') {
    return (entry) => {
      const v = valueAt(entry, path);
      return v !== undefined && v !== null && typeof v !== 'object' && fold(String(v)) === want;
    };
  }
  return (entry) => leaves(valueAt(entry, path)).some((s) => fold(s).includes(want));
}

/**
 * `=~` takes an RE2 expression, matched anywhere in the value and case
 * sensitively unless it says (?i)
 * (https://cloud.google.com/logging/docs/view/logging-query-language#regular-expressions).
 * JavaScript's engine agrees with RE2 on the plain subset; what RE2 refuses
 * (backreferences, lookaround) is refused here too, and of RE2's flag groups
 * only a leading (?i) is taken, so nothing passes here that RE2 would read
 * differently.
 */
function compileRe2(filter: string, pos: number, pattern: string): RegExp {
  const insensitive = pattern.startsWith('(?i)');
  const body = insensitive ? pattern.slice(4) : pattern;
  if (/\\[1-9]|\(\?(?:[=!]|<[=!])/.test(body)) throw syntaxError(filter, pos, `RE2 has no backreferences or lookaround: ${JSON.stringify(pattern)}`);
  if (/\(\?(?![:P<])/.test(body)) throw unsupported(filter, pos, `regular expression flag group in ${JSON.stringify(pattern)} (only a leading (?i))`);
  try {
    return new RegExp(body.replace(/\(\?P</g, '(?<'), insensitive ? 'i' : '');
  } catch (err) {
    throw syntaxError(filter, pos, `invalid regular expression ${JSON.stringify(pattern)}: ${(err as Error).message}`);
  }
}

/** Compiles the supported subset; throws INVALID_ARGUMENT (RpcError) for anything else. */
export function compileLoggingFilter(filter: string): Predicate {
  const tokens = tokenize(filter);
  const predicates: Predicate[] = [];
  let i = 0;
  let expectTerm = true;
  while (i < tokens.length) {
    const t = tokens[i] as Token;
    if (t.kind === 'and') {
      if (expectTerm) throw syntaxError(filter, t.pos, 'AND without a restriction before it');
      expectTerm = true;
      i++;
      continue;
    }
    const next = tokens[i + 1];
    if ((t.kind === 'word' || t.kind === 'path') && next?.kind === 'op') {
      const value = tokens[i + 2];
      if (!value || (value.kind !== 'string' && value.kind !== 'word')) throw syntaxError(filter, next.pos, `${next.op} needs a value`);
      const path = t.kind === 'path' ? t.segments : t.text.split('.');
      if (path.some((s) => s.length === 0)) throw syntaxError(filter, t.pos, 'empty field name segment');
      const pathText = t.kind === 'path' ? path.join('.') : t.text;
      predicates.push(compileComparison(filter, path, pathText, next.op as Op, value.text, t.pos));
      i += 3;
    } else if (t.kind === 'string' || t.kind === 'word') {
      if (next?.kind === 'op') throw syntaxError(filter, next.pos, 'a quoted string cannot be compared');
      const want = fold(t.text);
      predicates.push((entry) => leaves(entry).some((s) => fold(s).includes(want)));
      i++;
    } else if (t.kind === 'op') {
      throw syntaxError(filter, t.pos, `operator ${t.op} without a field`);
    } else {
      throw syntaxError(filter, t.pos, 'unexpected token');
    }
    expectTerm = false;
  }
  if (expectTerm && tokens.length > 0) throw syntaxError(filter, filter.length, 'AND at the end');
  return (entry) => predicates.every((p) => p(entry));
}

// ---------------------------------------------------------------------------
// Seeding

let insertCounter = 0;

function storedFrom(seed: SeedLogEntry): StoredLogEntry {
  const m = LOG_NAME.exec(seed.logName ?? '');
  if (!m) throw new Error(`seed: logName must be projects/P/logs/LOG_ID, got ${JSON.stringify(seed.logName)}`);
  if (m[2]?.includes('/')) throw new Error(`seed: LOG_ID must be URL-encoded ("/" as %2F): ${seed.logName}`);
  if (!seed.resource?.type) throw new Error('seed: resource.type is required');
  const payloads = [seed.textPayload, seed.jsonPayload, seed.protoPayload].filter((p) => p !== undefined);
  if (payloads.length > 1) throw new Error('seed: at most one of textPayload, jsonPayload, protoPayload');
  const t = instantOf(seed.timestamp);
  if (!t) throw new Error(`seed: bad timestamp ${JSON.stringify(seed.timestamp)}`);
  const severity = seed.severity ?? 'DEFAULT';
  if (!(severity in SEVERITIES)) throw new Error(`seed: unknown severity ${severity}`);
  const stored: StoredLogEntry = {
    logName: seed.logName,
    resource: { type: seed.resource.type, labels: { ...(seed.resource.labels ?? {}) } },
    timestamp: instantText(t),
    receiveTimestamp: instantText(t),
    severity,
    insertId: seed.insertId ?? `emu${String(++insertCounter).padStart(8, '0')}`,
    labels: { ...(seed.labels ?? {}) },
  };
  if (seed.textPayload !== undefined) stored.textPayload = seed.textPayload;
  if (seed.jsonPayload !== undefined) stored.jsonPayload = plainJson(seed.jsonPayload) as Record<string, Json>;
  if (seed.protoPayload !== undefined) {
    const { ...audit } = seed.protoPayload as Obj;
    delete audit['@type'];
    stored.protoPayload = { '@type': AUDIT_LOG_TYPE_URL, ...(plainJson(audit) as Record<string, Json>) };
  }
  return stored;
}

function wireEntry(e: StoredLogEntry): Obj {
  const t = parseRfc3339(e.timestamp) as Instant;
  const wire: Obj = {
    logName: e.logName,
    resource: { type: e.resource.type, labels: e.resource.labels },
    timestamp: { seconds: String(t.seconds), nanos: t.nanos },
    severity: e.severity,
    insertId: e.insertId,
    labels: e.labels,
  };
  const r = parseRfc3339(e.receiveTimestamp);
  if (r) wire.receiveTimestamp = { seconds: String(r.seconds), nanos: r.nanos };
  if (e.textPayload !== undefined) wire.textPayload = e.textPayload;
  if (e.jsonPayload !== undefined) wire.jsonPayload = toProtoStruct(e.jsonPayload);
  if (e.protoPayload !== undefined) {
    const { '@type': _type, request, response, metadata, ...rest } = e.protoPayload as Obj;
    const audit: Obj = { ...rest };
    for (const [k, v] of Object.entries({ request, response, metadata })) {
      if (v !== undefined && v !== null && typeof v === 'object' && !Array.isArray(v)) audit[k] = toProtoStruct(v as Record<string, unknown>);
    }
    const type = auditLogType();
    checkFields(type, audit, 'protoPayload');
    // google.protobuf.Any comes from protobufjs' bundled descriptor, whose
    // field is `type_url` whatever proto-loader's keepCase says.
    wire.protoPayload = { type_url: AUDIT_LOG_TYPE_URL, value: Buffer.from(type.encode(type.fromObject(audit)).finish()) };
  }
  return wire;
}

// ---------------------------------------------------------------------------
// Paging

interface PageToken {
  /** Offset of the next entry in the sorted, filtered list. */
  o: number;
  /** Which query the token belongs to. */
  q: string;
}

function queryDigest(resourceNames: string[], filter: string, orderBy: string): string {
  return createHash('sha256').update(JSON.stringify([resourceNames, filter, orderBy])).digest('base64url').slice(0, 16);
}

function encodeToken(t: PageToken): string {
  return Buffer.from(JSON.stringify(t)).toString('base64url');
}

function decodeToken(token: string): PageToken | null {
  try {
    const t = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Partial<PageToken>;
    return typeof t.o === 'number' && Number.isInteger(t.o) && t.o >= 0 && typeof t.q === 'string' ? { o: t.o, q: t.q } : null;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------

export async function startLoggingEmulator(options: LoggingEmulatorOptions = {}): Promise<LoggingEmulator> {
  const protos = loggingProtos();
  const stored: StoredLogEntry[] = [];
  const projectNumbers = { ...(options.projectNumbers ?? {}) };
  const quotaCheck = (quota: LoggingQuota | null) =>
    quota
      ? rateQuota({
          limit: quota.readsPerWindow,
          windowMs: quota.windowMs ?? 60_000,
          metric: 'Read requests',
          service: 'logging.googleapis.com',
          ...(quota.clock ? { clock: quota.clock } : {}),
        })
      : null;
  let checkQuota = quotaCheck(options.quota ?? null);
  let refusedByQuota = 0;

  const sorted = (desc: boolean): StoredLogEntry[] =>
    [...stored].sort((a, b) => {
      const c = compareInstants(parseRfc3339(a.timestamp) as Instant, parseRfc3339(b.timestamp) as Instant) || (a.insertId < b.insertId ? -1 : a.insertId > b.insertId ? 1 : 0);
      return desc ? -c : c;
    });

  /** The parents ("projects/ID") a resource name reads from. */
  function parentOf(name: string): string {
    const m = PARENT.exec(name) ?? VIEW.exec(name);
    if (!m) {
      throw invalidArgument(
        `Invalid resource name ${JSON.stringify(name)}: expected projects/P, organizations/O, folders/F, billingAccounts/B or a .../locations/L/buckets/B/views/V view`,
      );
    }
    const kind = m[1] as string;
    const id = m[2] as string;
    return kind === 'projects' && projectNumbers[id] ? `projects/${projectNumbers[id]}` : `${kind}/${id}`;
  }

  function listLogEntries(request: Obj): Obj {
    const resourceNames: string[] = request.resourceNames ?? [];
    const filter: string = request.filter ?? '';
    const orderBy: string = request.orderBy ?? '';
    const pageSize: number = request.pageSize ?? 0;
    const pageToken: string = request.pageToken ?? '';
    if (resourceNames.length === 0) throw invalidArgument('resource_names is required: name at least one projects/P (or organization, folder, billing account, view)');
    if (resourceNames.length > MAX_RESOURCE_NAMES) throw invalidArgument(`resource_names has ${resourceNames.length} entries; at most ${MAX_RESOURCE_NAMES} are allowed`);
    const parents = new Set(resourceNames.map(parentOf));
    if (filter.length > MAX_FILTER_CHARS) throw invalidArgument(`filter is ${filter.length} characters; the maximum is ${MAX_FILTER_CHARS}`);
    const order = orderBy.trim();
    if (order !== '' && order !== 'timestamp asc' && order !== 'timestamp desc') {
      throw invalidArgument(`order_by ${JSON.stringify(orderBy)} is not supported: only "timestamp asc" and "timestamp desc"`);
    }
    if (!Number.isInteger(pageSize) || pageSize < 0 || pageSize > MAX_PAGE_SIZE) throw invalidArgument(`page_size ${pageSize} is out of range: 0..${MAX_PAGE_SIZE}`);
    const size = pageSize === 0 ? DEFAULT_PAGE_SIZE : pageSize;
    const digest = queryDigest(resourceNames, filter, order);
    let offset = 0;
    if (pageToken !== '') {
      const token = decodeToken(pageToken);
      if (!token) throw invalidArgument('page_token is not a token this service issued');
      if (token.q !== digest) throw invalidArgument('page_token belongs to a different query: resource_names, filter and order_by must be unchanged');
      offset = token.o;
    }
    const predicate = compileLoggingFilter(filter);
    const matching = sorted(order === 'timestamp desc').filter((e) => {
      const parent = LOG_NAME.exec(e.logName)?.[1];
      return parent !== undefined && parents.has(parent) && predicate(e);
    });
    // Partial pages: at most half of page_size; a query that has matched
    // nothing yet first answers with an empty page and a token (see the header).
    const take = options.fullPages ? size : Math.ceil(size / 2);
    const stillSearching = !options.fullPages && pageToken === '' && matching.length === 0;
    const page = stillSearching ? [] : matching.slice(offset, offset + take);
    const next =
      stillSearching ? encodeToken({ o: 0, q: digest }) : offset + take < matching.length ? encodeToken({ o: offset + take, q: digest }) : '';
    const response: Obj = { entries: page.map(wireEntry) };
    if (next) response.nextPageToken = next;
    return response;
  }

  const server = await GrpcEmulator.start({
    services: [{ definition: protos.service(SERVICE), handlers: {
          ListLogEntries: (request: Obj, ctx: CallContext) => {
            try {
              checkQuota?.(quotaProject(ctx.metadata));
            } catch (err) {
              refusedByQuota++;
              throw err;
            }
            return listLogEntries(request);
          },
        },
      },
    ],
    ...(options.host !== undefined ? { host: options.host } : {}),
    ...(options.port !== undefined ? { port: options.port } : {}),
  });

  return {
    endpoint: server.endpoint,
    port: server.port,
    seed(entries) {
      const add = entries.map(storedFrom);
      // Encode once now so a bad seed fails in the test that wrote it, not in a later call.
      for (const e of add) wireEntry(e);
      stored.push(...add);
    },
    entries: () => sorted(false).map((e) => structuredClone(e)),
    get requestLog() {
      return server.requestLog;
    },
    requests: (method) => server.requests(method),
    clearRequestLog: () => server.clearRequestLog(),
    setLatency: (method, ms) => server.setLatency(method, ms),
    injectFault: (method, fault) => server.injectFault(method, fault),
    clearFaults: () => server.clearFaults(),
    setQuota(quota) {
      checkQuota = quotaCheck(quota);
    },
    get refusedByQuota() {
      return refusedByQuota;
    },
    reset() {
      checkQuota = null;
      refusedByQuota = 0;
      stored.length = 0;
      server.clearRequestLog();
      server.clearFaults();
      server.clearLatency();
    },
    stop: () => server.stop(),
  };
}
