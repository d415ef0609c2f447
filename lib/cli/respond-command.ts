/**
 * `respond FINDING_NAME|FILE --action A [--evidence DIR] [--dry-run] [--force] [--json]`:
 * one response action, with the operator's own credentials.
 *
 * It plans exactly as the responder does (lib/respond/plan.ts with the same
 * planners) from the report the triage stored on the enrichment finding, and
 * the records already kept there (delete-pod needs a capture first). Then it
 * carries the plan out through the same action modules and records the result
 * on the enrichment finding and the original, with the approver `cli:<who>`.
 *
 * --dry-run prints the plan: {action, allowed, reason, requests} with the
 * exact Kubernetes, Compute and Cloud Storage requests. With a FILE (a report
 * from `triage --json`/`analyze`, or a finding, analysed with --evidence DIR
 * like `analyze`), nothing is called: a FILE is only ever planned.
 */
import { parseArgs } from 'node:util';
import { adcAccount, createComputeClients, createGkeClient, createKubeApis, createSccClient, createStorageClient, EMULATOR_ACCESS_TOKEN, googleAccessTokenProvider, type SccClient } from '../clients.js';
import { parseConfig, readGatherSettings, readVerdictSettings, DEFAULT_CATEGORY, type Config } from '../config.js';
import { parseJsonText, unwrapEnvelope } from '../finding/envelope.js';
import { parseNotification } from '../finding/parse.js';
import { decideFilter } from '../filter.js';
import { analyzeFinding, DEFAULT_ANALYZE_OPTIONS, OFFLINE } from '../report/analyze.js';
import { ACTION_PLANNERS, actionModules } from '../respond/actions.js';
import { readEvidenceDir } from '../respond/evidence-files.js';
import { planAction } from '../respond/plan.js';
import { recordsFromProperties, writeRecord, type StoredRecord } from '../respond/records.js';
import { subjectFromReport, type SubjectSource } from '../respond/subject.js';
import { isResponseAction, RESPONSE_ACTIONS, type CaptureEvidence, type PlanContext, type ResponsePlan, type ResponseRecord } from '../respond/types.js';
import { reportFromFinding, StoredReportError, STORED_REPORT_KEY } from '../scc/stored-report.js';
import { cleanLine } from '../sanitize.js';
import { canonicalTimestamp } from '../timestamp.js';
import { CliError, EXIT, UsageError } from './errors.js';
import { classifyTarget, readInput } from './input.js';
import type { Io } from './io.js';
import { toNotificationJson } from './scc.js';
import { locateReport } from './show-command.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** What a plan is made from. */
interface Planned {
  report: SubjectSource;
  enrichmentFinding: string | null;
  originalFinding: string | null;
  previous: StoredRecord[];
}

/** A report file (triage --json, analyze) read through the stored report's own validation: one reader of untrusted reports. */
function reportFromJson(value: Obj): SubjectSource {
  const report = isObj(value.report) && typeof value.outcome === 'string' ? value.report : value;
  if (!isObj(report) || report.status !== 'triaged') {
    throw new UsageError(`the report's status is ${JSON.stringify(isObj(report) ? report.status : null)}, not "triaged": a skipped finding has nothing to respond to`);
  }
  try {
    const stored = reportFromFinding({ sourceProperties: { [STORED_REPORT_KEY]: { truncated: [], ...report } } });
    if (stored === null) throw new UsageError('the file holds no report');
    return stored;
  } catch (err) {
    if (err instanceof StoredReportError) throw new UsageError(`the report file is not a report this release reads: ${err.message}`);
    throw err;
  }
}

async function fromFile(path: string, evidenceDir: string | undefined, io: Io): Promise<Planned> {
  const value = parseJsonText(await readInput(path, io), 'input');
  const isReport = isObj(value) && ((typeof value.schemaVersion === 'number' && typeof value.status === 'string') || (isObj(value.report) && typeof value.outcome === 'string'));
  if (isReport) return { report: reportFromJson(value), enrichmentFinding: null, originalFinding: null, previous: [] };
  const finding = parseNotification(unwrapEnvelope(value).notification);
  const categories = parseConfig({ TRIAGE_CATEGORIES: io.env.TRIAGE_CATEGORIES, DRY_RUN: 'true' }).categories ?? [DEFAULT_CATEGORY];
  const decision = decideFilter(finding, categories, { loopGuard: false });
  if (!decision.triage) throw new UsageError(`the finding is not triaged (${decision.reason}), so there is nothing to respond to`);
  const verdict = readVerdictSettings(io.env);
  let gathered = OFFLINE;
  let attributionWindowMinutes = DEFAULT_ANALYZE_OPTIONS.attributionWindowMinutes;
  if (evidenceDir !== undefined) {
    const settings = readGatherSettings(io.env);
    const { readEvidence } = await import('./evidence.js');
    gathered = await readEvidence(evidenceDir, finding, { settings, ownSourceName: io.env.SCC_SOURCE_NAME?.trim() || null, now: new Date() });
    attributionWindowMinutes = settings.logWindowBeforeMinutes;
  }
  const report = analyzeFinding(finding, gathered, { verdict, attributionWindowMinutes });
  return { report, enrichmentFinding: null, originalFinding: null, previous: [] };
}

async function fromScc(scc: SccClient, ref: Parameters<typeof locateReport>[1], config: Config): Promise<Planned> {
  const located = await locateReport(scc, ref, config.sccSourceName, 'not responding to');
  if (located.kind === 'not_triaged') {
    throw new CliError(`${located.note}: run \`scc-socat-triage triage ${ref.name}\` first; respond acts on the triage's report`, EXIT.USAGE);
  }
  const enrichment = located.enrichment;
  let report;
  try {
    report = reportFromFinding(toNotificationJson({ finding: enrichment }).finding);
  } catch (err) {
    if (err instanceof StoredReportError) throw new CliError(`the enrichment finding's ${STORED_REPORT_KEY} cannot be read (${err.message}): run \`triage\` again to rewrite it`, EXIT.USAGE);
    throw err;
  }
  if (report === null) throw new CliError(`the enrichment finding ${enrichment.name} has no ${STORED_REPORT_KEY} (written by an older release): run \`triage\` again to rewrite it`, EXIT.USAGE);
  const props = (toNotificationJson({ finding: enrichment }).finding.sourceProperties ?? {}) as Obj;
  const { records } = recordsFromProperties(props);
  return { report, enrichmentFinding: enrichment.name ?? null, originalFinding: report.finding.name, previous: records };
}

/** Who runs the CLI, for the record: the service account of Application Default Credentials when it names one. */
async function operator(config: Config): Promise<string> {
  if (config.sccEmulatorHost !== null) return 'cli:emulator';
  return `cli:${(await adcAccount()) ?? 'operator (Application Default Credentials name no account)'}`;
}

function planJson(plan: ResponsePlan): Obj {
  return { action: plan.action, allowed: plan.allowed, reason: plan.reason, requests: plan.requests, undo: plan.undo };
}

function planText(plan: ResponsePlan): string {
  const lines = [`${plan.action}: ${plan.allowed ? 'ALLOWED' : 'REFUSED'}`, `  ${cleanLine(plan.reason, 2000)}`];
  for (const r of plan.requests) lines.push(`  ${r.api} ${r.method} ${cleanLine(r.path, 1000)}`);
  if (plan.undo !== null) lines.push(`  undo: ${plan.undo}`);
  return `${lines.join('\n')}\n`;
}

function recordText(r: ResponseRecord): string {
  const lines = [`${r.action}: ${r.result.toUpperCase()} at ${r.at} (approver ${r.approver ?? 'unknown'})`, `  ${cleanLine(r.detail, 2000)}`];
  if (r.undo !== null) lines.push(`  undo: ${r.undo}`);
  return `${lines.join('\n')}\n`;
}

const EXIT_FOR_RESULT = { done: EXIT.OK, already_done: EXIT.OK, refused: EXIT.USAGE, failed: EXIT.FAILED } as const;

export async function respondCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      action: { type: 'string' },
      evidence: { type: 'string' },
      'dry-run': { type: 'boolean' },
      force: { type: 'boolean' },
      json: { type: 'boolean' },
      'no-color': { type: 'boolean' },
    },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length !== 1) throw new UsageError('respond takes exactly one FINDING_NAME or FILE (- for standard input)');
  const action = values.action;
  if (action === undefined) throw new UsageError(`respond needs --action, one of ${RESPONSE_ACTIONS.join(', ')}`);
  if (!isResponseAction(action)) throw new UsageError(`unknown --action ${JSON.stringify(action.slice(0, 40))}; one of ${RESPONSE_ACTIONS.join(', ')}`);
  if (values.evidence === '') throw new UsageError('--evidence takes a directory');
  const dryRun = values['dry-run'] === true;
  const target = classifyTarget(positionals[0]!);
  if (target.kind === 'file' && !dryRun) {
    throw new UsageError('a FILE is only planned: add --dry-run, or name the finding (FINDING_NAME) so the action is carried out and recorded on its enrichment finding');
  }

  // Reading a file calls no API, so only the variables an offline plan uses are read.
  const config = target.kind === 'file' ? null : parseConfig(dryRun ? { ...io.env, DRY_RUN: 'true' } : io.env);
  let scc: SccClient | null = null;
  try {
    let planned: Planned;
    if (target.kind === 'file') {
      planned = await fromFile(target.path, values.evidence, io);
    } else {
      scc = await createSccClient(config!);
      planned = await fromScc(scc, target.ref, config!);
    }
    const bucket = config?.evidenceBucket ?? (io.env.EVIDENCE_BUCKET?.trim() || null);
    const evidence: CaptureEvidence | null =
      action === 'capture' && values.evidence !== undefined
        ? { bucket, files: await readEvidenceDir(values.evidence), origin: `the directory given with --evidence (written by triage --save-evidence)` }
        : null;
    const now = new Date();
    const ctx: PlanContext = { subject: subjectFromReport(planned.report, planned.enrichmentFinding), previous: planned.previous, force: values.force === true, now, evidence };
    const plan = planAction(action, ctx, ACTION_PLANNERS);
    if (dryRun) {
      io.stdout(values.json ? `${JSON.stringify(planJson(plan), null, 2)}\n` : planText(plan));
      return EXIT.OK;
    }

    const cfg = config!;
    const approver = await operator(cfg);
    const token = cfg.gkeEmulatorHost ? async () => EMULATOR_ACCESS_TOKEN : googleAccessTokenProvider();
    const modules = actionModules(
      {
        gke: () => createGkeClient(cfg),
        kube: async (access) => createKubeApis(access, await token()),
        compute: () => createComputeClients(cfg),
        storage: () => createStorageClient(cfg),
      },
      () => ({ approver, now: () => new Date(), timeoutMs: cfg.gatherDeadlineMs }),
    );
    const done: ResponseRecord = plan.allowed
      ? await modules[action].execute(plan, ctx)
      : { action, approver, at: canonicalTimestamp(now.toISOString()) as string, result: 'refused', detail: plan.reason, undo: null };
    const record: StoredRecord = { ...done, approver, approval: { entryId: null, markValue: `respond --action ${action}`, setAt: canonicalTimestamp(now.toISOString()) } };
    await writeRecord(scc!, { enrichmentFinding: planned.enrichmentFinding!, originalFinding: planned.originalFinding }, record);
    io.stdout(values.json ? `${JSON.stringify(record, null, 2)}\n` : recordText(record));
    return EXIT_FOR_RESULT[record.result];
  } finally {
    await scc?.close();
  }
}
