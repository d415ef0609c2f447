/**
 * The pipeline: notification → parse → filter → analyze → write back.
 * It never throws: every path ends in an Outcome, and lib/outcome.ts alone
 * decides what an error means. Dependencies come in as arguments.
 */
import type { Config } from './config.js';
import { unwrapEnvelope, type Delivery } from './finding/envelope.js';
import { parseNotification } from './finding/parse.js';
import type { SocatFinding } from './finding/types.js';
import { decideFilter } from './filter.js';
import { outcomeForError, type Outcome } from './outcome.js';
import type { GatherDeps } from './gather/deps.js';
import type { AnyGatherer } from './gather/registry.js';
import { runGatherers } from './gather/runner.js';
import { analyzeFinding, skippedReport } from './report/analyze.js';
import type { Report } from './report/types.js';
import { writeBack, type SccWriter, type WriteResult } from './scc/writeback.js';
import { fanoutMessage, publishFanout, type FanoutPublisher } from './fanout.js';
import { toMillis } from './timestamp.js';
import { MARK_REPORT, markValue } from './scc/marks.js';
import { automaticRequest } from './respond/approval.js';

export interface TriageDeps {
  config: Config;
  /** Resolved lazily so a skipped notification never pays for creating clients. */
  scc: () => Promise<SccWriter>;
  now: () => Date;
  /** The context gatherers and what they need; null gathers nothing (finding-only analysis). */
  gather: {
    gatherers: readonly AnyGatherer[];
    deps: GatherDeps;
    /** Called as gathering starts; what it returns is called once every gatherer has started (lib/create-order.ts). */
    onGatherStart?: () => () => void;
  } | null;
  /** Where triage-completed messages go (FANOUT_TOPIC); null = no fan-out. */
  fanout: (() => Promise<FanoutPublisher>) | null;
}

export interface TriageResult extends Outcome {
  findingName: string | null;
  messageId: string | null;
  report: Report | null;
  written: WriteResult | null;
}

function ageSeconds(delivery: Delivery | null, now: Date): number | null {
  const published = delivery?.publishTime ? toMillis(delivery.publishTime) : null;
  return published === null ? null : (now.getTime() - published) / 1000;
}

export interface TriageOptions {
  /** When the message was published (stale deliveries are not triaged). */
  delivery?: Delivery | null;
  /** false: triage even when our loop-guard mark says it was done (operator re-runs). */
  loopGuard?: boolean;
}

/** Triage one parsed finding: filter, gather, analyze, write back. Never throws. */
export async function triageFinding(finding: SocatFinding, deps: TriageDeps, options: TriageOptions = {}): Promise<TriageResult> {
  let report: Report | null = null;
  const messageId = options.delivery?.messageId ?? null;
  const result = (o: Outcome, written: WriteResult | null = null): TriageResult => ({ ...o, findingName: finding.name, messageId, report, written });
  let stage = 'triage';
  try {
    const decision = decideFilter(finding, deps.config.categories, { loopGuard: options.loopGuard !== false, ownSource: deps.config.sccSourceName });
    if (!decision.triage) {
      report = skippedReport(finding, decision.reason);
      return result({ outcome: 'skipped', reason: decision.reason });
    }
    // Checked after the filter: a stale notification that is not ours is simply skipped.
    const age = ageSeconds(options.delivery ?? null, deps.now());
    if (age !== null && age > deps.config.maxEventAgeSeconds) {
      return result({
        outcome: 'failed_permanent',
        reason: `delivery is ${Math.round(age)} s old, beyond MAX_EVENT_AGE_SECONDS=${deps.config.maxEventAgeSeconds}; not triaged`,
      });
    }
    const gathered = deps.gather
      ? await runGatherers(deps.gather.gatherers, {
          finding,
          deps: deps.gather.deps,
          deadlineMs: deps.config.gatherDeadlineMs,
          onAllStarted: deps.gather.onGatherStart?.(),
        })
      : undefined;
    const triaged = analyzeFinding(finding, gathered, {
      verdict: deps.config.verdict,
      attributionWindowMinutes: deps.config.logWindowBeforeMinutes,
    });
    report = triaged;
    if (deps.config.dryRun) return result({ outcome: 'triaged', reason: 'dry run: nothing written' });
    // parseConfig requires it outside dry runs; a misconfiguration must retry (and park), never drop.
    if (deps.config.sccSourceName === null) throw new Error('SCC_SOURCE_NAME is not configured');
    stage = 'write-back';
    const written = await writeBack(await deps.scc(), triaged, {
      sourceName: deps.config.sccSourceName,
      organization: finding.organization ?? /^organizations\/(\d+)/.exec(deps.config.sccSourceName)?.[1] ?? null,
      now: deps.now(),
      priorTriage: markValue(finding.securityMarks, MARK_REPORT) !== undefined,
      autoResponse: automaticRequest(triaged.verdict, deps.config.response),
    });
    if (deps.fanout) {
      // After the write-back, so a message never announces a report that is not there. A transient
      // publish failure retries the whole triage (idempotent); consumers dedupe on dedupeKey.
      stage = 'fan-out';
      await publishFanout(await deps.fanout(), fanoutMessage(triaged, written, { now: deps.now() }));
    }
    return result({ outcome: 'triaged', reason: `enrichment finding ${written.enrichmentFinding} written` }, written);
  } catch (err) {
    return result(outcomeForError(err, stage));
  }
}

/** Triage one delivery: unwrap and parse the message, then triageFinding. Never throws. */
export async function triageEvent(body: unknown, deps: TriageDeps): Promise<TriageResult> {
  let delivery: Delivery | null = null;
  try {
    const unwrapped = unwrapEnvelope(body);
    delivery = unwrapped.delivery;
    return await triageFinding(parseNotification(unwrapped.notification), deps, { delivery });
  } catch (err) {
    return { ...outcomeForError(err, 'input'), findingName: null, messageId: delivery?.messageId ?? null, report: null, written: null };
  }
}
