/**
 * Backoff shared by every worker of a run. SCC quotas are per organization
 * and per project, not per call, so when one call is told RESOURCE_EXHAUSTED
 * every worker waits: the gate holds them all until the pause is over.
 */
import { grpcCode } from './errors.js';

export const RESOURCE_EXHAUSTED = 8;
const RETRYABLE_CODES = new Set([4 /* DEADLINE_EXCEEDED */, RESOURCE_EXHAUSTED, 14 /* UNAVAILABLE */]);

export function isRetryableApiError(err: unknown): boolean {
  const code = grpcCode(err);
  return code !== null && RETRYABLE_CODES.has(code);
}

export interface BackoffOptions {
  /** First delay; doubled per attempt. */
  baseMs: number;
  maxMs: number;
  /** Attempts in all, the first included. */
  attempts: number;
  random?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 500, maxMs: 30_000, attempts: 6 };

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

export class Throttle {
  private pausedUntil = 0;
  readonly options: Required<BackoffOptions>;

  constructor(options: BackoffOptions = DEFAULT_BACKOFF) {
    this.options = { random: Math.random, sleep, ...options };
  }

  /** Waits while a pause is in force. */
  async ready(signal?: AbortSignal): Promise<void> {
    for (;;) {
      const wait = this.pausedUntil - Date.now();
      if (wait <= 0 || signal?.aborted) return;
      await this.options.sleep(wait, signal);
    }
  }

  /**
   * The delay before attempt `attempt + 1` ("equal jitter": at least half the
   * exponential step, so the backoff never collapses to nothing), and every
   * worker pauses for it.
   */
  backoff(attempt: number): number {
    const step = Math.min(this.options.maxMs, this.options.baseMs * 2 ** (attempt - 1));
    const delay = Math.round(step / 2 + this.options.random() * (step / 2));
    this.pausedUntil = Math.max(this.pausedUntil, Date.now() + delay);
    return delay;
  }

  /** Runs fn, retrying retryable API errors with backoff; rethrows the last error. */
  async run<T>(fn: () => Promise<T>, onRetry?: (attempt: number, delayMs: number, err: unknown) => void, signal?: AbortSignal): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      await this.ready(signal);
      try {
        return await fn();
      } catch (err) {
        if (!isRetryableApiError(err) || attempt >= this.options.attempts || signal?.aborted) throw err;
        const delay = this.backoff(attempt);
        onRetry?.(attempt, delay, err);
      }
    }
  }
}
