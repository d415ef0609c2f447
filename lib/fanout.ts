/**
 * The triage-completed message: one compact JSON message per triaged
 * finding, published to an operator-chosen Pub/Sub topic so chat and
 * ticketing integrations get the verdict without reading SCC. The message is
 * a contract for other teams' code, so its JSON Schema is exported here
 * (FANOUT_MESSAGE_SCHEMA) and documented in docs/operator-tools.md; tests
 * validate every message the function publishes against it.
 *
 * Everything that came from the finding is attacker-influenced and ends up
 * in chat clients and ticket bodies: strings are cleaned (no control, bidi or
 * escape characters) and capped, and the schema says so.
 */
import { createHash } from 'node:crypto';
import type { VerdictLevel } from './decide/types.js';
import { describeC2 } from './report/render.js';
import type { TriagedReport } from './report/types.js';
import type { WriteResult } from './scc/writeback.js';
import { cleanLine } from './sanitize.js';
import { canonicalTimestamp } from './timestamp.js';

export const FANOUT_SCHEMA_VERSION = 1;
export const FANOUT_MESSAGE_TYPE = 'scc-socat-triage.triage-completed';
export const VERDICT_LEVELS: readonly VerdictLevel[] = ['likely_malicious', 'suspicious', 'likely_benign_admin'];

const NAME_MAX = 1024;
const TEXT_MAX = 512;
const URL_MAX = 4096;
const SUMMARY_MAX = 600;
const REASONS_MAX = 5;

export interface FanoutMessage {
  schemaVersion: 1;
  type: typeof FANOUT_MESSAGE_TYPE;
  /** Same for every message about one detection (finding name + eventTime): consumers drop duplicates on it. */
  dedupeKey: string;
  /** When the function finished this triage (RFC 3339, UTC). */
  triagedAt: string;
  /** One line for a chat message. */
  summary: string;
  verdict: {
    /** null until the report carries a verdict. */
    level: VerdictLevel | null;
    score: number | null;
    /** The strongest reasons (non-zero weight, largest first), in words, at most five. */
    reasons: string[];
  };
  finding: {
    name: string;
    category: string;
    severity: string | null;
    eventTime: string | null;
    project: string | null;
    cluster: string | null;
    location: string | null;
    namespace: string | null;
    pod: string | null;
    container: string | null;
    image: string | null;
  };
  c2: {
    role: 'reverse' | 'bind' | 'relay' | 'unknown';
    transport: string | null;
    host: string | null;
    port: number | null;
    program: string | null;
    pty: boolean;
    /** SOCKS/PROXY: the proxy the pod connects to; host/port stay the final target. */
    hop: { host: string | null; port: number | null } | null;
    description: string;
  };
  /** Who ran it, when the report knows (kubectl exec from the audit logs). */
  attribution: { kind: string; principal: string | null; explanation: string } | null;
  /** Our enrichment finding in SCC (its Z_Report source property holds the whole report machine-readable); null when nothing was written (dry run). */
  enrichmentFinding: string | null;
  links: { finding: string; cluster: string | null; pod: string | null; node: string | null };
  /** Report sections that could not be gathered. */
  gaps: string[];
}

const nullable = (schema: Record<string, unknown>) => ({ anyOf: [schema, { type: 'null' }] });
// No C0/C1 control characters, bidi overrides or zero-width characters: what the schema promises consumers.
const CLEAN = '^[^\\u0000-\\u001F\\u007F-\\u009F\\u061C\\u200B-\\u200F\\u202A-\\u202E\\u2060-\\u2069\\uFEFF]*$';
const text = (maxLength: number) => ({ type: 'string', maxLength, pattern: CLEAN });

/** JSON Schema (draft 2020-12) of FanoutMessage, schemaVersion 1. */
export const FANOUT_MESSAGE_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://github.com/scc-socat-triage/schemas/triage-completed.v1.json',
  title: 'scc-socat-triage triage-completed message',
  description: 'Published once per triaged "Execution: Socat Reverse Shell Detected" finding (Pub/Sub message data, UTF-8 JSON). Attributes: type, schemaVersion, verdict, severity, c2Role.',
  type: 'object',
  additionalProperties: false,
  required: ['schemaVersion', 'type', 'dedupeKey', 'triagedAt', 'summary', 'verdict', 'finding', 'c2', 'attribution', 'enrichmentFinding', 'links', 'gaps'],
  properties: {
    schemaVersion: { const: 1 },
    type: { const: FANOUT_MESSAGE_TYPE },
    dedupeKey: { type: 'string', pattern: '^[0-9a-f]{32}$' },
    triagedAt: { type: 'string', format: 'date-time' },
    summary: { ...text(SUMMARY_MAX), minLength: 1 },
    verdict: {
      type: 'object',
      additionalProperties: false,
      required: ['level', 'score', 'reasons'],
      properties: {
        level: { enum: [...VERDICT_LEVELS, null] },
        score: nullable({ type: 'number' }),
        reasons: { type: 'array', maxItems: REASONS_MAX, items: text(TEXT_MAX) },
      },
    },
    finding: {
      type: 'object',
      additionalProperties: false,
      required: ['name', 'category', 'severity', 'eventTime', 'project', 'cluster', 'location', 'namespace', 'pod', 'container', 'image'],
      properties: {
        name: { ...text(NAME_MAX), minLength: 1 },
        category: text(TEXT_MAX),
        severity: nullable(text(64)),
        eventTime: nullable({ type: 'string', format: 'date-time' }),
        project: nullable(text(TEXT_MAX)),
        cluster: nullable(text(TEXT_MAX)),
        location: nullable(text(TEXT_MAX)),
        namespace: nullable(text(TEXT_MAX)),
        pod: nullable(text(TEXT_MAX)),
        container: nullable(text(TEXT_MAX)),
        image: nullable(text(NAME_MAX)),
      },
    },
    c2: {
      type: 'object',
      additionalProperties: false,
      required: ['role', 'transport', 'host', 'port', 'program', 'pty', 'hop', 'description'],
      properties: {
        role: { enum: ['reverse', 'bind', 'relay', 'unknown'] },
        transport: nullable(text(64)),
        host: nullable(text(TEXT_MAX)),
        port: nullable({ type: 'integer', minimum: 0, maximum: 65535 }),
        program: nullable(text(TEXT_MAX)),
        pty: { type: 'boolean' },
        hop: nullable({
          type: 'object',
          additionalProperties: false,
          required: ['host', 'port'],
          properties: { host: nullable(text(TEXT_MAX)), port: nullable({ type: 'integer', minimum: 0, maximum: 65535 }) },
        }),
        description: text(SUMMARY_MAX),
      },
    },
    attribution: nullable({
      type: 'object',
      additionalProperties: false,
      required: ['kind', 'principal', 'explanation'],
      properties: { kind: text(64), principal: nullable(text(TEXT_MAX)), explanation: text(SUMMARY_MAX) },
    }),
    enrichmentFinding: nullable(text(NAME_MAX)),
    links: {
      type: 'object',
      additionalProperties: false,
      required: ['finding', 'cluster', 'pod', 'node'],
      properties: {
        finding: { ...text(URL_MAX), pattern: '^https://' },
        cluster: nullable({ ...text(URL_MAX), pattern: '^https://' }),
        pod: nullable({ ...text(URL_MAX), pattern: '^https://' }),
        node: nullable({ ...text(URL_MAX), pattern: '^https://' }),
      },
    },
    gaps: { type: 'array', items: text(64), uniqueItems: true },
  },
} as const;

const clean = (value: string | null | undefined, max: number): string | null => (value === null || value === undefined ? null : cleanLine(value, max));

/** Reads fields another stage adds to the report (verdict, attribution) without depending on their arrival. */
function optionalSection(report: TriagedReport, key: string): Record<string, unknown> | null {
  const value = (report as unknown as Record<string, unknown>)[key];
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
}

function verdictOf(report: TriagedReport): FanoutMessage['verdict'] {
  const v = optionalSection(report, 'verdict');
  const level = typeof v?.level === 'string' && (VERDICT_LEVELS as readonly string[]).includes(v.level) ? (v.level as VerdictLevel) : null;
  const score = typeof v?.score === 'number' && Number.isFinite(v.score) ? v.score : null;
  const reasons = Array.isArray(v?.reasons) ? (v.reasons as unknown[]) : [];
  const ranked = reasons
    .filter((r): r is Record<string, unknown> => typeof r === 'object' && r !== null)
    // A signal that fired with weight 0 is context, not a reason.
    .filter((r) => Number(r.weight) !== 0)
    .sort((a, b) => Math.abs(Number(b.weight) || 0) - Math.abs(Number(a.weight) || 0))
    .map((r) => String(r.detail ?? r.signal ?? ''))
    .filter((d) => d !== '')
    .slice(0, REASONS_MAX)
    .map((d) => cleanLine(d, TEXT_MAX));
  return { level, score, reasons: level === null ? [] : ranked };
}

function attributionOf(report: TriagedReport): FanoutMessage['attribution'] {
  const a = optionalSection(report, 'attribution');
  if (!a || typeof a.kind !== 'string') return null;
  const exec = typeof a.exec === 'object' && a.exec !== null ? (a.exec as Record<string, unknown>) : null;
  return {
    kind: cleanLine(a.kind, 64),
    principal: typeof exec?.principal === 'string' ? cleanLine(exec.principal, TEXT_MAX) : null,
    explanation: cleanLine(typeof a.explanation === 'string' ? a.explanation : a.kind, SUMMARY_MAX),
  };
}

export function fanoutDedupeKey(findingName: string, eventTime: string | null): string {
  const time = eventTime === null ? '' : (canonicalTimestamp(eventTime) ?? eventTime);
  return createHash('sha256').update(`${findingName}\n${time}`).digest('hex').slice(0, 32);
}

function httpsOrNull(url: string | null): string | null {
  return url !== null && url.startsWith('https://') ? cleanLine(url, URL_MAX) : null;
}

const STRICT_RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/** RFC 3339 as JSON Schema's date-time reads it (upper-case T and Z), or null. */
function dateTimeOrNull(value: string | null): string | null {
  const canonical = value === null ? null : canonicalTimestamp(value);
  if (value === null || canonical === null) return null;
  return STRICT_RFC3339.test(value) ? value : canonical;
}

export interface FanoutOptions {
  now?: Date;
}

/** The message for one triaged report; `written` is the write-back's result (null in a dry run). */
export function fanoutMessage(report: TriagedReport, written: WriteResult | null, options: FanoutOptions = {}): FanoutMessage {
  const f = report.finding;
  const w = report.workload;
  const verdict = verdictOf(report);
  const description = cleanLine(describeC2(report.c2), SUMMARY_MAX);
  const where = `pod ${w.namespace ?? '?'}/${w.pod ?? '?'}${report.cluster ? ` on cluster ${report.cluster.name}` : ''}`;
  const verdictWords = verdict.level === null ? '' : ` — verdict ${verdict.level}${verdict.score === null ? '' : ` (score ${verdict.score})`}`;
  return {
    schemaVersion: 1,
    type: FANOUT_MESSAGE_TYPE,
    dedupeKey: fanoutDedupeKey(f.name, f.eventTime),
    triagedAt: (options.now ?? new Date()).toISOString(),
    summary: cleanLine(`${f.severity ?? 'SEVERITY_UNSPECIFIED'}: ${description}, in ${where}${verdictWords}`, SUMMARY_MAX),
    verdict,
    finding: {
      name: cleanLine(f.name, NAME_MAX),
      category: cleanLine(f.category, TEXT_MAX),
      severity: clean(f.severity, 64),
      eventTime: dateTimeOrNull(f.eventTime),
      project: clean(report.cluster?.project ?? f.projectDisplayName, TEXT_MAX),
      cluster: clean(report.cluster?.name, TEXT_MAX),
      location: clean(report.cluster?.location, TEXT_MAX),
      namespace: clean(w.namespace, TEXT_MAX),
      pod: clean(w.pod, TEXT_MAX),
      container: clean(w.container, TEXT_MAX),
      image: clean(w.image, NAME_MAX),
    },
    c2: {
      role: report.c2.role,
      transport: clean(report.c2.transport, 64),
      host: clean(report.c2.host, TEXT_MAX),
      port: report.c2.port,
      program: clean(report.c2.program, TEXT_MAX),
      pty: report.c2.pty,
      hop: report.c2.hop ? { host: clean(report.c2.hop.host, TEXT_MAX), port: report.c2.hop.port } : null,
      description,
    },
    attribution: attributionOf(report),
    enrichmentFinding: clean(written?.enrichmentFinding, NAME_MAX),
    links: {
      finding: httpsOrNull(report.links.finding) ?? `https://console.cloud.google.com/security/command-center/findingsv2;name=${encodeURIComponent(f.name)}`,
      cluster: httpsOrNull(report.links.cluster),
      pod: httpsOrNull(report.links.pod),
      node: httpsOrNull(report.links.node),
    },
    gaps: [...new Set(report.gaps.map((g) => cleanLine(g.section, 64)))],
  };
}

/**
 * Pub/Sub attributes, so a subscription can route by filter without parsing
 * the data, e.g. `attributes.verdict = "likely_malicious"` for paging and
 * everything else to a ticket queue.
 */
export function fanoutAttributes(msg: FanoutMessage): Record<string, string> {
  return {
    type: msg.type,
    schemaVersion: String(msg.schemaVersion),
    verdict: msg.verdict.level ?? 'none',
    severity: msg.finding.severity ?? 'SEVERITY_UNSPECIFIED',
    c2Role: msg.c2.role,
  };
}

/** What publishFanout needs of a Pub/Sub Topic (`pubsub.topic(FANOUT_TOPIC)` satisfies it). */
export interface FanoutPublisher {
  publishMessage(message: { data: Buffer; attributes?: Record<string, string> }): Promise<string>;
}

/** Publishes one message; resolves to the Pub/Sub message id. */
export async function publishFanout(publisher: FanoutPublisher, msg: FanoutMessage): Promise<string> {
  return publisher.publishMessage({ data: Buffer.from(JSON.stringify(msg), 'utf8'), attributes: fanoutAttributes(msg) });
}
