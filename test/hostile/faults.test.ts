/**
 * The fault matrix: every dependency the function calls × every way it can
 * fail — UNAVAILABLE, DEADLINE_EXCEEDED, PERMISSION_DENIED, NOT_FOUND,
 * RESOURCE_EXHAUSTED, slower than the deadline, and a malformed response —
 * against the real clients and the seeded world (gRPC faults through a
 * proxy in front of each emulator; Kubernetes faults from its emulator).
 *
 * - A gatherer's dependency failing gives a triaged report with a gap for
 *   exactly the sections that depend on it; every other section is there
 *   (in the slow cells, which run on a short deadline, a healthy section a
 *   loaded machine did not finish in time may be a deadline gap as well).
 * - A write failing gives redelivery (HTTP 500 via RetryableFailure) when
 *   transient, an ack with an ERROR outcome line when permanent; and
 *   whatever was half-written then, the next delivery triages to exactly one
 *   enrichment finding with complete marks (the loop-guard mark never lands
 *   without the writes before it).
 *
 * Pub/Sub is here as the function uses it: publishing the result to
 * FANOUT_TOPIC after the write-back (a write, for the ack/retry decision).
 * Pub/Sub delivering to the function is covered by delivery.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { HandlerDeps } from '../../lib/handler.js';
import { LOG_READ_RETRY } from '../../lib/retry.js';
import { MARK_EVENT_TIME, MARK_REPORT, MARK_STATUS, MARK_VERDICT } from '../../lib/scc/marks.js';
import type { TriagedReport } from '../../lib/report/types.js';
import type { TriageResult } from '../../lib/triage.js';
import { pubsubBody } from '../support/fixtures.js';
import { seedAttack } from '../support/world.js';
import { enrichmentProblems } from './checks.js';
import { recordFigures } from './support.js';
import { handleDelivery, RetryableFailure } from './under-test.js';
import { enrichmentsOf, FANOUT_TOPIC, freshOriginal, leastPrivilegeAudit, startHostileWorld, withFreshCache, type HostileWorld } from './world-harness.js';

const FAULTS = ['UNAVAILABLE', 'DEADLINE_EXCEEDED', 'PERMISSION_DENIED', 'NOT_FOUND', 'RESOURCE_EXHAUSTED', 'slower than the deadline', 'malformed response'] as const;
type Fault = (typeof FAULTS)[number];

const GRPC_CODE: Record<string, number> = { UNAVAILABLE: 14, DEADLINE_EXCEEDED: 4, PERMISSION_DENIED: 7, NOT_FOUND: 5, RESOURCE_EXHAUSTED: 8 };
const HTTP_STATUS: Record<string, number> = { UNAVAILABLE: 503, DEADLINE_EXCEEDED: 504, PERMISSION_DENIED: 403, NOT_FOUND: 404, RESOURCE_EXHAUSTED: 429 };

/** Healthy calls get generous deadlines, so a loaded machine never turns one into a gap or a retry. */
const GATHER_DEADLINE_MS = 8000;
const WRITE_DEADLINE_MS = 10_000;
/** Slow cells: the faulted call is delayed by SLOW_MS, past a short deadline (gatherers, SCC writes, Pub/Sub's retry budget). */
const SHORT_DEADLINE_MS = 500;
const SHORT_WRITE_DEADLINE_MS = 600;
const SHORT_PUBLISH_BUDGET_MS = 100;
const SLOW_MS = 2500;
const ALL_SECTIONS = ['relatedFindings', 'cluster', 'node', 'pod', 'podLogs', 'auditLogs', 'nodeLogs', 'nodeK8sLogs', 'namespace', 'contacts'] as const;

interface Dependency {
  name: string;
  /** 'gather': its failure must become gaps in these sections; 'write': it must decide ack or retry. */
  kind: 'gather' | 'write';
  gaps?: readonly string[];
  arm(fault: Fault): void;
  disarm(): void;
}

let hw: HostileWorld;
let attack: Record<string, any>;
let normal: HandlerDeps;
let short: HandlerDeps;
let normalWrites: HandlerDeps;
let shortWrites: HandlerDeps;
let shortPublish: HandlerDeps;
const cells: string[] = [];

beforeAll(async () => {
  hw = await startHostileWorld({ GATHER_DEADLINE_MS: String(GATHER_DEADLINE_MS), MAX_EVENT_AGE_SECONDS: '3600' });
  attack = seedAttack(hw.world, new Date(Date.now() - 120_000)).notification;
  normal = hw.instance();
  short = hw.instance({ GATHER_DEADLINE_MS: String(SHORT_DEADLINE_MS) });
  // Writes carry a deadline so that "slower than the deadline" ends within the test (gax's own is 60 s).
  // The write cells gather nothing: gathering is the other cells' subject, and the write path does not depend on it.
  const writesOnly = hw.instance({ DISABLED_GATHERERS: ALL_SECTIONS.join(',') });
  const writer = hw.writerWithDeadline(WRITE_DEADLINE_MS);
  const publisher = hw.publisherWithDeadline(WRITE_DEADLINE_MS);
  normalWrites = { ...writesOnly, scc: async () => writer, fanout: async () => publisher };
  const shortWriter = hw.writerWithDeadline(SHORT_WRITE_DEADLINE_MS);
  shortWrites = { ...normalWrites, scc: async () => shortWriter };
  // The Pub/Sub client retries transient errors itself (backing off 100, 400, 1600 ms) within this budget.
  const shortPublisher = hw.publisherWithDeadline(SHORT_PUBLISH_BUDGET_MS);
  shortPublish = { ...normalWrites, fanout: async () => shortPublisher };
  // Warm up: clients created and connected, so no cell pays for that.
  for (const deps of [normal, short]) {
    const r = await handleDelivery(pubsubBody(freshOriginal(hw.world, attack, 'warmup')), withFreshCache(deps));
    expect(r.outcome).toBe('triaged');
  }
}, 60_000);

afterAll(async () => {
  await hw?.stop();
});

function grpcDependency(name: string, proxy: () => HostileWorld['proxies'][keyof HostileWorld['proxies']], method: string, kind: Dependency['kind'], gaps: readonly string[] | undefined, skip = 0): Dependency {
  return {
    name,
    kind,
    gaps,
    arm(fault) {
      const p = proxy();
      if (fault === 'slower than the deadline') p.rule({ method, skip, action: { kind: 'delay', ms: SLOW_MS } });
      else if (fault === 'malformed response') p.rule({ method, skip, action: { kind: 'malformed' } });
      else p.rule({ method, skip, action: { kind: 'status', code: GRPC_CODE[fault] as number, message: `injected ${fault}` } });
    },
    disarm() {
      proxy().clearRules();
    },
  };
}

const DEPENDENCIES: Dependency[] = [
  grpcDependency('SCC ListFindings (related findings)', () => hw.proxies.scc, 'ListFindings', 'gather', ['relatedFindings']),
  grpcDependency('SCC UpdateFinding (the enrichment finding)', () => hw.proxies.scc, 'UpdateFinding', 'write', undefined),
  grpcDependency('SCC UpdateSecurityMarks (status, verdict, report marks)', () => hw.proxies.scc, 'UpdateSecurityMarks', 'write', undefined),
  grpcDependency('SCC UpdateSecurityMarks (the loop-guard mark, written last)', () => hw.proxies.scc, 'UpdateSecurityMarks', 'write', undefined, 1),
  grpcDependency('GKE GetCluster', () => hw.proxies.gke, 'GetCluster', 'gather', ['cluster', 'node', 'pod', 'namespace', 'nodeLogs']),
  {
    name: 'Kubernetes API (node, pod, owners, namespace)',
    kind: 'gather',
    // nodeLogs needs the node's instance id.
    gaps: ['node', 'pod', 'namespace', 'nodeLogs'],
    arm(fault) {
      const kube = hw.world.kube;
      if (fault === 'slower than the deadline') kube.setLatency(SLOW_MS);
      // A 200 whose body is cut off mid-object: what a proxy or a crashing apiserver can send.
      else if (fault === 'malformed response') kube.injectFault({ status: 200, body: '{"kind":"Pod","apiVersion":"v1","metadata":{"name":', count: 1000 });
      else kube.injectFault({ status: HTTP_STATUS[fault] as number, message: `injected ${fault}`, count: 1000 });
    },
    disarm() {
      hw.world.kube.clearFaults();
      hw.world.kube.setLatency(0);
    },
  },
  grpcDependency('Cloud Logging ListLogEntries (pod, audit, node, node Kubernetes logs)', () => hw.proxies.logging, 'ListLogEntries', 'gather', ['podLogs', 'auditLogs', 'nodeLogs', 'nodeK8sLogs']),
  grpcDependency('Essential Contacts ComputeContacts', () => hw.proxies.contacts, 'ComputeContacts', 'gather', ['contacts']),
  grpcDependency('Pub/Sub Publish (fan-out of the result, after the write-back)', () => hw.proxies.pubsub, 'Publish', 'write', undefined),
];

async function deliver(deps: HandlerDeps, n: Record<string, any>): Promise<{ result: TriageResult | null; retried: InstanceType<typeof RetryableFailure> | null }> {
  try {
    return { result: await handleDelivery(pubsubBody(n), withFreshCache(deps)), retried: null };
  } catch (err) {
    if (err instanceof RetryableFailure) return { result: null, retried: err };
    throw err;
  }
}

function lastOutcomeLine(findingName: string): Record<string, unknown> | undefined {
  return hw.logLines.filter((l) => l.findingName === findingName).at(-1);
}

/** The loop guard exists only if everything before it landed (ARCHITECTURE invariant). */
function guardInvariantHolds(n: Record<string, any>): boolean {
  const marks = hw.world.scc.getMarks(n.finding.name) ?? {};
  if (marks[MARK_EVENT_TIME] === undefined) return true;
  return enrichmentsOf(hw.world, n.finding.name).length === 1 && marks[MARK_STATUS] === 'triaged' && marks[MARK_REPORT] !== undefined && marks[MARK_VERDICT] !== undefined;
}

function expectConverged(n: Record<string, any>): void {
  const enrichments = enrichmentsOf(hw.world, n.finding.name);
  expect(enrichments).toHaveLength(1);
  expect(enrichmentProblems(enrichments[0] as never)).toEqual([]);
  expect(hw.world.scc.getMarks(n.finding.name)).toMatchObject({
    [MARK_STATUS]: 'triaged',
    [MARK_REPORT]: enrichments[0]!.name,
    [MARK_EVENT_TIME]: n.finding.eventTime,
  });
}

describe.each(DEPENDENCIES)('$name', (dep) => {
  it.each(FAULTS)('%s', async (fault) => {
    const n = freshOriginal(hw.world, attack, `${dep.name}${fault}`);
    const slow = fault === 'slower than the deadline';
    const transient = !['PERMISSION_DENIED', 'NOT_FOUND'].includes(fault);
    const deps = dep.kind === 'gather' ? (slow ? short : normal) : dep.name.startsWith('Pub/Sub') ? (transient ? shortPublish : normalWrites) : slow ? shortWrites : normalWrites;
    dep.arm(fault);
    let outcome: Awaited<ReturnType<typeof deliver>>;
    try {
      outcome = await deliver(deps, n);
    } finally {
      dep.disarm();
      // A refused or dropped read pauses the process's Cloud Logging reads (the gate in lib/gather/log-query.ts, at
      // most LOG_READ_RETRY.maxMs at a time); the next dependency's cells are judged on reads that are not paused, so
      // they start once the Logging cells' last pause is over.
      if (fault === FAULTS.at(-1) && dep.name.startsWith('Cloud Logging')) await new Promise((r) => setTimeout(r, LOG_READ_RETRY.maxMs + 500));
    }
    cells.push(`${dep.name} × ${fault}`);

    if (dep.kind === 'gather') {
      expect(outcome.retried).toBeNull();
      const result = outcome.result!;
      expect(result.outcome).toBe('triaged');
      const report = result.report as TriagedReport;
      let gapSections = [...new Set(report.gaps.map((g) => g.section))].sort();
      if (slow) {
        // The slow dependency's sections run out of time; a section that is healthy but not finished by the
        // short deadline on a loaded machine is a deadline gap too, and is what this cell does not judge.
        for (const section of dep.gaps ?? []) expect(report.gaps.find((g) => g.section === section)?.reason).toMatch(/deadline|needs /);
        const others = report.gaps.filter((g) => !(dep.gaps ?? []).includes(g.section));
        expect(others.filter((g) => !/deadline|needs /.test(g.reason))).toEqual([]);
        gapSections = gapSections.filter((section) => (dep.gaps ?? []).includes(section));
      }
      expect(gapSections).toEqual([...(dep.gaps ?? [])].sort());
      // Nothing else was lost: every section without a gap is in the report.
      const present = { relatedFindings: report.relatedFindings, cluster: report.cluster?.details, node: report.node, pod: report.pod, podLogs: report.logs.pod, auditLogs: report.logs.audit, nodeLogs: report.logs.node, nodeK8sLogs: report.logs.nodeKubernetes };
      const gapped = new Set(report.gaps.map((g) => g.section));
      for (const [section, value] of Object.entries(present)) if (!gapped.has(section)) expect([section, value ?? null]).not.toEqual([section, null]);
      if (!gapped.has('contacts')) expect(report.owners.contacts.length).toBeGreaterThan(0);
      // The gap says what went wrong, and the report was written.
      expect(report.gaps.every((g) => g.reason.length > 5)).toBe(true);
      expectConverged(n);
      return;
    }

    // A write dependency: ack or retry, decided by the kind of failure.
    const line = lastOutcomeLine(n.finding.name);
    if (transient) {
      expect(outcome.retried).toBeInstanceOf(RetryableFailure);
      expect(line).toMatchObject({ outcome: 'retry', severity: 'WARNING' });
    } else {
      expect(outcome.retried).toBeNull();
      expect(outcome.result?.outcome).toBe('failed_permanent');
      expect(line).toMatchObject({ outcome: 'failed_permanent', severity: 'ERROR' });
    }
    expect(guardInvariantHolds(n)).toBe(true);
    expect(enrichmentsOf(hw.world, n.finding.name).length).toBeLessThanOrEqual(1);

    // Whatever was half-written, the next delivery (Pub/Sub's redelivery, or a replay after a permanent error) converges.
    const again = await deliver(normalWrites, n);
    expect(again.retried).toBeNull();
    expect(again.result?.outcome).toBe('triaged');
    expectConverged(n);
    // The result went out, maybe more than once (at least once), always as the same message for consumers to dedupe.
    const published = hw.pubsub.published(FANOUT_TOPIC).map((m) => JSON.parse(m.data.toString('utf8')) as { dedupeKey: string; finding: { name: string } }).filter((m) => m.finding.name === n.finding.name);
    expect(published.length).toBeGreaterThanOrEqual(1);
    expect(new Set(published.map((m) => m.dedupeKey)).size).toBe(1);
  });
});

describe('the matrix as a whole', () => {
  it(`ran every dependency × fault (${DEPENDENCIES.length} × ${FAULTS.length} = ${DEPENDENCIES.length * FAULTS.length} cells)`, () => {
    expect(new Set(cells).size).toBe(DEPENDENCIES.length * FAULTS.length);
    expect(cells).toHaveLength(63);
  });

  it('made no write to Kubernetes or GKE and no SCC write but our finding and the socat_triage_* marks (request logs)', () => {
    const audit = leastPrivilegeAudit(hw);
    expect(audit.violations).toEqual([]);
    expect(audit.calls).toBeGreaterThan(500);
    recordFigures('faults', { faultDependencies: DEPENDENCIES.length, faultKinds: FAULTS.length, faultCells: cells.length, faultCallsAudited: audit.calls });
  });
});
