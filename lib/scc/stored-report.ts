/**
 * The report, machine-readable, in the enrichment finding: one source
 * property, `Z_Report` (it sorts after every console property), whose value is
 * a google.protobuf.Value Struct holding a versioned subset of the
 * TriagedReport under the same field names. It is what programs read back
 * (`show`, the responder); the console properties beside it are for people.
 *
 * What goes in is what those readers need: the finding's name and eventTime,
 * the verdict, the C2 with its proxy hop, peers and scope, the workload,
 * cluster (with NetworkPolicy enforcement), node and pod (labels, owners),
 * the lineage, the attribution, whom to call, the runbook, related findings,
 * log summaries (count, completeness, link, excerpts) and the gaps. Left
 * out: pod annotations (kubectl's last-applied-configuration alone can be
 * the whole spec), node and cluster labels, log filters (the link carries
 * them), and the cluster's endpoint and CA (never in the report at all).
 *
 * Strings are data here, not display: kept exact (a pod name is matched,
 * not read), only bounded, and made valid UTF-8 (proto-value.ts). The size:
 * SCC documents no per-finding or per-property limit; its quotas page lists
 * one content limit, "Findings uploads: 500 MB per day"
 * (https://cloud.google.com/security-command-center/quotas), and a finding
 * also travels whole in each notification, a Pub/Sub message of at most 10 MB
 * (https://cloud.google.com/pubsub/quotas#resource_limits). So we set our own:
 * STORED_REPORT_BUDGET_CHARS of JSON text, inside the finding's
 * PROPERTIES_BUDGET_CHARS (lib/scc/properties.ts). When a report does not
 * fit, whole parts are cut in a fixed order, least needed first (log
 * excerpts, audit events, related-finding lists, rejected sessions, ...,
 * runbook commands last), each cut named in `truncated`; a cut command is
 * dropped (null), never shortened. The value is built as an object and
 * converted member by member, so it is never partial JSON.
 */
import { z } from 'zod';
import { C2_SCOPES } from '../decide/types.js';
import { VERDICT_LEVELS } from '../fanout.js';
import { formatIssues } from '../finding/parse.js';
import type { ExecEvent, LogLine, LogSection, RefusedAttempt, RelatedFinding } from '../gather/sections.js';
import { C2_ROLES, C2_TRANSPORTS, type C2Hop, type TriagedReport } from '../report/types.js';
import { truncate, wellFormed } from '../sanitize.js';
import { jsonChars, readStoredValue, ValueReadError, type Json, type JsonObject } from './proto-value.js';

/** The source property key; '_' sorts after the digits of Z1_…/Z2_…, so it comes last in the console. */
export const STORED_REPORT_KEY = 'Z_Report';
export const STORED_REPORT_VERSION = 1;
/** JSON text of the whole value, at most. */
export const STORED_REPORT_BUDGET_CHARS = 32 * 1024;
/** One string, at most (longer ones are cut with a visible marker; commands are dropped instead). */
export const STORED_TEXT_MAX = 8192;
/** A runbook command longer than this is dropped whole (`show` withholds longer ones anyway). */
export const STORED_COMMAND_MAX = 16_384;
/** Items of one list, and entries of one map, at most. */
export const STORED_LIST_MAX = 50;
/** What the strings are cut to when nothing else is left to cut. */
const SHORT_TEXT = 512;

// ---------------------------------------------------------------------------
// The contract (schemaVersion 1). Later versions add fields, which readers
// of this one ignore; a changed meaning is a new schemaVersion.

/**
 * Built on first use: the function only writes (storedReport needs no
 * schema), and building some forty zod objects would cost every cold start.
 */
function buildSchemas() {
  const text = z.string();
  const ntext = text.nullable();
  const nint = z.number().int().nullable();
  const nbool = z.boolean().nullable();
  const ipVersion = z.union([z.literal(4), z.literal(6)]).nullable();
  const stringMap = z.record(z.string(), z.string());

  const hop = z.object({ host: ntext, port: nint, ipVersion });
  const c2 = z.object({
    role: z.enum(C2_ROLES),
    transport: z.enum(C2_TRANSPORTS).nullable(),
    host: ntext,
    port: nint,
    ipVersion,
    program: ntext,
    pty: z.boolean(),
    scope: z.enum(C2_SCOPES).nullable(),
    hop: hop.nullable(),
    hopScope: z.enum(C2_SCOPES).nullable(),
    peers: z.array(z.object({ direction: z.enum(['connect', 'listen']), transport: z.enum(C2_TRANSPORTS).nullable(), host: ntext, port: nint, ipVersion, hop: hop.nullable() })),
    socket: ntext,
    refused: ntext,
    note: ntext,
  });
  const session = z.object({
    kind: text,
    method: ntext,
    time: ntext,
    principal: ntext,
    callerIp: ntext,
    userAgent: ntext,
    command: z.array(text).nullable(),
    container: ntext,
    namespace: ntext,
    pod: ntext,
    mentionsSocat: z.boolean(),
  });
  const refused = z.object({ kind: text, method: ntext, time: ntext, principal: ntext, callerIp: ntext, userAgent: ntext, namespace: ntext, pod: ntext, statusCode: nint, reason: ntext });
  const related = z.object({ name: text, category: text, source: ntext, eventTime: ntext, severity: ntext, state: ntext, namespace: ntext, pod: ntext, container: ntext });
  const logLine = z.object({ timestamp: ntext, severity: ntext, text });
  const logSummary = z.object({ count: z.number().int(), truncated: z.boolean(), link: text, window: z.object({ start: text, end: text }), first: z.array(logLine), last: z.array(logLine) });
  const mitreEntry = z.object({ name: text, id: ntext, url: ntext });

  const report = z.object({
    schemaVersion: z.literal(STORED_REPORT_VERSION),
    status: z.literal('triaged'),
    /** What was cut to fit, in the order it was cut; empty when the report is whole. */
    truncated: z.array(text),
    finding: z.object({ name: text, category: text, state: text, severity: ntext, eventTime: ntext, resourceName: ntext, projectDisplayName: ntext }),
    verdict: z.object({
      level: z.enum(VERDICT_LEVELS as readonly [(typeof VERDICT_LEVELS)[number], ...(typeof VERDICT_LEVELS)[number][]]),
      score: z.number(),
      reasons: z.array(z.object({ signal: text, weight: z.number(), detail: text })),
      unavailable: z.array(text),
    }),
    c2,
    workload: z.object({ namespace: ntext, pod: ntext, container: ntext, image: ntext, node: ntext }),
    process: z.object({ binary: ntext, args: z.array(text), argsTruncated: z.boolean() }),
    cluster: z
      .object({
        project: text,
        location: text,
        name: text,
        locationType: text,
        resourceName: text,
        details: z
          .object({
            networkPolicyEnforced: nbool,
            privateEndpoint: nbool,
            controlPlanePath: ntext,
            controlPlaneUnreachable: ntext,
            currentMasterVersion: ntext,
            network: ntext,
            subnetwork: ntext,
            podCidr: ntext,
            servicesCidr: ntext,
            nodePool: ntext,
            workloadIdentityPool: ntext,
            loggingComponents: z.array(text).nullable(),
          })
          .nullable(),
      })
      .nullable(),
    node: z.object({ name: text, instanceId: ntext, zone: ntext, nodePool: ntext, osImage: ntext, kernelVersion: ntext, containerRuntime: ntext, createdAt: ntext }).nullable(),
    pod: z
      .object({
        source: z.enum(['kubernetes', 'finding']),
        namespace: text,
        name: text,
        phase: ntext,
        startTime: ntext,
        serviceAccount: ntext,
        node: ntext,
        labels: stringMap,
        owners: z.array(z.object({ kind: text, name: text })),
        containers: z.array(z.object({ name: text, image: ntext, imageDigest: ntext, restartCount: nint, ready: nbool })),
        redFlags: z.array(text),
      })
      .nullable(),
    lineage: z.object({
      summary: text,
      startedBy: ntext,
      chain: z.array(z.object({ pid: nint, parentPid: nint, name: ntext, binary: ntext, args: z.array(text), kind: text })),
    }),
    attribution: z.object({
      kind: text,
      explanation: text,
      execCount: z.number().int(),
      exec: session.nullable(),
      considered: z.array(z.object({ session, taken: z.boolean(), reason: text })),
      refused: z.array(refused),
    }),
    owners: z.object({ hints: z.array(z.object({ scope: text, key: text, value: text })), contacts: z.array(z.object({ email: text, categories: z.array(text) })) }),
    mitre: z.object({ primaryTactic: mitreEntry.nullable(), tactics: z.array(mitreEntry), techniques: z.array(mitreEntry), version: ntext }).nullable(),
    commands: z.object({ getCredentials: ntext, copyBinary: ntext, exec: ntext }),
    runbook: z.object({ steps: z.array(z.object({ id: text, title: text, command: ntext, note: ntext, disruptive: z.boolean(), warning: ntext })) }),
    relatedFindings: z
      .object({
        windowMinutes: z.number(),
        complete: z.boolean(),
        truncated: z.boolean(),
        otherInClusterCount: z.number().int(),
        countsByCategory: z.record(z.string(), z.number().int()),
        sameContainer: z.array(related),
        otherPodsSameWorkload: z.array(related),
      })
      .nullable(),
    logs: z.object({
      pod: logSummary.nullable(),
      audit: logSummary.extend({ execs: z.array(session), refused: z.array(refused), podChanges: z.array(z.object({ time: ntext, verb: text, principal: ntext })) }).nullable(),
      node: logSummary.nullable(),
      nodeKubernetes: logSummary.nullable(),
    }),
    gaps: z.array(z.object({ section: text, reason: text })),
    links: z.object({ finding: text, cluster: ntext, node: ntext, pod: ntext }),
  });
  return { report, session, refused, related, logSummary };
}

let schemas: ReturnType<typeof buildSchemas> | null = null;
function built(): ReturnType<typeof buildSchemas> {
  schemas ??= buildSchemas();
  return schemas;
}

/** The zod schema of schemaVersion 1. */
export function storedReportSchema(): ReturnType<typeof buildSchemas>['report'] {
  return built().report;
}

type Schemas = ReturnType<typeof buildSchemas>;
export type StoredReport = z.infer<Schemas['report']>;
type LogSummary = z.infer<Schemas['logSummary']>;
type Session = z.infer<Schemas['session']>;
type Refused = z.infer<Schemas['refused']>;
type Related = z.infer<Schemas['related']>;

// ---------------------------------------------------------------------------
// Writing

/** Bounds strings and lists while copying, and remembers what it had to cut. */
class Bounds {
  /** One entry per kind of cut, keyed by its path with the indices left out, so the list stays short. */
  private readonly cuts = new Map<string, { times: number; most: number }>();
  private longStrings = 0;

  private cut(path: string, size: number): void {
    const key = path.replace(/\[\d+\]/g, '[]');
    const seen = this.cuts.get(key) ?? { times: 0, most: 0 };
    this.cuts.set(key, { times: seen.times + 1, most: Math.max(seen.most, size) });
  }

  text(s: string): string {
    const w = wellFormed(s);
    if (w.length <= STORED_TEXT_MAX) return w;
    this.longStrings += 1;
    return truncate(w, STORED_TEXT_MAX);
  }

  ntext(s: string | null | undefined): string | null {
    return s === null || s === undefined ? null : this.text(s);
  }

  /** Commands run as written or not at all. */
  command(s: string | null, path: string): string | null {
    if (s === null) return null;
    if (s.length <= STORED_COMMAND_MAX) return wellFormed(s);
    this.cut(`${path}#command`, s.length);
    return null;
  }

  list<T, U>(items: readonly T[], path: string, f: (x: T, i: number) => U): U[] {
    if (items.length > STORED_LIST_MAX) this.cut(path, items.length);
    return items.slice(0, STORED_LIST_MAX).map(f);
  }

  map(m: Record<string, string>, path: string): Record<string, string> {
    return Object.fromEntries(this.list(Object.entries(m), path, ([k, v]) => [this.text(k), this.text(v)]));
  }

  texts(items: readonly string[], path: string): string[] {
    return this.list(items, path, (x) => this.text(x));
  }

  /** What was cut while copying, in the order first met; strings cut to STORED_TEXT_MAX counted once at the end. */
  done(): string[] {
    const times = (n: number) => (n > 1 ? `, in ${n} places` : '');
    const out = [...this.cuts].map(([key, { times: n, most }]) =>
      key.endsWith('#command')
        ? `${key.slice(0, -'#command'.length)} (dropped: a command of ${most} chars${times(n)})`
        : `${key} (first ${STORED_LIST_MAX} of ${most}${times(n)})`,
    );
    return this.longStrings > 0 ? [...out, `${this.longStrings} strings over ${STORED_TEXT_MAX} chars (cut, marked in the text)`] : out;
  }
}

function copyHop(b: Bounds, h: C2Hop | null | undefined): StoredReport['c2']['hop'] {
  return h ? { host: b.ntext(h.host), port: h.port, ipVersion: h.ipVersion } : null;
}

function copySession(b: Bounds, e: ExecEvent, path: string): Session {
  return {
    kind: e.kind,
    method: b.ntext(e.method),
    time: b.ntext(e.time),
    principal: b.ntext(e.principal),
    callerIp: b.ntext(e.callerIp),
    userAgent: b.ntext(e.userAgent),
    command: e.command === null ? null : b.texts(e.command, `${path}.command`),
    container: b.ntext(e.container),
    namespace: b.ntext(e.namespace),
    pod: b.ntext(e.pod),
    mentionsSocat: e.mentionsSocat,
  };
}

function copyRefused(b: Bounds, r: RefusedAttempt): Refused {
  return {
    kind: r.kind,
    method: b.ntext(r.method),
    time: b.ntext(r.time),
    principal: b.ntext(r.principal),
    callerIp: b.ntext(r.callerIp),
    userAgent: b.ntext(r.userAgent),
    namespace: b.ntext(r.namespace),
    pod: b.ntext(r.pod),
    statusCode: r.statusCode,
    reason: b.ntext(r.reason),
  };
}

function copyRelated(b: Bounds, f: RelatedFinding): Related {
  return {
    name: b.text(f.name),
    category: b.text(f.category),
    source: b.ntext(f.source),
    eventTime: b.ntext(f.eventTime),
    severity: b.ntext(f.severity),
    state: b.ntext(f.state),
    namespace: b.ntext(f.namespace),
    pod: b.ntext(f.pod),
    container: b.ntext(f.container),
  };
}

function copyLog(b: Bounds, log: LogSection, path: string): LogSummary {
  const line = (l: LogLine) => ({ timestamp: b.ntext(l.timestamp), severity: b.ntext(l.severity), text: b.text(l.text) });
  return {
    count: log.count,
    truncated: log.truncated,
    link: b.text(log.link),
    window: { start: b.text(log.window.start), end: b.text(log.window.end) },
    first: b.list(log.first, `${path}.first`, line),
    last: b.list(log.last, `${path}.last`, line),
  };
}

/** The whole subset, every string and list bounded; not yet fitted to the budget. */
function copyReport(r: TriagedReport, b: Bounds): StoredReport {
  const f = r.finding;
  const d = r.cluster?.details ?? null;
  const audit = r.logs.audit;
  const rf = r.relatedFindings;
  return {
    schemaVersion: STORED_REPORT_VERSION,
    status: 'triaged',
    truncated: [],
    finding: {
      name: b.text(f.name),
      category: b.text(f.category),
      state: b.text(f.state),
      severity: b.ntext(f.severity),
      eventTime: b.ntext(f.eventTime),
      resourceName: b.ntext(f.resourceName),
      projectDisplayName: b.ntext(f.projectDisplayName),
    },
    verdict: {
      level: r.verdict.level,
      score: r.verdict.score,
      reasons: b.list(r.verdict.reasons, 'verdict.reasons', (x) => ({ signal: b.text(x.signal), weight: x.weight, detail: b.text(x.detail) })),
      unavailable: b.texts(r.verdict.unavailable, 'verdict.unavailable'),
    },
    c2: {
      role: r.c2.role,
      transport: r.c2.transport,
      host: b.ntext(r.c2.host),
      port: r.c2.port,
      ipVersion: r.c2.ipVersion,
      program: b.ntext(r.c2.program),
      pty: r.c2.pty,
      scope: r.c2.scope,
      hop: copyHop(b, r.c2.hop),
      hopScope: r.c2.hopScope ?? null,
      peers: b.list(r.c2.peers ?? [], 'c2.peers', (p) => ({ direction: p.direction, transport: p.transport, host: b.ntext(p.host), port: p.port, ipVersion: p.ipVersion, hop: copyHop(b, p.hop) })),
      socket: b.ntext(r.c2.socket),
      refused: b.ntext(r.c2.refused),
      note: b.ntext(r.c2.note),
    },
    workload: { namespace: b.ntext(r.workload.namespace), pod: b.ntext(r.workload.pod), container: b.ntext(r.workload.container), image: b.ntext(r.workload.image), node: b.ntext(r.workload.node) },
    process: { binary: b.ntext(r.process.binary), args: b.texts(r.process.args, 'process.args'), argsTruncated: r.process.argsTruncated },
    cluster: r.cluster && {
      project: b.text(r.cluster.project),
      location: b.text(r.cluster.location),
      name: b.text(r.cluster.name),
      locationType: r.cluster.locationType,
      resourceName: b.text(r.cluster.resourceName),
      details: d && {
        networkPolicyEnforced: d.networkPolicyEnforced,
        privateEndpoint: d.privateEndpoint,
        controlPlanePath: d.controlPlanePath,
        controlPlaneUnreachable: b.ntext(d.controlPlaneUnreachable),
        currentMasterVersion: b.ntext(d.currentMasterVersion),
        network: b.ntext(d.network),
        subnetwork: b.ntext(d.subnetwork),
        podCidr: b.ntext(d.podCidr),
        servicesCidr: b.ntext(d.servicesCidr),
        nodePool: b.ntext(d.nodePool),
        workloadIdentityPool: b.ntext(d.workloadIdentityPool),
        loggingComponents: d.loggingComponents === null ? null : b.texts(d.loggingComponents, 'cluster.details.loggingComponents'),
      },
    },
    node: r.node && {
      name: b.text(r.node.name),
      instanceId: b.ntext(r.node.instanceId),
      zone: b.ntext(r.node.zone),
      nodePool: b.ntext(r.node.nodePool),
      osImage: b.ntext(r.node.osImage),
      kernelVersion: b.ntext(r.node.kernelVersion),
      containerRuntime: b.ntext(r.node.containerRuntime),
      createdAt: b.ntext(r.node.createdAt),
    },
    pod: r.pod && {
      source: r.pod.source,
      namespace: b.text(r.pod.namespace),
      name: b.text(r.pod.name),
      phase: b.ntext(r.pod.phase),
      startTime: b.ntext(r.pod.startTime),
      serviceAccount: b.ntext(r.pod.serviceAccount),
      node: b.ntext(r.pod.node),
      labels: b.map(r.pod.labels, 'pod.labels'),
      owners: b.list(r.pod.owners, 'pod.owners', (o) => ({ kind: b.text(o.kind), name: b.text(o.name) })),
      containers: b.list(r.pod.containers, 'pod.containers', (c) => ({ name: b.text(c.name), image: b.ntext(c.image), imageDigest: b.ntext(c.imageDigest), restartCount: c.restartCount, ready: c.ready })),
      redFlags: b.texts(r.pod.redFlags, 'pod.redFlags'),
    },
    lineage: {
      summary: b.text(r.lineage.summary),
      startedBy: r.lineage.startedBy,
      chain: b.list(r.lineage.chain, 'lineage.chain', (e, i) => ({ pid: e.pid, parentPid: e.parentPid, name: b.ntext(e.name), binary: b.ntext(e.binary), args: b.texts(e.args, `lineage.chain[${i}].args`), kind: e.kind })),
    },
    attribution: {
      kind: r.attribution.kind,
      explanation: b.text(r.attribution.explanation),
      execCount: r.attribution.execCount,
      exec: r.attribution.exec && copySession(b, r.attribution.exec, 'attribution.exec'),
      considered: b.list(r.attribution.considered, 'attribution.considered', (c, i) => ({ session: copySession(b, c.session, `attribution.considered[${i}].session`), taken: c.taken, reason: b.text(c.reason) })),
      refused: b.list(r.attribution.refused, 'attribution.refused', (x) => copyRefused(b, x)),
    },
    owners: {
      hints: b.list(r.owners.hints, 'owners.hints', (h) => ({ scope: h.scope, key: b.text(h.key), value: b.text(h.value) })),
      contacts: b.list(r.owners.contacts, 'owners.contacts', (c, i) => ({ email: b.text(c.email), categories: b.texts(c.categories, `owners.contacts[${i}].categories`) })),
    },
    mitre: r.mitre && {
      primaryTactic: r.mitre.primaryTactic && { name: b.text(r.mitre.primaryTactic.name), id: b.ntext(r.mitre.primaryTactic.id), url: b.ntext(r.mitre.primaryTactic.url) },
      tactics: b.list(r.mitre.tactics, 'mitre.tactics', (t) => ({ name: b.text(t.name), id: b.ntext(t.id), url: b.ntext(t.url) })),
      techniques: b.list(r.mitre.techniques, 'mitre.techniques', (t) => ({ name: b.text(t.name), id: b.ntext(t.id), url: b.ntext(t.url) })),
      version: b.ntext(r.mitre.version),
    },
    commands: {
      getCredentials: b.command(r.commands.getCredentials, 'commands.getCredentials'),
      copyBinary: b.command(r.commands.copyBinary, 'commands.copyBinary'),
      exec: b.command(r.commands.exec, 'commands.exec'),
    },
    runbook: {
      steps: b.list(r.runbook.steps, 'runbook.steps', (s, i) => ({
        id: b.text(s.id),
        title: b.text(s.title),
        command: b.command(s.command, `runbook.steps[${i}].command`),
        note: b.ntext(s.note),
        disruptive: s.disruptive,
        warning: b.ntext(s.warning),
      })),
    },
    relatedFindings: rf && {
      windowMinutes: rf.windowMinutes,
      complete: rf.complete,
      truncated: rf.truncated,
      otherInClusterCount: rf.otherInClusterCount,
      countsByCategory: Object.fromEntries(b.list(Object.entries(rf.countsByCategory), 'relatedFindings.countsByCategory', ([k, n]) => [b.text(k), n])),
      sameContainer: b.list(rf.sameContainer, 'relatedFindings.sameContainer', (x) => copyRelated(b, x)),
      otherPodsSameWorkload: b.list(rf.otherPodsSameWorkload, 'relatedFindings.otherPodsSameWorkload', (x) => copyRelated(b, x)),
    },
    logs: {
      pod: r.logs.pod && copyLog(b, r.logs.pod, 'logs.pod'),
      audit: audit && {
        ...copyLog(b, audit, 'logs.audit'),
        execs: b.list(audit.execs, 'logs.audit.execs', (e, i) => copySession(b, e, `logs.audit.execs[${i}]`)),
        refused: b.list(audit.refused, 'logs.audit.refused', (x) => copyRefused(b, x)),
        podChanges: b.list(audit.podChanges, 'logs.audit.podChanges', (c) => ({ time: b.ntext(c.time), verb: b.text(c.verb), principal: b.ntext(c.principal) })),
      },
      node: r.logs.node && copyLog(b, r.logs.node, 'logs.node'),
      nodeKubernetes: r.logs.nodeKubernetes && copyLog(b, r.logs.nodeKubernetes, 'logs.nodeKubernetes'),
    },
    gaps: b.list(r.gaps, 'gaps', (g) => ({ section: b.text(g.section), reason: b.text(g.reason) })),
    links: { finding: b.text(r.links.finding), cluster: b.ntext(r.links.cluster), node: b.ntext(r.links.node), pod: b.ntext(r.links.pod) },
  };
}

const LOG_KEYS = ['pod', 'audit', 'node', 'nodeKubernetes'] as const;

/**
 * What is cut when the report does not fit, least needed first. Each cut
 * returns false when there was nothing to cut (then it is not named).
 */
const CUTS: ReadonlyArray<{ what: string; cut(s: StoredReport): boolean }> = [
  {
    what: 'log excerpts (logs.*.first, logs.*.last)',
    cut: (s) => {
      let cut = false;
      for (const l of LOG_KEYS.map((k) => s.logs[k])) {
        if (l === null || l.first.length + l.last.length === 0) continue;
        [l.first, l.last, cut] = [[], [], true];
      }
      return cut;
    },
  },
  {
    what: 'audit log events (logs.audit.execs, refused, podChanges; the attribution keeps its own)',
    cut: (s) => {
      const a = s.logs.audit;
      if (!a || a.execs.length + a.refused.length + a.podChanges.length === 0) return false;
      [a.execs, a.refused, a.podChanges] = [[], [], []];
      return true;
    },
  },
  {
    what: 'related findings lists (the counts stay)',
    cut: (s) => {
      const rf = s.relatedFindings;
      if (!rf || rf.sameContainer.length + rf.otherPodsSameWorkload.length === 0) return false;
      [rf.sameContainer, rf.otherPodsSameWorkload] = [[], []];
      return true;
    },
  },
  {
    what: 'sessions rejected as the start of socat, and refused attempts (attribution.considered, attribution.refused)',
    cut: (s) => {
      const a = s.attribution;
      const kept = a.considered.filter((c) => c.taken);
      if (kept.length === a.considered.length && a.refused.length === 0) return false;
      [a.considered, a.refused] = [kept, []];
      return true;
    },
  },
  { what: 'process lineage chain (lineage.chain; the summary stays)', cut: (s) => s.lineage.chain.length > 0 && ((s.lineage.chain = []), true) },
  { what: 'pod containers (pod.containers)', cut: (s) => (s.pod?.containers.length ?? 0) > 0 && ((s.pod!.containers = []), true) },
  { what: 'MITRE ATT&CK mapping (mitre)', cut: (s) => s.mitre !== null && ((s.mitre = null), true) },
  {
    what: 'step 5 commands (commands; the runbook has the same steps)',
    cut: (s) => Object.values(s.commands).some((c) => c !== null) && ((s.commands = { getCredentials: null, copyBinary: null, exec: null }), true),
  },
  { what: `every text over ${SHORT_TEXT} chars but runbook commands (cut, marked in the text)`, cut: (s) => shortenTexts(s, SHORT_TEXT) },
  {
    what: 'runbook commands (runbook.steps[].command)',
    cut: (s) => s.runbook.steps.some((x) => x.command !== null) && (s.runbook.steps.forEach((x) => (x.command = null)), true),
  },
];

/** Cuts every string (and key) but runbook commands to `max`, in place; false when none was longer. */
function shortenTexts(s: StoredReport, max: number): boolean {
  let changed = false;
  const walk = (v: unknown, inCommand: boolean): unknown => {
    if (typeof v === 'string') {
      if (inCommand || v.length <= max) return v;
      changed = true;
      return truncate(v, max);
    }
    if (Array.isArray(v)) return v.map((x) => walk(x, false));
    if (v !== null && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(o)) {
        if (k.length > max) changed = true;
        out[k.length > max ? truncate(k, max) : k] = walk(x, k === 'command' && 'disruptive' in o);
      }
      return out;
    }
    return v;
  };
  const next = walk(s, false) as StoredReport;
  if (changed) Object.assign(s, next);
  return changed;
}

/** What the core's texts are cut to: some 50 of them fit any budget this module is given. */
const CORE_TEXT = 256;

/** The last resort: what a reader cannot do without (finding, verdict, C2, workload, cluster), each text short. */
function core(s: StoredReport, cuts: string[]): StoredReport {
  const out: StoredReport = {
    ...s,
    truncated: [...cuts, 'everything but the finding, verdict level and score, C2, workload and cluster'],
    verdict: { level: s.verdict.level, score: s.verdict.score, reasons: [], unavailable: [] },
    c2: { ...s.c2, peers: [] },
    process: { binary: s.process.binary, args: [], argsTruncated: s.process.argsTruncated },
    cluster: s.cluster && { ...s.cluster, details: s.cluster.details && { ...s.cluster.details, loggingComponents: null } },
    node: null,
    pod: null,
    lineage: { summary: s.lineage.summary, startedBy: s.lineage.startedBy, chain: [] },
    attribution: { ...s.attribution, exec: null, considered: [], refused: [] },
    owners: { hints: [], contacts: [] },
    mitre: null,
    commands: { getCredentials: null, copyBinary: null, exec: null },
    runbook: { steps: [] },
    relatedFindings: null,
    logs: { pod: null, audit: null, node: null, nodeKubernetes: null },
    gaps: [],
    links: { finding: s.links.finding, cluster: null, node: null, pod: null },
  };
  shortenTexts(out, CORE_TEXT);
  return out;
}

/** The report as stored: the versioned subset, within `budget` chars of JSON, with what was cut named in `truncated`. */
export function storedReport(r: TriagedReport, budget = STORED_REPORT_BUDGET_CHARS): StoredReport {
  const b = new Bounds();
  const s = copyReport(r, b);
  s.truncated = b.done();
  const fits = () => jsonChars(s as unknown as Json) <= budget;
  for (const step of CUTS) {
    if (fits()) return s;
    if (step.cut(s)) s.truncated = [...s.truncated, step.what];
  }
  if (fits()) return s;
  const last = core(s, s.truncated);
  // Some 50 strings of CORE_TEXT at most (the cut list among them): far inside any budget this module is given.
  if (jsonChars(last as unknown as Json) > budget) throw new Error(`the stored report's core does not fit ${budget} chars`);
  return last;
}

// ---------------------------------------------------------------------------
// Reading

/** A Z_Report that is there but cannot be used; the message names what is wrong. */
export class StoredReportError extends Error {
  override name = 'StoredReportError';
}

/** Generous against our own budget (a later writer may store more), small against memory. */
const READ_LIMITS = { maxDepth: 16, maxNodes: 50_000, maxChars: 1_000_000 };

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The structured report of an enrichment finding, given the finding in the
 * client's object form (listFindings over gRPC: Value objects) or in proto3
 * JSON (a notification's finding, `gcloud scc findings list --format=json`'s
 * `finding`). Null when the finding has none (written before this property
 * existed); StoredReportError when it has one that cannot be used: not a
 * struct, too big or deep, an unknown schemaVersion, a field of the wrong
 * type. Fields a later schemaVersion-1 writer adds are ignored.
 */
export function reportFromFinding(finding: unknown): StoredReport | null {
  if (!isObj(finding)) throw new StoredReportError('not a finding: expected an object');
  const props = finding.sourceProperties;
  if (props === undefined || props === null) return null;
  if (!isObj(props)) throw new StoredReportError('finding.sourceProperties is not a map');
  if (!Object.hasOwn(props, STORED_REPORT_KEY)) return null;
  let value: Json;
  try {
    value = readStoredValue(props[STORED_REPORT_KEY], READ_LIMITS, STORED_REPORT_KEY);
  } catch (err) {
    if (err instanceof ValueReadError) throw new StoredReportError(err.message);
    throw err;
  }
  if (!isObj(value)) throw new StoredReportError(`${STORED_REPORT_KEY} is ${value === null ? 'null' : Array.isArray(value) ? 'a list' : `a ${typeof value}`}, not a struct`);
  const version = (value as JsonObject).schemaVersion;
  if (version !== STORED_REPORT_VERSION) {
    const shown = typeof version === 'string' ? JSON.stringify(version.slice(0, 40)) : typeof version === 'number' ? String(version) : version === undefined ? 'missing' : `a ${Array.isArray(version) ? 'list' : typeof version}`;
    throw new StoredReportError(`${STORED_REPORT_KEY}.schemaVersion is ${shown}; this release reads schemaVersion ${STORED_REPORT_VERSION}`);
  }
  const parsed = storedReportSchema().safeParse(value);
  if (!parsed.success) {
    throw new StoredReportError(formatIssues(parsed.error.issues.map((i) => ({ ...i, path: [STORED_REPORT_KEY, ...i.path] }))));
  }
  return parsed.data;
}
