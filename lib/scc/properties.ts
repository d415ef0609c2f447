/**
 * The report laid out as the enrichment finding's source properties, for an
 * engineer reading the SCC console top-down: verdict, score and reasons
 * first, then the C2 endpoint, who started it, related findings, what could
 * not be seen, the runbook, whom to call, links, and the supporting facts
 * last. The console lists properties by key, so every key starts with a
 * section letter and a position (A1_Verdict, B1_C2, …) — the order survives
 * any sorting. Keys follow SCC's rule (a letter first; letters, digits,
 * underscore; ≤ 255 chars). Every console value is a bounded string, number
 * or boolean; attacker-influenced text is cleaned of control, bidi and
 * zero-width characters. Beside them, `Z_Report` holds the report as a Struct
 * for programs (lib/scc/stored-report.ts): the machine-readable source of
 * truth, strings exact. The whole map, that Struct counted as its JSON text,
 * stays under PROPERTIES_BUDGET_CHARS (SCC documents no per-finding limit, so
 * we set our own) and says so with a visible marker when it had to cut.
 */
import type { LogSection } from '../gather/sections.js';
import { describeC2 } from '../report/render.js';
import { summaryLines } from '../report/render.js';
import type { TriagedReport } from '../report/types.js';
import { cleanLine, cleanText, truncate } from '../sanitize.js';
import { jsonChars, toProtoValue, type JsonObject, type ProtoValue } from './proto-value.js';
import { STORED_REPORT_KEY, storedReport } from './stored-report.js';

export const VALUE_MAX_CHARS = 4096;
export const PROPERTIES_BUDGET_CHARS = 64 * 1024;
const PROPERTY_KEY = /^[A-Za-z][A-Za-z0-9_]{0,254}$/;

/** Console values are scalars; the one Struct is the stored report. */
export type PropertyValue = string | number | boolean | JsonObject;
export type Properties = Record<string, PropertyValue>;

/** Builds the map in reading order; rejects a malformed key at once (a bug, not input). */
class Layout {
  readonly props: Properties = {};

  put(key: string, value: PropertyValue | null | undefined, max = VALUE_MAX_CHARS): void {
    if (!PROPERTY_KEY.test(key)) throw new Error(`invalid source property key ${key}`);
    if (value === null || value === undefined) return;
    this.props[key] = typeof value === 'string' ? cleanLine(value, max) : value;
  }

  /** Multi-line values keep their line breaks; each line is cleaned on its own. */
  lines(key: string, lines: readonly string[], max = VALUE_MAX_CHARS): void {
    if (!PROPERTY_KEY.test(key)) throw new Error(`invalid source property key ${key}`);
    if (lines.length === 0) return;
    this.props[key] = cleanText(lines.map((l) => cleanLine(l, 1000)).join('\n'), max);
  }

  map(key: string, map: Record<string, string> | null | undefined): void {
    if (map && Object.keys(map).length > 0) this.put(key, Object.entries(map).map(([k, v]) => `${k}=${v}`).join(', '));
  }

  /** Commands are already exactly quoted and free of raw control characters: never cleaned, only dropped when too long. */
  command(key: string, command: string | null): void {
    if (!PROPERTY_KEY.test(key)) throw new Error(`invalid source property key ${key}`);
    if (command === null) return;
    this.props[key] = command.length <= VALUE_MAX_CHARS ? command : `(command of ${command.length} chars, too long to show here; the report JSON has it)`;
  }
}

const LEVEL_WORDS = { likely_malicious: 'LIKELY MALICIOUS', suspicious: 'SUSPICIOUS', likely_benign_admin: 'LIKELY BENIGN (admin activity)' } as const;

function logLines(log: LogSection): string[] {
  const fmt = (l: LogSection['first'][number]) => `${l.timestamp ?? '?'} ${l.severity ?? ''} ${l.text}`.replace(/\s+/g, ' ');
  const last = log.last.filter((l) => !log.first.includes(l));
  return [...log.first.map(fmt), ...(last.length && log.count > log.first.length + last.length ? ['…'] : []), ...last.map(fmt)];
}

function logProperties(out: Layout, prefix: string, log: LogSection | null): void {
  if (!log) return;
  out.put(`${prefix}_Count`, log.count);
  out.put(`${prefix}_Truncated`, log.truncated);
  out.lines(`${prefix}_Excerpt`, logLines(log));
  out.put(`${prefix}_Link`, log.link, 8192);
}

export function reportProperties(r: TriagedReport): Properties {
  const out = new Layout();
  const v = r.verdict;

  // A — the answer.
  out.put('A1_Verdict', LEVEL_WORDS[v.level]);
  out.put('A2_Score', v.score);
  out.lines('A3_Reasons', v.reasons.map((x) => `${x.weight >= 0 ? '+' : ''}${x.weight} ${x.signal}: ${x.detail}`));
  out.lines('A4_Signals_Unavailable', v.unavailable);
  out.props.A5_Summary = cleanText(summaryLines(r).join('\n'), 8192);

  // B — where the shell connects.
  out.put('B1_C2', describeC2(r.c2));
  out.put('B2_C2_Scope', r.c2.scope);
  out.put('B3_C2_Host', r.c2.host);
  out.put('B4_C2_Port', r.c2.port);
  out.put('B5_C2_Transport', r.c2.transport);
  out.put('B6_C2_Role', r.c2.role);
  out.put('B7_C2_Program', r.c2.program);
  out.put('B8_C2_Pty', r.c2.pty);
  const hop = r.c2.hop ?? null;
  out.put('B9_C2_Hop', hop === null ? null : `${hop.host ?? '?'}:${hop.port ?? '?'}${r.c2.hopScope ? ` (${r.c2.hopScope})` : ''}`);
  out.lines('B9_C2_Peers', (r.c2.peers ?? []).map((p) => `${p.direction} ${p.transport ?? '?'} ${p.host ?? '?'}:${p.port ?? '?'}${p.hop ? ` via ${p.hop.host ?? '?'}:${p.hop.port ?? '?'}` : ''}`));
  out.put('B9_C2_Socket', r.c2.socket ?? null);
  out.put('B9_C2_Refused', r.c2.refused ?? null);
  out.put('B9_C2_Note', r.c2.note ?? null);

  // C — who started it.
  out.put('C1_Attribution', r.attribution.explanation);
  out.put('C2_Attribution_Kind', r.attribution.kind);
  const exec = r.attribution.exec;
  if (exec) {
    out.put('C3_Exec_Principal', exec.principal);
    out.put('C4_Exec_Caller_IP', exec.callerIp);
    out.put('C5_Exec_User_Agent', exec.userAgent);
    out.put('C6_Exec_Time', exec.time);
    out.put('C7_Exec_Command', exec.command === null ? null : JSON.stringify(exec.command));
  }
  out.put('C8_Lineage', r.lineage.summary || null);
  out.lines(
    'C9_Refused_Attempts',
    r.attribution.refused.map((x) => `${x.time ?? '?'} ${x.principal ?? '?'} from ${x.callerIp ?? '?'} (${x.userAgent ?? '?'}): ${x.method ?? x.kind} refused${x.statusCode === null ? '' : ` with status ${x.statusCode}`}${x.reason ? ` (${x.reason})` : ''}`),
  );
  out.lines(
    'C9_Sessions_Considered',
    r.attribution.considered.map((c) => `${c.session.time ?? '?'} ${c.session.kind} by ${c.session.principal ?? '?'}: ${c.reason}`),
  );

  // D — other findings.
  const rf = r.relatedFindings;
  if (rf) {
    out.put('D1_Related_Same_Container_Count', rf.sameContainer.length);
    out.lines('D2_Related_Same_Container', rf.sameContainer.map((f) => `${f.eventTime ?? '?'} ${f.category} [${f.severity ?? '?'}] ${f.source ?? ''} ${f.name}`));
    out.map('D3_Related_Counts_By_Category', Object.fromEntries(Object.entries(rf.countsByCategory).map(([k, n]) => [k, String(n)])));
    out.lines('D4_Related_Other_Pods_Same_Workload', rf.otherPodsSameWorkload.map((f) => `${f.eventTime ?? '?'} ${f.category} pod ${f.namespace ?? '?'}/${f.pod ?? '?'} ${f.name}`));
    out.put('D5_Related_Other_In_Cluster_Count', rf.otherInClusterCount);
    out.put('D6_Related_Window_Minutes', rf.windowMinutes);
    out.put('D7_Related_Complete', rf.complete);
  }

  // E — what could not be seen.
  out.lines('E1_Gaps', r.gaps.map((g) => `${g.section}: ${g.reason}`));

  // F — the runbook, in order; warnings next to the step they qualify.
  r.runbook.steps.forEach((step, i) => {
    const key = `F${String(i + 1).padStart(2, '0')}_${step.id}`;
    out.command(key, step.command);
    if (step.command === null && step.note) out.put(key, `(not available: ${step.note})`);
    if (step.warning) out.put(`${key}_WARNING`, step.warning);
  });

  // G — whom to call.
  out.lines('G1_Owner_Hints', r.owners.hints.map((h) => `${h.scope} ${h.key}=${h.value}`));
  out.lines('G2_Security_Contacts', r.owners.contacts.map((c) => `${c.email} (${c.categories.join(', ')})`));

  // H — links.
  out.put('H1_Link_Finding', r.links.finding, 8192);
  out.put('H2_Link_Cluster', r.links.cluster, 8192);
  out.put('H3_Link_Node', r.links.node, 8192);
  out.put('H4_Link_Pod', r.links.pod, 8192);

  // I — the original finding and the process.
  out.put('I01_Original_Finding', r.finding.name);
  out.put('I02_Original_Category', r.finding.category);
  out.put('I03_Original_Severity', r.finding.severity);
  out.put('I04_Original_Event_Time', r.finding.eventTime);
  out.put('I05_Process_Binary', r.process.binary);
  // JSON keeps argument boundaries visible; cleaning then strips control characters.
  out.put('I06_Process_Args', JSON.stringify(r.process.args));
  out.put('I07_Process_Args_Truncated', r.process.argsTruncated);
  if (r.mitre) {
    out.lines('I08_MITRE_Tactics', r.mitre.tactics.map((t) => `${t.id ?? '?'} ${t.name}${t.url ? ` ${t.url}` : ''}`));
    out.lines('I09_MITRE_Techniques', r.mitre.techniques.map((t) => `${t.id ?? '?'} ${t.name}${t.url ? ` ${t.url}` : ''}`));
  }

  // J — where: cluster, node, pod.
  out.put('J01_Project', r.finding.projectDisplayName);
  out.put('J02_Cluster_Resource_Name', r.finding.resourceName);
  if (r.cluster) {
    out.put('J03_Cluster', `${r.cluster.name} (${r.cluster.location}, ${r.cluster.locationType}) in ${r.cluster.project}`);
    const d = r.cluster.details;
    if (d) {
      out.put('J04_Cluster_Version', d.currentMasterVersion);
      out.put('J05_Cluster_Network_Policy_Enforced', d.networkPolicyEnforced);
      out.put('J06_Cluster_Private_Endpoint', d.privateEndpoint);
      out.put('J07_Cluster_Workload_Identity_Pool', d.workloadIdentityPool);
      out.put('J08_Cluster_Logging_Components', d.loggingComponents === null ? null : d.loggingComponents.join(', ') || 'none');
      out.put('J09_Cluster_Network', [d.network, d.subnetwork].filter(Boolean).join(' / ') || null);
      out.put('J10_Cluster_Pod_CIDR', d.podCidr);
      out.put('J11_Cluster_Services_CIDR', d.servicesCidr);
      out.map('J12_Cluster_Labels', d.labels);
      out.put('J13_Node_Pool', d.nodePool);
      // How the Kubernetes sections were read (never the endpoint itself), or why they could not be.
      out.put('J32_Cluster_Control_Plane_Path', d.controlPlanePath ?? d.controlPlaneUnreachable);
    }
  }
  out.put('J14_Pod_Namespace', r.workload.namespace);
  out.put('J15_Pod_Name', r.workload.pod);
  out.put('J16_Container_Name', r.workload.container);
  out.put('J17_Container_Image_Uri', r.workload.image);
  out.put('J18_VM_Instance_Name', r.workload.node);
  const pod = r.pod;
  if (pod) {
    out.lines('J19_Pod_Red_Flags', pod.redFlags);
    out.put('J20_Pod_Owner_Chain', pod.owners.length ? pod.owners.map((o) => `${o.kind}/${o.name}`).join(' → ') : null);
    out.put('J21_Pod_Service_Account', pod.serviceAccount);
    out.put('J22_Pod_Phase', pod.phase);
    out.put('J23_Pod_Start_Time', pod.startTime);
    out.map('J24_Pod_Labels', pod.labels);
    out.lines('J25_Pod_Containers', pod.containers.map((c) => `${c.name} ${c.image ?? '?'} digest ${c.imageDigest ?? '?'} restarts ${c.restartCount ?? '?'}`));
    out.put('J26_Pod_Source', pod.source);
  }
  const n = r.node;
  if (n) {
    out.put('J27_Node_Instance_Id', n.instanceId);
    out.put('J28_Node_Zone', n.zone);
    out.put('J29_Node_OS_Image', n.osImage);
    out.put('J30_Node_Kernel', n.kernelVersion);
    out.put('J31_Node_Created', n.createdAt);
  }

  // K — log excerpts (redacted and capped by the gatherers).
  logProperties(out, 'K1_Logs_Pod', r.logs.pod);
  logProperties(out, 'K2_Logs_Audit', r.logs.audit);
  if (r.logs.audit) {
    out.lines('K2_Logs_Audit_Execs', r.logs.audit.execs.map((e) => `${e.time ?? '?'} ${e.principal ?? '?'} from ${e.callerIp ?? '?'} (${e.userAgent ?? '?'}) into ${e.namespace ?? '?'}/${e.pod ?? '?'}${e.command ? `: ${e.command.join(' ')}` : ''}`));
    out.lines('K2_Logs_Audit_Pod_Changes', r.logs.audit.podChanges.map((c) => `${c.time ?? '?'} ${c.verb} by ${c.principal ?? '?'}`));
  }
  logProperties(out, 'K3_Logs_Node', r.logs.node);
  logProperties(out, 'K4_Logs_Node_Kubernetes', r.logs.nodeKubernetes);

  out.put('Z1_Report_Schema_Version', r.schemaVersion);
  // The stored report fits its own budget first; the console text gets what it leaves of the finding's.
  const stored = { [STORED_REPORT_KEY]: storedReport(r) as unknown as JsonObject };
  return { ...enforceBudget(out.props, PROPERTIES_BUDGET_CHARS - size(stored)), ...stored };
}

/** Characters a map holds: keys, scalar values as text, a Struct as its JSON text. */
export function size(p: Properties): number {
  return Object.entries(p).reduce((n, [k, v]) => n + k.length + (typeof v === 'object' ? jsonChars(v) : String(v).length), 0);
}

/** Runbook commands: a cut command would still run, differently, so they are dropped whole, never truncated. */
const COMMAND_KEY = /^F\d\d_[a-z_]+$/;

/** Cuts the longest text values (commands last, and whole) until the map fits, marking each cut. */
export function enforceBudget(p: Properties, fullBudget = PROPERTIES_BUDGET_CHARS): Properties {
  let total = size(p);
  if (total <= fullBudget) return p;
  // The Z2_Report_Truncated marker added below counts against the budget too.
  const budget = fullBudget - size({ Z2_Report_Truncated: true });
  const out: Properties = { ...p };
  const strings = Object.entries(out).filter((e): e is [string, string] => typeof e[1] === 'string');
  const texts = strings.filter(([k]) => !COMMAND_KEY.test(k)).sort((a, b) => b[1].length - a[1].length);
  for (const [key, value] of texts) {
    if (total <= budget) break;
    const keep = Math.max(256, value.length - (total - budget));
    const cut = truncate(value, keep);
    total -= value.length - cut.length;
    out[key] = cut;
  }
  for (const [key, value] of strings.filter(([k]) => COMMAND_KEY.test(k)).sort((a, b) => b[1].length - a[1].length)) {
    if (total <= budget) break;
    const note = `(command of ${value.length} chars dropped to keep the finding under its size budget; the report JSON has it)`;
    total -= value.length - note.length;
    out[key] = note;
  }
  out.Z2_Report_Truncated = true;
  return out;
}

/** google.protobuf.Value, as the gRPC client expects it: scalars as themselves, the Struct member by member (lib/scc/proto-value.ts). */
export function toProtoValues(p: Properties): Record<string, ProtoValue> {
  return Object.fromEntries(Object.entries(p).map(([k, v]) => [k, toProtoValue(v)]));
}
