/**
 * The boundary where an untrusted NotificationMessage becomes a SocatFinding.
 * Container details are best effort in CTD findings, so every workload fact
 * falls back from sourceProperties to the structured kubernetes/containers
 * fields, and stays null when neither has it.
 */
import { InvalidInputError } from '../errors.js';
import { notificationSchema, type RawFinding, type RawNotification, type RawProcess } from './schema.js';
import type { ClusterRef, FindingLabel, MitreInfo, ProcessInfo, SocatFinding, Workload } from './types.js';

const CLUSTER_NAME = /^\/\/container\.googleapis\.com\/projects\/([^/]+)\/(locations|zones)\/([^/]+)\/clusters\/([^/]+)$/;
// A zone has two dashes (us-central1-a), a region one (us-central1).
const ZONE = /^[a-z]+-[a-z]+\d+-[a-z]$/;
const REGION = /^[a-z]+-[a-z]+\d+$/;

export function parseClusterResourceName(resourceName: string): ClusterRef | null {
  const m = CLUSTER_NAME.exec(resourceName);
  if (!m) return null;
  const [, project, kind, location, name] = m as unknown as [string, string, string, string, string];
  let locationType: ClusterRef['locationType'];
  if (kind === 'zones' || ZONE.test(location)) locationType = 'zonal';
  else if (REGION.test(location)) locationType = 'regional';
  else return null;
  return { project, location, name, locationType, resourceName };
}

function nonEmpty(v: unknown): string | null {
  return typeof v === 'string' && v.trim() !== '' ? v : null;
}

/** The proto calls args and path "JSON encoded strings"; some exports keep the quotes. */
export function decodeJsonString(value: string): string {
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
    try {
      const decoded: unknown = JSON.parse(value);
      if (typeof decoded === 'string') return decoded;
    } catch {
      // Not JSON after all: keep the text as it came.
    }
  }
  return value;
}

function decodeArgs(args: readonly string[]): string[] {
  // Some producers put the whole argv into one JSON array string.
  if (args.length === 1 && args[0]!.startsWith('[')) {
    try {
      const decoded: unknown = JSON.parse(args[0]!);
      if (Array.isArray(decoded) && decoded.every((a) => typeof a === 'string')) return decoded as string[];
    } catch {
      // fall through: a single argument that happens to start with '['
    }
  }
  return args.map(decodeJsonString);
}

function toInt(v: string | number | undefined): number | null {
  if (v === undefined) return null;
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isSafeInteger(n) ? n : null;
}

function toProcess(p: RawProcess): ProcessInfo {
  const binary = nonEmpty(p.binary?.path);
  return {
    name: nonEmpty(p.name),
    binary: binary === null ? null : decodeJsonString(binary),
    args: decodeArgs(p.args ?? []),
    argsTruncated: p.argumentsTruncated === true,
    pid: toInt(p.pid),
    parentPid: toInt(p.parentPid),
  };
}

function basename(path: string): string {
  const i = path.lastIndexOf('/');
  return i === -1 ? path : path.slice(i + 1);
}

export function isSocatProcess(p: ProcessInfo): boolean {
  const candidates = [p.binary, p.args[0] ?? null, p.name];
  return candidates.some((c) => c !== null && /^socat(\d+(\.\d+)*)?$/i.test(basename(c)));
}

/**
 * The process the finding is about. The finding has no field naming it:
 * `processes` "represents operating system processes associated with the
 * Finding" (google/cloud/securitycenter/v2/finding.proto, field 25), each with
 * its pid and parent_pid (process.proto, fields 9 and 10). The order is not
 * specified; the findings in test/fixtures/notifications list the process
 * with the shell that started it, parent first, linked by parentPid, and CTD
 * names no children of the detected process. So the finding's own process is
 * the one no other listed process
 * descends from: the deepest of the chain. An ancestor that is socat too (or
 * only calls itself so: argv[0] and the name are the attacker's) is never
 * it, whatever its place in the list.
 * Among several such leaves (unlinked entries, pids missing) the first whose
 * binary is socat wins, then the first socat-looking one, then the first.
 */
export function findingProcess(processes: readonly ProcessInfo[]): ProcessInfo | null {
  const parentPids = new Set(processes.filter((p) => p.parentPid !== null && p.parentPid !== p.pid).map((p) => p.parentPid));
  const leaves = processes.filter((p) => p.pid === null || !parentPids.has(p.pid));
  const pool = leaves.length > 0 ? leaves : processes;
  const bySocatBinary = pool.find((p) => p.binary !== null && /^socat(\d+(\.\d+)*)?$/i.test(basename(p.binary)));
  return bySocatBinary ?? pool.find(isSocatProcess) ?? pool[0] ?? null;
}

function workloadOf(f: RawFinding): Workload {
  const props = f.sourceProperties ?? {};
  const pod = f.kubernetes?.pods?.[0];
  const container = f.containers?.[0];
  const podContainer = pod?.containers?.[0];
  const nodeName = nonEmpty(f.kubernetes?.nodes?.[0]?.name);
  return {
    namespace: nonEmpty(props.Pod_Namespace) ?? nonEmpty(pod?.ns),
    pod: nonEmpty(props.Pod_Name) ?? nonEmpty(pod?.name),
    container: nonEmpty(props.Container_Name) ?? nonEmpty(podContainer?.name) ?? nonEmpty(container?.name),
    image: nonEmpty(props.Container_Image_Uri) ?? nonEmpty(podContainer?.uri) ?? nonEmpty(container?.uri),
    // The node is a compute resource name; the VM name is its last segment.
    node: nonEmpty(props.VM_Instance_Name) ?? (nodeName === null ? null : nonEmpty(basename(nodeName))),
  };
}

/**
 * The labels of the finding's entry for the workload's own pod. CTD lists the
 * pod in kubernetes.pods[] (ns, name, labels); an entry about another pod, or
 * one whose names do not say which pod it is, lends nothing.
 */
function podLabelsOf(f: RawFinding, w: Workload): FindingLabel[] | null {
  if (w.namespace === null || w.pod === null) return null;
  const pod = (f.kubernetes?.pods ?? []).find((p) => nonEmpty(p.ns) === w.namespace && nonEmpty(p.name) === w.pod);
  if (!pod?.labels) return null;
  // proto3 JSON omits empty strings: a missing value is "" (a valid label value); a missing name stays "" and is refused later.
  return pod.labels.map((l) => ({ name: l.name ?? '', value: l.value ?? '' }));
}

function mitreOf(f: RawFinding): MitreInfo | null {
  const m = f.mitreAttack;
  if (!m) return null;
  return {
    primaryTactic: nonEmpty(m.primaryTactic),
    primaryTechniques: m.primaryTechniques ?? [],
    additionalTactics: m.additionalTactics ?? [],
    additionalTechniques: m.additionalTechniques ?? [],
    version: nonEmpty(m.version),
  };
}

function organizationOf(n: RawNotification): string | null {
  const fromName = /^organizations\/(\d+)\//.exec(n.finding.name) ?? /^organizations\/(\d+)\//.exec(n.finding.parent ?? '');
  if (fromName) return fromName[1]!;
  const meta = /^organizations\/(\d+)$/.exec(n.resource?.gcpMetadata?.organization ?? '');
  return meta ? meta[1]! : null;
}

function projectNumberOf(n: RawNotification, resourceName: string | null): string | null {
  const meta = /^\/\/cloudresourcemanager\.googleapis\.com\/projects\/(\d+)$/.exec(n.resource?.gcpMetadata?.project ?? '');
  if (meta) return meta[1]!;
  const fromCluster = resourceName === null ? null : parseClusterResourceName(resourceName);
  return fromCluster && /^\d+$/.test(fromCluster.project) ? fromCluster.project : null;
}

/** Zod issues as one line naming each field (the first three). */
export function formatIssues(issues: ReadonlyArray<{ path: PropertyKey[]; message: string }>): string {
  return issues
    .slice(0, 3)
    .map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('; ');
}

/** Validates and converts; throws InvalidInputError naming the offending field. */
export function parseNotification(value: unknown): SocatFinding {
  const result = notificationSchema.safeParse(value);
  if (!result.success) throw new InvalidInputError(`invalid notification: ${formatIssues(result.error.issues)}`);
  const n = result.data;
  const f = n.finding;
  const resourceName = nonEmpty(f.resourceName);
  const processes = (f.processes ?? []).map(toProcess);
  const workload = workloadOf(f);
  return {
    name: f.name,
    category: f.category,
    state: nonEmpty(f.state) ?? 'STATE_UNSPECIFIED',
    severity: nonEmpty(f.severity),
    eventTime: nonEmpty(f.eventTime),
    createTime: nonEmpty(f.createTime),
    organization: organizationOf(n),
    projectNumber: projectNumberOf(n, resourceName),
    projectDisplayName: nonEmpty(n.resource?.gcpMetadata?.projectDisplayName) ?? nonEmpty(n.resource?.projectDisplayName),
    resourceName,
    cluster: resourceName === null ? null : parseClusterResourceName(resourceName),
    workload,
    podLabels: podLabelsOf(f, workload),
    processes,
    socat: findingProcess(processes),
    securityMarks: { ...(f.securityMarks?.marks ?? {}) },
    mitre: mitreOf(f),
    notificationConfigName: nonEmpty(n.notificationConfigName),
  };
}
