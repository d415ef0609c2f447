import { describe, expect, it } from '@jest/globals';
import { parseNotification } from '../../lib/finding/parse.js';
import { runGatherers } from '../../lib/gather/runner.js';
import { GatherGap, type Gatherer } from '../../lib/gather/types.js';
import { notificationFixture } from '../support/fixtures.js';

interface S {
  a: string;
  b: string;
  c: string;
  slow: string;
}
type G = Gatherer<{ log: string[] }, S>;

const finding = parseNotification(notificationFixture('socat-v2'));

function gatherer(section: keyof S, opts: Partial<G> & { delayMs?: number; fail?: unknown; value?: string } = {}): G {
  return {
    section,
    description: section,
    needs: opts.needs ?? [],
    api: 'test',
    permissions: [],
    enabledByDefault: true,
    missing: opts.missing ?? (() => null),
    gather: async (ctx) => {
      ctx.deps.log.push(`start ${section}`);
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(resolve, opts.delayMs ?? 0);
        // Well-behaved gatherers stop at the deadline; the runner must not depend on it, see 'ignores'.
        if (section !== 'slow') ctx.signal.addEventListener('abort', () => (clearTimeout(t), reject(new Error('aborted'))));
      });
      if (opts.fail) throw opts.fail;
      return `${opts.value ?? section}${opts.needs?.length ? `+${opts.needs.map((n) => ctx.sections[n]).join(',')}` : ''}`;
    },
  };
}

describe('runGatherers', () => {
  it('runs independent gatherers in parallel and feeds dependencies', async () => {
    const log: string[] = [];
    const r = await runGatherers([gatherer('a', { delayMs: 30 }), gatherer('b', { needs: ['a'] }), gatherer('c', { delayMs: 10 })], { finding, deps: { log }, deadlineMs: 5000 });
    expect(r.sections).toEqual({ a: 'a', b: 'b+a', c: 'c' });
    expect(r.gaps).toEqual([]);
    // c started before a finished, b only after a.
    expect(log.indexOf('start c')).toBeLessThan(log.indexOf('start b'));
    expect(log[0]).toBe('start a');
  });

  it('turns a failure into a gap and the dependents into gaps, without touching the others', async () => {
    const denied = Object.assign(new Error('7 PERMISSION_DENIED: caller lacks container.clusters.get'), { code: 7 });
    const r = await runGatherers([gatherer('a', { fail: denied }), gatherer('b', { needs: ['a'] }), gatherer('c')], { finding, deps: { log: [] }, deadlineMs: 5000 });
    expect(r.sections).toEqual({ c: 'c' });
    expect(r.gaps).toEqual([
      { section: 'a', reason: 'permission denied: PERMISSION_DENIED: caller lacks container.clusters.get' },
      { section: 'b', reason: 'needs a, which is unavailable' },
    ]);
  });

  it('reports what the finding lacks as a gap without calling gather', async () => {
    const log: string[] = [];
    const r = await runGatherers([gatherer('a', { missing: () => 'the finding names no pod' })], { finding, deps: { log }, deadlineMs: 5000 });
    expect(r.gaps).toEqual([{ section: 'a', reason: 'the finding names no pod' }]);
    expect(log).toEqual([]);
  });

  it('keeps a GatherGap message as the reason, and records gaps added alongside a result', async () => {
    const partial: G = { ...gatherer('a'), gather: async (ctx) => (ctx.addGap('pod is gone; showing the finding'), 'fallback') };
    const r = await runGatherers([partial, gatherer('b', { fail: new GatherGap('node was recycled') })], { finding, deps: { log: [] }, deadlineMs: 5000 });
    expect(r.sections).toEqual({ a: 'fallback' });
    expect(r.gaps).toEqual([
      { section: 'a', reason: 'pod is gone; showing the finding' },
      { section: 'b', reason: 'node was recycled' },
    ]);
  });

  it('returns at the deadline with the slow gatherer as a gap and the fast ones intact', async () => {
    const r = await runGatherers([gatherer('a'), gatherer('slow', { delayMs: 500 }), gatherer('c', { needs: ['slow'] })], { finding, deps: { log: [] }, deadlineMs: 100 });
    expect(r.sections).toEqual({ a: 'a' });
    expect(r.gaps).toEqual(
      expect.arrayContaining([
        { section: 'slow', reason: 'deadline of 100 ms reached' },
        { section: 'c', reason: 'deadline of 100 ms reached' },
      ]),
    );
    expect(r.gaps).toHaveLength(2);
  });

  it('ignores what a gatherer delivers after the deadline', async () => {
    const r = await runGatherers([gatherer('slow', { delayMs: 150 })], { finding, deps: { log: [] }, deadlineMs: 50 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(r.sections).toEqual({});
    expect(r.gaps).toEqual([{ section: 'slow', reason: 'deadline of 50 ms reached' }]);
  });

  describe('onAllStarted', () => {
    it('is called once the last dependent gatherer has started, before it finishes', async () => {
      const log: string[] = [];
      const r = await runGatherers([gatherer('a', { delayMs: 30 }), gatherer('b', { needs: ['a'], delayMs: 30 }), gatherer('c')], {
        finding,
        deps: { log },
        deadlineMs: 5000,
        onAllStarted: () => log.push('all started'),
      });
      expect(r.gaps).toEqual([]);
      expect(log.filter((l) => l === 'all started')).toHaveLength(1);
      // b is the last to start; "all started" comes right after it, not after it finishes.
      expect(log.indexOf('all started')).toBe(log.indexOf('start b') + 1);
    });

    it('counts gatherers that never start (failed need, missing input) as started', async () => {
      const log: string[] = [];
      await runGatherers([gatherer('a', { fail: new Error('boom') }), gatherer('b', { needs: ['a'] }), gatherer('c', { missing: () => 'no pod' })], {
        finding,
        deps: { log },
        deadlineMs: 5000,
        onAllStarted: () => log.push('all started'),
      });
      expect(log.filter((l) => l === 'all started')).toHaveLength(1);
      expect(log).not.toContain('start b');
    });

    it('is called when the deadline ends gathering before everything started', async () => {
      let calls = 0;
      await runGatherers([gatherer('slow', { delayMs: 500 }), gatherer('c', { needs: ['slow'] })], {
        finding,
        deps: { log: [] },
        deadlineMs: 50,
        onAllStarted: () => calls++,
      });
      expect(calls).toBe(1);
    });

    it('is called even when a gatherer throws synchronously', async () => {
      let calls = 0;
      const throwing: G = { ...gatherer('a'), gather: () => { throw new Error('sync'); } };
      const r = await runGatherers([throwing], { finding, deps: { log: [] }, deadlineMs: 5000, onAllStarted: () => calls++ });
      expect(calls).toBe(1);
      expect(r.gaps).toEqual([{ section: 'a', reason: 'sync' }]);
    });
  });
});
