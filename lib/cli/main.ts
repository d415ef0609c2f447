/**
 * The operator CLI. Output contract: results on stdout (text for people,
 * JSON with --json), progress and one-line errors on stderr, never a stack
 * trace. Exit codes are in USAGE and docs/operator-tools.md.
 */
import { parseArgs } from 'node:util';
import { DEFAULT_CATEGORY, readGatherSettings, readVerdictSettings } from '../config.js';
import { parseJsonText, unwrapEnvelope } from '../finding/envelope.js';
import { parseNotification } from '../finding/parse.js';
import type { SocatFinding } from '../finding/types.js';
import { decideFilter } from '../filter.js';
import { analyzeFinding, DEFAULT_ANALYZE_OPTIONS, OFFLINE, skippedReport, type AnalyzeOptions } from '../report/analyze.js';
import type { Report } from '../report/types.js';
import { cleanLine } from '../sanitize.js';
import { EXIT, exitFor, UsageError } from './errors.js';
import { readInput } from './input.js';
import { processIo, type Io } from './io.js';

export type { Io } from './io.js';

export const USAGE = `Usage: scc-socat-triage <command> [options]

Commands:
  analyze FILE [--evidence DIR]
                     Triage one finding offline; no network call. FILE holds a
                     NotificationMessage, a bare Finding, or a Pub/Sub push / CloudEvent
                     data envelope ({"message": {"data": base64}}). "-" reads standard
                     input. Prints the report JSON.
                     --category NAME  a category to triage (repeatable; default: ${DEFAULT_CATEGORY}).
                     --evidence DIR   decide on exported context as the function decides on
                       what it gathers. Every file is optional (a missing one is a gap):
                       related-findings.json  gcloud scc findings list ORG --location=global
                                              --filter=... --format=json
                       cluster.json           gcloud container clusters describe --format=json
                       node.json, pod.json, namespace.json
                                              kubectl get node|pod|namespace NAME -o json
                       owners.json            kubectl get replicaset,deployment,statefulset,
                                              daemonset,job,cronjob -n NAMESPACE -o json
                       pod-logs.json, audit-logs.json, node-logs.json,
                       node-k8s-logs.json
                                              gcloud logging read FILTER --format=json
                       A log file is taken as the complete read of the report's window.
                       The window, caps and verdict settings come from the function's
                       variables (LOG_WINDOW_*, RELATED_WINDOW_MINUTES, VERDICT_*, ...).

  triage FINDING_NAME|FILE [--dry-run] [--save-evidence DIR]
                     Run the function's triage for one finding now (gather, analyze, write
                     back), even if it was triaged before. A FINDING_NAME
                     (organizations/O/sources/S[/locations/L]/findings/F) is read from SCC;
                     a FILE is read like analyze's. --dry-run gathers and analyzes but
                     writes nothing. Prints the report.
                     --save-evidence DIR  also write what the gatherers read, as the files
                       analyze --evidence reads, with finding.json and evidence.json (reads
                       a page cap cut short stay incomplete offline), so the triage can be
                       re-run offline: analyze DIR/finding.json --evidence DIR. DIR
                       must not exist (it is created, mode 0700) or be an empty directory;
                       files are created mode 0600 and never overwritten. They hold raw
                       logs and objects (secrets included): treat DIR as sensitive.

  backfill --organization ORG [--since 7d] [--location global] [--concurrency N]
           [--dry-run] [--force] [--via-topic projects/P/topics/T]
                     Triage the ACTIVE findings of the triaged categories in the
                     organization with event_time within --since (30m, 12h, 7d, 2w or an
                     RFC 3339 time; default 7d) that have no current triage mark.
                     Resumable: findings already triaged are skipped; --force takes them
                     too. --concurrency: findings in flight (default 4, at most 32);
                     RESOURCE_EXHAUSTED backs off. --via-topic publishes each finding to
                     the function's trigger topic, as SCC would, instead of triaging here.
                     --dry-run lists what would be done. Progress on stderr; summary on stdout.

  show FINDING_NAME|FILE
                     The report for a person: verdict, C2, attribution, related findings,
                     gaps, runbook and commands. For a FINDING_NAME (the original or our
                     enrichment finding) the stored enrichment finding is shown; a finding
                     not triaged yet is analyzed offline, and the output says so. A FILE
                     may hold a report (triage --json, analyze) or a finding.

  respond FINDING_NAME|FILE --action capture|block-c2|isolate|cordon|delete-pod
          [--evidence DIR] [--dry-run] [--force]
                     Carry out one response action with your own credentials, planned
                     from the report the triage stored on the enrichment finding, and
                     record it there (approver cli:ACCOUNT) and as a socat_response_*
                     mark on the original. capture snapshots the node's boot disk and,
                     with --evidence DIR (a triage --save-evidence directory), keeps
                     those files write-once in EVIDENCE_BUCKET. delete-pod is refused
                     until capture is done, and every action that changes the cluster
                     is refused for a likely_benign_admin verdict; --force overrides
                     both. --dry-run prints the plan: {action, allowed, reason,
                     requests: [{api, method, path, body}], undo} with --json. A FILE
                     (a report, or a finding analysed as analyze does, with --evidence
                     DIR) is only planned: it needs --dry-run and calls nothing.
                     Exit 0 when done or already done, 2 when refused, 3 when an API
                     failed it.

Options (every command):
  --json             Machine-readable JSON on stdout instead of text.
  --no-color         No colour (also: NO_COLOR set, or stdout not a terminal).
  -h, --help         This help.

Environment:
  triage, backfill and show read the function's variables (SCC_SOURCE_NAME,
  TRIAGE_CATEGORIES, DISABLED_GATHERERS, GATHER_DEADLINE_MS, ...; see the README)
  and use Application Default Credentials. SCC_EMULATOR_HOST, GKE_EMULATOR_HOST,
  LOGGING_EMULATOR_HOST and PUBSUB_EMULATOR_HOST point them at local emulators.

Exit codes:
  0    done (including a finding skipped with a reason)
  1    unexpected internal error
  2    bad usage, invalid input or configuration, or the named finding does not exist
  3    a Google API refused or failed the work (the triage outcome was retry or
       failed_permanent; some backfill findings failed; the topic is unusable)
  130  interrupted (backfill: run the same command again to resume)
Errors are one line on stderr.
`;

/** The finding a FILE holds, parsed as the function parses a notification. */
function findingOf(text: string): SocatFinding {
  const { notification } = unwrapEnvelope(parseJsonText(text, 'input'));
  return parseNotification(notification);
}

export function analyzeText(text: string, categories: readonly string[], options: AnalyzeOptions = DEFAULT_ANALYZE_OPTIONS): Report {
  const finding = findingOf(text);
  // Offline analysis is asked for explicitly: our own loop-guard mark must not hide the report.
  const decision = decideFilter(finding, categories, { loopGuard: false });
  return decision.triage ? analyzeFinding(finding, OFFLINE, options) : skippedReport(finding, decision.reason);
}

async function analyzeCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    // --json and --no-color are accepted for uniformity: analyze always prints JSON.
    options: { category: { type: 'string', multiple: true }, evidence: { type: 'string' }, json: { type: 'boolean' }, 'no-color': { type: 'boolean' } },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length !== 1) throw new UsageError('analyze takes exactly one FILE (or - for standard input)');
  // The verdict model's variables apply offline too, so analyze scores as the function would.
  const verdict = readVerdictSettings(io.env);
  const text = await readInput(positionals[0]!, io);
  const categories = values.category ?? [DEFAULT_CATEGORY];
  let report: Report;
  if (values.evidence === undefined) {
    report = analyzeText(text, categories, { ...DEFAULT_ANALYZE_OPTIONS, verdict });
  } else {
    if (values.evidence === '') throw new UsageError('--evidence takes a directory');
    const finding = findingOf(text);
    const decision = decideFilter(finding, categories, { loopGuard: false });
    if (!decision.triage) {
      report = skippedReport(finding, decision.reason);
    } else {
      // Windows, caps and attribution reach as the function's variables set them, so the decision is the triage's.
      const settings = readGatherSettings(io.env);
      const { readEvidence } = await import('./evidence.js');
      const ownSourceName = io.env.SCC_SOURCE_NAME?.trim() || null;
      const gathered = await readEvidence(values.evidence, finding, { settings, ownSourceName, now: new Date() });
      report = analyzeFinding(finding, gathered, { verdict, attributionWindowMinutes: settings.logWindowBeforeMinutes });
    }
  }
  io.stdout(JSON.stringify(report, null, 2) + '\n');
  return EXIT.OK;
}

// The API commands load the clients, gatherers and pipeline only when run: analyze and --help stay quick.
const COMMANDS: Record<string, (args: string[], io: Io) => Promise<number>> = {
  analyze: analyzeCommand,
  triage: async (args, io) => (await import('./triage-command.js')).triageCommand(args, io),
  backfill: async (args, io) => (await import('./backfill-command.js')).backfillCommand(args, io),
  show: async (args, io) => (await import('./show-command.js')).showCommand(args, io),
  respond: async (args, io) => (await import('./respond-command.js')).respondCommand(args, io),
};

export async function main(argv: string[], io: Io = processIo()): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
      io.stdout(USAGE);
      return command === undefined ? EXIT.USAGE : EXIT.OK;
    }
    const run = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
    if (!run) throw new UsageError(`unknown command ${JSON.stringify(command.slice(0, 40))}; see --help`);
    if (rest.includes('--help') || rest.includes('-h')) {
      io.stdout(USAGE);
      return EXIT.OK;
    }
    return await run(rest, io);
  } catch (err) {
    const { code, message } = exitFor(err);
    // Error messages can quote input (a reason naming the finding's category): one clean line, always.
    io.stderr(`scc-socat-triage: ${cleanLine(message, 1000)}\n`);
    return code;
  }
}
