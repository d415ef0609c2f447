/**
 * Per-instance memo for lookups that are stable across invocations (cluster
 * details, node reads). It stores the promise, so concurrent triages of the
 * same cluster share one call instead of racing; a failed load is evicted at
 * once so the next invocation tries again. Bounded in entries and age.
 */
import { LRUCache } from 'lru-cache';

export interface InstanceCache {
  memo<T>(kind: string, key: string, load: () => Promise<T>): Promise<T>;
  /** Drops an entry, so the next memo() loads again (a result that must not be reused). */
  forget(kind: string, key: string): void;
}

export function createInstanceCache(options: { maxEntries: number; ttlSeconds: number }): InstanceCache {
  const lru = new LRUCache<string, Promise<unknown>>({ max: options.maxEntries, ttl: options.ttlSeconds * 1000 });
  return {
    memo<T>(kind: string, key: string, load: () => Promise<T>): Promise<T> {
      const k = `${kind}\u0000${key}`;
      const hit = lru.get(k) as Promise<T> | undefined;
      if (hit) return hit;
      const p = load();
      lru.set(k, p);
      p.catch(() => {
        if (lru.get(k) === p) lru.delete(k);
      });
      return p;
    },
    forget(kind: string, key: string): void {
      lru.delete(`${kind}\u0000${key}`);
    },
  };
}

/** For tests and one-shot CLI runs: no reuse. */
export const noCache: InstanceCache = { memo: (_kind, _key, load) => load(), forget: () => undefined };
