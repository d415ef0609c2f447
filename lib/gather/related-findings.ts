/**
 * Related findings: playbook step 1, "Identify other findings that occurred
 * at a similar time for this container". Other detections on the same pod
 * (an added binary, a malicious script) are what tell an attack from an
 * engineer debugging with socat.
 *
 * One SCC v2 listFindings across the organization, by cluster and time. v2
 * cannot filter on source_properties, so which pod and container a finding
 * concerns is decided here, in code, after the query.
 *
 * The query is shared: every finding of the same cluster whose eventTime
 * falls in the same bucket uses one cached list (the window widened by the
 * bucket so it covers each of them), and each finding filters that list
 * down to its own window. A burst of detections on one cluster, which is
 * exactly what an attack produces, then costs one read instead of one per
 * finding (SCC allows 1,000 reads per minute per project).
 */
import type { protos } from '@google-cloud/security-center';
import { parseNotification } from '../finding/parse.js';
import type { SocatFinding, Workload } from '../finding/types.js';
import { ENRICHMENT_CATEGORY } from '../scc/names.js';
import { toMillis } from '../timestamp.js';
import type { GatherDeps } from './deps.js';
import type { GatheredSections, RelatedFinding, RelatedFindingsSection } from './sections.js';
import type { GatherContext, Gatherer } from './types.js';
import { untilAborted } from './abort.js';

type ProtoFinding = protos.google.cloud.securitycenter.v2.IFinding;
type ListRequest = protos.google.cloud.securitycenter.v2.IListFindingsRequest;
type ListResult = protos.google.cloud.securitycenter.v2.ListFindingsResponse.IListFindingsResult;
type ProtoTimestamp = protos.google.protobuf.ITimestamp;

export interface RelatedFindingsOptions {
  /** Findings per listFindings page; the API allows at most 1000. */
  pageSize: number;
  /** Pages read at most; more remaining sets `truncated`. */
  maxPages: number;
  /** Entries kept per list in the section. */
  listCap: number;
  /** Findings whose eventTime falls in the same bucket of this many minutes share one query. */
  bucketMinutes: number;
  /** Per-page RPC timeout. The query is shared, so it is not cancelled by any one caller's deadline; this bounds it instead. */
  pageTimeoutMs: number;
}

export const RELATED_FINDINGS_DEFAULTS: Readonly<RelatedFindingsOptions> = Object.freeze({
  pageSize: 1000,
  maxPages: 3,
  listCap: 50,
  bucketMinutes: 5,
  pageTimeoutMs: 30_000,
});

/**
 * The Finding fields this gatherer reads; the rest (processes, connections,
 * ...) is not worth transferring 1000 at a time. The mask names fields of each
 * ListFindingsResult, so finding fields are `finding.X`: that is the only form
 * the SCC documentation shows, in gcloud's reference example
 * `--field-mask="finding.category,finding.resource_name"`
 * (https://cloud.google.com/sdk/gcloud/reference/scc/findings/list, EXAMPLES);
 * the proto comment (securitycenter/v2/securitycenter_service.proto,
 * ListFindingsRequest.field_mask) says only "the Finding fields to be listed",
 * and an empty mask lists every field. test/emulators/scc-emulator.ts rejects
 * the bare form (`name`), which does not map onto ListFindingsResult.
 */
export const RELATED_FIELD_MASK: readonly string[] = [
  'finding.name',
  'finding.canonical_name',
  'finding.parent',
  'finding.category',
  'finding.parent_display_name',
  'finding.event_time',
  'finding.severity',
  'finding.state',
  'finding.source_properties',
  'finding.kubernetes',
  'finding.containers',
];

// ---------------------------------------------------------------------------
// Workload identity

// Kubernetes' rand.SafeEncodeString alphabet (no vowels, no 0/1/3): used for
// ReplicaSet pod-template hashes and the 5-character pod name suffix.
const SAFE = 'bcdfghjklmnpqrstvwxz2456789';
// Deployment: NAME-<pod-template-hash>-<5>. The hash is a uint32 rendered in
// decimal then safe-encoded, so 6-10 characters in practice; older clusters
// used the plain decimal, and CronJob jobs are NAME-<minutes since epoch>,
// hence digits too. The lower bound keeps short name parts such as "gcs" in
// "csi-gcs-x2lqp" (a DaemonSet pod) from being taken for a hash.
const WITH_HASH = new RegExp(`^(.+)-[${SAFE}0-9]{6,10}-[${SAFE}]{5}$`);
// StatefulSet: NAME-<ordinal>.
const WITH_ORDINAL = /^(.+)-(?:0|[1-9][0-9]*)$/;
// DaemonSet and Job: NAME-<5>.
const WITH_SUFFIX = new RegExp(`^(.+)-[${SAFE}]{5}$`);

/**
 * The owner prefix of a pod name: the name of the Deployment, StatefulSet,
 * DaemonSet, Job or CronJob that generated it, or null when the name follows
 * none of those patterns (a bare pod). Two pods with the same key in the same
 * namespace are taken to be replicas of one workload. Heuristic by design:
 * the finding carries no owner references, and the pod may already be gone.
 */
export function workloadKey(podName: string | null | undefined): string | null {
  if (!podName) return null;
  const m = WITH_HASH.exec(podName) ?? WITH_ORDINAL.exec(podName) ?? WITH_SUFFIX.exec(podName);
  return m ? (m[1] as string) : null;
}

// ---------------------------------------------------------------------------
// Query

/** A string literal of the SCC (AIP-160) filter grammar. */
export function filterString(value: string): string {
  return `"${value.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

export interface RelatedQuery {
  parent: string;
  filter: string;
  /** Identifies the shared result in the instance cache. */
  cacheKey: string;
  /** The query's time range (the bucket widened by the window on both sides). */
  startMs: number;
  endMs: number;
}

/**
 * The shared query for findings of `resourceName` whose event time is
 * `centerMs`: every centre in the same bucket gets the same query, whose range
 * [bucket start − window, bucket end + window] contains each of their own
 * ±window ranges.
 */
export function relatedQuery(input: {
  organization: string;
  resourceName: string;
  centerMs: number;
  windowMinutes: number;
  bucketMinutes: number;
}): RelatedQuery {
  const bucketMs = input.bucketMinutes * 60_000;
  const windowMs = input.windowMinutes * 60_000;
  const bucketStart = Math.floor(input.centerMs / bucketMs) * bucketMs;
  const startMs = bucketStart - windowMs;
  const endMs = bucketStart + bucketMs + windowMs;
  const start = new Date(startMs).toISOString();
  const end = new Date(endMs).toISOString();
  const parent = `organizations/${input.organization}/sources/-/locations/global`;
  return {
    parent,
    filter: `resource_name=${filterString(input.resourceName)} AND event_time >= ${filterString(start)} AND event_time <= ${filterString(end)}`,
    cacheKey: JSON.stringify([parent, input.resourceName, start, end]),
    startMs,
    endMs,
  };
}

// ---------------------------------------------------------------------------
// Boundary: v2 Finding → what this module works with

/** One listed finding, converted once and shared by every finding that uses the cached list. */
export interface Candidate {
  related: RelatedFinding;
  eventMs: number | null;
  /** sources/S/locations/L/findings/F of its name and canonical name: the same finding under organizations/, folders/ or projects/. */
  identities: string[];
  /** Source id (global in SCC, whatever the scope in the name). */
  sourceId: string | null;
}

export interface SharedList {
  candidates: Candidate[];
  /** More pages remained after maxPages. */
  truncated: boolean;
  /** Pages read; null when not known (a list from an export file). */
  pages: number | null;
}

const FINDING_IDENTITY = /\/sources\/([^/]+)(?:\/locations\/([^/]+))?\/findings\/([^/]+)$/;
const SOURCE_ID = /(?:^|\/)sources\/([^/]+)/;

function findingIdentity(name: string | null | undefined): string | null {
  if (!name) return null;
  const m = FINDING_IDENTITY.exec(name);
  return m ? `${m[1]}/${m[2] ?? 'global'}/${m[3]}` : name;
}

function sourceIdOf(name: string | null | undefined): string | null {
  if (!name) return null;
  return SOURCE_ID.exec(name)?.[1] ?? null;
}

function text(v: string | null | undefined): string | null {
  return typeof v === 'string' && v !== '' ? v : null;
}

function enumText(v: unknown, unspecified: string): string | null {
  return typeof v === 'string' && v !== '' && v !== unspecified ? v : null;
}

function secondsOf(v: ProtoTimestamp['seconds']): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'object' ? Number(v.toString()) : Number(v);
}

/** RFC 3339 with 0, 3, 6 or 9 fractional digits (the proto3 JSON form); null when absent or out of range. */
export function timestampToRfc3339(ts: ProtoTimestamp | null | undefined): string | null {
  if (!ts) return null;
  const seconds = secondsOf(ts.seconds);
  const nanos = Number(ts.nanos ?? 0);
  const date = new Date(seconds * 1000);
  if (!Number.isSafeInteger(seconds) || !Number.isInteger(nanos) || nanos < 0 || nanos > 999_999_999 || Number.isNaN(date.getTime())) return null;
  const base = date.toISOString().slice(0, 19);
  if (nanos === 0) return `${base}Z`;
  const digits = String(nanos).padStart(9, '0');
  const frac = nanos % 1_000_000 === 0 ? digits.slice(0, 3) : nanos % 1000 === 0 ? digits.slice(0, 6) : digits;
  return `${base}.${frac}Z`;
}

function timestampMillis(ts: ProtoTimestamp | null | undefined): number | null {
  if (!ts) return null;
  const ms = secondsOf(ts.seconds) * 1000 + Math.floor(Number(ts.nanos ?? 0) / 1e6);
  return Number.isFinite(ms) ? ms : null;
}

const NO_WORKLOAD: Workload = { namespace: null, pod: null, container: null, image: null, node: null };

/**
 * The listed finding in the notification's JSON shape, limited to the fields
 * workload facts are read from. Over gRPC, sourceProperties values are
 * google.protobuf.Value objects and unset strings are '': both become what
 * the notification parser expects.
 */
function rawWorkloadFields(f: ProtoFinding): Record<string, unknown> {
  const props: Record<string, string> = {};
  for (const [key, value] of Object.entries(f.sourceProperties ?? {})) {
    if (typeof value?.stringValue === 'string') props[key] = value.stringValue;
  }
  const container = (c: { name?: string | null }) => ({ name: text(c.name) ?? undefined });
  return {
    sourceProperties: props,
    kubernetes: {
      pods: (f.kubernetes?.pods ?? []).map((p) => ({ ns: text(p.ns) ?? undefined, name: text(p.name) ?? undefined, containers: (p.containers ?? []).map(container) })),
    },
    containers: (f.containers ?? []).map(container),
  };
}

/**
 * Workload facts of a listed finding, by the same rules as the finding being
 * triaged (sourceProperties first, then kubernetes.pods[] and containers[]),
 * so both sides of every comparison are read alike. Going through
 * parseNotification also validates the listed finding's fields first.
 */
function workloadOfListed(f: ProtoFinding): Workload {
  const raw = { name: 'related', category: 'related', ...rawWorkloadFields(f) };
  try {
    return parseNotification({ finding: raw }).workload;
  } catch {
    // A listed finding whose fields do not validate still counts, as a finding without workload facts.
    return NO_WORKLOAD;
  }
}

export function toCandidate(result: ListResult): Candidate | null {
  const f = result.finding;
  const name = text(f?.name);
  if (!f || name === null) return null;
  const workload = workloadOfListed(f);
  return {
    related: {
      name,
      category: f.category ?? '',
      source: text(f.parentDisplayName),
      eventTime: timestampToRfc3339(f.eventTime),
      severity: enumText(f.severity, 'SEVERITY_UNSPECIFIED'),
      state: enumText(f.state, 'STATE_UNSPECIFIED'),
      namespace: workload.namespace,
      pod: workload.pod,
      container: workload.container,
    },
    eventMs: timestampMillis(f.eventTime),
    identities: [findingIdentity(name), findingIdentity(f.canonicalName)].filter((x): x is string => x !== null),
    sourceId: sourceIdOf(name) ?? sourceIdOf(f.parent),
  };
}

// ---------------------------------------------------------------------------
// Per-finding selection (pure)

export interface SelectInput {
  finding: SocatFinding;
  centerMs: number;
  windowMinutes: number;
  ownSourceName: string | null;
  listCap: number;
}

function compareByTime(a: Candidate, b: Candidate): number {
  const x = a.eventMs ?? Number.POSITIVE_INFINITY;
  const y = b.eventMs ?? Number.POSITIVE_INFINITY;
  if (x !== y) return x < y ? -1 : 1;
  return a.related.name < b.related.name ? -1 : a.related.name > b.related.name ? 1 : 0;
}

/** The `cap` entries nearest the finding's time, in time order; whether any were dropped. */
function nearest(list: Candidate[], centerMs: number, cap: number): { kept: RelatedFinding[]; dropped: boolean } {
  let chosen = list;
  if (list.length > cap) {
    chosen = [...list].sort((a, b) => Math.abs((a.eventMs ?? Infinity) - centerMs) - Math.abs((b.eventMs ?? Infinity) - centerMs) || compareByTime(a, b)).slice(0, cap);
  }
  return { kept: [...chosen].sort(compareByTime).map((c) => c.related), dropped: chosen.length < list.length };
}

/** Splits the shared list into this finding's section. */
export function selectRelated(shared: SharedList, input: SelectInput): RelatedFindingsSection {
  const { finding, centerMs } = input;
  const windowMs = input.windowMinutes * 60_000;
  const self = findingIdentity(finding.name);
  const ownSourceId = sourceIdOf(input.ownSourceName);
  const w = finding.workload;
  const key = workloadKey(w.pod);

  const sameContainer: Candidate[] = [];
  const otherPods: Candidate[] = [];
  let rest = 0;
  for (const c of shared.candidates) {
    if (c.eventMs === null || c.eventMs < centerMs - windowMs || c.eventMs > centerMs + windowMs) continue;
    if (self !== null && c.identities.includes(self)) continue;
    // Our own enrichment findings describe the finding being triaged: never evidence about it.
    if (c.related.category === ENRICHMENT_CATEGORY || (ownSourceId !== null && c.sourceId === ownSourceId)) continue;
    const r = c.related;
    const sameNamespace = w.namespace !== null && r.namespace === w.namespace;
    if (sameNamespace && w.pod !== null && r.pod === w.pod && (w.container === null || r.container === null || r.container === w.container)) {
      sameContainer.push(c);
    } else if (sameNamespace && w.pod !== null && r.pod !== null && r.pod !== w.pod && key !== null && workloadKey(r.pod) === key) {
      otherPods.push(c);
    } else {
      // Includes the same pod's other containers: the section has no list for them.
      rest += 1;
    }
  }

  // Counted before the cap, so the counts stay true when the list is cut.
  const counts = new Map<string, number>();
  for (const c of sameContainer) counts.set(c.related.category, (counts.get(c.related.category) ?? 0) + 1);
  const same = nearest(sameContainer, centerMs, input.listCap);
  const others = nearest(otherPods, centerMs, input.listCap);
  return {
    windowMinutes: input.windowMinutes,
    sameContainer: same.kept,
    otherPodsSameWorkload: others.kept,
    // fromEntries defines own properties, so a category named "__proto__" is just a key.
    countsByCategory: Object.fromEntries([...counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
    otherInClusterCount: rest,
    truncated: shared.truncated || same.dropped || others.dropped,
    // The list cap drops entries already counted: it does not make an absence less certain; unread pages do.
    complete: !shared.truncated,
  };
}

// ---------------------------------------------------------------------------
// The gatherer

async function listShared(deps: GatherDeps, query: RelatedQuery, options: RelatedFindingsOptions): Promise<SharedList> {
  const client = await deps.scc();
  const candidates: Candidate[] = [];
  // Every result read, for related-findings.json; the cache keeps only candidates, so this is a fresh read's.
  const read: ListResult[] = [];
  let request: ListRequest | null = {
    parent: query.parent,
    filter: query.filter,
    pageSize: Math.min(options.pageSize, 1000),
    fieldMask: { paths: [...RELATED_FIELD_MASK] },
  };
  let pages = 0;
  for (; pages < options.maxPages && request; pages++) {
    const [results, next]: [ListResult[], ListRequest | null, unknown] = await client.listFindings(request, { autoPaginate: false, timeout: options.pageTimeoutMs });
    for (const r of results) {
      read.push(r);
      const c = toCandidate(r);
      if (c) candidates.push(c);
    }
    request = next && next.pageToken ? next : null;
  }
  deps.evidence?.record('related-findings.json', read, request !== null ? `more pages remained after ${options.maxPages} pages of ${options.pageSize}` : null);
  return { candidates, truncated: request !== null, pages };
}

function windowCenter(ctx: GatherContext<GatherDeps, GatheredSections>): number {
  const now = ctx.deps.now().getTime();
  if (ctx.finding.eventTime === null) {
    ctx.addGap('the finding has no eventTime: the window is centred on the time of triage');
    return now;
  }
  const ms = toMillis(ctx.finding.eventTime);
  if (ms === null) {
    ctx.addGap('the finding\'s eventTime is not RFC 3339: the window is centred on the time of triage');
    return now;
  }
  return ms;
}

export function createRelatedFindingsGatherer(overrides: Partial<RelatedFindingsOptions> = {}): Gatherer<GatherDeps, GatheredSections, 'relatedFindings'> {
  const options: RelatedFindingsOptions = { ...RELATED_FINDINGS_DEFAULTS, ...overrides };
  return {
    section: 'relatedFindings',
    description: 'Other findings on the same cluster around the event time: same container, other pods of the same workload, and how many others.',
    needs: [],
    api: 'securitycenter.googleapis.com SecurityCenter.ListFindings (v2)',
    permissions: ['securitycenter.findings.list'],
    enabledByDefault: true,
    missing(finding) {
      if (finding.resourceName === null) return 'the finding has no resourceName, so there is no cluster to list related findings for';
      if (finding.organization === null) return 'the finding does not reveal its organization, so related findings cannot be listed organization-wide';
      return null;
    },
    async gather(ctx) {
      const { finding, deps } = ctx;
      // missing() has ruled these out; the checks narrow the types.
      if (finding.resourceName === null || finding.organization === null) throw new Error('relatedFindings: missing() should have stopped this finding');
      const windowMinutes = deps.settings.relatedWindowMinutes;
      const centerMs = windowCenter(ctx);
      const query = relatedQuery({ organization: finding.organization, resourceName: finding.resourceName, centerMs, windowMinutes, bucketMinutes: options.bucketMinutes });
      // Freshness: a cached list misses findings SCC stored after it was read
      // (CTD findings arrive seconds to minutes after the event). That is
      // accepted by design: the loss is bounded by the instance cache's short
      // TTL, the lists are context for a human, not a verdict, and the
      // alternative is one read per finding exactly when an attack makes them
      // arrive in bursts. Options are part of the key so differently
      // configured gatherers never share a list that does not fit them.
      const key = JSON.stringify([query.cacheKey, options.pageSize, options.maxPages]);
      const shared = await untilAborted(
        deps.cache.memo('related', key, () => listShared(deps, query, options)),
        ctx.signal,
      );
      const section = selectRelated(shared, { finding, centerMs, windowMinutes, ownSourceName: deps.ownSourceName, listCap: options.listCap });
      if (!section.complete) {
        ctx.addGap(
          `only the first ${shared.pages ?? '?'} page(s) of up to ${Math.min(options.pageSize, 1000)} findings on the cluster were read and more remained: the lists may miss findings, so none found is not none`,
        );
      }
      return section;
    },
  };
}

export const relatedFindingsGatherer: Gatherer<GatherDeps, GatheredSections, 'relatedFindings'> = createRelatedFindingsGatherer();
