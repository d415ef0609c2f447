/**
 * At-least-once delivery, through functions-framework's HTTP server as the
 * push subscription reaches the function, against the seeded world:
 *
 * - exactly-once effect: the same message 100 times one after another, and
 *   100 times at once across four instances, leaves one enrichment finding,
 *   byte-identical writes and consistent marks;
 * - a re-detection (new eventTime) updates that finding, never a second one;
 *   the notification our own mark update fires is skipped without a call;
 * - a stale delivery is acked with an ERROR line, untriaged;
 * - a poison message (a write that always fails transiently) is answered
 *   500 on every attempt, so the subscription's policy — max_delivery_attempts,
 *   then the dead-letter topic, both read from terraform/delivery.tf — parks
 *   it, with nothing half-written that would stop its replay.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as ff from '@google-cloud/functions-framework';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MARK_EVENT_TIME, MARK_REPORT, MARK_STATUS, MARK_VERDICT } from '../../lib/scc/marks.js';
import { enrichmentFindingName } from '../../lib/scc/names.js';
import { pubsubBody } from '../support/fixtures.js';
import { OWN_SOURCE, seedOriginal } from '../support/scc-scenario.js';
import { seedAttack } from '../support/world.js';
import { firstBody, loadModule, referencesIn, terraformDir, type TfModule } from '../terraform/support.js';
import { enrichmentProblems, markProblems } from './checks.js';
import { recordFigures } from './support.js';
import { cloudEventHandler } from './under-test.js';
import { enrichmentsOf, freshOriginal, leastPrivilegeAudit, startHostileWorld, type HostileWorld } from './world-harness.js';

const INSTANCES = 4;
const DUPLICATES = 100;
const MAX_AGE_SECONDS = 3600;

let hw: HostileWorld;
let attack: Record<string, any>;
let tf: TfModule;
const servers: Server[] = [];
const bases: string[] = [];
const figures: Record<string, number> = {};

beforeAll(async () => {
  hw = await startHostileWorld({ MAX_EVENT_AGE_SECONDS: String(MAX_AGE_SECONDS) });
  attack = seedAttack(hw.world, new Date(Date.now() - 120_000)).notification;
  const logDestination = { write: (line: string) => void hw.logLines.push(JSON.parse(line) as Record<string, unknown>) };
  // Separate instances, as Cloud Run scales out: each has its own clients and lookup cache. Redelivery is
  // about the write path, and gathering is what makes a delivery expensive, so the concurrent instances keep
  // the gatherers whose lookups they cache (the report still holds cluster, node, namespace, related findings
  // and contacts, which every instance must agree on) and the last one, for the long sequential run, gathers
  // nothing. test/pipeline.test.ts and the fault matrix cover full gathering.
  for (let i = 0; i <= INSTANCES; i++) {
    const name = `hostileDelivery${i}`;
    const env = { ...hw.env, DISABLED_GATHERERS: i < INSTANCES ? 'pod,podLogs,auditLogs,nodeLogs,nodeK8sLogs' : 'relatedFindings,cluster,node,pod,podLogs,auditLogs,nodeLogs,nodeK8sLogs,namespace,contacts' };
    ff.cloudEvent(name, cloudEventHandler(env, { logDestination }));
    const server = getTestServer(name);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push(server);
    bases.push(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  }
  tf = await loadModule(terraformDir);
}, 60_000);

afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  await hw?.stop();
});

const WRITES_ONLY = 'writes-only';

/** A Pub/Sub push: POST {message, subscription[, deliveryAttempt]} to /projects/P/topics/T, on instance `instance` (mod INSTANCES) or the one that gathers nothing. */
async function push(body: Record<string, unknown>, instance: number | typeof WRITES_ONLY = 0): Promise<number> {
  const res = await fetch(`${bases[instance === WRITES_ONLY ? INSTANCES : instance % INSTANCES]}/projects/sec-tools/topics/scc-socat-findings`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  await res.arrayBuffer();
  return res.status;
}

const acked = (status: number) => status >= 200 && status < 300;
const linesFor = (name: string) => hw.logLines.filter((l) => l.findingName === name);

/** The UpdateFinding requests that reached SCC for this original's enrichment finding. */
function enrichmentWrites(originalName: string): unknown[] {
  const target = enrichmentFindingName(OWN_SOURCE, originalName);
  return hw.world.scc.requestLog.filter((r) => r.method === 'UpdateFinding' && r.request.finding?.name === target).map((r) => r.request);
}

function requestCount(): number {
  const { world, proxies } = hw;
  return world.kube.requestLog.length + Object.values(proxies).reduce((n, p) => n + p.calls.length, 0);
}

function expectOneConsistentResult(n: Record<string, any>, deliveries: number, verdict: string): void {
  const enrichments = enrichmentsOf(hw.world, n.finding.name);
  expect(enrichments).toHaveLength(1);
  expect(enrichmentProblems(enrichments[0] as never)).toEqual([]);
  const marks = hw.world.scc.getMarks(n.finding.name)!;
  expect(marks).toEqual({ [MARK_STATUS]: 'triaged', [MARK_VERDICT]: verdict, [MARK_REPORT]: enrichments[0]!.name, [MARK_EVENT_TIME]: n.finding.eventTime });
  expect(markProblems(marks)).toEqual([]);
  // Every delivery wrote the very same finding: the effect of one is the effect of all.
  const writes = enrichmentWrites(n.finding.name);
  expect(writes).toHaveLength(deliveries);
  for (const w of writes) expect(w).toEqual(writes[0]);
  const lines = linesFor(n.finding.name);
  expect(lines).toHaveLength(deliveries);
  expect(new Set(lines.map((l) => `${l.outcome} ${l.enrichmentFinding}`))).toEqual(new Set([`triaged ${enrichments[0]!.name}`]));
}

describe('exactly-once effect under at-least-once delivery', () => {
  it(`the same message ${DUPLICATES} times, one after another: one enrichment finding, identical writes, consistent marks`, async () => {
    const n = freshOriginal(hw.world, attack, 'sequential');
    const body = pubsubBody(n, { messageId: 'dup-sequential' });
    const statuses: number[] = [];
    for (let i = 0; i < DUPLICATES; i++) statuses.push(await push(body, WRITES_ONLY));
    expect(statuses.every(acked)).toBe(true);
    // Without gathered context the attack still scores as suspicious at least; the verdict is whatever the first write said.
    expectOneConsistentResult(n, DUPLICATES, String(hw.world.scc.getMarks(n.finding.name)?.[MARK_VERDICT]));
    expect(['likely_malicious', 'suspicious']).toContain(hw.world.scc.getMarks(n.finding.name)?.[MARK_VERDICT]);
    figures.duplicatesSequential = statuses.length;
  }, 120_000);

  it(`the same message ${DUPLICATES} times at once, across ${INSTANCES} instances: one enrichment finding, identical writes, consistent marks`, async () => {
    const n = freshOriginal(hw.world, attack, 'concurrent');
    const body = pubsubBody(n, { messageId: 'dup-concurrent' });
    const statuses = await Promise.all(Array.from({ length: DUPLICATES }, (_, i) => push(body, i)));
    expect(statuses.every(acked)).toBe(true);
    expectOneConsistentResult(n, DUPLICATES, String(hw.world.scc.getMarks(n.finding.name)?.[MARK_VERDICT]));
    expect(['likely_malicious', 'suspicious']).toContain(hw.world.scc.getMarks(n.finding.name)?.[MARK_VERDICT]);
    figures.duplicatesConcurrent = statuses.length;
  }, 120_000);

  it('a re-detection with a new eventTime updates the report, and the notification of our own mark update is skipped', async () => {
    const n = freshOriginal(hw.world, attack, 'redetect');
    expect(acked(await push(pubsubBody(n)))).toBe(true);
    const first = enrichmentsOf(hw.world, n.finding.name);
    expect(first).toHaveLength(1);

    // CTD detects again: a later eventTime; the notification carries the marks we wrote.
    const again = structuredClone(n);
    again.finding.eventTime = new Date(Date.parse(n.finding.eventTime) + 300_000).toISOString();
    again.finding.securityMarks = { name: `${n.finding.name}/securityMarks`, marks: hw.world.scc.getMarks(n.finding.name) };
    seedOriginal(hw.world.scc, again);
    expect(acked(await push(pubsubBody(again, { messageId: 'redetection' }), 1))).toBe(true);
    const after = enrichmentsOf(hw.world, n.finding.name);
    expect(after).toHaveLength(1);
    expect(after[0]!.name).toBe(first[0]!.name);
    expect(after[0]!.sourceProperties.I04_Original_Event_Time.stringValue).toBe(again.finding.eventTime);
    expect(hw.world.scc.getMarks(n.finding.name)?.[MARK_EVENT_TIME]).toBe(again.finding.eventTime);
    expect(linesFor(n.finding.name).map((l) => l.outcome)).toEqual(['triaged', 'triaged']);

    // Updating the marks fires the notification once more, now with our guard mark: nothing is called.
    const ours = structuredClone(again);
    ours.finding.securityMarks.marks = hw.world.scc.getMarks(n.finding.name);
    const before = requestCount();
    expect(acked(await push(pubsubBody(ours, { messageId: 'own-mark-update' }), 2))).toBe(true);
    expect(linesFor(n.finding.name).at(-1)).toMatchObject({ outcome: 'skipped', severity: 'INFO', reason: expect.stringMatching(/loop guard/) });
    expect(requestCount()).toBe(before);
    expect(enrichmentsOf(hw.world, n.finding.name)).toHaveLength(1);
  });

  it('an older detection redelivered after a newer one is undone by the notification its own mark update fires', async () => {
    const n = freshOriginal(hw.world, attack, 'outoforder');
    const newer = structuredClone(n);
    newer.finding.eventTime = new Date(Date.parse(n.finding.eventTime) + 300_000).toISOString();
    seedOriginal(hw.world.scc, newer);
    const firedByMarks = () => {
      // What SCC sends after a mark update: the finding as it holds it now (the newer detection) with the marks now.
      const fired = structuredClone(newer);
      fired.finding.securityMarks = { name: `${n.finding.name}/securityMarks`, marks: hw.world.scc.getMarks(n.finding.name) };
      return pubsubBody(fired);
    };
    expect(acked(await push(pubsubBody(newer)))).toBe(true);
    // Pub/Sub redelivers the older detection's message late (it had failed, then backed off).
    expect(acked(await push(pubsubBody(n, { messageId: 'late' }), 1))).toBe(true);
    expect(hw.world.scc.getMarks(n.finding.name)?.[MARK_EVENT_TIME]).toBe(n.finding.eventTime);
    // Its own mark update no longer matches the finding's eventTime, so it is triaged again, for the newer detection...
    expect(acked(await push(firedByMarks(), 2))).toBe(true);
    // ...and the notification that update fires is the loop guard's.
    expect(acked(await push(firedByMarks(), 3))).toBe(true);
    expect(linesFor(n.finding.name).map((l) => l.outcome)).toEqual(['triaged', 'triaged', 'triaged', 'skipped']);
    const [enrichment, ...more] = enrichmentsOf(hw.world, n.finding.name);
    expect(more).toEqual([]);
    expect(enrichment!.sourceProperties.I04_Original_Event_Time.stringValue).toBe(newer.finding.eventTime);
    expect(hw.world.scc.getMarks(n.finding.name)?.[MARK_EVENT_TIME]).toBe(newer.finding.eventTime);
  });
});

describe('stale and poison messages', () => {
  it('acks a delivery older than MAX_EVENT_AGE_SECONDS with an ERROR line and triages nothing', async () => {
    const n = freshOriginal(hw.world, attack, 'stale');
    const before = requestCount();
    const status = await push(pubsubBody(n, { publishTime: new Date(Date.now() - (MAX_AGE_SECONDS + 60) * 1000).toISOString() }));
    expect(acked(status)).toBe(true);
    expect(linesFor(n.finding.name)).toEqual([expect.objectContaining({ outcome: 'failed_permanent', severity: 'ERROR', reason: expect.stringMatching(/MAX_EVENT_AGE_SECONDS/) })]);
    expect(requestCount()).toBe(before);
    expect(enrichmentsOf(hw.world, n.finding.name)).toHaveLength(0);
  });

  it('terraform gives the push subscription max_delivery_attempts and a dead-letter topic that keeps what it gets', async () => {
    const sub = tf.resources.get('google_pubsub_subscription.push')?.body;
    expect(sub).toBeDefined();
    const policy = firstBody(sub!['dead_letter_policy']);
    expect(await referencesIn(policy['dead_letter_topic'] ?? null)).toEqual(['google_pubsub_topic.dead_letter.id']);
    expect(await referencesIn(policy['max_delivery_attempts'] ?? null)).toEqual(['var.max_delivery_attempts']);
    expect(await referencesIn(firstBody(sub!['push_config'])['push_endpoint'] ?? null)).toContain('google_cloudfunctions2_function.triage.service_config.0.uri');
    const dlq = tf.resources.get('google_pubsub_subscription.dead_letter')?.body;
    expect(await referencesIn(dlq?.['topic'] ?? null)).toEqual(['google_pubsub_topic.dead_letter.id']);
    const attempts = tf.variables.get('max_delivery_attempts')?.['default'];
    expect(attempts).toEqual(expect.any(Number));
    expect(attempts as number).toBeGreaterThanOrEqual(5);
  });

  it('answers 500 to every attempt of a message whose write always fails transiently, so the policy dead-letters it; the replay then triages it', async () => {
    const maxAttempts = tf.variables.get('max_delivery_attempts')?.['default'] as number;
    const n = freshOriginal(hw.world, attack, 'poison');
    hw.proxies.scc.rule({ method: 'UpdateFinding', action: { kind: 'status', code: 14, message: 'SCC is down (injected)' } });
    // Pub/Sub's policy for this subscription: redeliver on any non-2xx until max_delivery_attempts, then forward to the dead-letter topic.
    let attempts = 0;
    let parked = false;
    const statuses: number[] = [];
    try {
      for (;;) {
        attempts += 1;
        const status = await push({ ...pubsubBody(n, { messageId: 'poison-1' }), deliveryAttempt: attempts }, attempts);
        statuses.push(status);
        if (acked(status)) break;
        if (attempts >= maxAttempts) {
          parked = true;
          break;
        }
      }
    } finally {
      hw.proxies.scc.clearRules();
    }
    expect(parked).toBe(true);
    expect(statuses).toEqual(Array(maxAttempts).fill(500));
    expect(linesFor(n.finding.name).map((l) => `${l.outcome} ${l.severity}`)).toEqual(Array(maxAttempts).fill('retry WARNING'));
    // Nothing was half-written that could make the replay skip it.
    expect(enrichmentsOf(hw.world, n.finding.name)).toHaveLength(0);
    expect(hw.world.scc.getMarks(n.finding.name)?.[MARK_EVENT_TIME]).toBeUndefined();

    // Someone replays the parked message once SCC is back.
    expect(acked(await push(pubsubBody(n, { messageId: 'poison-1' })))).toBe(true);
    expect(enrichmentsOf(hw.world, n.finding.name)).toHaveLength(1);
    expect(hw.world.scc.getMarks(n.finding.name)?.[MARK_EVENT_TIME]).toBe(n.finding.eventTime);
    figures.poisonAttempts = maxAttempts;
  });

  it('acks a message that can never succeed at the first attempt instead of retrying it into the dead-letter topic', async () => {
    const statuses = [
      await push({ message: { data: Buffer.from('{"finding": 42}').toString('base64'), messageId: 'bad-1' }, subscription: 's', deliveryAttempt: 1 }),
      await push({ message: { data: '%%% not base64', messageId: 'bad-2' }, subscription: 's', deliveryAttempt: 1 }),
    ];
    expect(statuses.every(acked)).toBe(true);
    const n = freshOriginal(hw.world, attack, 'denied');
    hw.proxies.scc.rule({ method: 'UpdateFinding', times: 1, action: { kind: 'status', code: 7, message: 'denied (injected)' } });
    try {
      expect(acked(await push(pubsubBody(n)))).toBe(true);
    } finally {
      hw.proxies.scc.clearRules();
    }
    expect(linesFor(n.finding.name)).toEqual([expect.objectContaining({ outcome: 'failed_permanent', severity: 'ERROR' })]);
  });
});

describe('least privilege', () => {
  it('made no write to Kubernetes or GKE and no SCC write but our finding and the socat_triage_* marks (request logs)', () => {
    const audit = leastPrivilegeAudit(hw);
    expect(audit.violations).toEqual([]);
    expect(audit.calls).toBeGreaterThan(1000);
    recordFigures('delivery', { ...figures, duplicatesDelivered: (figures.duplicatesSequential ?? 0) + (figures.duplicatesConcurrent ?? 0), deliveryCallsAudited: audit.calls });
  });
});
