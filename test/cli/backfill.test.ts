/**
 * `backfill` over seeded organizations, as an operator runs it: exactly the
 * untriaged ACTIVE socat findings are triaged, a run cut off by SIGINT
 * resumes where it stopped, RESOURCE_EXHAUSTED backs off, and --via-topic
 * publishes what SCC would publish (to a topic on Google's Pub/Sub emulator),
 * which the function then triages.
 * Each scenario uses its own organization in one shared world.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPubSubClient, type PubSubClient } from '../../lib/clients.js';
import { parseNotification } from '../../lib/finding/parse.js';
import { handleDelivery } from '../../lib/handler.js';
import { MARK_EVENT_TIME } from '../../lib/scc/marks.js';
import { enrichmentFindingName } from '../../lib/scc/names.js';
import { canonicalTimestamp } from '../../lib/timestamp.js';
import { createInstance } from '../../lib/wiring.js';
import { Status } from '../emulators/grpc-harness.js';
import { notificationFixture, pubsubBody } from '../support/fixtures.js';
import { readTopic, startGooglePubSub, type GooglePubSub } from '../support/google-pubsub.js';
import { OWN_SOURCE } from '../support/scc-scenario.js';
import { seedAttack, startWorld, type Scenario, type World } from '../support/world.js';
import { baseEnv, exit, HAS_SCRIPT, runCli, runUnderPty, seedSocat, withoutSgr } from './support.js';

const ORG = '123456789012';
const HOUR = 3_600_000;
let world: World;
let env: Record<string, string>;
const dir = mkdtempSync(join(tmpdir(), 'cli-backfill-'));

beforeAll(async () => {
  world = await startWorld();
  // No Pub/Sub here: only --via-topic publishes, and its tests start Google's emulator themselves.
  env = baseEnv({ ...world.env });
});
afterAll(async () => {
  await world.stop();
});
beforeEach(() => {
  world.scc.clearRequestLog();
  world.scc.clearFaults();
});

/** A CTD source in a fresh organization, so each scenario lists only its own findings. */
function organization(org: string): string {
  const source = `organizations/${org}/sources/9876543210123456789`;
  world.scc.addSource({ name: source, displayName: 'Container Threat Detection' });
  return source;
}

const enrichmentOf = (name: string) => enrichmentFindingName(OWN_SOURCE, name);
const writtenEnrichments = () => world.scc.requests('UpdateFinding').filter((r) => r.code === 0).map((r) => String(r.request.finding.name));
const guarded = (name: string) => {
  const marks = world.scc.getMarks(name) ?? {};
  const eventTime = world.scc.getFinding(name)?.eventTime;
  const seconds = Number(eventTime?.seconds ?? 0);
  const iso = new Date(seconds * 1000 + Math.floor(Number(eventTime?.nanos ?? 0) / 1e6)).toISOString();
  return marks[MARK_EVENT_TIME] !== undefined && canonicalTimestamp(marks[MARK_EVENT_TIME]!) === canonicalTimestamp(iso);
};

describe('backfill of a seeded organization', () => {
  let attack: Scenario;
  const want: string[] = [];
  let triagedBefore: string;
  let staleMark: string;

  beforeAll(() => {
    const now = Date.now();
    attack = seedAttack(world, new Date(now - 2 * 60_000));
    const untriaged = seedSocat(world, { eventTime: new Date(now - HOUR) });
    const old = new Date(now - 3 * HOUR);
    triagedBefore = seedSocat(world, { eventTime: old, marks: { [MARK_EVENT_TIME]: old.toISOString() } });
    // Triaged for an earlier detection; re-detected since (eventTime moved on).
    staleMark = seedSocat(world, { eventTime: new Date(now - 2 * HOUR), marks: { [MARK_EVENT_TIME]: new Date(now - 30 * HOUR).toISOString() } });
    seedSocat(world, { eventTime: new Date(now - HOUR), state: 'INACTIVE' });
    seedSocat(world, { eventTime: new Date(now - HOUR), category: 'Execution: Added Binary Executed' });
    seedSocat(world, { eventTime: new Date(now - 10 * 24 * HOUR) });
    const elsewhere = organization('555555555555');
    seedSocat(world, { source: elsewhere, eventTime: new Date(now - HOUR) });
    want.push(attack.findingName, untriaged, staleMark);
  });

  it('--dry-run lists exactly the untriaged findings and writes nothing', async () => {
    const r = await runCli(['backfill', '--organization', ORG, '--since', '7d', '--dry-run', '--json'], { env });
    expect(exit(r)).toMatchObject({ code: 0 });
    const s = JSON.parse(r.stdout);
    expect(s).toMatchObject({ dryRun: true, listed: 4, alreadyTriaged: 1, selected: 3, triaged: 0, failed: 0 });
    expect(s.results.map((x: { name: string }) => x.name).sort()).toEqual([...want].sort());
    expect(s.results.every((x: { outcome: string }) => x.outcome === 'planned')).toBe(true);
    expect(s.filter).toBe(`(category="Execution: Socat Reverse Shell Detected") AND state="ACTIVE" AND event_time >= "${s.since}"`);
    expect(world.scc.requests().filter((q) => q.method !== 'ListFindings')).toEqual([]);
  });

  it('triages exactly the untriaged findings, reporting progress as plain lines when piped', async () => {
    const r = await runCli(['backfill', '--organization', `organizations/${ORG}`, '--since', '7d', '--concurrency', '2', '--json'], { env });
    expect(exit(r)).toMatchObject({ code: 0 });
    const s = JSON.parse(r.stdout);
    expect(s).toMatchObject({ listed: 4, alreadyTriaged: 1, selected: 3, triaged: 3, failed: 0, unfinished: 0, interrupted: false });
    expect(writtenEnrichments().sort()).toEqual(want.map(enrichmentOf).sort());
    for (const name of want) expect(guarded(name)).toBe(true);
    expect(writtenEnrichments()).not.toContain(enrichmentOf(triagedBefore));
    const progress = r.stderr.split('\n').filter((l) => l.startsWith('backfill: ['));
    expect(progress).toHaveLength(3);
    expect(progress[2]).toMatch(/^backfill: \[3\/3\] triaged organizations\/.* \(\d+\.\d\/s · ETA .+\)$/);
    expect(r.stderr).not.toContain('\r');
  });

  it('has nothing left to do on the next run', async () => {
    const r = await runCli(['backfill', '--organization', ORG, '--json'], { env });
    expect(exit(r)).toMatchObject({ code: 0 });
    expect(JSON.parse(r.stdout)).toMatchObject({ listed: 4, alreadyTriaged: 4, selected: 0, triaged: 0 });
    expect(writtenEnrichments()).toEqual([]);
  });

  it('--force triages them again', async () => {
    const r = await runCli(['backfill', '--organization', ORG, '--force', '--json'], { env });
    expect(exit(r)).toMatchObject({ code: 0 });
    expect(JSON.parse(r.stdout)).toMatchObject({ selected: 4, triaged: 4, alreadyTriaged: 0 });
    expect(writtenEnrichments().sort()).toEqual([...want, triagedBefore].map(enrichmentOf).sort());
  });
});

describe('an interrupted backfill', () => {
  it('stops on SIGINT after the findings in flight, and the next run triages exactly the rest', async () => {
    const source = organization('222222222222');
    const names = Array.from({ length: 8 }, (_, i) => seedSocat(world, { source, eventTime: new Date(Date.now() - (i + 1) * 60_000) }));
    // Slow enough that the run is still going when the signal arrives.
    world.scc.setLatency('UpdateSecurityMarks', 300);
    let signalled = false;
    const first = await runCli(['backfill', '--organization', '222222222222', '--concurrency', '1'], {
      env,
      onStderr: (soFar, child) => {
        if (!signalled && soFar.includes('backfill: [2/8]')) {
          signalled = true;
          child.kill('SIGINT');
        }
      },
    });
    world.scc.setLatency('UpdateSecurityMarks', 0);
    expect(exit(first)).toMatchObject({ code: 130 });
    expect(first.stderr).toMatch(/SIGINT: finishing the findings in flight/);
    expect(first.stdout).toMatch(/not finished \d+ \(interrupted: run the same command again to resume\)/);
    const done = names.filter(guarded);
    expect(done.length).toBeGreaterThanOrEqual(2);
    expect(done.length).toBeLessThan(8);

    world.scc.clearRequestLog();
    const second = await runCli(['backfill', '--organization', '222222222222', '--concurrency', '4', '--json'], { env });
    expect(exit(second)).toMatchObject({ code: 0 });
    const rest = names.filter((n) => !done.includes(n));
    expect(JSON.parse(second.stdout)).toMatchObject({ listed: 8, alreadyTriaged: done.length, selected: rest.length, triaged: rest.length });
    expect(writtenEnrichments().sort()).toEqual(rest.map(enrichmentOf).sort());
    expect(names.every(guarded)).toBe(true);
  });
});

describe('quotas and failures', () => {
  it('backs off on RESOURCE_EXHAUSTED, listing and writing, and still triages everything', async () => {
    const source = organization('333333333333');
    const names = [seedSocat(world, { source, eventTime: new Date(Date.now() - 60_000) }), seedSocat(world, { source, eventTime: new Date(Date.now() - 120_000) })];
    world.scc.injectFault('ListFindings', { code: Status.RESOURCE_EXHAUSTED, message: 'Quota exceeded for quota metric ListFindings' });
    world.scc.injectFault('UpdateFinding', { code: Status.RESOURCE_EXHAUSTED, message: 'Quota exceeded for quota metric UpdateFinding', times: 2 });
    const r = await runCli(['backfill', '--organization', '333333333333', '--concurrency', '2', '--json'], { env });
    expect(exit(r)).toMatchObject({ code: 0 });
    expect(JSON.parse(r.stdout)).toMatchObject({ selected: 2, triaged: 2, failed: 0 });
    expect(r.stderr).toMatch(/RESOURCE_EXHAUSTED: Quota exceeded for quota metric ListFindings; retry 1 in \d+\.\d s/);
    expect(r.stderr).toMatch(/RESOURCE_EXHAUSTED: Quota exceeded for quota metric UpdateFinding; retry \d in \d+\.\d s/);
    expect(world.scc.requests('UpdateFinding').map((q) => q.code)).toEqual([Status.RESOURCE_EXHAUSTED, Status.RESOURCE_EXHAUSTED, 0, 0]);
    expect(names.every(guarded)).toBe(true);
  });

  it('exits 3 listing what failed, and a re-run after the fix picks it up', async () => {
    const source = organization('444444444444');
    const name = seedSocat(world, { source, eventTime: new Date(Date.now() - 60_000) });
    world.scc.injectFault('UpdateSecurityMarks', { code: Status.PERMISSION_DENIED, message: 'caller lacks securitycenter.findingsecuritymarks.update' });
    const failed = await runCli(['backfill', '--organization', '444444444444'], { env });
    expect(exit(failed)).toMatchObject({ code: 3 });
    expect(failed.stdout).toContain(`failed 1:\n    ${name}: write-back: PERMISSION_DENIED: caller lacks securitycenter.findingsecuritymarks.update`);
    expect(failed.stderr.trim().split('\n').at(-1)).toBe('backfill: 1 finding failed (listed above)');
    expect(guarded(name)).toBe(false);
    const again = await runCli(['backfill', '--organization', '444444444444', '--json'], { env });
    expect(exit(again)).toMatchObject({ code: 0 });
    expect(JSON.parse(again.stdout)).toMatchObject({ triaged: 1 });
    expect(guarded(name)).toBe(true);
  });
});

describe("backfill --via-topic (Google's Pub/Sub emulator)", () => {
  const TOPIC = 'projects/sec-tools-4711/topics/scc-socat-findings';
  const READER = 'projects/sec-tools-4711/subscriptions/replay-reader';
  let emulator: GooglePubSub | undefined;
  let client: PubSubClient | undefined;
  let viaEnv: Record<string, string>;

  beforeAll(async () => {
    // Throws "could not run: Google's Pub/Sub emulator: <reason>" when it is missing: these tests then fail visibly.
    emulator = await startGooglePubSub();
    client = await createPubSubClient({ pubsubEmulatorHost: emulator.endpoint, projectId: 'sec-tools-4711' });
    viaEnv = { ...env, PUBSUB_EMULATOR_HOST: emulator.endpoint };
  }, 90_000);
  afterAll(async () => {
    await client?.close();
    await emulator?.stop();
  });

  it('publishes each untriaged finding as the NotificationMessage SCC would, and the function triages it', async () => {
    const [topic] = await client!.createTopic(TOPIC);
    await topic.createSubscription(READER);
    const source = organization('666666666666');
    const eventTime = new Date(Date.now() - 5 * 60_000);
    const names = [
      seedSocat(world, { source, eventTime }),
      seedSocat(world, { source, eventTime: new Date(Date.now() - 6 * 60_000) }),
    ];
    const done = seedSocat(world, { source, eventTime, marks: { [MARK_EVENT_TIME]: eventTime.toISOString() } });
    const r = await runCli(['backfill', '--organization', '666666666666', '--via-topic', TOPIC, '--json'], { env: viaEnv });
    expect(exit(r)).toMatchObject({ code: 0 });
    expect(JSON.parse(r.stdout)).toMatchObject({ mode: 'publish', topic: TOPIC, selected: 2, published: 2, alreadyTriaged: 1 });
    // The CLI itself wrote nothing to SCC.
    expect(world.scc.requests().filter((q) => q.method !== 'ListFindings')).toEqual([]);

    const messages = await readTopic(client!, TOPIC, READER);
    expect(messages).toHaveLength(2);
    const fixture = notificationFixture('socat-v2');
    for (const m of messages) {
      expect(m.attributes).toEqual({ replayedBy: 'scc-socat-triage-backfill' });
      const data = JSON.parse(m.data.toString('utf8'));
      expect(Object.keys(data).sort()).toEqual(['finding', 'resource']);
      expect(names).toContain(data.finding.name);
      expect(data.finding.name).not.toBe(done);
      // proto3 JSON as SCC prints it: the fixture's fields, enums as names, no defaulted fields.
      const { name: _n, parent: _p, canonicalName: _c, eventTime: _e, createTime: _t, securityMarks: _m, ...fixed } = fixture.finding;
      expect(data.finding).toMatchObject(fixed);
      expect(JSON.stringify(data)).not.toMatch(/"hashedSize"|"externalSystems"|"contacts":\{\}|"partiallyHashed":false/);
      expect(data.resource).toMatchObject({ name: fixture.resource.name, type: 'google.container.Cluster', gcpMetadata: { projectDisplayName: 'shop-prod-4711' } });
      expect(parseNotification(data).name).toBe(data.finding.name);
    }

    // What the deployed function does with one of them.
    const instance = createInstance(world.env, { logDestination: { write: () => {} } });
    const first = JSON.parse(messages[0]!.data.toString('utf8'));
    const result = await handleDelivery(pubsubBody(first, { messageId: messages[0]!.messageId }), instance);
    expect(result).toMatchObject({ outcome: 'triaged', findingName: first.finding.name });
    expect(guarded(first.finding.name)).toBe(true);
  });

  it('stops with exit 3 when the topic does not exist', async () => {
    const source = organization('777777777777');
    seedSocat(world, { source, eventTime: new Date(Date.now() - 60_000) });
    seedSocat(world, { source, eventTime: new Date(Date.now() - 120_000) });
    const r = await runCli(['backfill', '--organization', '777777777777', '--via-topic', 'projects/sec-tools-4711/topics/no-such-topic', '--concurrency', '1', '--json'], { env: viaEnv });
    expect(exit(r)).toMatchObject({ code: 3 });
    const s = JSON.parse(r.stdout);
    expect(s.fatal).toMatch(/^cannot publish to projects\/sec-tools-4711\/topics\/no-such-topic: NOT_FOUND/);
    expect(s.published).toBe(0);
    expect(s.failed + s.unfinished).toBe(2);
  });
});

describe('usage', () => {
  it.each([
    ['no --organization', ['backfill'], /needs --organization/],
    ['a malformed organization', ['backfill', '--organization', 'acme'], /numeric organization id/],
    ['an unreadable --since', ['backfill', '--organization', ORG, '--since', 'last week'], /--since takes a duration/],
    ['--since in the future', ['backfill', '--organization', ORG, '--since', '2999-01-01T00:00:00Z'], /in the future/],
    ['--concurrency 0', ['backfill', '--organization', ORG, '--concurrency', '0'], /--concurrency takes a whole number from 1 to 32/],
    ['a topic that is not a full name', ['backfill', '--organization', ORG, '--via-topic', 'scc-findings'], /projects\/PROJECT\/topics\/TOPIC/],
    ['--force with --via-topic', ['backfill', '--organization', ORG, '--force', '--via-topic', 'projects/sec-tools-4711/topics/scc-socat-findings'], /--force cannot be combined with --via-topic/],
  ])('exits 2 with one line for %s', async (_what, args, message) => {
    const r = await runCli(args, { env });
    expect(exit(r)).toMatchObject({ code: 2 });
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('refuses to publish to a real topic while reading from an emulator', async () => {
    const { PUBSUB_EMULATOR_HOST: _omit, ...withoutPubsub } = env;
    const r = await runCli(['backfill', '--organization', ORG, '--via-topic', 'projects/sec-tools-4711/topics/scc-socat-findings'], { env: withoutPubsub });
    expect(exit(r)).toMatchObject({ code: 2 });
    expect(r.stderr).toMatch(/PUBSUB_EMULATOR_HOST is unset while SCC_EMULATOR_HOST is set/);
    expect(world.scc.requests()).toEqual([]);
  });
});

(HAS_SCRIPT ? describe : describe.skip)('progress on a terminal', () => {
  it('draws a bar with done/total, rate and ETA', async () => {
    const source = organization('888888888888');
    for (let i = 0; i < 3; i++) seedSocat(world, { source, eventTime: new Date(Date.now() - (i + 1) * 60_000) });
    const r = await runUnderPty(['backfill', '--organization', '888888888888'], env, dir);
    expect(r.code).toBe(0);
    const bar = withoutSgr(r.output);
    expect(bar).toMatch(/\r\u001b\[Kbackfill █+░* 1\/3 +33% · \d+\.\d\/s · ETA /);
    expect(bar).toMatch(/backfill █+ 3\/3 100% · \d+\.\d\/s · ETA 0s/);
    expect(r.output).toContain('triaged 3 of 3');
    // The bar is redrawn in place, not printed once per finding.
    expect(bar).not.toMatch(/backfill: \[1\/3\]/);
  });
});
