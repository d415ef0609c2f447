/**
 * The one retry mechanism (lib/retry.ts): which errors are retried, how long
 * it waits, and that every wait ends at the caller's deadline.
 */
import { describe, expect, test } from '@jest/globals';
import { isDroppedOrQuota, isQuotaExceeded, LOG_READ_RETRY, retry, retryDelay, Throttle, type RetryPolicy } from '../lib/retry.js';

const quota = Object.assign(new Error("8 RESOURCE_EXHAUSTED: Quota exceeded for quota metric 'Read requests'"), {
  code: 8,
  details: "Quota exceeded for quota metric 'Read requests' and limit 'Read requests per minute per project' of service 'logging.googleapis.com'",
});
const denied = Object.assign(new Error('7 PERMISSION_DENIED'), { code: 7 });
const fast: RetryPolicy = { retryable: isDroppedOrQuota, baseMs: 1, maxMs: 4, attempts: 5 };

function failing(times: number, err: unknown): { fn: () => Promise<string>; calls: () => number } {
  let calls = 0;
  return {
    fn: async () => {
      calls++;
      if (calls <= times) throw err;
      return 'ok';
    },
    calls: () => calls,
  };
}

describe('retry', () => {
  test('retries a quota refusal until it answers; never retries a denial', async () => {
    const q = failing(2, quota);
    await expect(retry(q.fn, fast)).resolves.toBe('ok');
    expect(q.calls()).toBe(3);
    const d = failing(1, denied);
    await expect(retry(d.fn, fast)).rejects.toBe(denied);
    expect(d.calls()).toBe(1);
  });

  test('gives up after its attempts with the last error', async () => {
    const q = failing(10, quota);
    await expect(retry(q.fn, { ...fast, attempts: 3 })).rejects.toBe(quota);
    expect(q.calls()).toBe(3);
  });

  test('stops waiting when the signal aborts: the deadline bounds every wait', async () => {
    const controller = new AbortController();
    const q = failing(Infinity, quota);
    setTimeout(() => controller.abort(), 50);
    const started = Date.now();
    await expect(retry(q.fn, LOG_READ_RETRY, { signal: controller.signal, random: () => 1 })).rejects.toBe(quota);
    expect(Date.now() - started).toBeLessThan(LOG_READ_RETRY.baseMs);
  });

  test('a wait past totalMs is not started', async () => {
    const q = failing(Infinity, quota);
    await expect(retry(q.fn, { ...fast, baseMs: 1000, maxMs: 1000, totalMs: 10, jitter: 'equal' })).rejects.toBe(quota);
    expect(q.calls()).toBe(1);
  });

  test('one refusal through a shared gate pauses the other callers', async () => {
    const gate = new Throttle({ ...fast, baseMs: 200, maxMs: 200, jitter: 'equal' }, { random: () => 1 });
    const q = failing(1, quota);
    const first = retry(q.fn, gate.policy, { gate });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const started = Date.now();
    let otherRanAt = 0;
    await retry(
      async () => {
        otherRanAt = Date.now();
      },
      gate.policy,
      { gate },
    );
    await first;
    expect(otherRanAt - started).toBeGreaterThanOrEqual(150);
  });

  test('delays grow per attempt up to maxMs; full jitter stays within the step', () => {
    const p: RetryPolicy = { retryable: () => true, baseMs: 100, maxMs: 1000, attempts: 10, jitter: 'full' };
    expect([1, 2, 3, 4, 5].map((a) => retryDelay(p, a, () => 1))).toEqual([100, 200, 400, 800, 1000]);
    expect(retryDelay(p, 3, () => 0)).toBe(0);
    expect(retryDelay({ ...p, jitter: 'equal' }, 3, () => 0)).toBe(200);
  });

  test('a quota refusal is told apart from other RESOURCE_EXHAUSTED answers', () => {
    expect(isQuotaExceeded(quota)).toBe(true);
    expect(isQuotaExceeded({ code: 8, details: 'too many concurrent queries' })).toBe(false);
    expect(isDroppedOrQuota({ code: 14 })).toBe(true);
    expect(isDroppedOrQuota({ code: 8, details: 'too many concurrent queries' })).toBe(false);
  });
});
