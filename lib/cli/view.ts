/**
 * What `show` (and the human form of `triage`) puts in front of a person,
 * built from one of two sources:
 *   - a report (the JSON `triage --json` / `analyze` print, an offline
 *     analysis, or the structured report our enrichment finding stores in
 *     SCC, the only place the function keeps what it gathered), and
 *   - the console-text source properties of an enrichment finding written
 *     before the structured report existed (viewFromProperties).
 * Both are read as untrusted `unknown`: a report file can come from anywhere
 * and sections appear over time (verdict, runbook), so every field is
 * optional here and a missing one is simply not shown. Every string is
 * cleaned when the view is built (lib/sanitize.ts), so neither the terminal
 * renderer nor `show --json` can pass an escape sequence through. Commands are
 * the exception: they must stay exact, so a command with anything cleanLine
 * would change is withheld instead of altered.
 */
import { describeC2 } from '../report/render.js';
import { C2_ROLES, C2_TRANSPORTS, type C2Endpoint, type C2Role, type C2Transport } from '../report/types.js';
import { cleanLine } from '../sanitize.js';
import type { StoredReport } from '../scc/stored-report.js';
import { isPortableCommandText } from '../shell/quote.js';

export type ViewSource = 'report' | 'enrichment_finding' | 'offline_analysis';

export interface ViewVerdict {
  level: string;
  score: number | null;
  reasons: Array<{ weight: number | null; detail: string }>;
  unavailable: string[];
}

export interface ViewRunbookStep {
  title: string;
  commands: string[];
  /** Why, caveats and warnings, in words. */
  notes: string[];
  /** The step changes the cluster (containment). */
  disruptive: boolean;
}

export interface ShowView {
  viewVersion: 1;
  source: ViewSource;
  /** Things the reader must know about where this came from (stale report, offline analysis…). */
  notes: string[];
  status: string;
  skipReason: string | null;
  finding: {
    name: string | null;
    category: string | null;
    severity: string | null;
    state: string | null;
    eventTime: string | null;
    project: string | null;
    resourceName: string | null;
  };
  verdict: ViewVerdict | null;
  /** The compact socat_triage_verdict mark on the original finding, when read from SCC. */
  verdictMark: string | null;
  /** The C2 endpoint in one sentence. */
  what: string | null;
  c2: { role: string; transport: string | null; host: string | null; port: number | null; program: string | null; pty: boolean; scope: string | null } | null;
  /** What started socat, e.g. "java → sh → socat". */
  lineage: string | null;
  where: { namespace: string | null; pod: string | null; container: string | null; image: string | null; node: string | null; cluster: string | null; location: string | null };
  process: { binary: string | null; args: string | null };
  attribution: { summary: string; details: string[] } | null;
  /** Whom to call: owner labels and security contacts, one per line. */
  owners: string[];
  /** complete: every page of the query was read (null: not recorded, e.g. a report from before the field). */
  related: { sameContainer: string[]; otherPodsSameWorkload: string[]; otherInClusterCount: number | null; windowMinutes: number | null; complete: boolean | null } | null;
  podRedFlags: string[];
  gaps: string[];
  runbook: ViewRunbookStep[] | null;
  commands: Array<{ label: string; command: string }>;
  /** Labels of commands that were not shown because they were not exact-safe to print. */
  withheldCommands: string[];
  links: Array<{ label: string; url: string }>;
}

const SHORT = 200;
const LONG = 600;

type Obj = Record<string, unknown>;

function obj(v: unknown): Obj | null {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : null;
}

function str(v: unknown, max = SHORT): string | null {
  if (typeof v === 'string') return v === '' ? null : cleanLine(v, max);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return null;
}

function num(v: unknown): number | null {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v.trim())) return Number(v);
  return null;
}

function bool(v: unknown): boolean {
  return v === true || v === 'true';
}

function lines(v: unknown, max = LONG): string[] {
  if (Array.isArray(v)) return v.map((x) => str(x, max)).filter((x): x is string => x !== null);
  if (typeof v === 'string') return v.split('\n').map((l) => str(l, max)).filter((x): x is string => x !== null);
  return [];
}

/**
 * Commands print as they are or not at all: a cleaned command would run
 * something else. Line breaks are allowed (a here-document of YAML), each
 * line must be free of anything cleanLine would touch, and the command must
 * be quoted as every shell reads it alike (lib/shell/quote.ts: a report
 * stored by an older release may hold bash's $'…', which dash misreads).
 */
function exactCommand(v: unknown): string | null | 'withheld' {
  if (typeof v !== 'string' || v === '') return null;
  if (v.length > 16_384) return 'withheld';
  if (!isPortableCommandText(v)) return 'withheld';
  return v.split('\n').every((line) => cleanLine(line, 16_384) === line) ? v : 'withheld';
}

function pushCommand(view: ShowView, label: string, value: unknown): void {
  const cmd = exactCommand(value);
  if (cmd === 'withheld') view.withheldCommands.push(label);
  else if (cmd !== null) view.commands.push({ label, command: cmd });
}

function c2Of(raw: { role: unknown; transport: unknown; host: unknown; port: unknown; ipVersion: unknown; program: unknown; pty: unknown; scope?: unknown; hop?: unknown }): { c2: NonNullable<ShowView['c2']>; what: string } {
  const hop = obj(raw.hop);
  const role = (C2_ROLES as readonly unknown[]).includes(raw.role) ? (raw.role as C2Role) : 'unknown';
  const endpoint: C2Endpoint = {
    role,
    transport: (C2_TRANSPORTS as readonly unknown[]).includes(raw.transport) ? (raw.transport as C2Transport) : null,
    host: typeof raw.host === 'string' && raw.host !== '' ? raw.host : null,
    port: num(raw.port),
    ipVersion: num(raw.ipVersion) === 6 ? 6 : num(raw.ipVersion) === 4 ? 4 : null,
    program: typeof raw.program === 'string' && raw.program !== '' ? raw.program : null,
    pty: bool(raw.pty),
    hop: hop ? { host: typeof hop.host === 'string' && hop.host !== '' ? hop.host : null, port: num(hop.port), ipVersion: null } : null,
  };
  return {
    // describeC2 cleans every attacker-influenced part itself; the cap guards the sentence as a whole.
    what: cleanLine(describeC2(endpoint), LONG),
    c2: { role, transport: endpoint.transport, host: str(endpoint.host), port: endpoint.port, program: str(endpoint.program, 400), pty: endpoint.pty, scope: str(raw.scope, 64) },
  };
}

function emptyView(source: ViewSource): ShowView {
  return {
    viewVersion: 1,
    source,
    notes: [],
    status: 'unknown',
    skipReason: null,
    finding: { name: null, category: null, severity: null, state: null, eventTime: null, project: null, resourceName: null },
    verdict: null,
    verdictMark: null,
    what: null,
    c2: null,
    lineage: null,
    where: { namespace: null, pod: null, container: null, image: null, node: null, cluster: null, location: null },
    process: { binary: null, args: null },
    attribution: null,
    owners: [],
    related: null,
    podRedFlags: [],
    gaps: [],
    runbook: null,
    commands: [],
    withheldCommands: [],
    links: [],
  };
}

function verdictFrom(v: unknown): ViewVerdict | null {
  const o = obj(v);
  const level = str(o?.level, 64);
  if (!o || level === null) return null;
  const reasons = (Array.isArray(o.reasons) ? o.reasons : [])
    .map((r) => {
      const ro = obj(r);
      if (ro) return { weight: num(ro.weight), detail: str(ro.detail ?? ro.signal, LONG) ?? '' };
      return { weight: null, detail: str(r, LONG) ?? '' };
    })
    .filter((r) => r.detail !== '')
    .sort((a, b) => Math.abs(b.weight ?? 0) - Math.abs(a.weight ?? 0));
  return { level, score: num(o.score), reasons, unavailable: lines(o.unavailable) };
}

/**
 * Runbook steps, from the report's {steps: [{title, command, note, warning,
 * disruptive}]}; an array of steps, or text with one step per line, render too.
 */
export function runbookFrom(v: unknown): ViewRunbookStep[] | null {
  if (v === null || v === undefined) return null;
  const o = obj(v);
  const items: unknown[] = typeof v === 'string' ? v.split('\n') : Array.isArray(v) ? v : Array.isArray(o?.steps) ? (o!.steps as unknown[]) : [];
  const steps: ViewRunbookStep[] = [];
  for (const item of items) {
    const io = obj(item);
    if (!io) {
      const title = str(item, LONG);
      if (title !== null) steps.push({ title, commands: [], notes: [], disruptive: false });
      continue;
    }
    const title = str(io.title ?? io.name ?? io.description, LONG) ?? '';
    const raw = Array.isArray(io.commands) ? (io.commands as unknown[]) : [io.command ?? io.cmd];
    const checked = raw.map(exactCommand);
    const commands = checked.filter((c): c is string => c !== null && c !== 'withheld');
    const notes = [str(io.warning, LONG), str(io.note, LONG)].filter((n): n is string => n !== null);
    if (checked.includes('withheld')) notes.push('command withheld: it contains characters a terminal would interpret, or quoting not every shell reads alike');
    if (title === '' && commands.length === 0) continue;
    steps.push({ title: title || '(untitled step)', commands, notes, disruptive: io.disruptive === true });
  }
  return steps.length > 0 ? steps : null;
}

function ownersFrom(v: unknown): string[] {
  const o = obj(v);
  if (!o) return [];
  const out: string[] = [];
  for (const h of Array.isArray(o.hints) ? o.hints : []) {
    const ho = obj(h);
    if (ho) out.push(cleanLine(`${str(ho.scope, 32) ?? '?'} label ${str(ho.key) ?? '?'}=${str(ho.value) ?? '?'}`, LONG));
  }
  for (const c of Array.isArray(o.contacts) ? o.contacts : []) {
    const co = obj(c);
    const email = str(co?.email);
    if (email) out.push(cleanLine(`security contact ${email}${Array.isArray(co!.categories) ? ` (${(co!.categories as unknown[]).map((x) => str(x, 40)).filter(Boolean).join(', ')})` : ''}`, LONG));
  }
  return out;
}

function execLine(e: Obj): string {
  const cmd = Array.isArray(e.command) ? (e.command as unknown[]).map((c) => String(c)).join(' ') : null;
  return cleanLine(`${str(e.time) ?? '?'} ${str(e.principal) ?? 'unknown principal'} from ${str(e.callerIp) ?? '?'} (${str(e.userAgent) ?? '?'})${cmd ? `: ${cmd}` : ''}`, LONG);
}

function attributionFromReport(r: Obj, gaps: string[]): ShowView['attribution'] {
  const a = obj(r.attribution);
  if (a) {
    const summary = str(a.explanation, LONG) ?? str(a.kind) ?? null;
    const exec = obj(a.exec);
    const refused = (Array.isArray(a.refused) ? (a.refused as unknown[]) : []).map(obj).filter((e): e is Obj => e !== null);
    const rejected = (Array.isArray(a.considered) ? (a.considered as unknown[]) : []).map(obj).filter((c): c is Obj => c !== null && c.taken !== true);
    const details = [
      ...(exec ? [execLine(exec)] : []),
      ...rejected.slice(0, 3).map((c) => cleanLine(`${str(obj(c.session)?.principal) ?? '?'} at ${str(obj(c.session)?.time) ?? '?'}: ${str(c.reason, LONG) ?? ''}`, LONG)),
      ...refused.slice(0, 3).map((e) => `refused: ${execLine(e)}`),
    ];
    if (summary !== null) return { summary, details };
  }
  const audit = obj(obj(r.logs)?.audit);
  if (audit && Array.isArray(audit.execs)) {
    const execs = (audit.execs as unknown[]).map(obj).filter((e): e is Obj => e !== null);
    if (execs.length === 0 && audit.truncated === true) return { summary: 'Unknown: the audit read was incomplete, so finding no session into the pod proves nothing.', details: [] };
    if (execs.length === 0) return { summary: 'No kubectl exec into this pod in the audit logs of the window: nobody interactive to ask.', details: [] };
    const socat = execs.filter((e) => e.mentionsSocat === true);
    return {
      summary: `${execs.length} kubectl exec${execs.length === 1 ? '' : 's'} into this pod in the window${socat.length ? `, ${socat.length} running socat` : ''}.`,
      details: (socat.length ? socat : execs).slice(-3).map(execLine),
    };
  }
  if (gaps.some((g) => g.startsWith('auditLogs'))) return { summary: 'Unknown: the audit logs were not read (see gaps).', details: [] };
  return null;
}

function relatedLine(f: Obj, withPod: boolean): string {
  const pod = withPod ? ` pod ${str(f.namespace) ?? '?'}/${str(f.pod) ?? '?'}` : '';
  return cleanLine(`${str(f.eventTime) ?? '?'} ${str(f.category) ?? '?'} [${str(f.severity) ?? '?'}]${pod} ${str(f.name, 400) ?? ''}`, LONG);
}

/** A report object (schemaVersion 1, any later additions) → the view. */
export function viewFromReport(report: unknown, source: ViewSource = 'report'): ShowView {
  const r = obj(report) ?? {};
  const view = emptyView(source);
  const f = obj(r.finding) ?? {};
  view.status = str(r.status, 32) ?? 'unknown';
  view.skipReason = view.status === 'skipped' ? str(r.reason, LONG) : null;
  view.finding = {
    name: str(f.name, 400),
    category: str(f.category),
    severity: str(f.severity, 64),
    state: str(f.state, 64),
    eventTime: str(f.eventTime, 64),
    project: str(f.projectDisplayName) ?? str(obj(r.cluster)?.project),
    resourceName: str(f.resourceName, 400),
  };
  if (view.status !== 'triaged') return view;
  view.verdict = verdictFrom(r.verdict);
  const c2 = obj(r.c2);
  if (c2) Object.assign(view, c2Of({ role: c2.role, transport: c2.transport, host: c2.host, port: c2.port, ipVersion: c2.ipVersion, program: c2.program, pty: c2.pty, scope: c2.scope, hop: c2.hop }));
  view.lineage = str(obj(r.lineage)?.summary, LONG);
  view.owners = ownersFrom(r.owners);
  const w = obj(r.workload) ?? {};
  const cluster = obj(r.cluster);
  view.where = { namespace: str(w.namespace), pod: str(w.pod), container: str(w.container), image: str(w.image, 400), node: str(w.node), cluster: str(cluster?.name), location: str(cluster?.location) };
  const p = obj(r.process) ?? {};
  const args = Array.isArray(p.args) ? (p.args as unknown[]).map(String).join(' ') : null;
  view.process = { binary: str(p.binary, 400), args: args === null || args === '' ? null : cleanLine(args, LONG) + (p.argsTruncated === true ? ' [arguments truncated by SCC]' : '') };
  view.gaps = (Array.isArray(r.gaps) ? r.gaps : []).map((g) => {
    const go = obj(g);
    return go ? cleanLine(`${str(go.section, 64) ?? '?'}: ${str(go.reason, LONG) ?? ''}`, LONG) : (str(g, LONG) ?? '');
  }).filter((g) => g !== '');
  view.attribution = attributionFromReport(r, view.gaps);
  const rf = obj(r.relatedFindings);
  if (rf) {
    const list = (v: unknown) => (Array.isArray(v) ? v : []).map(obj).filter((x): x is Obj => x !== null);
    view.related = {
      sameContainer: list(rf.sameContainer).map((x) => relatedLine(x, false)),
      otherPodsSameWorkload: list(rf.otherPodsSameWorkload).map((x) => relatedLine(x, true)),
      otherInClusterCount: num(rf.otherInClusterCount),
      windowMinutes: num(rf.windowMinutes),
      complete: typeof rf.complete === 'boolean' ? rf.complete : null,
    };
  }
  view.podRedFlags = lines(obj(r.pod)?.redFlags);
  view.runbook = runbookFrom(r.runbook);
  const cmds = obj(r.commands) ?? {};
  pushCommand(view, 'Get cluster credentials', cmds.getCredentials);
  pushCommand(view, 'Preserve the executed binary', cmds.copyBinary);
  pushCommand(view, 'Inspect the container', cmds.exec);
  const links = obj(r.links) ?? {};
  for (const [label, key] of [['Finding', 'finding'], ['Cluster', 'cluster'], ['Node', 'node'], ['Pod', 'pod']] as const) {
    const url = str(links[key], 4096);
    if (url !== null && url.startsWith('https://')) view.links.push({ label, url });
  }
  const logs = obj(r.logs) ?? {};
  for (const [label, key] of [['Pod logs', 'pod'], ['Audit logs', 'audit'], ['Node logs', 'node'], ['Node Kubernetes logs', 'nodeKubernetes']] as const) {
    const url = str(obj(logs[key])?.link, 8192);
    if (url !== null && url.startsWith('https://')) view.links.push({ label, url });
  }
  return view;
}

/**
 * Our enrichment finding's structured report (lib/scc/stored-report.ts, the
 * same field names as a report) → the view, by the report path.
 */
export function viewFromStoredReport(stored: StoredReport, marks: Record<string, string> = {}): ShowView {
  const view = viewFromReport(stored, 'enrichment_finding');
  view.verdictMark = str(marks.socat_triage_verdict, 64);
  if (stored.truncated.length > 0) view.notes.push(cleanLine(`The stored report was cut to fit SCC (${stored.truncated.join('; ')}); \`triage --dry-run --json\` prints it whole.`, 2000));
  return view;
}

/**
 * Runbook steps as the write-back lays them out: F01_<step id> holding the
 * command (or "(not available: why)"), F01_<step id>_WARNING beside it,
 * in order. Titles are not stored; the step id names the step.
 */
function runbookFromProperties(props: Record<string, unknown>): ViewRunbookStep[] | null {
  const steps = new Map<string, { id: string; command?: unknown; warning?: unknown }>();
  for (const [key, value] of Object.entries(props)) {
    const m = /^F(\d{2,3})_([a-z][a-z0-9_]*?)(_WARNING)?$/.exec(key);
    if (!m) continue;
    const step = steps.get(m[1]!) ?? { id: m[2]! };
    if (m[3]) step.warning = value;
    else step.command = value;
    steps.set(m[1]!, step);
  }
  if (steps.size === 0) return null;
  const ordered = [...steps.entries()].sort((a, b) => Number(a[0]) - Number(b[0])).map(([, step]) => step);
  return runbookFrom(
    ordered.map((step) => {
      const text = typeof step.command === 'string' ? step.command : null;
      const unavailable = text !== null && text.startsWith('(') ? text : null;
      const title = step.id.replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase());
      return { title, command: unavailable ? null : text, note: unavailable, warning: step.warning };
    }),
  );
}

const SECTION_PREFIX = /^[A-Z]\d{1,2}_/;

/** A source property by its name, with or without the section prefix the console ordering adds. */
export function propertyValue(props: Record<string, unknown>, name: string): unknown {
  if (Object.hasOwn(props, name)) return props[name];
  const key = Object.keys(props).find((k) => k.replace(SECTION_PREFIX, '') === name);
  return key === undefined ? undefined : props[key];
}
const LEVEL_BY_WORDS: Record<string, string> = {
  'LIKELY MALICIOUS': 'likely_malicious',
  SUSPICIOUS: 'suspicious',
  'LIKELY BENIGN (admin activity)': 'likely_benign_admin',
};

/**
 * Our enrichment finding's source properties (lib/scc/properties.ts) → the
 * view. Keys carry a section prefix for the console's ordering (A1_Verdict,
 * I01_Original_Finding); they are matched with or without it, so a report
 * written before the prefixes still shows.
 */
export function viewFromProperties(props: Record<string, unknown>, marks: Record<string, string> = {}): ShowView {
  const byName = new Map<string, unknown>();
  for (const [key, value] of Object.entries(props)) {
    byName.set(key.replace(SECTION_PREFIX, ''), value);
    byName.set(key, value);
  }
  const raw = (name: string): unknown => byName.get(name);
  const view = emptyView('enrichment_finding');
  const p = (name: string, max = SHORT) => str(raw(name), max);
  view.status = p('Triage_Status', 32) ?? 'triaged';
  view.finding = {
    name: p('Original_Finding', 400),
    category: p('Original_Category'),
    severity: p('Original_Severity', 64),
    state: null,
    eventTime: p('Original_Event_Time', 64),
    project: p('Project') ?? p('Project_Display_Name') ?? p('Cluster_Project'),
    resourceName: p('Cluster_Resource_Name', 400),
  };
  const levelWords = p('Verdict', 64) ?? p('Verdict_Level', 64);
  if (levelWords !== null) {
    view.verdict = {
      level: LEVEL_BY_WORDS[levelWords] ?? levelWords,
      score: num(raw('Score') ?? raw('Verdict_Score')),
      // "+20 signal: detail" lines: the weight leads.
      reasons: lines(raw('Reasons') ?? raw('Verdict_Reasons')).map((line) => {
        const m = /^([+-]?\d+(?:\.\d+)?)\s+(?:[a-z0-9_]+:\s+)?(.*)$/.exec(line);
        return m ? { weight: Number(m[1]), detail: m[2]! } : { weight: null, detail: line };
      }).sort((a, b) => Math.abs(b.weight ?? 0) - Math.abs(a.weight ?? 0)),
      unavailable: lines(raw('Signals_Unavailable') ?? raw('Verdict_Unavailable')),
    };
  }
  view.verdictMark = str(marks.socat_triage_verdict, 64);
  if (raw('C2_Role') !== undefined) {
    Object.assign(view, c2Of({ role: raw('C2_Role'), transport: raw('C2_Transport'), host: raw('C2_Host'), port: raw('C2_Port'), ipVersion: raw('C2_IP_Version'), program: raw('C2_Program'), pty: raw('C2_Pty'), scope: raw('C2_Scope') }));
  }
  // The write-back's own sentence, when there is one, is what the console shows too.
  view.what = p('C2', LONG) ?? view.what;
  view.lineage = p('Lineage', LONG) ?? p('Process_Lineage', LONG);
  const cluster = p('Cluster', 400);
  view.where = {
    namespace: p('Pod_Namespace'),
    pod: p('Pod_Name'),
    container: p('Container_Name'),
    image: p('Container_Image_Uri', 400),
    node: p('VM_Instance_Name'),
    cluster: p('Cluster_Name') ?? cluster,
    location: p('Cluster_Location'),
  };
  let args: string | null = null;
  const rawArgs = raw('Process_Args');
  try {
    const parsed: unknown = typeof rawArgs === 'string' ? JSON.parse(rawArgs) : null;
    if (Array.isArray(parsed)) args = parsed.map(String).join(' ');
  } catch {
    args = typeof rawArgs === 'string' ? rawArgs : null;
  }
  view.process = { binary: p('Process_Binary', 400), args: args ? cleanLine(args, LONG) + (bool(raw('Process_Args_Truncated')) ? ' [arguments truncated by SCC]' : '') : null };
  view.gaps = lines(raw('Gaps'));
  const attribution = p('Attribution', LONG) ?? p('Attribution_Explanation', LONG);
  const execs = lines(raw('Logs_Audit_Execs') ?? raw('Audit_Execs'));
  const exec = [p('Exec_Time', 64), p('Exec_Principal'), p('Exec_Caller_IP', 64) && `from ${p('Exec_Caller_IP', 64)}`, p('Exec_User_Agent') && `(${p('Exec_User_Agent')})`, p('Exec_Command', 400)].filter(Boolean).join(' ');
  const weighed = [...lines(raw('Sessions_Considered')).filter((l) => l.includes(': rejected: ')).slice(0, 3), ...lines(raw('Refused_Attempts')).slice(0, 3).map((l) => `refused: ${l}`)];
  if (attribution !== null) view.attribution = { summary: attribution, details: [...(exec ? [exec] : execs.slice(-3)), ...weighed] };
  else if (execs.length > 0) view.attribution = { summary: `${execs.length} kubectl exec${execs.length === 1 ? '' : 's'} into this pod in the window.`, details: execs.slice(-3) };
  else if (raw('Logs_Audit_Count') !== undefined) view.attribution = { summary: 'No kubectl exec into this pod in the audit logs of the window: nobody interactive to ask.', details: [] };
  else if (view.gaps.some((g) => g.startsWith('auditLogs'))) view.attribution = { summary: 'Unknown: the audit logs were not read (see gaps).', details: [] };
  view.owners = [...lines(raw('Owner_Hints')), ...lines(raw('Security_Contacts')).map((c) => `security contact ${c}`)];
  if (raw('Related_Window_Minutes') !== undefined || raw('Related_Same_Container_Count') !== undefined) {
    view.related = {
      sameContainer: lines(raw('Related_Same_Container')),
      otherPodsSameWorkload: lines(raw('Related_Other_Pods_Same_Workload')),
      otherInClusterCount: num(raw('Related_Other_In_Cluster_Count')),
      windowMinutes: num(raw('Related_Window_Minutes')),
      complete: raw('Related_Complete') === undefined ? null : bool(raw('Related_Complete')),
    };
  }
  view.podRedFlags = lines(raw('Pod_Red_Flags'));
  view.runbook = runbookFromProperties(props);
  pushCommand(view, 'Get cluster credentials', raw('Command_Get_Credentials'));
  pushCommand(view, 'Preserve the executed binary', raw('Command_Copy_Binary'));
  pushCommand(view, 'Inspect the container', raw('Command_Exec'));
  for (const [label, key] of [
    ['Finding', 'Link_Finding'],
    ['Cluster', 'Link_Cluster'],
    ['Node', 'Link_Node'],
    ['Pod', 'Link_Pod'],
    ['Pod logs', 'Logs_Pod_Link'],
    ['Audit logs', 'Logs_Audit_Link'],
    ['Node logs', 'Logs_Node_Link'],
    ['Node Kubernetes logs', 'Logs_Node_Kubernetes_Link'],
  ] as const) {
    const url = p(key, 8192);
    if (url !== null && url.startsWith('https://')) view.links.push({ label, url });
  }
  if (bool(raw('Report_Truncated'))) view.notes.push('The stored report was cut to fit SCC; `triage --dry-run --json` prints it whole.');
  return view;
}
