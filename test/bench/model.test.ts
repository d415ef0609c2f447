/**
 * The bench's model of a triage's calls (scripts/bench/model.ts): critical
 * path, sequential sum, calls per finding. Pure arithmetic, no timing.
 */
import { GATHERERS } from '../../lib/gather/registry.js';
import { DEFAULT_LATENCIES, GATHERER_CALLS, pathModel, percentile, redeliveryDelayMs, type Latencies } from '../../scripts/bench/model.js';

const registry = GATHERERS.filter((g) => g.enabledByDefault).map((g) => ({ section: g.section as string, needs: [...(g.needs as readonly string[])] }));

describe('bench model', () => {
  it('has a call model for every gatherer in the registry', () => {
    for (const g of GATHERERS) expect(GATHERER_CALLS).toHaveProperty([g.section as string]);
  });

  it('takes the longest chain of dependent calls, then the three writes, as the critical path', () => {
    const gatherers = [
      { section: 'relatedFindings', needs: [] },
      { section: 'cluster', needs: [] },
      { section: 'node', needs: ['cluster'] },
      { section: 'pod', needs: ['cluster'] },
      { section: 'nodeLogs', needs: ['node'] },
      { section: 'podLogs', needs: [] },
    ];
    const m = pathModel(gatherers, DEFAULT_LATENCIES);
    // cluster 120 → node 40 → node logs 400, then 3 × 150 of writes.
    expect(m.criticalPathMs).toBe(120 + 40 + 400 + 450);
    expect(m.criticalChain).toEqual(['cluster', 'node', 'nodeLogs', 'writeBack']);
    expect(m.sequentialMs).toBe(250 + 120 + 40 + 3 * 40 + 400 + 400 + 450);
    expect(m.callsPerFinding).toEqual({ sccList: 1, sccWrite: 3, getCluster: 1, kubeRead: 4, loggingList: 2, contacts: 0 });
  });

  it('follows the latencies: a slow list moves the critical path', () => {
    const slowList: Latencies = { ...DEFAULT_LATENCIES, sccList: 2000 };
    const m = pathModel(registry, slowList);
    expect(m.criticalChain).toEqual(['relatedFindings', 'writeBack']);
    expect(m.criticalPathMs).toBe(2000 + 450);
  });

  it('models the registry as it is', () => {
    const m = pathModel(registry, DEFAULT_LATENCIES);
    expect(m.criticalPathMs).toBeGreaterThanOrEqual(120 + 40 + 400 + 450);
    expect(m.sequentialMs).toBeGreaterThan(m.criticalPathMs);
  });

  it('refuses a gatherer it has no calls for, and dependency cycles', () => {
    expect(() => pathModel([{ section: 'mystery', needs: [] }], DEFAULT_LATENCIES)).toThrow(/GATHERER_CALLS/);
    expect(() =>
      pathModel(
        [
          { section: 'node', needs: ['pod'] },
          { section: 'pod', needs: ['node'] },
        ],
        DEFAULT_LATENCIES,
      ),
    ).toThrow(/cycle/);
  });

  it('nearest-rank percentiles and Pub/Sub backoff', () => {
    expect(percentile([5, 1, 4, 2, 3], 50)).toBe(3);
    expect(percentile([1, 2, 3, 4], 50)).toBe(2);
    expect(percentile(Array.from({ length: 100 }, (_, i) => i + 1), 95)).toBe(95);
    expect(() => percentile([], 50)).toThrow();
    expect([1, 2, 3, 4, 5, 10].map((n) => redeliveryDelayMs(n, 10_000, 600_000))).toEqual([10_000, 20_000, 40_000, 80_000, 160_000, 600_000]);
  });
});
