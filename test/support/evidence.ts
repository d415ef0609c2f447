/**
 * Evidence directories for `analyze FILE --evidence DIR`, written the way a
 * responder's exports would be: log files as `gcloud logging read
 * --format=json` prints LogEntry (RFC 3339 timestamps, severity names,
 * jsonPayload as plain JSON, protoPayload with its "@type" inline, newest
 * first as gcloud's default --order=desc), other files as given. Entries
 * can be the world's own seeds (auditEntry(), containerLog()) or fixtures
 * already in gcloud's form (test/fixtures/gke-audit/), so one case can be
 * run against the emulators and through --evidence alike.
 * No jest import: scripts may use it too.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SeedLogEntry } from '../emulators/logging-emulator.js';
import { notificationFixture } from './fixtures.js';

export const AUDIT_LOG_TYPE_URL = 'type.googleapis.com/google.cloud.audit.AuditLog';

export type EntryLike = SeedLogEntry | Record<string, unknown>;

let inserts = 0;

/** One LogEntry as gcloud logging read --format=json prints it. */
export function gcloudLogEntry(entry: EntryLike): Record<string, unknown> {
  const e = { ...(entry as Record<string, unknown>) };
  if (e.timestamp instanceof Date) e.timestamp = e.timestamp.toISOString();
  e.insertId ??= `evidence-${++inserts}`;
  e.receiveTimestamp ??= e.timestamp;
  const proto = e.protoPayload as Record<string, unknown> | undefined;
  if (proto && typeof proto['@type'] !== 'string') e.protoPayload = { '@type': AUDIT_LOG_TYPE_URL, ...proto };
  return e;
}

function newestFirst(entries: readonly EntryLike[]): Record<string, unknown>[] {
  const time = (e: Record<string, unknown>) => Date.parse(String(e.timestamp));
  return entries.map(gcloudLogEntry).sort((a, b) => time(b) - time(a));
}

export interface EvidenceSpec {
  auditLogs?: readonly EntryLike[];
  podLogs?: readonly EntryLike[];
  nodeLogs?: readonly EntryLike[];
  /** Any other file (pod.json, cluster.json, ...), or a raw text to write as is (malformed cases). */
  files?: Record<string, unknown>;
}

/** Writes DIR (created if needed) with the given files; returns DIR. */
export function writeEvidenceDir(dir: string, spec: EvidenceSpec): string {
  mkdirSync(dir, { recursive: true });
  const write = (name: string, value: unknown) => writeFileSync(join(dir, name), typeof value === 'string' ? value : `${JSON.stringify(value, null, 2)}\n`);
  if (spec.auditLogs) write('audit-logs.json', newestFirst(spec.auditLogs));
  if (spec.podLogs) write('pod-logs.json', newestFirst(spec.podLogs));
  if (spec.nodeLogs) write('node-logs.json', newestFirst(spec.nodeLogs));
  for (const [name, value] of Object.entries(spec.files ?? {})) write(name, value);
  return dir;
}

/**
 * The world's attack finding (socat-v2) moved onto another cluster and pod,
 * e.g. the one the gke-audit fixtures name, so fixtures and finding agree.
 */
export function findingOn(target: { project: string; location: string; cluster: string; namespace: string; pod: string; node: string; eventTime: string }): Record<string, any> {
  const n = structuredClone(notificationFixture('socat-v2'));
  const f = n.finding;
  f.resourceName = `//container.googleapis.com/projects/${target.project}/locations/${target.location}/clusters/${target.cluster}`;
  f.eventTime = target.eventTime;
  Object.assign(f.sourceProperties, { Pod_Namespace: target.namespace, Pod_Name: target.pod, VM_Instance_Name: target.node });
  f.kubernetes.pods[0].ns = target.namespace;
  f.kubernetes.pods[0].name = target.pod;
  f.kubernetes.nodes = [{ name: `//compute.googleapis.com/projects/${target.project}/zones/${target.location}-b/instances/${target.node}` }];
  if (n.resource) {
    n.resource.name = f.resourceName;
    n.resource.displayName = target.cluster;
  }
  return n;
}
