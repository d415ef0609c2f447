/**
 * Playbook step 4, second query: the cluster's Admin Activity audit log
 * entries that mention the pod. Two things are pulled out of them: who ran
 * `kubectl exec` into this pod (the usual way a socat shell is started by
 * hand) and who created, changed or deleted the pod.
 *
 * Only Admin Activity is read (logging.logEntries.list suffices). GKE writes
 * pods/exec there; Data Access logs would need logging.privateLogEntries.list.
 */
import { redactArgv } from '../redact.js';
import type { GatherDeps } from './deps.js';
import { LOGGING_API, LOGGING_PERMISSIONS, logProject, numberOnlyGap, queryLogs, quoteValue, restriction, type AuditRecord, type DecodedEntry } from './log-query.js';
import type { AuditLogSection, ExecEvent, GatheredSections, PodChangeEvent } from './sections.js';
import type { Gatherer } from './types.js';

export const EXEC_METHOD = 'io.k8s.core.v1.pods.exec.create';
const POD_CHANGE_METHOD = /^io\.k8s\.core\.v1\.pods\.(create|patch|update|delete)$/;
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
  return { namespace: m[1] as string, pod: m[2] ?? null, subresource: m[3] ?? null, query: m[4] ?? null };
}

function sameTarget(ref: { namespace: string; pod: string | null }, target: PodTarget): boolean {
  return ref.pod === target.pod && (target.namespace === null || ref.namespace === target.namespace);
}

function stringsOf(v: unknown): string[] | null {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  return null;
}

function commandFromUri(uri: unknown): string[] | null {
  if (typeof uri !== 'string') return null;
  const q = uri.indexOf('?');
  if (q < 0) return null;
  const args = new URLSearchParams(uri.slice(q + 1)).getAll('command');
  return args.length > 0 ? args : null;
}

/**
 * The exec'd command, when the entry carries it: GKE's default audit policy
 * logs pods/exec at Metadata level, so usually it does not. A Request-level
 * entry has the PodExecOptions (command[]) in protoPayload.request; some
 * pipelines keep the Kubernetes requestURI with its command= parameters.
 */
function execCommand(a: AuditRecord, ref: PodRef): string[] | null {
  const found =
    stringsOf(a.request?.command) ??
    commandFromUri(a.request?.requestURI) ??
    commandFromUri(a.request?.requestUri) ??
    commandFromUri(a.metadata?.requestURI) ??
    (ref.query !== null ? commandFromUri(`?${ref.query}`) : null);
  // Commands can carry credentials (curl -H Authorization..., mysql --password VALUE as two arguments).
  return found ? redactArgv(found.slice(0, MAX_COMMAND_ARGS)) : null;
}

function createdPodName(a: AuditRecord): string | null {
  for (const body of [a.response, a.request]) {
    const meta = body?.metadata;
    if (meta && typeof meta === 'object' && !Array.isArray(meta) && typeof meta.name === 'string') return meta.name;
  }
  return null;
}

export function extractExecs(decoded: readonly DecodedEntry[], target: PodTarget): ExecEvent[] {
  const execs: ExecEvent[] = [];
  for (const d of decoded) {
    const a = d.audit;
    if (!a || a.methodName !== EXEC_METHOD) continue;
    const ref = parsePodResource(a.resourceName);
    if (!ref || ref.subresource !== 'exec' || !sameTarget(ref, target)) continue;
    const command = execCommand(a, ref);
    execs.push({
      kind: 'exec',
      method: a.methodName,
      container: null,
      time: d.timestamp,
      principal: a.principal,
      callerIp: a.callerIp,
      userAgent: a.userAgent,
      command,
      namespace: ref.namespace,
      pod: ref.pod,
      mentionsSocat: command !== null && command.some((arg) => /socat/i.test(arg)),
    });
  }
  return execs;
}

export function extractPodChanges(decoded: readonly DecodedEntry[], target: PodTarget): PodChangeEvent[] {
  const changes: PodChangeEvent[] = [];
  for (const d of decoded) {
    const a = d.audit;
    const verb = a?.methodName ? POD_CHANGE_METHOD.exec(a.methodName)?.[1] : undefined;
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
  return { execs: extractExecs(decoded, target), refused: [], podChanges: extractPodChanges(decoded, target) };
}

export const auditLogs: Gatherer<GatherDeps, GatheredSections, 'auditLogs'> = {
  section: 'auditLogs',
  description: 'Cluster Admin Activity audit log entries mentioning the pod: kubectl exec into it and changes to it, as playbook step 4 queries them',
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
    const cluster = ctx.finding.cluster;
    const { namespace, pod } = ctx.finding.workload;
    const project = logProject(ctx.finding);
    if (!cluster || !project || !pod) throw new Error('auditLogs ran without the cluster and pod that missing() checks');
    if (project.numberOnly) ctx.addGap(numberOnlyGap(project));
    const { section, decoded } = await queryLogs(ctx, {
      restrictions: [
        restriction('logName', `projects/${project.id}/logs/cloudaudit.googleapis.com%2Factivity`),
        restriction('resource.type', 'k8s_cluster'),
        restriction('resource.labels.project_id', project.id),
        restriction('resource.labels.location', cluster.location),
        restriction('resource.labels.cluster_name', cluster.name),
        // A global search term, as in the playbook: matches the pod name in any field.
        quoteValue(pod),
      ],
      resourceProject: project.resource,
      linkProject: project.id,
    });
    const target: PodTarget = { namespace, pod };
    return { ...section, ...auditEvidence(decoded, target) };
  },
};
