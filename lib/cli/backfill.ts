/**
 * Backfill: triage the ACTIVE socat findings an organization already had
 * when the function was deployed (nothing notifies for those).
 *
 * - Selection: ListFindings over every source of the organization with the
 *   configured categories, state="ACTIVE" and event_time >= since; then, on
 *   the client (SCC cannot compare a mark with a field), only findings whose
 *   socat_triage_event_time mark is not their eventTime: the function's own
 *   loop guard. --force takes them all.
 * - Resumable by construction: the guard mark is written last, so a finding
 *   whose triage finished is skipped by the next run and one that was cut off
 *   is picked up again (the write-back is an idempotent upsert). No state
 *   file.
 * - Quotas: at most `concurrency` findings in flight; RESOURCE_EXHAUSTED
 *   (and other transient failures) back off, and the backoff pauses every
 *   worker, because the quota is shared.
 * - --via-topic: each finding is published to the function's trigger topic
 *   as the NotificationMessage SCC would publish, and the deployed function
 *   triages it with its own identity.
 */
import pLimit from 'p-limit';
import type { FanoutPublisher } from '../fanout.js';
import { parseNotification } from '../finding/parse.js';
import type { SocatFinding } from '../finding/types.js';
import { alreadyTriaged, decideFilter } from '../filter.js';
import { describeError } from '../errors.js';
import type { TriageResult } from '../triage.js';
import { grpcCode } from './errors.js';
import { listAllFindings, toNotificationJson, type NotificationJson, type SccReader } from './scc.js';
import type { Throttle } from '../retry.js';

export type ItemOutcome = 'triaged' | 'published' | 'skipped' | 'failed' | 'interrupted' | 'planned';

export interface ItemResult {
  name: string;
  outcome: ItemOutcome;
  reason: string | null;
  enrichmentFinding: string | null;
  messageId: string | null;
  attempts: number;
}

export type BackfillMode =
  | { kind: 'triage'; triage: (finding: SocatFinding) => Promise<TriageResult> }
  | { kind: 'publish'; topic: string; publisher: FanoutPublisher; attributes: Record<string, string> };

export interface BackfillOptions {
  organization: string;
  location: string;
  since: Date;
  categories: readonly string[];
  concurrency: number;
  dryRun: boolean;
  force: boolean;
  mode: BackfillMode;
  throttle: Throttle;
  signal: AbortSignal;
  pageSize?: number;
}

export type BackfillEvent =
  | { type: 'listing'; seen: number }
  | { type: 'planned'; listed: number; todo: number; alreadyTriaged: number }
  | { type: 'finished'; item: ItemResult }
  | { type: 'retry'; name: string | null; attempt: number; delayMs: number; reason: string };

export interface BackfillSummary {
  organization: string;
  parent: string;
  filter: string;
  since: string;
  mode: 'triage' | 'publish';
  topic: string | null;
  dryRun: boolean;
  force: boolean;
  /** Findings the listing returned. */
  listed: number;
  /** Skipped because their guard mark says this detection was triaged. */
  alreadyTriaged: number;
  /** Selected for this run. */
  selected: number;
  triaged: number;
  published: number;
  skipped: number;
  failed: number;
  /** Selected but not finished: interrupted, or stopped after a topic-wide failure. A re-run picks them up. */
  unfinished: number;
  interrupted: boolean;
  /** A failure that stopped the run (e.g. the topic does not exist). */
  fatal: string | null;
  elapsedMs: number;
  results: ItemResult[];
}

function escapeFilterString(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
}

export function backfillFilter(categories: readonly string[], since: Date): string {
  const cats = categories.map((c) => `category="${escapeFilterString(c)}"`).join(' OR ');
  return `(${cats}) AND state="ACTIVE" AND event_time >= "${since.toISOString()}"`;
}

interface Todo {
  finding: SocatFinding;
  notification: NotificationJson;
}

// A topic that is missing or closed to us fails every message alike: stop instead of failing them one by one.
const TOPIC_WIDE = new Set([5 /* NOT_FOUND */, 7 /* PERMISSION_DENIED */, 16 /* UNAUTHENTICATED */]);

export async function runBackfill(scc: SccReader, options: BackfillOptions, onEvent: (e: BackfillEvent) => void = () => {}): Promise<BackfillSummary> {
  const started = Date.now();
  const parent = `organizations/${options.organization}/sources/-/locations/${options.location}`;
  const filter = backfillFilter(options.categories, options.since);
  const results: ItemResult[] = [];
  const item = (name: string, outcome: ItemOutcome, reason: string | null, extra: Partial<ItemResult> = {}): ItemResult => ({
    name,
    outcome,
    reason,
    enrichmentFinding: null,
    messageId: null,
    attempts: 0,
    ...extra,
  });
  const summary: BackfillSummary = {
    organization: options.organization,
    parent,
    filter,
    since: options.since.toISOString(),
    mode: options.mode.kind,
    topic: options.mode.kind === 'publish' ? options.mode.topic : null,
    dryRun: options.dryRun,
    force: options.force,
    listed: 0,
    alreadyTriaged: 0,
    selected: 0,
    triaged: 0,
    published: 0,
    skipped: 0,
    failed: 0,
    unfinished: 0,
    interrupted: false,
    fatal: null,
    elapsedMs: 0,
    results,
  };
  const onRetry = (name: string | null) => (attempt: number, delayMs: number, err: unknown) =>
    onEvent({ type: 'retry', name, attempt, delayMs, reason: describeError(err) });

  const todo: Todo[] = [];
  for await (const page of listAllFindings(scc, { parent, filter, pageSize: options.pageSize ?? 500 }, options.throttle, onRetry(null), options.signal)) {
    for (const result of page) {
      summary.listed += 1;
      const name = String(result.finding?.name ?? '(unnamed)');
      let finding: SocatFinding;
      let notification: NotificationJson;
      try {
        notification = toNotificationJson(result);
        finding = parseNotification(notification);
      } catch (err) {
        results.push(item(name, 'failed', `unreadable finding: ${describeError(err)}`));
        summary.failed += 1;
        continue;
      }
      const decision = decideFilter(finding, options.categories, { loopGuard: !options.force });
      if (decision.triage) todo.push({ finding, notification });
      else if (alreadyTriaged(finding)) summary.alreadyTriaged += 1;
      else {
        // The server filter already asked for these; a finding that changed state in between lands here.
        results.push(item(name, 'skipped', decision.reason));
        summary.skipped += 1;
      }
    }
    onEvent({ type: 'listing', seen: summary.listed });
  }
  summary.selected = todo.length;
  onEvent({ type: 'planned', listed: summary.listed, todo: todo.length, alreadyTriaged: summary.alreadyTriaged });

  if (options.dryRun || options.signal.aborted) {
    for (const t of todo) results.push(item(t.finding.name, options.dryRun ? 'planned' : 'interrupted', options.dryRun ? 'dry run: nothing written or published' : 'interrupted while listing'));
    if (!options.dryRun) summary.unfinished = todo.length;
    summary.interrupted = options.signal.aborted;
    summary.elapsedMs = Date.now() - started;
    return summary;
  }

  const stop = new AbortController();
  const stopped = () => options.signal.aborted || stop.signal.aborted;
  options.signal.addEventListener('abort', () => stop.abort(), { once: true });

  async function triageOne(mode: Extract<BackfillMode, { kind: 'triage' }>, t: Todo): Promise<ItemResult> {
    const name = t.finding.name;
    for (let attempt = 1; ; attempt++) {
      await options.throttle.ready(stop.signal);
      if (stopped()) return item(name, 'interrupted', attempt === 1 ? 'interrupted before it started' : 'interrupted before retrying', { attempts: attempt - 1 });
      const r = await mode.triage(t.finding);
      if (r.outcome === 'triaged') return item(name, 'triaged', r.reason, { enrichmentFinding: r.written?.enrichmentFinding ?? null, attempts: attempt });
      if (r.outcome === 'skipped') return item(name, 'skipped', r.reason, { attempts: attempt });
      // "retry" is what the function would have Pub/Sub redeliver: here the backoff is ours.
      if (r.outcome !== 'retry' || attempt >= options.throttle.attempts) return item(name, 'failed', r.reason, { attempts: attempt });
      const delayMs = options.throttle.backoff(attempt);
      onEvent({ type: 'retry', name, attempt, delayMs, reason: r.reason });
    }
  }

  async function publishOne(mode: Extract<BackfillMode, { kind: 'publish' }>, t: Todo): Promise<ItemResult> {
    const name = t.finding.name;
    let attempts = 0;
    try {
      const messageId = await options.throttle.run(
        () => {
          attempts += 1;
          return mode.publisher.publishMessage({ data: Buffer.from(JSON.stringify(t.notification), 'utf8'), attributes: mode.attributes });
        },
        onRetry(name),
        stop.signal,
      );
      return item(name, 'published', `published to ${mode.topic}`, { messageId, attempts });
    } catch (err) {
      const reason = describeError(err);
      const code = grpcCode(err);
      if (code !== null && TOPIC_WIDE.has(code) && summary.fatal === null) {
        summary.fatal = `cannot publish to ${mode.topic}: ${reason}`;
        stop.abort();
      }
      return item(name, 'failed', reason, { attempts });
    }
  }

  const limit = pLimit(Math.max(1, options.concurrency));
  await Promise.all(
    todo.map((t) =>
      limit(async () => {
        if (stopped()) {
          const r = item(t.finding.name, 'interrupted', summary.fatal ?? 'interrupted before it started');
          results.push(r);
          summary.unfinished += 1;
          return;
        }
        const r = options.mode.kind === 'triage' ? await triageOne(options.mode, t) : await publishOne(options.mode, t);
        results.push(r);
        if (r.outcome === 'triaged') summary.triaged += 1;
        else if (r.outcome === 'published') summary.published += 1;
        else if (r.outcome === 'skipped') summary.skipped += 1;
        else if (r.outcome === 'interrupted') summary.unfinished += 1;
        else summary.failed += 1;
        onEvent({ type: 'finished', item: r });
      }),
    ),
  );
  summary.interrupted = options.signal.aborted;
  summary.elapsedMs = Date.now() - started;
  return summary;
}
