/**
 * Playbook step 4, second query: the cluster's Admin Activity audit log
 * entries that mention the pod. Two things are pulled out of them: who ran
 * `kubectl exec` into this pod (the usual way a socat shell is started by
 * hand) and who created, changed or deleted the pod.
 *
 * Only Admin Activity is read (logging.logEntries.list suffices). GKE writes
 * pods/exec there; Data Access logs would need logging.privateLogEntries.list.
 */
import type { SocatFinding } from '../finding/types.js';
import { LOG_READ_CUT } from './evidence.js';
import { redactArgv } from '../redact.js';
import type { GatherDeps, GatherSettings } from './deps.js';
import { toMillis } from '../timestamp.js';
import {
  LOGGING_API,
  LOGGING_PERMISSIONS,
  logProject,
  readSection,
  logWindow,
  numberOnlyGap,
  planLogQuery,
  quoteValue,
  restriction,
  sharedRead,
  type AuditRecord, type Json,
  type DecodedEntry,
  type LogQuerySpec,
  type LogWindow,
} from './log-query.js';
import type { AuditLogSection, ExecEvent, GatheredSections, PodChangeEvent, PodEntryKind, RefusedAttempt } from './sections.js';
import type { Gatherer } from './types.js';

/** The method the SPDY exec logs (kubectl < 1.30); kept for callers and seeds that name it. */
export const EXEC_METHOD = 'io.k8s.core.v1.pods.exec.create';
/**
 * Every way into a pod, as GKE names the request: pods/exec and pods/attach
 * are logged with verb create over SPDY and get over WebSocket (kubectl 1.30
 * switched: kubernetes/kubernetes PR 116778; sapcc/kubernikus PR 996 changed
 * its audit policy for the same reason), pods/ephemeralcontainers with patch
 * (kubectl debug) or update. Method names are compared without case: the
 * verb's case is the API server's, not ours to assume.
 */
export const POD_ENTRY_METHOD = /^io\.k8s\.core\.v1\.pods\.(exec|attach|ephemeralcontainers)\.(create|get|patch|update)$/i;
const ENTRY_KIND: Record<string, PodEntryKind> = { exec: 'exec', attach: 'attach', ephemeralcontainers: 'debug' };
const ENTRY_VERBS: Record<PodEntryKind, ReadonlySet<string>> = {
  exec: new Set(['create', 'get']),
  attach: new Set(['create', 'get']),
  debug: new Set(['patch', 'update']),
};
const POD_CHANGE_METHOD = /^io\.k8s\.core\.v1\.pods\.(create|patch|update|delete)$/i;
// core/v1/namespaces/NS/pods/POD[/exec][?query]; a create may name only the collection (generateName).
const POD_RESOURCE = /^core\/v1\/namespaces\/([^/?]+)\/pods(?:\/([^/?]+))?(?:\/([^/?]+))?(?:\?(.*))?$/;

const MAX_COMMAND_ARGS = 64;

export interface PodTarget {
  namespace: string | null;
  pod: string;
}

interface PodRef {
  namespace: string;
  pod: string | null;
  subresource: string | null;
  query: string | null;
}

function parsePodResource(resourceName: string | null): PodRef | null {
  const m = resourceName ? POD_RESOURCE.exec(resourceName) : null;
  if (!m) return null;
  return { namespace: m[1] as string, pod: m[2] ?? null, subresource: m[3]?.toLowerCase() ?? null, query: m[4] ?? null };
}

function sameTarget(ref: { namespace: string; pod: string | null }, target: PodTarget): boolean {
  return ref.pod === target.pod && (target.namespace === null || ref.namespace === target.namespace);
}

type JsonObject = Record<string, Json>;

function objectOf(v: unknown): JsonObject | null {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as JsonObject) : null;
}

function stringsOf(v: unknown): string[] | null {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  return null;
}

function queryParams(uri: unknown): URLSearchParams | null {
  if (typeof uri !== 'string') return null;
  const q = uri.indexOf('?');
  return q < 0 ? null : new URLSearchParams(uri.slice(q + 1));
}

/** The request URIs an entry may keep: the Request-level body's, the metadata's, and the resource name's own query. */
function uris(a: AuditRecord, ref: PodRef): string[] {
  const found = [a.request?.requestURI, a.request?.requestUri, a.metadata?.requestURI].filter((u): u is string => typeof u === 'string');
  return ref.query !== null ? [...found, `?${ref.query}`] : found;
}

function fromUris(a: AuditRecord, ref: PodRef, param: string): string[] | null {
  for (const uri of uris(a, ref)) {
    const values = queryParams(uri)?.getAll(param) ?? [];
    if (values.length > 0) return values;
  }
  return null;
}

/** The debug container the request adds: the last of spec.ephemeralContainers (a patch or an update sends them all). */
function ephemeralContainer(a: AuditRecord): JsonObject | null {
  for (const body of [a.request, a.response]) {
    const b = objectOf(body);
    const list = objectOf(b?.spec)?.ephemeralContainers ?? b?.ephemeralContainers;
    if (Array.isArray(list) && list.length > 0) return objectOf(list[list.length - 1]);
  }
  return null;
}

/**
 * The command and the container, when the entry carries them: GKE's audit
 * policy logs pods/exec at Metadata level, so usually it does not. A
 * Request-level entry has PodExecOptions (command[], container) in
 * protoPayload.request; some pipelines keep the requestURI with its
 * command= and container= parameters; a debug container's body names its
 * command and name.
 */
function sessionDetails(a: AuditRecord, ref: PodRef, kind: PodEntryKind): { command: string[] | null; container: string | null } {
  // GKE's own entries carry neither the command nor the container here (the resourceName has no query: sysdiglabs/stackdriver-webhook-bridge PR 12).
  if (kind === 'debug') {
    const c = ephemeralContainer(a);
    const command = [...(stringsOf(c?.command) ?? []), ...(stringsOf(c?.args) ?? [])];
    return { command: command.length > 0 ? command : null, container: typeof c?.name === 'string' ? c.name : null };
  }
  const command = stringsOf(a.request?.command) ?? fromUris(a, ref, 'command');
  const container = (typeof a.request?.container === 'string' ? a.request.container : null) ?? fromUris(a, ref, 'container')?.[0] ?? null;
  return { command, container };
}

const DECISION = 'authorization.k8s.io/decision';
const REASON = 'authorization.k8s.io/reason';
const COMMAND_LABEL = 'command.gke.io/command';

/** A label GKE writes on the LogEntry, or (as other audit pipelines keep it) in protoPayload.metadata. */
function annotation(d: DecodedEntry, key: string): string | null {
  const v = d.labels[key] ?? d.audit?.metadata?.[key];
  return typeof v === 'string' && v !== '' ? v : null;
}

/**
 * Allowed and succeeded: no failing status, no forbid decision, no
 * authorizationInfo that says granted: false. GKE writes a refusal as
 * protoPayload.status {code: 7, message: "Forbidden"} with the authorizer's
 * decision in the LogEntry's labels ("authorization.k8s.io/decision":
 * "forbid"); proto3 drops granted: false, so its absence proves nothing
 * (docs/attribution-research.md, test/fixtures/gke-audit/exec-refused.json).
 */
function refusal(d: DecodedEntry, a: AuditRecord): { statusCode: number | null; reason: string | null } | null {
  const decision = annotation(d, DECISION)?.toLowerCase() ?? null;
  const failed = a.statusCode !== null && a.statusCode !== 0;
  if (!failed && decision !== 'forbid' && a.granted !== false) return null;
  const reason = annotation(d, REASON) ?? a.statusMessage ?? (decision === 'forbid' ? 'forbid' : null);
  return { statusCode: a.statusCode, reason };
}

/**
 * GKE keeps an exec's command in the LogEntry label command.gke.io/command
 * as one string (elastic/detection-rules PR 6456 matches on it); how it joins
 * argv is not documented, so it is split on blanks: good enough to tell
 * whether it mentions socat or starts a shell, never shown as exact argv.
 */
function labelCommand(d: DecodedEntry): string[] | null {
  const text = annotation(d, COMMAND_LABEL);
  const words = text?.split(/\s+/).filter((w) => w !== '') ?? [];
  return words.length > 0 ? words : null;
}

export interface PodEntries {
  execs: ExecEvent[];
  refused: RefusedAttempt[];
}

export function extractPodEntries(decoded: readonly DecodedEntry[], target: PodTarget): PodEntries {
  const out: PodEntries = { execs: [], refused: [] };
  for (const d of decoded) {
    const a = d.audit;
    const m = a?.methodName ? POD_ENTRY_METHOD.exec(a.methodName) : null;
    if (!a || !m) continue;
    const kind = ENTRY_KIND[(m[1] as string).toLowerCase()] as PodEntryKind;
    if (!ENTRY_VERBS[kind].has((m[2] as string).toLowerCase())) continue;
    const ref = parsePodResource(a.resourceName);
    if (!ref || ref.subresource !== (m[1] as string).toLowerCase() || !sameTarget(ref, target)) continue;
    const base = { kind, method: a.methodName, time: d.timestamp, principal: a.principal, callerIp: a.callerIp, userAgent: a.userAgent, namespace: ref.namespace, pod: ref.pod };
    const refused = refusal(d, a);
    if (refused !== null) {
      out.refused.push({ ...base, ...refused });
      continue;
    }
    const details = sessionDetails(a, ref, kind);
    details.command ??= labelCommand(d);
    // Commands can carry credentials (curl -H Authorization..., mysql --password VALUE as two arguments).
    const command = details.command === null ? null : redactArgv(details.command.slice(0, MAX_COMMAND_ARGS));
    out.execs.push({ ...base, command, container: details.container, mentionsSocat: command !== null && command.some((arg) => /socat/i.test(arg)) });
  }
  return out;
}

/** Allowed sessions only; see extractPodEntries for the refused ones. */
export function extractExecs(decoded: readonly DecodedEntry[], target: PodTarget): ExecEvent[] {
  return extractPodEntries(decoded, target).execs;
}

function createdPodName(a: AuditRecord): string | null {
  for (const body of [a.response, a.request]) {
    const meta = body?.metadata;
    if (meta && typeof meta === 'object' && !Array.isArray(meta) && typeof meta.name === 'string') return meta.name;
  }
  return null;
}

export function extractPodChanges(decoded: readonly DecodedEntry[], target: PodTarget): PodChangeEvent[] {
  const changes: PodChangeEvent[] = [];
  for (const d of decoded) {
    const a = d.audit;
    const verb = a?.methodName ? POD_CHANGE_METHOD.exec(a.methodName)?.[1]?.toLowerCase() : undefined;
    if (!a || !verb) continue;
    const ref = parsePodResource(a.resourceName);
    if (!ref || ref.subresource !== null) continue;
    const pod = ref.pod ?? (verb === 'create' ? createdPodName(a) : null);
    if (!sameTarget({ namespace: ref.namespace, pod }, target)) continue;
    changes.push({ time: d.timestamp, verb, principal: a.principal });
  }
  return changes;
}

/** Everything the audit section holds beyond the query's own facts; pure, shared with `analyze --evidence`. */
export function auditEvidence(decoded: readonly DecodedEntry[], target: PodTarget): Pick<AuditLogSection, 'execs' | 'refused' | 'podChanges'> {
  return { ...extractPodEntries(decoded, target), podChanges: extractPodChanges(decoded, target) };
}

/**
 * The audit query's method restriction (RE2, for Cloud Logging; POD_ENTRY_METHOD
 * and POD_CHANGE_METHOD above are the same methods for reading entries):
 * every way into a pod and every change to one, as GKE names the methods in
 * Admin Activity: exec over SPDY (create) and over WebSocket (get, kubectl
 * 1.30 and later), attach likewise, ephemeral containers (kubectl debug) and
 * pod create/patch/update/delete. Not the pods' status or binding
 * subresources, which the kubelet and scheduler write all the time. Matched
 * case-insensitively: `=~` takes an RE2 expression and RE2 takes the (?i) flag
 * (https://cloud.google.com/logging/docs/view/logging-query-language#regular-expressions,
 * https://github.com/google/re2/wiki/Syntax); "[.]" instead of "\\." keeps
 * the dot literal without an escape the quoting would have to carry.
 */
export const AUDIT_METHOD_FILTER =
  '(?i)^io[.]k8s[.]core[.]v1[.]pods([.](exec|attach)[.](create|get)|[.]ephemeralcontainers[.](patch|update)|[.](create|patch|update|delete))$';

/**
 * Findings on one cluster whose eventTime falls in the same bucket of this
 * many minutes share one audit read: its window [bucket start − before,
 * bucket end + after] covers each one's own [eventTime − before, eventTime + after].
 */
export const AUDIT_SHARE_BUCKET_MINUTES = 5;

/** An entry about this pod: its resource name names it, or a create names it in its body. */
export function concernsPod(d: DecodedEntry, target: PodTarget): boolean {
  const a = d.audit;
  const ref = a ? parsePodResource(a.resourceName) : null;
  if (!a || !ref) return false;
  return sameTarget({ namespace: ref.namespace, pod: ref.pod ?? createdPodName(a) }, target);
}

function within(d: DecodedEntry, w: LogWindow): boolean {
  const t = d.timestamp === null ? null : toMillis(d.timestamp);
  return t !== null && t >= (toMillis(w.start) as number) && t <= (toMillis(w.end) as number);
}

/** The query of this section; null when the finding lacks what it needs (missing() says what). Pure. */
export function auditLogsSpec(finding: SocatFinding): LogQuerySpec | null {
  const cluster = finding.cluster;
  const pod = finding.workload.pod;
  const project = logProject(finding);
  if (!cluster || !project || !pod) return null;
  return {
    restrictions: [
      restriction('logName', `projects/${project.id}/logs/cloudaudit.googleapis.com%2Factivity`),
      restriction('resource.type', 'k8s_cluster'),
      restriction('resource.labels.project_id', project.id),
      restriction('resource.labels.location', cluster.location),
      restriction('resource.labels.cluster_name', cluster.name),
      // No pod term: one read serves every finding on the cluster in its bucket (sharedAuditWindow).
      `protoPayload.methodName=~${quoteValue(AUDIT_METHOD_FILTER)}`,
    ],
    resourceProject: project.resource,
    linkProject: project.id,
    sharedBucketMinutes: AUDIT_SHARE_BUCKET_MINUTES,
  };
}

export const auditLogs: Gatherer<GatherDeps, GatheredSections, 'auditLogs'> = {
  section: 'auditLogs',
  description: 'Cluster Admin Activity audit log entries for every way into a pod (exec, attach, kubectl debug) and pod changes, read once per cluster and 5-minute bucket for all findings in it; each keeps its own pod\'s entries',
  needs: [],
  api: LOGGING_API,
  permissions: LOGGING_PERMISSIONS,
  enabledByDefault: true,
  missing(finding) {
    if (!finding.cluster) return 'the finding names no GKE cluster';
    if (!finding.workload.pod) return 'the finding names no pod';
    return null;
  },
  async gather(ctx): Promise<AuditLogSection> {
    const { namespace, pod } = ctx.finding.workload;
    const spec = auditLogsSpec(ctx.finding);
    const project = logProject(ctx.finding);
    if (!spec || !project || !pod) throw new Error('auditLogs ran without the cluster and pod that missing() checks');
    if (project.numberOnly) ctx.addGap(numberOnlyGap(project));
    const settings = ctx.deps.settings;
    const plan = planLogQuery(ctx.finding.eventTime, spec, settings, ctx.deps.now());
    if (plan.gap !== null) ctx.addGap(plan.gap);
    const own = logWindow(ctx.finding.eventTime, settings, ctx.deps.now()).window;
    const { filter, window } = plan;
    const key = JSON.stringify([project.resource, filter, settings.logPagesMax, settings.logEntriesMax]);
    const read = await sharedRead(ctx.deps, ctx.signal, key, project.resource, filter);
    const target: PodTarget = { namespace, pod };
    const keep = read.decoded.map((d) => within(d, own) && concernsPod(d, target));
    const mine = read.decoded.filter((_, i) => keep[i]);
    const section = readSection(mine, read, { filter, window, linkProject: project.id }, settings);
    ctx.deps.evidence?.record(
      'audit-logs.json',
      read.entries.filter((_, i) => keep[i]),
      section.truncated ? LOG_READ_CUT : null,
    );
    return { ...section, ...auditEvidence(mine, target) };
  },
};
