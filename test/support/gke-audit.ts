/**
 * The GKE log fixtures of test/fixtures/gke-audit/ (LogEntry arrays as
 * `gcloud logging read --format=json` prints them, built from public samples:
 * SOURCES.md there) as seeds for the Logging emulator, moved onto whichever
 * cluster, pod and time a test uses. The fixtures' own values: project
 * shop-prod, cluster prod-eu in europe-west1, pod shop/checkout-7d9f8b6c5-x2x4q,
 * node gke-prod-eu-default-pool-1a2b3c4d-x9z8, around 2026-11-27T10:00:00Z.
 */
import type { AuditLogSeed, SeedLogEntry } from '../emulators/logging-emulator.js';
import { loadJson } from './fixtures.js';

export type GkeLogFixture =
  | 'exec-spdy'
  | 'exec-websocket'
  | 'exec-refused'
  | 'attach'
  | 'debug-ephemeral'
  | 'pod-create'
  | 'node-journald-kubelet'
  | 'node-journald-containerd'
  | 'gce-serial';

export const FIXTURE_TARGET = {
  project: 'shop-prod',
  cluster: 'prod-eu',
  location: 'europe-west1',
  namespace: 'shop',
  pod: 'checkout-7d9f8b6c5-x2x4q',
  node: 'gke-prod-eu-default-pool-1a2b3c4d-x9z8',
  eventTime: '2026-11-27T10:00:00Z',
} as const;

export interface Retarget {
  project: string;
  cluster: string;
  location: string;
  namespace: string;
  pod: string;
  /** The detection time the fixture's 10:00:00Z becomes. */
  eventTime: string;
}

/** The entries exactly as gcloud prints them. */
export function gkeLogFixture(name: GkeLogFixture): Record<string, any>[] {
  return loadJson<Record<string, any>[]>(`test/fixtures/gke-audit/${name}.json`);
}

function shiftTime(t: string, deltaMs: number): string {
  // Keep the sub-millisecond digits: the emulator orders by the full timestamp.
  const m = /^(.*?)(\.\d+)?Z$/.exec(t);
  const base = Date.parse(`${m?.[1] ?? t}Z`) + deltaMs;
  const frac = m?.[2] ?? '';
  return `${new Date(base).toISOString().slice(0, 19)}${frac}Z`;
}

function replaceDeep(v: unknown, from: readonly [string, string][]): unknown {
  if (typeof v === 'string') return from.reduce((s, [a, b]) => s.split(a).join(b), v);
  if (Array.isArray(v)) return v.map((x) => replaceDeep(x, from));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, replaceDeep(x, from)]));
  return v;
}

/** A gcloud-printed entry moved onto `to` (pod and namespace in every string, resource labels, log name, times). */
export function retarget(entry: Record<string, any>, to: Retarget): Record<string, any> {
  const delta = Date.parse(to.eventTime) - Date.parse(FIXTURE_TARGET.eventTime);
  const e = replaceDeep(entry, [
    [`namespaces/${FIXTURE_TARGET.namespace}/pods/${FIXTURE_TARGET.pod}`, `namespaces/${to.namespace}/pods/${to.pod}`],
    [FIXTURE_TARGET.pod, to.pod],
  ]) as Record<string, any>;
  e.logName = String(e.logName).replace(/^projects\/[^/]+\//, `projects/${to.project}/`);
  const labels = { ...(e.resource?.labels ?? {}) };
  if ('project_id' in labels) labels.project_id = to.project;
  if ('cluster_name' in labels) labels.cluster_name = to.cluster;
  if ('location' in labels) labels.location = to.location;
  if ('namespace_name' in labels) labels.namespace_name = to.namespace;
  e.resource = { ...e.resource, labels };
  e.timestamp = shiftTime(String(e.timestamp), delta);
  if (typeof e.receiveTimestamp === 'string') e.receiveTimestamp = shiftTime(e.receiveTimestamp, delta);
  return e;
}

/** A gcloud-printed entry as the Logging emulator's seed (its protoPayload loses the inline "@type", which the emulator sets). */
export function toSeed(entry: Record<string, any>): SeedLogEntry {
  const seed: SeedLogEntry = { logName: entry.logName, resource: entry.resource, timestamp: entry.timestamp };
  if (entry.severity) seed.severity = entry.severity;
  if (entry.insertId) seed.insertId = entry.insertId;
  if (entry.labels) seed.labels = entry.labels;
  if (entry.protoPayload) {
    const { '@type': _type, ...proto } = entry.protoPayload as Record<string, unknown>;
    seed.protoPayload = proto as AuditLogSeed;
  } else if (entry.jsonPayload) seed.jsonPayload = entry.jsonPayload;
  else if (typeof entry.textPayload === 'string') seed.textPayload = entry.textPayload;
  return seed;
}

export function gkeLogSeeds(names: readonly GkeLogFixture[], to: Retarget): SeedLogEntry[] {
  return names.flatMap((n) => gkeLogFixture(n).map((e) => toSeed(retarget(e, to))));
}
