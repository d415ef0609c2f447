/**
 * `backfill --organization ORG [--since 7d] [--location global]
 *  [--concurrency N] [--dry-run] [--force] [--via-topic TOPIC] [--json]`.
 * The engine is lib/cli/backfill.ts; this file wires clients, progress on
 * stderr, the summary on stdout and the exit code. The first SIGINT/SIGTERM
 * stops starting new findings and lets the ones in flight finish (so their
 * guard marks land and a re-run skips them); a second one exits at once.
 */
import { parseArgs } from 'node:util';
import { createPubSubClient, createSccClient, type PubSubClient, type SccClient } from '../clients.js';
import { triageFinding } from '../triage.js';
import { createInstance } from '../wiring.js';
import { runBackfill, type BackfillMode, type BackfillSummary } from './backfill.js';
import { parseSince } from './duration.js';
import { instanceEnv, parseTopicName, pubsubEmulatorHost } from './env.js';
import { EXIT, UsageError } from './errors.js';
import { colorEnabled, type Io } from './io.js';
import { Progress } from './progress.js';
import { Throttle } from '../retry.js';
import { cleanLine } from '../sanitize.js';
import { stderrDestination } from './triage-command.js';

export const DEFAULT_CONCURRENCY = 4;
export const MAX_CONCURRENCY = 32;
export const DEFAULT_SINCE = '7d';

/** Marks a replay in the message's attributes; the data stays exactly what SCC publishes. */
export const REPLAY_ATTRIBUTES = { replayedBy: 'scc-socat-triage-backfill' } as const;

function organizationOf(value: string | undefined): string {
  const m = /^(?:organizations\/)?(\d{1,32})$/.exec(value?.trim() ?? '');
  if (!m) throw new UsageError(value === undefined ? 'backfill needs --organization ORG_ID' : `--organization takes a numeric organization id (or organizations/ID), got ${JSON.stringify(value.slice(0, 60))}`);
  return m[1]!;
}

function concurrencyOf(value: string | undefined): number {
  if (value === undefined) return DEFAULT_CONCURRENCY;
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > MAX_CONCURRENCY) throw new UsageError(`--concurrency takes a whole number from 1 to ${MAX_CONCURRENCY}, got ${JSON.stringify(value.slice(0, 20))}`);
  return Number(value);
}

function summaryText(s: BackfillSummary): string {
  const lines = [
    `backfill of organizations/${s.organization} (event_time >= ${s.since})${s.dryRun ? ' — dry run, nothing written or published' : ''}`,
    `  listed ${s.listed} active finding${s.listed === 1 ? '' : 's'}; ${s.alreadyTriaged} already triaged for their current detection${s.force ? ' (re-triaged: --force)' : ''}`,
  ];
  if (s.dryRun) lines.push(`  would ${s.mode === 'publish' ? `publish to ${s.topic}` : 'triage'} ${s.selected}:`, ...s.results.filter((r) => r.outcome === 'planned').map((r) => `    ${r.name}`));
  else if (s.mode === 'publish') lines.push(`  published ${s.published} of ${s.selected} to ${s.topic}`);
  else lines.push(`  triaged ${s.triaged} of ${s.selected}`);
  if (s.skipped) lines.push(`  skipped ${s.skipped}`);
  if (s.failed) lines.push(`  failed ${s.failed}:`, ...s.results.filter((r) => r.outcome === 'failed').map((r) => `    ${r.name}: ${r.reason ?? ''}`));
  if (s.unfinished) lines.push(`  not finished ${s.unfinished}${s.interrupted ? ' (interrupted: run the same command again to resume)' : ''}`);
  if (s.fatal) lines.push(`  stopped: ${s.fatal}`);
  lines.push(`  took ${(s.elapsedMs / 1000).toFixed(1)} s`);
  return lines.map((l) => cleanLine(l, 2000)).join('\n') + '\n';
}

export async function backfillCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      organization: { type: 'string' },
      since: { type: 'string' },
      location: { type: 'string' },
      concurrency: { type: 'string' },
      'dry-run': { type: 'boolean' },
      force: { type: 'boolean' },
      'via-topic': { type: 'string' },
      json: { type: 'boolean' },
      'no-color': { type: 'boolean' },
    },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length > 0) throw new UsageError(`backfill takes no positional arguments, got ${JSON.stringify(positionals[0]!.slice(0, 60))}`);
  const organization = organizationOf(values.organization);
  const since = parseSince(values.since ?? DEFAULT_SINCE, new Date());
  const location = values.location ?? 'global';
  if (!/^[a-z0-9-]{1,63}$/.test(location)) throw new UsageError(`--location takes an SCC location such as global, got ${JSON.stringify(location.slice(0, 60))}`);
  const concurrency = concurrencyOf(values.concurrency);
  const dryRun = values['dry-run'] === true;
  const force = values.force === true;
  const topic = values['via-topic'] === undefined ? null : parseTopicName(values['via-topic']);
  if (topic && force) {
    throw new UsageError('--force cannot be combined with --via-topic: the function skips findings whose guard mark is current; re-triage them with backfill --force (without --via-topic)');
  }

  // Publishing or dry-running writes nothing to SCC, so no source of our own is needed then.
  const instance = createInstance(instanceEnv(io.env, { dryRun: dryRun || topic !== null }), { logDestination: stderrDestination(io), sccQuotaBackoff: null });
  const pubsubHost = topic ? pubsubEmulatorHost(io.env) : null;
  let scc: SccClient | null = null;
  let pubsub: PubSubClient | null = null;
  const controller = new AbortController();
  const unregister = io.onInterrupt((signal) => {
    if (controller.signal.aborted) {
      io.stderr(`backfill: ${signal} again, exiting now; a re-run resumes\n`);
      process.exit(EXIT.INTERRUPTED);
    }
    io.stderr(`\nbackfill: ${signal}: finishing the findings in flight, starting no new ones (again to exit at once)\n`);
    controller.abort();
  });
  const progress = new Progress(io, { tty: io.stderrIsTTY, color: colorEnabled(io, 'stderr', values['no-color']), columns: io.stderrColumns ?? 80 });
  try {
    scc = await createSccClient(instance.config);
    let mode: BackfillMode;
    let flush: () => Promise<void> = async () => {};
    if (topic) {
      pubsub = await createPubSubClient({ pubsubEmulatorHost: pubsubHost, projectId: topic.project });
      const t = pubsub.topic(topic.name, { batching: { maxMessages: 100, maxMilliseconds: 20 } });
      mode = { kind: 'publish', topic: topic.name, publisher: t, attributes: { ...REPLAY_ATTRIBUTES } };
      flush = () => t.flush();
    } else {
      mode = { kind: 'triage', triage: (finding) => triageFinding(finding, instance, { loopGuard: !force }) };
    }
    const summary = await runBackfill(
      scc,
      { organization, location, since, categories: instance.config.categories, concurrency, dryRun, force, mode, throttle: new Throttle(), signal: controller.signal },
      (e) => {
        if (e.type === 'listing') progress.listing(e.seen);
        else if (e.type === 'planned') {
          if (!io.stderrIsTTY) progress.log(`backfill: ${e.listed} listed, ${e.alreadyTriaged} already triaged, ${e.todo} to ${dryRun ? 'report (dry run)' : topic ? 'publish' : 'triage'}`);
          if (!dryRun) progress.start(e.todo);
        } else if (e.type === 'finished') progress.finished(e.item.outcome, e.item.name, e.item.reason);
        else progress.log(`backfill: ${e.reason}; retry ${e.attempt} in ${(e.delayMs / 1000).toFixed(1)} s${e.name ? ` (${e.name})` : ''}`);
      },
    );
    await flush();
    progress.end();
    io.stdout(values.json ? JSON.stringify(summary, null, 2) + '\n' : summaryText(summary));
    if (summary.interrupted) {
      io.stderr('backfill: interrupted; run the same command again to resume\n');
      return EXIT.INTERRUPTED;
    }
    if (summary.fatal || summary.failed > 0) {
      io.stderr(`backfill: ${summary.fatal ?? `${summary.failed} finding${summary.failed === 1 ? '' : 's'} failed (listed above)`}\n`);
      return EXIT.FAILED;
    }
    return EXIT.OK;
  } finally {
    progress.end();
    unregister();
    await Promise.allSettled([scc?.close(), pubsub?.close()]);
  }
}
