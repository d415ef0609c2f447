/**
 * Delivering notifications the way Pub/Sub push does through Eventarc: a
 * CloudEvent POST per message; a 2xx acks it, anything else (or no answer
 * within the ack deadline) is redelivered later with exponential backoff,
 * until the attempts run out and the message goes to the dead-letter topic.
 */
import { cloudEventHeaders, pubsubBody } from '../../test/support/fixtures.js';
import { redeliveryDelayMs } from './model.js';

export interface Delivered {
  status: number;
  ms: number;
}

export async function deliver(url: string, notification: unknown, messageId: string, timeoutMs = 330_000): Promise<Delivered> {
  const started = performance.now();
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: cloudEventHeaders(messageId),
      body: JSON.stringify(pubsubBody(notification, { messageId })),
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.arrayBuffer();
    return { status: res.status, ms: performance.now() - started };
  } catch {
    // Connection refused or reset, or no answer before the ack deadline: Pub/Sub counts it as a failed attempt.
    return { status: 0, ms: performance.now() - started };
  }
}

export interface PushOptions {
  url: string;
  messages: ReadonlyArray<{ id: string; notification: unknown }>;
  /** Deliveries outstanding at once. */
  concurrency: number;
  minBackoffMs: number;
  maxBackoffMs: number;
  /** Attempts before the message is dead-lettered. */
  maxAttempts: number;
  ackDeadlineMs?: number;
  /** Stop delivering after this long; messages not acked by then count as neither acked nor dead-lettered. */
  giveUpAfterMs?: number;
}

export interface PushResult {
  acked: number;
  deadLettered: string[];
  /** Deliveries beyond each message's first. */
  redelivered: number;
  /** HTTP status (0: no answer) → count, over every attempt. */
  statuses: Record<string, number>;
  seconds: number;
  /** giveUpAfterMs was reached with messages still unacked. */
  gaveUp: boolean;
}

export function push(options: PushOptions): Promise<PushResult> {
  const started = performance.now();
  const ready = options.messages.map((m) => ({ ...m, attempts: 0 }));
  const statuses: Record<string, number> = {};
  const deadLettered: string[] = [];
  let acked = 0;
  let redelivered = 0;
  let inFlight = 0;
  let head = 0;
  let done = false;
  const timers = new Set<NodeJS.Timeout>();
  return new Promise((resolve) => {
    const end = (gaveUp: boolean) => {
      if (done) return;
      done = true;
      for (const t of timers) clearTimeout(t);
      clearTimeout(giveUp);
      resolve({ acked, deadLettered, redelivered, statuses, seconds: (performance.now() - started) / 1000, gaveUp });
    };
    const giveUp = setTimeout(() => end(true), options.giveUpAfterMs ?? 2 ** 31 - 1);
    const finish = () => {
      if (acked + deadLettered.length === options.messages.length) end(false);
    };
    const pump = () => {
      while (!done && inFlight < options.concurrency && head < ready.length) {
        const m = ready[head++] as (typeof ready)[number];
        if (m.attempts > 0) redelivered++;
        m.attempts++;
        inFlight++;
        void deliver(options.url, m.notification, `${m.id}-${m.attempts}`, options.ackDeadlineMs).then(({ status }) => {
          inFlight--;
          statuses[status] = (statuses[status] ?? 0) + 1;
          if (status >= 200 && status < 300) acked++;
          else if (m.attempts >= options.maxAttempts) deadLettered.push(m.id);
          else if (!done) {
            const timer = setTimeout(() => {
              timers.delete(timer);
              ready.push(m);
              pump();
            }, redeliveryDelayMs(m.attempts, options.minBackoffMs, options.maxBackoffMs));
            timers.add(timer);
          }
          pump();
          finish();
        });
      }
    };
    pump();
    finish();
  });
}
