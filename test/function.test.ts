/**
 * The function end to end through functions-framework's own test server:
 * real HTTP, real CloudEvent and Pub/Sub push decoding, the real SCC client
 * against the emulator. The ack/retry contract is the HTTP status: 2xx acks,
 * 500 makes Pub/Sub redeliver.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import * as ff from '@google-cloud/functions-framework';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { cloudEventHandler } from '../lib/wiring.js';
import { startSccEmulator, type SccEmulator } from './emulators/scc-emulator.js';
import { cloudEventHeaders, notificationFixture, pubsubBody } from './support/fixtures.js';
import { OWN_SOURCE, ownFindings, seedOriginal, seedSources } from './support/scc-scenario.js';

let emu: SccEmulator;
let server: Server;
let base: string;
const logLines: Array<Record<string, any>> = [];
const logDestination = { write: (line: string) => void logLines.push(JSON.parse(line)) };

beforeAll(async () => {
  emu = await startSccEmulator();
  // Only SCC is emulated here (write-back and delivery semantics); test/pipeline.test.ts runs every gatherer.
  const env = { SCC_SOURCE_NAME: OWN_SOURCE, SCC_EMULATOR_HOST: emu.endpoint, LOG_LEVEL: 'info', MAX_EVENT_AGE_SECONDS: '3600', DISABLED_GATHERERS: 'cluster,node,pod,namespace,podLogs,auditLogs,nodeLogs,nodeK8sLogs,contacts' };
  ff.cloudEvent('triageUnderTest', cloudEventHandler(env, { logDestination }));
  ff.cloudEvent('misconfigured', cloudEventHandler({ SCC_SOURCE_NAME: 'not-a-source' }, { logDestination }));
  server = getTestServer('triageUnderTest');
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await emu.stop();
});
beforeEach(() => {
  emu.reset();
  emu.clearFaults();
  seedSources(emu);
  logLines.length = 0;
});

const fresh = () => {
  const n = structuredClone(notificationFixture('socat-v2'));
  n.finding.eventTime = new Date(Date.now() - 120_000).toISOString();
  return n;
};

/** A binary-mode CloudEvent, as Eventarc delivers Pub/Sub messages. */
function postCloudEvent(body: unknown, url = base, id = 'evt-1') {
  return fetch(url, {
    method: 'POST',
    headers: cloudEventHeaders(id),
    body: JSON.stringify(body),
  });
}

/** A plain Pub/Sub push body, POSTed to the topic path as the deployment configures it. */
function postPush(body: unknown) {
  return fetch(`${base}/projects/sec-tools/topics/scc-socat-findings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

const outcomes = () => logLines.filter((l) => l.message === 'triage outcome');

describe('triageSocatFinding through functions-framework', () => {
  it.each([
    ['a CloudEvent', postCloudEvent],
    ['a Pub/Sub push body', postPush],
  ])('triages %s and acks', async (_name, post) => {
    const n = fresh();
    seedOriginal(emu, n);
    const res = await post(pubsubBody(n));
    expect(res.status).toBeGreaterThanOrEqual(200);
    expect(res.status).toBeLessThan(300);
    expect(ownFindings(emu)).toHaveLength(1);
    expect(emu.getMarks(n.finding.name)?.socat_triage_event_time).toBe(n.finding.eventTime);
    const [line] = outcomes();
    expect(line).toMatchObject({ severity: 'INFO', outcome: 'triaged', findingName: n.finding.name, messageId: '1001' });
    expect(typeof line!.durationMs).toBe('number');
  });

  it('skips the notification caused by its own mark update', async () => {
    const n = fresh();
    seedOriginal(emu, n);
    await postCloudEvent(pubsubBody(n));
    const marked = structuredClone(n);
    marked.finding.securityMarks = { marks: emu.getMarks(n.finding.name) };
    emu.clearRequestLog();
    const res = await postCloudEvent(pubsubBody(marked));
    expect(res.ok).toBe(true);
    expect(outcomes().at(-1)).toMatchObject({ outcome: 'skipped', reason: expect.stringMatching(/loop guard/) });
    expect(emu.requestLog).toHaveLength(0);
  });

  it.each([
    ['another category', (n: any) => (n.finding.category = 'Persistence: IAM Anomalous Grant'), 'skipped', 'INFO'],
    ['an INACTIVE finding', (n: any) => (n.finding.state = 'INACTIVE'), 'skipped', 'INFO'],
  ])('acks %s as skipped without writing', async (_name, mutate, outcome, severity) => {
    const n = fresh();
    mutate(n);
    const res = await postCloudEvent(pubsubBody(n));
    expect(res.ok).toBe(true);
    expect(outcomes()[0]).toMatchObject({ outcome, severity });
    expect(ownFindings(emu)).toHaveLength(0);
  });

  it.each([
    ['data that is not base64', { message: { data: '%%%', messageId: '9' }, subscription: 's' }],
    ['data that is not JSON', { message: { data: Buffer.from('nope').toString('base64'), messageId: '9' }, subscription: 's' }],
    ['a notification without a finding', pubsubBody({ resource: {} })],
  ])('acks %s as rejected with a warning naming the problem', async (_name, body) => {
    const res = await postCloudEvent(body);
    expect(res.ok).toBe(true);
    expect(outcomes()[0]).toMatchObject({ outcome: 'rejected', severity: 'WARNING', reason: expect.any(String) });
    expect(outcomes()[0]!.reason.length).toBeGreaterThan(10);
  });

  it.each([
    ['UNAVAILABLE', 14],
    ['DEADLINE_EXCEEDED', 4],
    ['RESOURCE_EXHAUSTED', 8],
  ])('answers 500 on a transient %s so Pub/Sub redelivers', async (_name, code) => {
    const n = fresh();
    seedOriginal(emu, n);
    emu.injectFault('UpdateFinding', { code, message: 'injected', times: 1 });
    const res = await postCloudEvent(pubsubBody(n));
    expect(res.status).toBe(500);
    expect(outcomes()[0]).toMatchObject({ outcome: 'retry', severity: 'WARNING' });
    // The redelivery then succeeds, into the same single enrichment finding.
    const again = await postCloudEvent(pubsubBody(n));
    expect(again.ok).toBe(true);
    expect(ownFindings(emu)).toHaveLength(1);
  });

  it.each([
    ['PERMISSION_DENIED', 7],
    ['INVALID_ARGUMENT', 3],
    ['NOT_FOUND', 5],
  ])('acks a permanent %s with an error log', async (_name, code) => {
    const n = fresh();
    seedOriginal(emu, n);
    emu.injectFault('UpdateFinding', { code, message: 'injected', times: 1 });
    const res = await postCloudEvent(pubsubBody(n));
    expect(res.ok).toBe(true);
    expect(outcomes()[0]).toMatchObject({ outcome: 'failed_permanent', severity: 'ERROR', reason: expect.stringContaining('injected') });
  });

  it('acks a delivery older than MAX_EVENT_AGE_SECONDS with an error log', async () => {
    const n = fresh();
    seedOriginal(emu, n);
    const res = await postCloudEvent(pubsubBody(n, { publishTime: new Date(Date.now() - 2 * 3600_000).toISOString() }));
    expect(res.ok).toBe(true);
    expect(outcomes()[0]).toMatchObject({ outcome: 'failed_permanent', severity: 'ERROR', reason: expect.stringMatching(/MAX_EVENT_AGE_SECONDS/) });
    expect(ownFindings(emu)).toHaveLength(0);
  });

  it('retries every delivery while the configuration is broken', async () => {
    const broken = getTestServer('misconfigured');
    await new Promise<void>((resolve) => broken.listen(0, '127.0.0.1', resolve));
    try {
      const res = await postCloudEvent(pubsubBody(fresh()), `http://127.0.0.1:${(broken.address() as AddressInfo).port}`);
      expect(res.status).toBe(500);
      expect(logLines.at(-1)).toMatchObject({ outcome: 'retry', reason: expect.stringMatching(/SCC_SOURCE_NAME/) });
    } finally {
      await new Promise((resolve) => broken.close(resolve));
    }
  });
});
