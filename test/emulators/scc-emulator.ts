/**
 * A local Security Command Center v2 API over real gRPC, for tests, the demo
 * and benchmarks. The real `v2.SecurityCenterClient` talks to it unchanged
 * (createSccClient({sccEmulatorHost: emulator.endpoint})).
 *
 * It rejects what the real API rejects, with the same status codes, so code
 * that passes here does not first fail in production: malformed ids and
 * property keys, future event times, bad external URIs, changes to immutable
 * fields, unknown sources, unsupported filter fields (source_properties.* in
 * particular, which v2 cannot filter on).
 *
 * Where Google documents nothing (exact error texts, default ordering,
 * ListFindingsResult.resource details), the emulator picks a deterministic
 * behaviour and says so in a comment.
 */
import type { protos } from '@google-cloud/security-center';
import {
  GrpcEmulator,
  RpcError,
  Status,
  alreadyExists,
  clientProtoIncludeDirs,
  invalidArgument,
  loadProtos,
  notFound,
  protoCamelCase,
  quotaProject,
  rateQuota,
  type CallContext,
  type FaultSpec,
  type FieldInfo,
  type LoadedProtos,
  type RequestLogEntry,
} from './grpc-harness.js';
import { compileFilter, literalTimeMillis, type FieldAccessor, type FilterLiteral, type FilterOp } from './list-filter.js';

export type Finding = protos.google.cloud.securitycenter.v2.IFinding;
export type Source = protos.google.cloud.securitycenter.v2.ISource;
export type SecurityMarks = protos.google.cloud.securitycenter.v2.ISecurityMarks;
export type ListFindingsResource = protos.google.cloud.securitycenter.v2.ListFindingsResponse.ListFindingsResult.IResource;
export type ProtoValue = protos.google.protobuf.IValue;
export type ProtoTimestamp = protos.google.protobuf.ITimestamp;
export type { FaultSpec, RequestLogEntry } from './grpc-harness.js';

/** Display name CTD's source has in every organization. */
export const CTD_SOURCE_DISPLAY_NAME = 'Container Threat Detection';

const PACKAGE = 'google.cloud.securitycenter.v2';
const SERVICE = `${PACKAGE}.SecurityCenter`;
const FINDING_TYPE = `${PACKAGE}.Finding`;
const RESULT_TYPE = `${PACKAGE}.ListFindingsResponse.ListFindingsResult`;

/** The RPCs this emulator implements; every other one answers UNIMPLEMENTED. */
export const IMPLEMENTED_RPCS = ['CreateFinding', 'UpdateFinding', 'UpdateSecurityMarks', 'ListFindings', 'GetSource', 'ListSources', 'CreateSource'] as const;

// Findings are plain decoded protobuf objects; their shape is checked by the
// wire codec, not by TypeScript.
type Obj = Record<string, any>;

let sharedProtos: LoadedProtos | null = null;

/** Parsing the SCC protos takes a few hundred ms: do it once per process. */
function sccProtos(): LoadedProtos {
  sharedProtos ??= loadProtos(['google/cloud/securitycenter/v2/securitycenter_service.proto'], clientProtoIncludeDirs('@google-cloud/security-center'));
  return sharedProtos;
}

// ---------------------------------------------------------------------------
// Names

const SOURCE_REF = /^(organizations|folders|projects)\/([^/]+)\/sources\/([^/]+)(?:\/locations\/([^/]+))?$/;
const FINDING_REF = /^(organizations|folders|projects)\/([^/]+)\/sources\/([^/]+)(?:\/locations\/([^/]+))?\/findings\/([^/]+)$/;
const SOURCE_NAME = /^organizations\/([^/]+)\/sources\/([^/]+)$/;
const FINDING_ID = /^[A-Za-z0-9]{1,32}$/;

interface SourceRef {
  /** organizations/O, folders/F or projects/P */
  scope: string;
  scopeType: string;
  scopeId: string;
  sourceId: string;
  location: string;
}

interface FindingRef extends SourceRef {
  findingId: string;
}

function parseSourceRef(name: string): SourceRef | null {
  const m = SOURCE_REF.exec(name);
  if (!m) return null;
  const [, scopeType, scopeId, sourceId, location] = m as unknown as [string, string, string, string, string | undefined];
  return { scope: `${scopeType}/${scopeId}`, scopeType, scopeId, sourceId, location: location ?? 'global' };
}

function parseFindingRef(name: string): FindingRef | null {
  const m = FINDING_REF.exec(name);
  if (!m) return null;
  const [, scopeType, scopeId, sourceId, location, findingId] = m as unknown as [string, string, string, string, string | undefined, string];
  return { scope: `${scopeType}/${scopeId}`, scopeType, scopeId, sourceId, location: location ?? 'global', findingId };
}

/** v2 names always carry the location; a name without one means global. */
function canonicalFindingName(ref: FindingRef): string {
  return `${ref.scope}/sources/${ref.sourceId}/locations/${ref.location}/findings/${ref.findingId}`;
}

// ---------------------------------------------------------------------------
// Validation rules of the real API

const PROPERTY_KEY = /^[A-Za-z][A-Za-z0-9_]{0,254}$/;
const MARK_KEY = /^[A-Za-z0-9_-]{1,256}$/;
const MAX_MARK_VALUE = 4096;
const MIN_TIMESTAMP_SECONDS = -62135596800; // 0001-01-01T00:00:00Z
const MAX_TIMESTAMP_SECONDS = 253402300799; // 9999-12-31T23:59:59Z

/** Fields the server owns: ignored when a client sends them. */
const OUTPUT_ONLY = new Set(['name', 'canonicalName', 'state', 'securityMarks', 'createTime', 'muteInfo', 'muteUpdateTime', 'externalSystems', 'contacts', 'parentDisplayName']);
/** `parent` is derived from the name ("parent ... will be ignored", UpdateFindingRequest). */
const IGNORED_ON_INPUT = new Set([...OUTPUT_ONLY, 'parent']);
const IMMUTABLE = ['resourceName', 'category'] as const;
const IMMUTABLE_PROTO_NAME: Record<(typeof IMMUTABLE)[number], string> = { resourceName: 'resource_name', category: 'category' };

function validateFindingId(id: string): void {
  if (!FINDING_ID.test(id)) {
    throw invalidArgument(`Invalid finding id ${JSON.stringify(id)}: must be 1-32 alphanumeric characters`);
  }
}

function validatePropertyKey(key: string): void {
  if (!PROPERTY_KEY.test(key)) {
    throw invalidArgument(
      `Invalid source_properties key ${JSON.stringify(key)}: keys must be 1-255 characters, start with a letter and contain only letters, digits and underscores`,
    );
  }
}

/**
 * Keys as SCC checks them. Values are google.protobuf.Value (finding.proto:
 * `map<string, google.protobuf.Value> source_properties`): stored as the wire
 * decoded them, nested Structs and lists included, and returned the same way,
 * so a Struct the client writes reads back member for member
 * (test/scc/stored-report.test.ts).
 */
function validateSourceProperties(props: unknown): void {
  if (props === undefined || props === null) return;
  for (const key of Object.keys(props as Obj)) validatePropertyKey(key);
}

function timestampMillis(ts: ProtoTimestamp | null | undefined): number | undefined {
  if (!ts) return undefined;
  return Number(ts.seconds ?? 0) * 1000 + Math.floor(Number(ts.nanos ?? 0) / 1e6);
}

function validateTimestamp(field: string, ts: ProtoTimestamp): void {
  const seconds = Number(ts.seconds ?? 0);
  const nanos = Number(ts.nanos ?? 0);
  if (!Number.isInteger(seconds) || seconds < MIN_TIMESTAMP_SECONDS || seconds > MAX_TIMESTAMP_SECONDS || !Number.isInteger(nanos) || nanos < 0 || nanos > 999_999_999) {
    throw invalidArgument(`Invalid ${field}: ${JSON.stringify(ts)} is not a valid timestamp`);
  }
}

function validateExternalUri(uri: unknown): void {
  if (uri === undefined || uri === null || uri === '') return;
  let ok = false;
  if (typeof uri === 'string' && !/\s/.test(uri)) {
    try {
      const url = new URL(uri);
      ok = (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
    } catch {
      ok = false;
    }
  }
  if (!ok) throw invalidArgument(`Invalid external_uri ${JSON.stringify(uri)}: must be empty or a well-formed absolute http(s) URL`);
}

function validateMarkKey(key: string): void {
  if (!MARK_KEY.test(key)) {
    throw invalidArgument(`Invalid security mark key ${JSON.stringify(key)}: keys must be 1-256 characters of letters, digits, underscores or dashes`);
  }
}

function normalizeMarkValue(key: string, value: unknown): string {
  const trimmed = String(value ?? '').trim();
  if (trimmed.length < 1 || trimmed.length > MAX_MARK_VALUE) {
    throw invalidArgument(`Invalid value for security mark ${JSON.stringify(key)}: after trimming, values must be 1-${MAX_MARK_VALUE} characters`);
  }
  return trimmed;
}

function findKeyInsensitive(map: Obj, key: string): string | undefined {
  if (Object.hasOwn(map, key)) return key;
  const lower = key.toLowerCase();
  return Object.keys(map).find((k) => k.toLowerCase() === lower);
}

// ---------------------------------------------------------------------------
// Value conversion helpers for seeding and assertions

const VALUE_KINDS = ['nullValue', 'numberValue', 'stringValue', 'boolValue', 'structValue', 'listValue'];

function isProtoValue(v: unknown): v is ProtoValue {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const keys = Object.keys(v);
  return keys.length === 1 && VALUE_KINDS.includes(keys[0] as string);
}

/** Plain JSON → google.protobuf.Value, as the client sends it. */
export function toProtoValue(v: unknown): ProtoValue {
  if (isProtoValue(v)) return v;
  if (v === null || v === undefined) return { nullValue: 'NULL_VALUE' };
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'number') return { numberValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  if (Array.isArray(v)) return { listValue: { values: v.map(toProtoValue) } };
  if (typeof v === 'object') return { structValue: { fields: Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toProtoValue(x)])) } };
  return { stringValue: String(v) };
}

/** google.protobuf.Value → plain JSON. */
export function fromProtoValue(v: ProtoValue | null | undefined): unknown {
  if (!v) return null;
  if (v.stringValue !== undefined && v.stringValue !== null) return v.stringValue;
  if (v.numberValue !== undefined && v.numberValue !== null) return v.numberValue;
  if (v.boolValue !== undefined && v.boolValue !== null) return v.boolValue;
  if (v.structValue) return Object.fromEntries(Object.entries(v.structValue.fields ?? {}).map(([k, x]) => [k, fromProtoValue(x)]));
  if (v.listValue) return (v.listValue.values ?? []).map(fromProtoValue);
  return null;
}

export type TimestampInput = Date | string | number | ProtoTimestamp;

/** Date, RFC3339 string, epoch ms or {seconds, nanos} → {seconds, nanos}. */
export function toProtoTimestamp(t: TimestampInput): { seconds: string; nanos: number } {
  if (typeof t === 'object' && !(t instanceof Date)) return { seconds: String(t.seconds ?? 0), nanos: Number(t.nanos ?? 0) };
  let ms: number;
  let nanosExtra = 0;
  if (t instanceof Date) ms = t.getTime();
  else if (typeof t === 'number') ms = t;
  else {
    ms = Date.parse(t);
    // Keep sub-millisecond digits Date.parse drops: CTD timestamps carry microseconds.
    const frac = /\.(\d+)(?:Z|[+-]\d{2}:\d{2})$/i.exec(t)?.[1];
    if (frac && frac.length > 3) nanosExtra = Number(frac.slice(3, 9).padEnd(6, '0'));
  }
  if (Number.isNaN(ms)) throw new Error(`not a timestamp: ${JSON.stringify(t)}`);
  const seconds = Math.floor(ms / 1000);
  return { seconds: String(seconds), nanos: (ms - seconds * 1000) * 1e6 + nanosExtra };
}

// ---------------------------------------------------------------------------
// Public surface

export interface SccEmulatorOptions {
  /** Clock used for createTime and the future-eventTime check. */
  now?: () => Date;
  /** How far in the future an eventTime may be before it is rejected; default 60 s. */
  clockSkewMs?: number;
  /** Loopback by default. */
  host?: string;
  port?: number;
  /** Per-project rate quotas, as SCC enforces them; none by default. */
  quota?: SccQuota;
}

/**
 * SCC's per-project quotas: 1,000 read and 1,000 write requests per minute
 * (https://cloud.google.com/security-command-center/quotas). A call over
 * quota is refused with RESOURCE_EXHAUSTED before it does anything, as the
 * real API refuses it, and does not count against the quota itself. The
 * window slides: a call counts for `windowMs` after it was accepted. A
 * benchmark may shrink the limits and the window to keep a run short.
 */
export interface SccQuota {
  /** ListFindings, GetSource, ListSources per window; omitted = unlimited. */
  readsPerWindow?: number;
  /** CreateFinding, UpdateFinding, UpdateSecurityMarks, CreateSource per window; omitted = unlimited. */
  writesPerWindow?: number;
  /** Default 60 000 (per minute). */
  windowMs?: number;
  /** Monotonic milliseconds; default performance.now(). The emulator's `now` may be a frozen test clock, so it is not used here. */
  clock?: () => number;
}

/** Which quota each implemented RPC draws from. */
export const QUOTA_KIND: Readonly<Record<(typeof IMPLEMENTED_RPCS)[number], 'read' | 'write'>> = {
  CreateFinding: 'write',
  UpdateFinding: 'write',
  UpdateSecurityMarks: 'write',
  CreateSource: 'write',
  ListFindings: 'read',
  GetSource: 'read',
  ListSources: 'read',
};

/** Sliding-window counters per project and kind (rateQuota); a fresh one per quota setting. */
function quotaGate(quota: SccQuota): (rpc: (typeof IMPLEMENTED_RPCS)[number], metadata: CallContext['metadata']) => void {
  const windowMs = quota.windowMs ?? 60_000;
  const gate = (limit: number | undefined, metric: string) =>
    limit === undefined ? null : rateQuota({ limit, windowMs, metric, service: 'securitycenter.googleapis.com', ...(quota.clock ? { clock: quota.clock } : {}) });
  const reads = gate(quota.readsPerWindow, 'Read requests');
  const writes = gate(quota.writesPerWindow, 'Write requests');
  return (rpc, metadata) => (QUOTA_KIND[rpc] === 'read' ? reads : writes)?.(quotaProject(metadata));
}

export interface AddSourceInput {
  /** Organization id (digits), for organizations/O/sources/S. */
  organization?: string;
  /** Full name instead of organization (+ id): organizations/O/sources/S. */
  name?: string;
  /** Source id; generated when omitted. */
  id?: string;
  displayName: string;
  description?: string;
}

/**
 * A finding to seed, in the client's object shape. Seeds bypass the API's
 * input rules (CTD writes what it writes) and may set output-only fields such
 * as state, createTime and securityMarks.marks. Conveniences: sourceProperties
 * values may be plain JSON, timestamps Date / RFC3339 / epoch ms.
 */
export interface SeedFinding {
  [field: string]: unknown;
  sourceProperties?: Record<string, unknown>;
  eventTime?: TimestampInput;
  createTime?: TimestampInput;
  securityMarks?: { marks?: Record<string, string> };
}

export interface AddFindingOptions {
  /** Overrides the ListFindingsResult.resource the emulator derives from resourceName. */
  resource?: ListFindingsResource;
}

export type SccChange =
  | { type: 'FINDING_CREATED' | 'FINDING_UPDATED'; origin: 'api' | 'seed'; finding: Finding }
  | { type: 'SECURITY_MARKS_UPDATED'; origin: 'api'; finding: Finding };

export interface SccEmulator {
  /** 127.0.0.1:PORT, for SCC_EMULATOR_HOST / createSccClient({sccEmulatorHost}). */
  readonly endpoint: string;
  readonly port: number;

  addSource(input: AddSourceInput): Source;
  /** Seeds a finding by its full name (with or without /locations/L); the source must exist. */
  addFinding(findingName: string, finding: SeedFinding, options?: AddFindingOptions): Finding;

  getSource(name: string): Source | undefined;
  listAllSources(): Source[];
  /** The stored finding (a copy), by name with or without /locations/global. */
  getFinding(name: string): Finding | undefined;
  /** Marks of a finding (a copy); undefined when the finding does not exist. */
  getMarks(findingName: string): Record<string, string> | undefined;
  listAllFindings(): Finding[];

  /** Every call received, oldest first. */
  readonly requestLog: readonly RequestLogEntry[];
  requests(method?: string): RequestLogEntry[];
  clearRequestLog(): void;
  /** Delay calls of one RPC ("ListFindings") or of all ("*"); 0 removes it. */
  setLatency(method: string, ms: number): void;
  /** Fail the next N calls of an RPC with the given gRPC status. */
  injectFault(method: string, fault: FaultSpec): void;
  clearFaults(): void;
  /** Starts enforcing per-project quotas with fresh counters (null: none), as the `quota` option does at start. */
  setQuota(quota: SccQuota | null): void;
  /** Called after every stored change; returns an unsubscribe function (the hook a Pub/Sub notification emulator uses). */
  onChange(listener: (change: SccChange) => void): () => void;
  /** Drops all sources, findings, log entries, faults, latencies and quotas. */
  reset(): void;
  stop(): Promise<void>;
}

interface SourceRecord {
  source: Obj;
  /** Organization id for organizations/O sources; null otherwise. */
  organization: string | null;
  scope: string;
  id: string;
}

interface FindingRecord {
  finding: Obj;
  source: SourceRecord;
  scope: string;
  location: string;
  resource: ListFindingsResource | undefined;
}

// ---------------------------------------------------------------------------

export async function startSccEmulator(options: SccEmulatorOptions = {}): Promise<SccEmulator> {
  const protoSet = sccProtos();
  const now = options.now ?? (() => new Date());
  const clockSkewMs = options.clockSkewMs ?? 60_000;
  const sources = new Map<string, SourceRecord>();
  const findings = new Map<string, FindingRecord>();
  const listeners = new Set<(change: SccChange) => void>();
  let nextSourceId = 1;

  const findingFields = protoSet.messageFields(FINDING_TYPE);

  function emit(change: SccChange): void {
    for (const listener of listeners) listener(change);
  }

  function generateSourceId(): string {
    for (;;) {
      const id = String(1_000_000_000_000 + nextSourceId++);
      if (![...sources.values()].some((s) => s.id === id)) return id;
    }
  }

  function resolveSource(ref: SourceRef): SourceRecord | undefined {
    const exact = sources.get(`${ref.scope}/sources/${ref.sourceId}`);
    if (exact) return exact;
    // Source ids are global: folders/F/sources/S and projects/P/sources/S
    // address the organization's source S within a narrower scope.
    if (ref.scopeType !== 'organizations') return [...sources.values()].find((s) => s.id === ref.sourceId);
    return undefined;
  }

  function requireSource(ref: SourceRef, asWritten: string): SourceRecord {
    const source = resolveSource(ref);
    if (!source) throw notFound(`Source ${JSON.stringify(asWritten)} not found`);
    return source;
  }

  function findingRecord(name: string): FindingRecord | undefined {
    const ref = parseFindingRef(name);
    return ref ? findings.get(canonicalFindingName(ref)) : undefined;
  }

  function securityMarksOf(findingName: string, marks: Obj | undefined): Obj {
    const sm: Obj = { name: `${findingName}/securityMarks`, canonicalName: `${findingName}/securityMarks` };
    if (marks && Object.keys(marks).length > 0) sm.marks = marks;
    return sm;
  }

  function validateIncomingTimes(incoming: Obj): void {
    const ts = incoming.eventTime as ProtoTimestamp | undefined;
    if (!ts) return;
    validateTimestamp('event_time', ts);
    const ms = timestampMillis(ts) as number;
    if (ms > now().getTime() + clockSkewMs) {
      throw invalidArgument(`Invalid event_time ${new Date(ms).toISOString()}: event_time cannot be in the future`);
    }
  }

  function checkImmutable(stored: Obj, incoming: Obj): void {
    for (const field of IMMUTABLE) {
      const value = incoming[field];
      if (value !== undefined && value !== '' && value !== stored[field]) {
        throw invalidArgument(
          `${IMMUTABLE_PROTO_NAME[field]} is immutable: the finding has ${JSON.stringify(stored[field])}, the request sent ${JSON.stringify(value)}`,
        );
      }
    }
  }

  function newFinding(ref: FindingRef, source: SourceRecord, incoming: Obj): FindingRecord {
    for (const field of IMMUTABLE) {
      if (typeof incoming[field] !== 'string' || incoming[field] === '') {
        throw invalidArgument(`${IMMUTABLE_PROTO_NAME[field]} is required to create a finding`);
      }
    }
    validateSourceProperties(incoming.sourceProperties);
    validateIncomingTimes(incoming);
    validateExternalUri(incoming.externalUri);
    const name = canonicalFindingName(ref);
    const finding: Obj = {};
    for (const [k, v] of Object.entries(incoming)) if (!IGNORED_ON_INPUT.has(k)) finding[k] = v;
    Object.assign(finding, {
      name,
      canonicalName: name,
      parent: `${ref.scope}/sources/${ref.sourceId}/locations/${ref.location}`,
      // v2 makes state output-only: a new finding is ACTIVE whatever was sent.
      state: 'ACTIVE',
      createTime: toProtoTimestamp(now()),
      securityMarks: securityMarksOf(name, undefined),
      parentDisplayName: source.source.displayName ?? '',
    });
    return { finding, source, scope: ref.scope, location: ref.location, resource: undefined };
  }

  /**
   * One update_mask path: `source_properties.KEY` touches one key, other paths
   * name (possibly nested) fields by their proto names. A path whose value is
   * absent from the request clears the field, as FieldMask semantics say.
   * UpdateFindingRequest.update_mask (google/cloud/securitycenter/v2/securitycenter_service.proto):
   * "an empty mask is treated as updating all mutable fields and replacing
   * source_properties. Individual source_properties can be added/updated by
   * using "source_properties.<property key>" in the field mask." So a masked
   * write leaves every other key as it was (the response records rely on it,
   * lib/respond/records.ts), and a write without a mask replaces the map.
   */
  function applyMaskPath(stored: Obj, incoming: Obj, path: string): void {
    const segments = path.split('.');
    const first = segments[0] as string;
    if (!/^[a-z][a-z0-9_]*$/.test(first)) {
      throw invalidArgument(`Invalid update_mask path ${JSON.stringify(path)}: paths use proto field names in snake_case, e.g. "source_properties.KEY", "event_time"`);
    }
    const top = protoCamelCase(first);
    const info = findingFields.get(top);
    if (!info) throw invalidArgument(`Invalid update_mask path ${JSON.stringify(path)}: ${FINDING_TYPE} has no field ${JSON.stringify(first)}`);
    if (top === 'sourceProperties') {
      if (segments.length === 1) {
        validateSourceProperties(incoming.sourceProperties);
        copyPath(incoming, stored, ['sourceProperties']);
        return;
      }
      const key = segments.slice(1).join('.');
      validatePropertyKey(key);
      copyPath(incoming, stored, ['sourceProperties', key]);
      return;
    }
    const jsPath = resolveNestedPath(info, segments, path);
    if (IGNORED_ON_INPUT.has(top)) return;
    if ((IMMUTABLE as readonly string[]).includes(top)) return; // equality already enforced by checkImmutable
    if (top === 'eventTime') validateIncomingTimes(incoming);
    if (top === 'externalUri') validateExternalUri(incoming.externalUri);
    copyPath(incoming, stored, jsPath);
  }

  function resolveNestedPath(info: FieldInfo, segments: string[], path: string): string[] {
    const jsPath = [info.name];
    let current: FieldInfo = info;
    for (const segment of segments.slice(1)) {
      if (current.mapValueType !== null) {
        jsPath.push(segment);
        // Scalar map values have no subfields; message values do.
        const valueIsMessage = current.mapValueType.includes('.');
        current = { name: segment, repeated: false, mapValueType: null, typeName: valueIsMessage ? current.mapValueType : null, kind: valueIsMessage ? 'TYPE_MESSAGE' : current.mapValueType };
        continue;
      }
      if (current.repeated || current.kind !== 'TYPE_MESSAGE' || current.typeName === null) {
        throw invalidArgument(`Invalid update_mask path ${JSON.stringify(path)}: ${JSON.stringify(current.name)} has no subfields that a mask can address`);
      }
      const child = /^[a-z][a-z0-9_]*$/.test(segment) ? protoSet.messageFields(current.typeName).get(protoCamelCase(segment)) : undefined;
      if (!child) throw invalidArgument(`Invalid update_mask path ${JSON.stringify(path)}: ${current.typeName} has no field ${JSON.stringify(segment)}`);
      jsPath.push(child.name);
      current = child;
    }
    return jsPath;
  }

  function updateFinding(record: FindingRecord, incoming: Obj, paths: string[]): void {
    const stored = record.finding;
    checkImmutable(stored, incoming);
    if (paths.length === 0) {
      // "An empty mask is treated as updating all mutable fields and replacing
      // source_properties": mutable fields the request leaves unset are cleared.
      validateSourceProperties(incoming.sourceProperties);
      validateIncomingTimes(incoming);
      validateExternalUri(incoming.externalUri);
      const next: Obj = {};
      for (const k of [...IGNORED_ON_INPUT, ...IMMUTABLE]) if (stored[k] !== undefined) next[k] = stored[k];
      // Mute is the muting user's, not the finding provider's (finding.proto): kept unless sent.
      if (stored.mute !== undefined) next.mute = stored.mute;
      for (const [k, v] of Object.entries(incoming)) {
        if (!IGNORED_ON_INPUT.has(k) && !(IMMUTABLE as readonly string[]).includes(k)) next[k] = v;
      }
      record.finding = next;
      return;
    }
    // Validate every path before touching the stored finding: a rejected
    // request must leave it unchanged.
    const draft = structuredClone(stored);
    for (const path of paths) applyMaskPath(draft, incoming, path);
    record.finding = draft;
  }

  // -------------------------------------------------------------------------
  // ListFindings support

  function deriveResource(record: FindingRecord): ListFindingsResource {
    if (record.resource) return record.resource;
    const resourceName = String(record.finding.resourceName ?? '');
    const m = /^\/\/([^/]+)\/(.*)$/.exec(resourceName);
    const service = m?.[1] ?? '';
    const path = m?.[2] ?? '';
    const segments = path.split('/');
    const project = /(?:^|\/)projects\/([^/]+)/.exec(path)?.[1];
    const location = /(?:^|\/)(?:locations|zones|regions)\/([^/]+)/.exec(path)?.[1];
    const collection = segments.length >= 2 ? segments[segments.length - 2] : '';
    const types: Record<string, string> = {
      'container.googleapis.com/clusters': 'google.container.Cluster',
      'container.googleapis.com/nodePools': 'google.container.NodePool',
      'compute.googleapis.com/instances': 'google.compute.Instance',
      'cloudresourcemanager.googleapis.com/projects': 'google.cloud.resourcemanager.Project',
      'storage.googleapis.com/': 'google.cloud.storage.Bucket',
    };
    // Unknown mapping details (organization format, type names of other
    // services) are best guesses; seed `resource` to pin them in a test.
    const resource: Obj = {
      name: resourceName,
      displayName: segments[segments.length - 1] ?? '',
      type: types[`${service}/${collection ?? ''}`] ?? '',
      cloudProvider: 'GOOGLE_CLOUD_PLATFORM',
      service,
    };
    if (location) resource.location = location;
    const gcpMetadata: Obj = {};
    if (project) {
      gcpMetadata.project = `//cloudresourcemanager.googleapis.com/projects/${project}`;
      gcpMetadata.projectDisplayName = project;
      gcpMetadata.parent = gcpMetadata.project;
      gcpMetadata.parentDisplayName = project;
    }
    if (record.source.organization) gcpMetadata.organization = `organizations/${record.source.organization}`;
    resource.gcpMetadata = gcpMetadata;
    return resource;
  }

  interface Row {
    record: FindingRecord;
    resource: () => ListFindingsResource;
  }

  function stringAccessor(get: (row: Row) => unknown, ops: readonly FilterOp[], options: { caseInsensitive?: boolean; equals?: (actual: string, wanted: string) => boolean } = {}): FieldAccessor<Row> {
    const norm = (s: string): string => (options.caseInsensitive ? s.toLowerCase() : s);
    return {
      ops,
      compile(op, literal: FilterLiteral) {
        const wanted = norm(literal.text);
        return (row) => {
          const raw = get(row);
          if (raw === undefined || raw === null) return false;
          const actual = norm(String(raw));
          if (op === ':') return actual.includes(wanted);
          return options.equals ? options.equals(actual, wanted) : actual === wanted;
        };
      },
    };
  }

  const EQ_HAS: readonly FilterOp[] = ['=', ':'];
  const RESOURCE_FIELDS: Record<string, (r: Obj) => unknown> = {
    'resource.name': (r) => r.name,
    'resource.display_name': (r) => r.displayName,
    'resource.type': (r) => r.type,
    'resource.parent_name': (r) => r.gcpMetadata?.parent,
    'resource.parent_display_name': (r) => r.gcpMetadata?.parentDisplayName,
    'resource.project_name': (r) => r.gcpMetadata?.project,
    'resource.project_display_name': (r) => r.gcpMetadata?.projectDisplayName,
  };
  const SUPPORTED_FIELDS =
    'name, parent, resource_name, state, category, external_uri, severity, event_time, security_marks.marks.KEY, resource.name, resource.display_name, resource.type, resource.parent_name, resource.parent_display_name, resource.project_name, resource.project_display_name, resource.folders.resource_folder';

  function filterField(field: string): FieldAccessor<Row> | string {
    const f = (row: Row): Obj => row.record.finding;
    switch (field) {
      case 'name':
        return stringAccessor((r) => f(r).name, ['=']);
      case 'parent':
        // A parent without /locations/ means global everywhere else in v2.
        return stringAccessor((r) => f(r).parent, EQ_HAS, { equals: (a, w) => a === w || a === `${w}/locations/global` });
      case 'resource_name':
      case 'category':
      case 'external_uri':
        return stringAccessor((r) => f(r)[protoCamelCase(field)] ?? '', EQ_HAS);
      case 'state':
        return stringAccessor((r) => f(r).state ?? 'STATE_UNSPECIFIED', EQ_HAS);
      case 'severity':
        return stringAccessor((r) => f(r).severity ?? 'SEVERITY_UNSPECIFIED', EQ_HAS);
      case 'event_time':
        return {
          ops: ['=', '>', '>=', '<', '<='],
          compile(op, literal) {
            const wanted = literalTimeMillis(literal);
            if (wanted === null) throw invalidArgument(`Invalid filter: event_time takes milliseconds since the epoch or an RFC3339 string, got ${JSON.stringify(literal.text)}`);
            return (row) => {
              const actual = timestampMillis(f(row).eventTime);
              if (actual === undefined) return false;
              switch (op) {
                case '>':
                  return actual > wanted;
                case '>=':
                  return actual >= wanted;
                case '<':
                  return actual < wanted;
                case '<=':
                  return actual <= wanted;
                default:
                  return actual === wanted;
              }
            };
          },
        };
      case 'resource.folders.resource_folder':
        return stringAccessor((r) => ((r.resource() as Obj).gcpMetadata?.folders ?? []).map((x: Obj) => x.resourceFolder).join('\n'), EQ_HAS, {
          equals: (a, w) => a.split('\n').includes(w),
        });
      default:
        break;
    }
    if (field.startsWith('security_marks.marks.')) {
      const key = field.slice('security_marks.marks.'.length);
      if (!MARK_KEY.test(key)) return `invalid security mark key ${JSON.stringify(key)} in filter field ${JSON.stringify(field)}`;
      return stringAccessor(
        (r) => {
          const marks: Obj = f(r).securityMarks?.marks ?? {};
          const k = findKeyInsensitive(marks, key);
          return k === undefined ? undefined : marks[k];
        },
        EQ_HAS,
        { caseInsensitive: true },
      );
    }
    const resourceGetter = RESOURCE_FIELDS[field];
    if (resourceGetter) return stringAccessor((r) => resourceGetter(r.resource() as Obj), EQ_HAS);
    if (field === 'security_marks.marks' || field === 'security_marks') return `filter on a single mark: security_marks.marks.KEY`;
    if (field === 'source_properties' || field.startsWith('source_properties.')) {
      return `field ${JSON.stringify(field)} is not supported: the v2 API cannot filter on source_properties (filter on the client side)`;
    }
    return `unsupported filter field ${JSON.stringify(field)} (supported: ${SUPPORTED_FIELDS})`;
  }

  const ORDER_FIELDS: Record<string, (r: FindingRecord) => string | number> = {
    name: (r) => String(r.finding.name ?? ''),
    parent: (r) => String(r.finding.parent ?? ''),
    state: (r) => String(r.finding.state ?? ''),
    category: (r) => String(r.finding.category ?? ''),
    resource_name: (r) => String(r.finding.resourceName ?? ''),
    event_time: (r) => timestampMillis(r.finding.eventTime) ?? Number.NEGATIVE_INFINITY,
  };

  function compileOrderBy(orderBy: string): (a: FindingRecord, b: FindingRecord) => number {
    const keys: Array<{ get: (r: FindingRecord) => string | number; desc: boolean }> = [];
    for (const part of orderBy.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
      const m = /^([a-z_.A-Z0-9-]+)(?:\s+(asc|desc))?$/i.exec(part);
      if (!m) throw invalidArgument(`Invalid order_by ${JSON.stringify(orderBy)}: expected "field [desc]" items separated by commas`);
      const field = m[1] as string;
      let get = ORDER_FIELDS[field];
      if (!get && field.startsWith('security_marks.marks.')) {
        const key = field.slice('security_marks.marks.'.length);
        get = (r) => {
          const marks: Obj = r.finding.securityMarks?.marks ?? {};
          const k = findKeyInsensitive(marks, key);
          return k === undefined ? '' : String(marks[k]);
        };
      }
      if (!get) throw invalidArgument(`Invalid order_by field ${JSON.stringify(field)} (supported: ${Object.keys(ORDER_FIELDS).join(', ')}, security_marks.marks.KEY)`);
      keys.push({ get, desc: m[2]?.toLowerCase() === 'desc' });
    }
    // Google documents no default order; by name keeps pages stable.
    keys.push({ get: ORDER_FIELDS.name as (r: FindingRecord) => string, desc: false });
    return (a, b) => {
      for (const { get, desc } of keys) {
        const x = get(a);
        const y = get(b);
        if (x < y) return desc ? 1 : -1;
        if (x > y) return desc ? -1 : 1;
      }
      return 0;
    };
  }

  function pageSizeOf(requested: unknown): number {
    const size = Number(requested ?? 0);
    if (!Number.isInteger(size) || size < 0) throw invalidArgument(`Invalid page_size ${JSON.stringify(requested)}: must be between 1 and 1000`);
    if (size > 1000) throw invalidArgument(`Invalid page_size ${size}: the maximum is 1000`);
    return size === 0 ? 10 : size;
  }

  /** Page tokens are bound to the query they came from, as the real API's are. */
  function encodePageToken(offset: number, query: string): string {
    return Buffer.from(JSON.stringify({ o: offset, q: query })).toString('base64url');
  }

  function decodePageToken(token: unknown, query: string): number {
    if (token === undefined || token === null || token === '') return 0;
    try {
      const parsed = JSON.parse(Buffer.from(String(token), 'base64url').toString('utf8')) as { o?: unknown; q?: unknown };
      if (typeof parsed.o === 'number' && Number.isInteger(parsed.o) && parsed.o >= 0 && parsed.q === query) return parsed.o;
    } catch {
      // fall through
    }
    throw invalidArgument(`Invalid page_token ${JSON.stringify(token)}: it does not belong to this request's parent, filter and order_by`);
  }

  function inScope(record: FindingRecord, ref: SourceRef, source: SourceRecord | null): boolean {
    if (record.location !== ref.location) return false;
    if (source && record.source !== source) return false;
    if (ref.scopeType === 'organizations') return record.source.organization === ref.scopeId || record.scope === ref.scope;
    if (ref.scopeType === 'projects') {
      const project = /\/projects\/([^/]+)/.exec(String(record.finding.resourceName ?? ''))?.[1];
      return record.scope === ref.scope || project === ref.scopeId;
    }
    return record.scope === ref.scope;
  }

  /**
   * ListFindings' field_mask names fields of each ListFindingsResult, so
   * finding fields are written `finding.X`: the SCC documentation's own
   * example is `gcloud scc findings list ... --field-mask="finding.category,finding.resource_name"`
   * (https://cloud.google.com/sdk/gcloud/reference/scc/findings/list, EXAMPLES).
   * A path that does not map onto ListFindingsResult (a bare `name`, `category`)
   * or that repeats another is INVALID_ARGUMENT, as google/protobuf/field_mask.proto
   * asks of every method taking a FieldMask ("duplicated or unmappable").
   * Empty: every field (securitycenter_service.proto, ListFindingsRequest.field_mask).
   */
  function maskResult(row: { finding: Obj; resource: () => ListFindingsResource }, paths: string[]): Obj {
    if (paths.length === 0) return { finding: row.finding, resource: row.resource() };
    const seen = new Set<string>();
    const findingPaths: string[] = [];
    let wholeFinding = false;
    let withResource = false;
    for (const path of paths) {
      if (seen.has(path)) throw invalidArgument(`Invalid field_mask: path ${JSON.stringify(path)} is duplicated`);
      seen.add(path);
      const [root, ...rest] = path.split('.');
      if (root === 'finding') {
        if (rest.length === 0) wholeFinding = true;
        else findingPaths.push(rest.join('.'));
      } else if (root === 'resource') {
        withResource = true;
      } else if (root !== 'state_change') {
        throw invalidArgument(
          `Invalid field_mask path ${JSON.stringify(path)}: ${RESULT_TYPE} has no field ${JSON.stringify(root)} (finding fields are written finding.${root})`,
        );
      }
    }
    const out: Obj = {};
    if (wholeFinding) out.finding = row.finding;
    else if (findingPaths.length > 0) out.finding = applyFieldMask(row.finding, findingPaths);
    if (withResource) out.resource = row.resource();
    return out;
  }

  function applyFieldMask(finding: Obj, paths: string[]): Obj {
    const out: Obj = {};
    for (const path of paths) {
      const segments = path.split('.');
      const first = segments[0] as string;
      const info = /^[a-z][a-z0-9_]*$/.test(first) ? findingFields.get(protoCamelCase(first)) : undefined;
      if (!info) throw invalidArgument(`Invalid field_mask path ${JSON.stringify(path)}: ${FINDING_TYPE} has no field ${JSON.stringify(first)}`);
      const jsPath = first === 'source_properties' && segments.length > 1 ? ['sourceProperties', segments.slice(1).join('.')] : resolveNestedPath(info, segments, path);
      copyPath(finding, out, jsPath);
    }
    return out;
  }

  // -------------------------------------------------------------------------
  // RPC handlers

  function maskPaths(mask: Obj | undefined): string[] {
    return ((mask?.paths ?? []) as string[]).filter((p) => p !== '');
  }

  const handlers = {
    CreateSource(req: Obj): Obj {
      const parent = String(req.parent ?? '');
      const m = /^organizations\/([^/]+)$/.exec(parent);
      if (!m) throw invalidArgument(`Invalid parent ${JSON.stringify(parent)}: sources are created under organizations/ORGANIZATION_ID`);
      const org = m[1] as string;
      const input: Obj = req.source ?? {};
      const displayName = String(input.displayName ?? '');
      if (displayName.length < 1 || displayName.length > 64) throw invalidArgument('Invalid source display_name: must be 1-64 characters');
      if (String(input.description ?? '').length > 1024) throw invalidArgument('Invalid source description: at most 1024 characters');
      if ([...sources.values()].some((s) => s.organization === org && s.source.displayName === displayName)) {
        throw alreadyExists(`A source named ${JSON.stringify(displayName)} already exists in organizations/${org}`);
      }
      return addSourceRecord({ organization: org, displayName, description: input.description }).source;
    },

    GetSource(req: Obj): Obj {
      const name = String(req.name ?? '');
      if (!SOURCE_NAME.test(name)) throw invalidArgument(`Invalid source name ${JSON.stringify(name)}: expected organizations/ORGANIZATION_ID/sources/SOURCE_ID`);
      const record = sources.get(name);
      if (!record) throw notFound(`Source ${JSON.stringify(name)} not found`);
      return record.source;
    },

    ListSources(req: Obj): Obj {
      const parent = String(req.parent ?? '');
      const m = /^(organizations|folders|projects)\/([^/]+)$/.exec(parent);
      if (!m) throw invalidArgument(`Invalid parent ${JSON.stringify(parent)}: expected organizations/O, folders/F or projects/P`);
      const pageSize = pageSizeOf(req.pageSize);
      // The emulator knows no folder/project → organization hierarchy, so
      // folders and projects see every source.
      const all = [...sources.values()]
        .filter((s) => m[1] !== 'organizations' || s.organization === m[2])
        .map((s) => s.source)
        .sort((a, b) => String(a.name).localeCompare(String(b.name)));
      const query = `ListSources|${parent}`;
      const offset = decodePageToken(req.pageToken, query);
      const page = all.slice(offset, offset + pageSize);
      const end = offset + page.length;
      return { sources: page, nextPageToken: end < all.length ? encodePageToken(end, query) : '' };
    },

    CreateFinding(req: Obj): Obj {
      const parent = String(req.parent ?? '');
      const ref = parseSourceRef(parent);
      if (!ref || ref.sourceId === '-') throw invalidArgument(`Invalid parent ${JSON.stringify(parent)}: expected organizations/O/sources/S[/locations/L]`);
      const source = requireSource(ref, parent);
      const findingId = String(req.findingId ?? '');
      validateFindingId(findingId);
      if (!req.finding) throw invalidArgument('finding is required');
      const fref: FindingRef = { ...ref, findingId };
      const name = canonicalFindingName(fref);
      if (findings.has(name)) throw alreadyExists(`Finding ${JSON.stringify(name)} already exists`);
      const record = newFinding(fref, source, req.finding);
      findings.set(name, record);
      emit({ type: 'FINDING_CREATED', origin: 'api', finding: structuredClone(record.finding) });
      return record.finding;
    },

    UpdateFinding(req: Obj): Obj {
      const incoming: Obj | undefined = req.finding;
      if (!incoming) throw invalidArgument('finding is required');
      const given = String(incoming.name ?? '');
      const ref = parseFindingRef(given);
      if (!ref) throw invalidArgument(`Invalid finding name ${JSON.stringify(given)}: expected organizations/O/sources/S/locations/L/findings/F`);
      const source = requireSource(ref, `${ref.scope}/sources/${ref.sourceId}`);
      const name = canonicalFindingName(ref);
      const paths = maskPaths(req.updateMask);
      const existing = findings.get(name);
      if (!existing) {
        // Upsert: the finding is created, and a creation takes no mask.
        validateFindingId(ref.findingId);
        if (paths.length > 0) {
          throw invalidArgument(`Finding ${JSON.stringify(name)} does not exist; to create it through UpdateFinding, send no update_mask`);
        }
        const record = newFinding(ref, source, incoming);
        findings.set(name, record);
        emit({ type: 'FINDING_CREATED', origin: 'api', finding: structuredClone(record.finding) });
        return record.finding;
      }
      updateFinding(existing, incoming, paths);
      emit({ type: 'FINDING_UPDATED', origin: 'api', finding: structuredClone(existing.finding) });
      return existing.finding;
    },

    UpdateSecurityMarks(req: Obj): Obj {
      const sm: Obj | undefined = req.securityMarks;
      if (!sm) throw invalidArgument('security_marks is required');
      const marksName = String(sm.name ?? '');
      if (/^(organizations|folders|projects)\/[^/]+\/assets\//.test(marksName)) {
        throw new RpcError(Status.UNIMPLEMENTED, 'asset security marks are not emulated; only finding marks are');
      }
      const findingName = marksName.endsWith('/securityMarks') ? marksName.slice(0, -'/securityMarks'.length) : '';
      const ref = parseFindingRef(findingName);
      if (!ref) throw invalidArgument(`Invalid security_marks.name ${JSON.stringify(marksName)}: expected FINDING_NAME/securityMarks`);
      const record = findings.get(canonicalFindingName(ref));
      if (!record) throw notFound(`Finding ${JSON.stringify(findingName)} not found`);
      const paths = maskPaths(req.updateMask);
      if (new Set(paths).size !== paths.length) throw invalidArgument('update_mask must not contain duplicate paths');
      const incoming: Obj = sm.marks ?? {};
      const current: Obj = { ...(record.finding.securityMarks?.marks ?? {}) };
      let next: Obj;
      if (paths.length === 0 || (paths.length === 1 && paths[0] === 'marks')) {
        next = {};
        for (const [key, value] of Object.entries(incoming)) {
          validateMarkKey(key);
          if (findKeyInsensitive(next, key) !== undefined) throw invalidArgument(`Duplicate security mark key ${JSON.stringify(key)} (keys are case-insensitive)`);
          next[key] = normalizeMarkValue(key, value);
        }
      } else {
        next = current;
        // [key as the mask spells it, key as the map spells it, trimmed value]
        const updates: Array<[string, string | undefined, string | undefined]> = [];
        for (const path of paths) {
          const m = /^marks\.(.+)$/s.exec(path);
          if (!m) throw invalidArgument(`Invalid update_mask path ${JSON.stringify(path)}: expected "marks" alone or "marks.KEY" paths`);
          const key = m[1] as string;
          validateMarkKey(key);
          const incomingKey = findKeyInsensitive(incoming, key);
          updates.push([key, incomingKey, incomingKey === undefined ? undefined : normalizeMarkValue(incomingKey, incoming[incomingKey])]);
        }
        for (const [key, incomingKey, value] of updates) {
          const existingKey = findKeyInsensitive(next, key);
          if (existingKey !== undefined) delete next[existingKey];
          if (value !== undefined) next[incomingKey ?? key] = value;
        }
      }
      record.finding.securityMarks = securityMarksOf(record.finding.name, next);
      emit({ type: 'SECURITY_MARKS_UPDATED', origin: 'api', finding: structuredClone(record.finding) });
      return record.finding.securityMarks;
    },

    ListFindings(req: Obj): Obj {
      const parent = String(req.parent ?? '');
      const ref = parseSourceRef(parent);
      if (!ref) throw invalidArgument(`Invalid parent ${JSON.stringify(parent)}: expected organizations/O/sources/S (or sources/-)[/locations/L]`);
      const source = ref.sourceId === '-' ? null : requireSource(ref, parent);
      const pageSize = pageSizeOf(req.pageSize);
      const filter = String(req.filter ?? '');
      const orderBy = String(req.orderBy ?? '');
      const predicate = compileFilter<Row>(filter, filterField);
      const compare = compileOrderBy(orderBy);
      const fieldMask = maskPaths(req.fieldMask);
      // Checked before any row is read: a bad mask fails even when nothing matches.
      maskResult({ finding: {}, resource: () => ({}) }, fieldMask);
      const rows: Row[] = [];
      for (const record of findings.values()) {
        if (!inScope(record, ref, source)) continue;
        let resource: ListFindingsResource | undefined;
        const row: Row = { record, resource: () => (resource ??= deriveResource(record)) };
        if (predicate(row)) rows.push(row);
      }
      rows.sort((a, b) => compare(a.record, b.record));
      const query = `ListFindings|${parent}|${filter}|${orderBy}`;
      const offset = decodePageToken(req.pageToken, query);
      const page = rows.slice(offset, offset + pageSize);
      const end = offset + page.length;
      return {
        listFindingsResults: page.map((row) => maskResult({ finding: row.record.finding, resource: row.resource }, fieldMask)),
        nextPageToken: end < rows.length ? encodePageToken(end, query) : '',
        totalSize: rows.length,
      };
    },
  } satisfies Record<(typeof IMPLEMENTED_RPCS)[number], (req: Obj) => Obj>;

  // -------------------------------------------------------------------------
  // Seeding

  function addSourceRecord(input: AddSourceInput): SourceRecord {
    let name: string;
    if (input.name !== undefined) {
      if (!/^(organizations|folders|projects)\/[^/]+\/sources\/[^/]+$/.test(input.name)) throw new Error(`not a source name: ${input.name}`);
      name = input.name;
    } else {
      if (!input.organization || !/^\d+$/.test(input.organization)) throw new Error(`organization must be digits, got ${JSON.stringify(input.organization)}`);
      name = `organizations/${input.organization}/sources/${input.id ?? generateSourceId()}`;
    }
    if (sources.has(name)) throw new Error(`source ${name} already exists`);
    const [scopeType, scopeId, , id] = name.split('/') as [string, string, string, string];
    const source: Obj = { name, displayName: input.displayName, canonicalName: name };
    if (input.description) source.description = input.description;
    const record: SourceRecord = {
      source: protoSet.roundTrip<Obj>(`${PACKAGE}.Source`, source),
      organization: scopeType === 'organizations' ? scopeId : null,
      scope: `${scopeType}/${scopeId}`,
      id,
    };
    sources.set(name, record);
    return record;
  }

  function addFinding(findingName: string, seed: SeedFinding, options: AddFindingOptions = {}): Finding {
    const ref = parseFindingRef(findingName);
    if (!ref) throw new Error(`not a finding name: ${findingName}`);
    const source = resolveSource(ref);
    if (!source) throw new Error(`source ${ref.scope}/sources/${ref.sourceId} does not exist: addSource() it first`);
    for (const key of Object.keys(seed)) {
      if (!findingFields.has(key)) throw new Error(`${FINDING_TYPE} has no field ${JSON.stringify(key)} (use the client's camelCase names)`);
    }
    const name = canonicalFindingName(ref);
    const raw: Obj = { ...seed };
    if (seed.sourceProperties) raw.sourceProperties = Object.fromEntries(Object.entries(seed.sourceProperties).map(([k, v]) => [k, toProtoValue(v)]));
    for (const field of ['eventTime', 'createTime', 'muteUpdateTime']) {
      if (raw[field] !== undefined) raw[field] = toProtoTimestamp(raw[field] as TimestampInput);
    }
    raw.name = name;
    raw.canonicalName ??= name;
    raw.parent ??= `${ref.scope}/sources/${ref.sourceId}/locations/${ref.location}`;
    raw.state ??= 'ACTIVE';
    raw.createTime ??= raw.eventTime ?? toProtoTimestamp(now());
    raw.parentDisplayName ??= source.source.displayName ?? '';
    raw.securityMarks = securityMarksOf(name, seed.securityMarks?.marks);
    // Through the codec, so a seeded finding is exactly what the wire would carry.
    const finding = protoSet.roundTrip<Obj>(FINDING_TYPE, raw);
    const existed = findings.has(name);
    findings.set(name, { finding, source, scope: ref.scope, location: ref.location, resource: options.resource });
    emit({ type: existed ? 'FINDING_UPDATED' : 'FINDING_CREATED', origin: 'seed', finding: structuredClone(finding) });
    return structuredClone(finding);
  }

  // -------------------------------------------------------------------------

  let checkQuota = options.quota ? quotaGate(options.quota) : null;
  const gatedHandlers = Object.fromEntries(
    Object.entries(handlers).map(([rpc, handler]) => [
      rpc,
      (req: Obj, ctx: CallContext) => {
        checkQuota?.(rpc as (typeof IMPLEMENTED_RPCS)[number], ctx.metadata);
        return handler(req);
      },
    ]),
  );

  const server = await GrpcEmulator.start({
    host: options.host,
    port: options.port,
    services: [{ definition: protoSet.service(SERVICE), handlers: gatedHandlers }],
  });

  return {
    endpoint: server.endpoint,
    port: server.port,
    addSource: (input) => structuredClone(addSourceRecord(input).source),
    addFinding,
    getSource: (name) => {
      const s = sources.get(name);
      return s ? structuredClone(s.source) : undefined;
    },
    listAllSources: () => [...sources.values()].map((s) => structuredClone(s.source)),
    getFinding: (name) => {
      const r = findingRecord(name);
      return r ? structuredClone(r.finding) : undefined;
    },
    getMarks: (name) => {
      const r = findingRecord(name);
      return r ? { ...(r.finding.securityMarks?.marks ?? {}) } : undefined;
    },
    listAllFindings: () => [...findings.values()].map((r) => structuredClone(r.finding)),
    get requestLog() {
      return server.requestLog;
    },
    requests: (method) => server.requests(method),
    clearRequestLog: () => server.clearRequestLog(),
    setLatency: (method, ms) => server.setLatency(method, ms),
    injectFault: (method, fault) => server.injectFault(method, fault),
    clearFaults: () => server.clearFaults(),
    setQuota(quota) {
      checkQuota = quota ? quotaGate(quota) : null;
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    reset() {
      sources.clear();
      findings.clear();
      server.clearRequestLog();
      server.clearFaults();
      server.clearLatency();
      checkQuota = null;
    },
    stop: () => server.stop(),
  };
}

// ---------------------------------------------------------------------------

/** Copies the value at `path` from `from` into `to`, or deletes it there when `from` has none. */
function copyPath(from: Obj, to: Obj, path: string[]): void {
  let src: any = from;
  for (const key of path) src = src === undefined || src === null ? undefined : src[key];
  let dst: Obj = to;
  for (const key of path.slice(0, -1)) {
    if (dst[key] === undefined || dst[key] === null || typeof dst[key] !== 'object') {
      if (src === undefined) return;
      dst[key] = {};
    }
    dst = dst[key] as Obj;
  }
  const last = path[path.length - 1] as string;
  if (src === undefined) delete dst[last];
  else dst[last] = structuredClone(src);
}
