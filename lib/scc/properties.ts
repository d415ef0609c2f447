/**
 * The report flattened into the enrichment finding's source properties:
 * console-readable keys (SCC: start with a letter; letters, digits,
 * underscore; ≤ 255 chars), every value a bounded string, number or boolean.
 * The whole map stays under PROPERTIES_BUDGET_CHARS (SCC documents no
 * per-finding limit, so we set our own) and says so when it had to cut.
 */
import { cleanLine, cleanText, truncate } from '../sanitize.js';
import { summaryLines } from '../report/render.js';
import type { TriagedReport } from '../report/types.js';

export const VALUE_MAX_CHARS = 4096;
export const PROPERTIES_BUDGET_CHARS = 64 * 1024;
const PROPERTY_KEY = /^[A-Za-z][A-Za-z0-9_]{0,254}$/;

export type PropertyValue = string | number | boolean;
export type Properties = Record<string, PropertyValue>;

function put(props: Properties, key: string, value: PropertyValue | null, max = VALUE_MAX_CHARS): void {
  if (!PROPERTY_KEY.test(key)) throw new Error(`invalid source property key ${key}`);
  if (value === null) return;
  props[key] = typeof value === 'string' ? cleanLine(value, max) : value;
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
