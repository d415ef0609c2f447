/**
 * The function's body, independent of how it is registered: one triage, one
 * structured outcome line, and a throw only when the outcome is "retry"
 * (the throw is what makes Pub/Sub redeliver).
 */
import type { Logger } from './logger.js';
import { disposition, RetryableFailure } from './outcome.js';
import { triageEvent, type TriageDeps, type TriageResult } from './triage.js';

const LEVEL = {
  triaged: 'info',
  responded: 'info',
  skipped: 'info',
  rejected: 'warn',
  failed_permanent: 'error',
  retry: 'warn',
} as const;

export interface HandlerDeps extends TriageDeps {
  logger: Logger;
}

export async function handleDelivery(body: unknown, deps: HandlerDeps): Promise<TriageResult> {
  const started = performance.now();
  const result = await triageEvent(body, deps);
  const line = {
    outcome: result.outcome,
    reason: result.reason,
    findingName: result.findingName,
    messageId: result.messageId,
    enrichmentFinding: result.written?.enrichmentFinding ?? null,
    durationMs: Math.round(performance.now() - started),
  };
  deps.logger[LEVEL[result.outcome]](line, 'triage outcome');
  if (disposition(result.outcome) === 'retry') throw new RetryableFailure(result.reason);
  return result;
}
