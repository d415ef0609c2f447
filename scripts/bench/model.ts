/**
 * What a triage costs in calls, without running anything: which calls each
 * gatherer makes against the bench world, which gatherers wait for which,
 * and from that the longest chain of dependent calls (the critical path, the
 * best a triage can do) and the sum of all calls (a triage with no
 * parallelism). Pure, so test/bench/model.test.ts checks it offline.
 */

/** One kind of remote call, each with its own injected latency. */
export const CALL_KINDS = ['sccList', 'sccWrite', 'getCluster', 'kubeRead', 'loggingList', 'contacts'] as const;
export type CallKind = (typeof CALL_KINDS)[number];
export type Latencies = Record<CallKind, number>;

/** The defaults. */
export const DEFAULT_LATENCIES: Readonly<Latencies> = Object.freeze({
  sccList: 250,
  sccWrite: 150,
  getCluster: 120,
  kubeRead: 40,
  loggingList: 400,
  contacts: 100,
});

/** Command-line flag of each latency: --scc-list-ms=250 and so on. */
export const LATENCY_FLAGS: Readonly<Record<CallKind, string>> = Object.freeze({
  sccList: 'scc-list-ms',
  sccWrite: 'scc-write-ms',
  getCluster: 'get-cluster-ms',
  kubeRead: 'kube-ms',
  loggingList: 'logging-ms',
  contacts: 'contacts-ms',
});

/**
 * The calls each gatherer makes, one after another, for a finding of the
 * bench world on a cluster nothing is cached for: its pods belong to a
 * Deployment, so the pod gatherer reads the pod, its ReplicaSet and the
 * Deployment. A gatherer missing here fails the bench instead of silently
 * counting as free.
 */
export const GATHERER_CALLS: Readonly<Record<string, readonly CallKind[]>> = Object.freeze({
  relatedFindings: ['sccList'],
  cluster: ['getCluster'],
  node: ['kubeRead'],
  pod: ['kubeRead', 'kubeRead', 'kubeRead'],
  namespace: ['kubeRead'],
  podLogs: ['loggingList'],
  auditLogs: ['loggingList'],
  nodeLogs: ['loggingList'],
  nodeK8sLogs: ['loggingList'],
  contacts: ['contacts'],
});

/** After every gatherer: the enrichment finding, the marks, then the loop-guard mark, each waiting for the one before. */
export const WRITE_BACK_CALLS: readonly CallKind[] = ['sccWrite', 'sccWrite', 'sccWrite'];

export interface GathererShape {
  section: string;
  needs: readonly string[];
}

function callsOf(section: string): readonly CallKind[] {
  const calls = GATHERER_CALLS[section];
  if (!calls) throw new Error(`no call model for gatherer ${JSON.stringify(section)}: add it to GATHERER_CALLS in scripts/bench/model.ts`);
  return calls;
}

function costOf(calls: readonly CallKind[], latencies: Latencies): number {
  return calls.reduce((sum, kind) => sum + latencies[kind], 0);
}

/** When each gatherer finishes if it starts as soon as what it needs is in (the runner's schedule); a need that is not running ends the chain. */
export function finishTimes(gatherers: readonly GathererShape[], latencies: Latencies): Map<string, number> {
  const bySection = new Map(gatherers.map((g) => [g.section, g]));
  const done = new Map<string, number>();
  const visiting = new Set<string>();
  const finish = (g: GathererShape): number => {
    const known = done.get(g.section);
    if (known !== undefined) return known;
    if (visiting.has(g.section)) throw new Error(`gatherers depend on each other in a cycle through ${g.section}`);
    visiting.add(g.section);
    let start = 0;
    for (const need of g.needs) {
      const dep = bySection.get(need);
      if (dep) start = Math.max(start, finish(dep));
    }
    visiting.delete(g.section);
    const end = start + costOf(callsOf(g.section), latencies);
    done.set(g.section, end);
    return end;
  };
  for (const g of gatherers) finish(g);
  return done;
}

export interface PathModel {
  /** Longest chain of dependent calls: the slowest gatherer chain, then the write-back. */
  criticalPathMs: number;
  /** The gatherers on that chain, first to last. */
  criticalChain: string[];
  /** Every call one after another. */
  sequentialMs: number;
  /** Calls of one finding, per kind. */
  callsPerFinding: Record<CallKind, number>;
}

export function pathModel(gatherers: readonly GathererShape[], latencies: Latencies): PathModel {
  const finish = finishTimes(gatherers, latencies);
  const bySection = new Map(gatherers.map((g) => [g.section, g]));
  let last: GathererShape | null = null;
  for (const g of gatherers) if (last === null || (finish.get(g.section) ?? 0) > (finish.get(last.section) ?? 0)) last = g;
  const chain: string[] = [];
  for (let g = last; g !== null; ) {
    chain.unshift(g.section);
    const deps: GathererShape[] = g.needs.map((n) => bySection.get(n)).filter((d): d is GathererShape => d !== undefined);
    g = deps.reduce<GathererShape | null>((best, d) => (best === null || (finish.get(d.section) ?? 0) > (finish.get(best.section) ?? 0) ? d : best), null);
  }
  const gathering = last === null ? 0 : (finish.get(last.section) ?? 0);
  const callsPerFinding = Object.fromEntries(CALL_KINDS.map((k) => [k, 0])) as Record<CallKind, number>;
  for (const kind of [...gatherers.flatMap((g) => callsOf(g.section)), ...WRITE_BACK_CALLS]) callsPerFinding[kind] += 1;
  return {
    criticalPathMs: gathering + costOf(WRITE_BACK_CALLS, latencies),
    criticalChain: [...chain, 'writeBack'],
    sequentialMs: CALL_KINDS.reduce((sum, k) => sum + callsPerFinding[k] * latencies[k], 0),
    callsPerFinding,
  };
}

/** Nearest-rank percentile (p in 0..100) of a non-empty sample. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new Error('percentile of an empty sample');
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1] as number;
}

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/**
 * Pub/Sub's exponential redelivery backoff for the n-th failed attempt
 * (1-based): minimum, doubling, capped at the maximum.
 */
export function redeliveryDelayMs(attempt: number, minMs: number, maxMs: number): number {
  return Math.min(maxMs, minMs * 2 ** Math.max(0, attempt - 1));
}
