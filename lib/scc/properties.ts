/**
 * The report flattened into the enrichment finding's source properties:
 * console-readable keys (SCC: start with a letter; letters, digits,
 * underscore; ≤ 255 chars), every value a bounded string, number or boolean.
 * The whole map stays under PROPERTIES_BUDGET_CHARS (SCC documents no
 * per-finding limit, so we set our own) and says so when it had to cut.
 */
import { cleanLine, cleanText, truncate } from '../sanitize.js';
import { summaryLines } from '../report/render.js';
import type { LogSection } from '../gather/sections.js';
import type { TriagedReport } from '../report/types.js';

export const VALUE_MAX_CHARS = 4096;
export const PROPERTIES_BUDGET_CHARS = 64 * 1024;
const PROPERTY_KEY = /^[A-Za-z][A-Za-z0-9_]{0,254}$/;

export type PropertyValue = string | number | boolean;
export type Properties = Record<string, PropertyValue>;

function put(props: Properties, key: string, value: PropertyValue | null | undefined, max = VALUE_MAX_CHARS): void {
  if (!PROPERTY_KEY.test(key)) throw new Error(`invalid source property key ${key}`);
  if (value === null || value === undefined) return;
  props[key] = typeof value === 'string' ? cleanLine(value, max) : value;
}

/** Multi-line values keep their line breaks; each line is cleaned on its own. */
function putLines(props: Properties, key: string, lines: readonly string[], max = VALUE_MAX_CHARS): void {
  if (!PROPERTY_KEY.test(key)) throw new Error(`invalid source property key ${key}`);
  if (lines.length === 0) return;
  props[key] = cleanText(lines.map((l) => cleanLine(l, 1000)).join('\n'), max);
}

function putMap(props: Properties, key: string, map: Record<string, string> | null | undefined): void {
  if (map && Object.keys(map).length > 0) put(props, key, Object.entries(map).map(([k, v]) => `${k}=${v}`).join(', '));
}

function logLines(log: LogSection): string[] {
  const fmt = (l: LogSection['first'][number]) => `${l.timestamp ?? '?'} ${l.severity ?? ''} ${l.text}`.replace(/\s+/g, ' ');
  const last = log.last.filter((l) => !log.first.includes(l));
  return [...log.first.map(fmt), ...(last.length && log.count > log.first.length + last.length ? ['…'] : []), ...last.map(fmt)];
}

function putLog(props: Properties, prefix: string, log: LogSection | null): void {
  if (!log) return;
  put(props, `${prefix}_Count`, log.count);
  put(props, `${prefix}_Truncated`, log.truncated);
  putLines(props, `${prefix}_Excerpt`, logLines(log));
  put(props, `${prefix}_Link`, log.link, 8192);
}

function gatheredProperties(p: Properties, r: TriagedReport): void {
  const rf = r.relatedFindings;
  if (rf) {
    put(p, 'Related_Same_Container_Count', rf.sameContainer.length);
    putLines(p, 'Related_Same_Container', rf.sameContainer.map((f) => `${f.eventTime ?? '?'} ${f.category} [${f.severity ?? '?'}] ${f.source ?? ''} ${f.name}`));
    putMap(p, 'Related_Counts_By_Category', Object.fromEntries(Object.entries(rf.countsByCategory).map(([k, v]) => [k, String(v)])));
    putLines(p, 'Related_Other_Pods_Same_Workload', rf.otherPodsSameWorkload.map((f) => `${f.eventTime ?? '?'} ${f.category} pod ${f.namespace ?? '?'}/${f.pod ?? '?'} ${f.name}`));
    put(p, 'Related_Other_In_Cluster_Count', rf.otherInClusterCount);
    put(p, 'Related_Window_Minutes', rf.windowMinutes);
  }
  const d = r.cluster?.details;
  if (d) {
    put(p, 'Cluster_Status', d.status);
    put(p, 'Cluster_Version', d.currentMasterVersion);
    putMap(p, 'Cluster_Owner_Labels', d.ownerLabels);
    putMap(p, 'Cluster_Labels', d.labels);
    put(p, 'Cluster_Network', d.network);
    put(p, 'Cluster_Subnetwork', d.subnetwork);
    put(p, 'Cluster_Pod_CIDR', d.podCidr);
    put(p, 'Cluster_Services_CIDR', d.servicesCidr);
    put(p, 'Cluster_Network_Policy_Enforced', d.networkPolicyEnforced);
    put(p, 'Cluster_Workload_Identity_Pool', d.workloadIdentityPool);
    put(p, 'Cluster_Private_Endpoint', d.privateEndpoint);
    put(p, 'Cluster_Logging_Components', d.loggingComponents === null ? null : d.loggingComponents.join(', ') || 'none');
    put(p, 'Node_Pool', d.nodePool);
  }
  const n = r.node;
  if (n) {
    put(p, 'Node_Instance_Id', n.instanceId);
    put(p, 'Node_Zone', n.zone);
    put(p, 'Node_OS_Image', n.osImage);
    put(p, 'Node_Kernel', n.kernelVersion);
    put(p, 'Node_Container_Runtime', n.containerRuntime);
    put(p, 'Node_Created', n.createdAt);
    putMap(p, 'Node_Labels', n.labels);
  }
  const pod = r.pod;
  if (pod) {
    put(p, 'Pod_Source', pod.source);
    put(p, 'Pod_Phase', pod.phase);
    put(p, 'Pod_Start_Time', pod.startTime);
    put(p, 'Pod_Service_Account', pod.serviceAccount);
    putMap(p, 'Pod_Labels', pod.labels);
    putLines(p, 'Pod_Red_Flags', pod.redFlags);
    put(p, 'Pod_Owner_Chain', pod.owners.length ? pod.owners.map((o) => `${o.kind}/${o.name}`).join(' → ') : null);
    putLines(p, 'Pod_Containers', pod.containers.map((c) => `${c.name} ${c.image ?? '?'} digest ${c.imageDigest ?? '?'} restarts ${c.restartCount ?? '?'}`));
  }
  putLog(p, 'Logs_Pod', r.logs.pod);
  putLog(p, 'Logs_Audit', r.logs.audit);
  if (r.logs.audit) {
    putLines(p, 'Audit_Execs', r.logs.audit.execs.map((e) => `${e.time ?? '?'} ${e.principal ?? '?'} from ${e.callerIp ?? '?'} (${e.userAgent ?? '?'}) into ${e.namespace ?? '?'}/${e.pod ?? '?'}${e.command ? `: ${e.command.join(' ')}` : ''}`));
    putLines(p, 'Audit_Pod_Changes', r.logs.audit.podChanges.map((c) => `${c.time ?? '?'} ${c.verb} by ${c.principal ?? '?'}`));
  }
  putLog(p, 'Logs_Node', r.logs.node);
  putLines(p, 'Gaps', r.gaps.map((g) => `${g.section}: ${g.reason}`));
  put(p, 'Link_Finding', r.links.finding, 8192);
  put(p, 'Link_Cluster', r.links.cluster, 8192);
  put(p, 'Link_Node', r.links.node, 8192);
  put(p, 'Link_Pod', r.links.pod, 8192);
}

export function reportProperties(r: TriagedReport): Properties {
  const p: Properties = {};
  p.Triage_Summary = cleanText(summaryLines(r).join('\n'), 8192);
  put(p, 'Triage_Status', r.status);
  put(p, 'Report_Schema_Version', r.schemaVersion);
  put(p, 'Original_Finding', r.finding.name);
  put(p, 'Original_Category', r.finding.category);
  put(p, 'Original_Severity', r.finding.severity);
  put(p, 'Original_Event_Time', r.finding.eventTime);
  put(p, 'Project_Display_Name', r.finding.projectDisplayName);
  put(p, 'Cluster_Resource_Name', r.finding.resourceName);
  if (r.cluster) {
    put(p, 'Cluster_Project', r.cluster.project);
    put(p, 'Cluster_Location', r.cluster.location);
    put(p, 'Cluster_Location_Type', r.cluster.locationType);
    put(p, 'Cluster_Name', r.cluster.name);
  }
  put(p, 'Pod_Namespace', r.workload.namespace);
  put(p, 'Pod_Name', r.workload.pod);
  put(p, 'Container_Name', r.workload.container);
  put(p, 'Container_Image_Uri', r.workload.image);
  put(p, 'VM_Instance_Name', r.workload.node);
  put(p, 'Process_Binary', r.process.binary);
  // JSON keeps argument boundaries visible; cleanLine then strips control characters.
  put(p, 'Process_Args', JSON.stringify(r.process.args));
  put(p, 'Process_Args_Truncated', r.process.argsTruncated);
  put(p, 'C2_Role', r.c2.role);
  put(p, 'C2_Transport', r.c2.transport);
  put(p, 'C2_Host', r.c2.host);
  put(p, 'C2_Port', r.c2.port);
  put(p, 'C2_IP_Version', r.c2.ipVersion);
  put(p, 'C2_Program', r.c2.program);
  put(p, 'C2_Pty', r.c2.pty);
  // Commands must stay exact: they are already quoted and free of raw control characters, so they are never cleaned, only dropped when too long.
  for (const [key, cmd] of [
    ['Command_Get_Credentials', r.commands.getCredentials],
    ['Command_Copy_Binary', r.commands.copyBinary],
    ['Command_Exec', r.commands.exec],
  ] as const) {
    if (cmd !== null) p[key] = cmd.length <= VALUE_MAX_CHARS ? cmd : `(command of ${cmd.length} chars, too long to show here; the report JSON has it)`;
  }
  gatheredProperties(p, r);
  return enforceBudget(p);
}

function size(p: Properties): number {
  return Object.entries(p).reduce((n, [k, v]) => n + k.length + String(v).length, 0);
}

/** Cuts the longest string values until the map fits, marking each cut. */
export function enforceBudget(p: Properties, budget = PROPERTIES_BUDGET_CHARS): Properties {
  let total = size(p);
  if (total <= budget) return p;
  const out: Properties = { ...p };
  const byLength = Object.entries(out)
    .filter((e): e is [string, string] => typeof e[1] === 'string')
    .sort((a, b) => b[1].length - a[1].length);
  for (const [key, value] of byLength) {
    if (total <= budget) break;
    const keep = Math.max(256, value.length - (total - budget));
    const cut = truncate(value, keep);
    total -= value.length - cut.length;
    out[key] = cut;
  }
  out.Report_Truncated = true;
  return out;
}

/** google.protobuf.Value, as the gRPC client expects it. */
export function toProtoValues(p: Properties): Record<string, { stringValue?: string; numberValue?: number; boolValue?: boolean }> {
  const out: Record<string, { stringValue?: string; numberValue?: number; boolValue?: boolean }> = {};
  for (const [k, v] of Object.entries(p)) {
    out[k] = typeof v === 'string' ? { stringValue: v } : typeof v === 'number' ? { numberValue: v } : { boolValue: v };
  }
  return out;
}
