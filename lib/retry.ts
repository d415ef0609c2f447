/**
 * The one retry mechanism. Every client that waits out a refused or dropped
 * call goes through retry() here: the function's SCC calls (quota), GetCluster
 * and ComputeContacts (a dropped connection), ListLogEntries (both) and the
 * CLI's throttle. What differs between them is only a RetryPolicy: which
 * errors are worth another try, how long to wait, and for how long at most.
 *
 * Every wait is bounded twice: by the policy's totalMs and by the caller's
 * AbortSignal (the shared gather deadline), so a retry never outlives the
 * triage that asked for it. A gate shared by the callers of one quota
 * (Throttle) makes all of them pause once any of them is refused, rather than
 * each finding out separately.
 */

export const RESOURCE_EXHAUSTED = 8;
const DEADLINE_EXCEEDED = 4;
const INTERNAL = 13;
export const UNAVAILABLE = 14;

/** gRPC status code of an error, when it has one. */
function codeOf(err: unknown): number | null {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'number' && Number.isInteger(code) ? code : null;
}

/**
 * A refusal for rate quota, as Google APIs send it: RESOURCE_EXHAUSTED with
 * an ErrorInfo reason RATE_LIMIT_EXCEEDED, or the quota system's message
 * "Quota exceeded for quota metric '…' and limit '…' of service '…'". Other
 * RESOURCE_EXHAUSTED answers are not known to refill within a minute.
 */
export function isQuotaExceeded(err: unknown): boolean {
  const e = err as { code?: unknown; reason?: unknown; details?: unknown; message?: unknown } | null;
  if (e?.code !== RESOURCE_EXHAUSTED) return false;
  if (e.reason === 'RATE_LIMIT_EXCEEDED') return true;
  return /\bQuota exceeded for quota metric\b/i.test(String(e.details ?? e.message ?? ''));
}

/** UNAVAILABLE: the connection dropped before an answer; another try usually gets one. */
export function isUnavailable(err: unknown): boolean {
  return codeOf(err) === UNAVAILABLE;
}

/** A dropped connection (UNAVAILABLE, INTERNAL) or a quota refusal: what ListLogEntries retries. */
export function isDroppedOrQuota(err: unknown): boolean {
  const code = codeOf(err);
  return code === UNAVAILABLE || code === INTERNAL || isQuotaExceeded(err);
}

/** What the CLI retries: its own throttle waits as long as the operator lets it. */
export function isRetryableApiError(err: unknown): boolean {
  const code = codeOf(err);
  return code === DEADLINE_EXCEEDED || code === RESOURCE_EXHAUSTED || code === UNAVAILABLE;
}

export interface RetryPolicy {
  /** Whether an error is worth another try. */
  retryable: (err: unknown) => boolean;
  /** First delay; multiplied per attempt up to maxMs. */
  baseMs: number;
  maxMs: number;
  multiplier?: number;
  /** Attempts in all, the first included. */
  attempts: number;
  /** Give up (rethrow) once a wait would end later than this after the first attempt. */
  totalMs?: number;
  /**
   * "full": a delay anywhere in [0, step] (spreads a crowd refused together);
   * "equal": in [step/2, step] (never collapses to nothing).
   */
  jitter?: 'full' | 'equal';
}

/**
 * SCC allows 1,000 reads and 1,000 writes per minute per project
 * (https://cloud.google.com/security-command-center/quotas), and a burst of
 * findings runs into that. A call refused for it is waited out for up to a
 * minute (one quota window) rather than failing the triage: a failed triage
 * is redelivered and done again from the start, and the writes of it that had
 * landed are made again, spending the very quota that ran out. Measured on a
 * 1,000-finding burst with Pub/Sub redelivery alone: more than two of every
 * three writes wasted (README, Performance). Repeating is safe: these are
 * reads, an upsert without a mask and mark updates with a mask.
 */
export const SCC_QUOTA_RETRY: Readonly<RetryPolicy> = Object.freeze({
  retryable: isQuotaExceeded,
  baseMs: 1000,
  multiplier: 2,
  maxMs: 16_000,
  attempts: Number.MAX_SAFE_INTEGER,
  totalMs: 60_000,
  jitter: 'full',
});

/**
 * GetCluster and ComputeContacts: only UNAVAILABLE, a few times and quickly.
 * An attempt that timed out has already spent more than a triage can wait.
 */
export const DROPPED_CONNECTION_RETRY: Readonly<RetryPolicy> = Object.freeze({
  retryable: isUnavailable,
  baseMs: 100,
  multiplier: 4,
  maxMs: 400,
  attempts: 3,
  jitter: 'equal',
});

/**
 * ListLogEntries: a dropped connection, and Cloud Logging's read quota of 60
 * entries.list requests per minute per project
 * (https://cloud.google.com/logging/quotas#api-limits, "Number of
 * entries.list requests"). A refused read is waited out with the other log
 * reads of the instance (LOGGING_READ_GATE) until the shared deadline stops
 * the wait; the quota refills within a minute.
 */
export const LOG_READ_RETRY: Readonly<RetryPolicy> = Object.freeze({
  retryable: isDroppedOrQuota,
  baseMs: 500,
  multiplier: 2,
  maxMs: 8_000,
  attempts: Number.MAX_SAFE_INTEGER,
  totalMs: 60_000,
  jitter: 'full',
});

/** The CLI's default: a few attempts, long waits, reported as it waits. */
export const CLI_RETRY: Readonly<RetryPolicy> = Object.freeze({
  retryable: isRetryableApiError,
  baseMs: 500,
  multiplier: 2,
  maxMs: 30_000,
  attempts: 6,
  jitter: 'equal',
});

/**
 * Resolves after ms, or at once when the signal aborts (never rejects). The
 * timer keeps the process alive: a CLI waiting out a quota must not exit.
 */
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

export interface RetryOptions {
  signal?: AbortSignal;
  /** Callers sharing a quota share a gate: one refusal pauses them all. */
  gate?: Throttle;
  onRetry?: (attempt: number, delayMs: number, err: unknown) => void;
  random?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** The delay after attempt `attempt` (1-based). */
export function retryDelay(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const step = Math.min(policy.maxMs, policy.baseMs * (policy.multiplier ?? 2) ** (attempt - 1));
  return Math.round(policy.jitter === 'equal' ? step / 2 + random() * (step / 2) : random() * step);
}

/**
 * Runs fn until it succeeds, the error is not retryable, the attempts or
 * totalMs are spent, or the signal aborts; then rethrows the last error.
 */
export async function retry<T>(fn: () => Promise<T>, policy: RetryPolicy, options: RetryOptions = {}): Promise<T> {
  const random = options.random ?? options.gate?.random ?? Math.random;
  const wait = options.sleep ?? options.gate?.sleep ?? sleep;
  const giveUpAt = policy.totalMs === undefined ? Infinity : Date.now() + policy.totalMs;
  for (let attempt = 1; ; attempt++) {
    await options.gate?.ready(options.signal);
    try {
      return await fn();
    } catch (err) {
      if (!policy.retryable(err) || attempt >= policy.attempts || options.signal?.aborted) throw err;
      const delay = retryDelay(policy, attempt, random);
      if (Date.now() + delay > giveUpAt) throw err;
      options.gate?.pause(delay);
      options.onRetry?.(attempt, delay, err);
      await wait(delay, options.signal);
      if (options.signal?.aborted) throw err;
    }
  }
}

/**
 * A gate shared by every caller of one quota: once any of them is refused,
 * all of them wait until the pause is over before their next call.
 */
export class Throttle {
  private pausedUntil = 0;
  readonly policy: RetryPolicy;
  readonly random: () => number;
  readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;

  constructor(policy: RetryPolicy = CLI_RETRY, options: { random?: () => number; sleep?: (ms: number, signal?: AbortSignal) => Promise<void> } = {}) {
    this.policy = policy;
    this.random = options.random ?? Math.random;
    this.sleep = options.sleep ?? sleep;
  }

  get attempts(): number {
    return this.policy.attempts;
  }

  /** Waits while a pause is in force. */
  async ready(signal?: AbortSignal): Promise<void> {
    for (;;) {
      const wait = this.pausedUntil - Date.now();
      if (wait <= 0 || signal?.aborted) return;
      await this.sleep(wait, signal);
    }
  }

  /** A pause is in force: the quota refused a call moments ago. */
  get paused(): boolean {
    return this.pausedUntil > Date.now();
  }

  pause(delayMs: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, Date.now() + delayMs);
  }

  /** The delay before attempt `attempt + 1`; every caller pauses for it. */
  backoff(attempt: number): number {
    const delay = retryDelay(this.policy, attempt, this.random);
    this.pause(delay);
    return delay;
  }

  /** retry() through this gate with its policy. */
  run<T>(fn: () => Promise<T>, onRetry?: (attempt: number, delayMs: number, err: unknown) => void, signal?: AbortSignal): Promise<T> {
    return retry(fn, this.policy, { gate: this, ...(onRetry ? { onRetry } : {}), ...(signal ? { signal } : {}) });
  }
}
