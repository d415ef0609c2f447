/**
 * Ack or retry is decided here, once. A Pub/Sub delivery is acked when the
 * handler resolves and redelivered when it rejects (functions-framework turns
 * a rejection into HTTP 500); so only "retry" may make the handler throw.
 */
import { classifyError, describeError, InvalidInputError } from './errors.js';

/** `responded`: the responder (lib/respond/responder.ts) carried out or recorded an approval. */
export type OutcomeKind = 'triaged' | 'responded' | 'skipped' | 'rejected' | 'failed_permanent' | 'retry';

export interface Outcome {
  outcome: OutcomeKind;
  reason: string;
}

export function disposition(kind: OutcomeKind): 'ack' | 'retry' {
  return kind === 'retry' ? 'retry' : 'ack';
}

export function outcomeForError(err: unknown, stage: string): Outcome {
  if (err instanceof InvalidInputError) return { outcome: 'rejected', reason: err.message };
  const reason = `${stage}: ${describeError(err)}`;
  return classifyError(err) === 'transient' ? { outcome: 'retry', reason } : { outcome: 'failed_permanent', reason };
}

/**
 * The error a handler throws to have Pub/Sub redeliver. functions-framework
 * logs the thrown error's stack; the outcome line already says everything,
 * so the stack is reduced to that one line.
 */
export class RetryableFailure extends Error {
  override name = 'RetryableFailure';
  constructor(reason: string) {
    super(reason);
    this.stack = `${this.name}: ${reason}`;
  }
}
