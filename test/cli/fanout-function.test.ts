/**
 * The function's fan-out end to end: a notification delivered to the real
 * handler with FANOUT_TOPIC and PUBSUB_EMULATOR_HOST in the instance's env
 * ends in one triage-completed message on the topic, valid against
 * FANOUT_MESSAGE_SCHEMA and naming what the write-back wrote. The topic lives
 * on Google's Pub/Sub emulator and is read back through a subscription.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import Ajv2020Module from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { createPubSubClient, type PubSubClient } from '../../lib/clients.js';
import { FANOUT_MESSAGE_SCHEMA, FANOUT_MESSAGE_TYPE } from '../../lib/fanout.js';
import { handleDelivery } from '../../lib/handler.js';
import { createInstance } from '../../lib/wiring.js';
import { pubsubBody } from '../support/fixtures.js';
import { readTopic, startGooglePubSub, type GooglePubSub } from '../support/google-pubsub.js';
import { seedAttack, startWorld, type Scenario, type World } from '../support/world.js';

const Ajv2020 = ((Ajv2020Module as unknown as { default?: unknown }).default ?? Ajv2020Module) as unknown as new (o: object) => {
  compile(schema: object): ((data: unknown) => boolean) & { errors?: unknown[] | null };
};
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as unknown as (ajv: object) => void;

const TOPIC = 'projects/sec-tools-4711/topics/socat-triage-results';
const READER = 'projects/sec-tools-4711/subscriptions/results-reader';

describe('the function publishes one triage-completed message per triaged finding', () => {
  let world: World;
  let emulator: GooglePubSub | undefined;
  let client: PubSubClient | undefined;
  let attack: Scenario;
  let env: Record<string, string>;
  const validate = (() => {
    const ajv = new Ajv2020({ strict: true, allErrors: true });
    addFormats(ajv);
    return ajv.compile(FANOUT_MESSAGE_SCHEMA);
  })();

  beforeAll(async () => {
    // startGooglePubSub throws "could not run: Google's Pub/Sub emulator: <reason>" when it is missing: every test here then fails visibly.
    // Each is kept as soon as it is up, so afterAll stops it whichever of the two failed.
    const up = [startWorld().then((w) => (world = w)), startGooglePubSub().then((e) => (emulator = e))];
    await Promise.allSettled(up);
    await Promise.all(up);
    if (!emulator) throw new Error('unreachable: the emulator started without being kept');
    client = await createPubSubClient({ pubsubEmulatorHost: emulator.endpoint, projectId: 'sec-tools-4711' });
    const [topic] = await client.createTopic(TOPIC);
    await topic.createSubscription(READER);
    attack = seedAttack(world, new Date(Date.now() - 120_000));
    env = { ...world.env, FANOUT_TOPIC: TOPIC, PUBSUB_EMULATOR_HOST: emulator.endpoint };
  }, 90_000);
  afterAll(async () => {
    await client?.close();
    await Promise.all([world?.stop(), emulator?.stop()]);
  });
  /** What reached the topic since the last read (the reader acknowledges what it read). */
  const published = () => readTopic(client!, TOPIC, READER);

  it('publishes the message after the write-back, valid against its schema', async () => {
    const instance = createInstance(env, { logDestination: { write: () => {} } });
    const result = await handleDelivery(pubsubBody(attack.notification), instance);
    expect(result.outcome).toBe('triaged');
    const messages = await published();
    expect(messages).toHaveLength(1);
    const message = JSON.parse(messages[0]!.data.toString('utf8'));
    const ok = validate(message);
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
    expect(message).toMatchObject({
      type: FANOUT_MESSAGE_TYPE,
      finding: { name: attack.findingName },
      enrichmentFinding: result.written?.enrichmentFinding,
      verdict: { level: result.report && 'verdict' in result.report ? result.report.verdict.level : null },
      c2: { host: '203.0.113.77', port: 4444 },
    });
    expect(messages[0]!.attributes).toMatchObject({ type: FANOUT_MESSAGE_TYPE, schemaVersion: '1', c2Role: 'reverse' });
  });

  it('publishes nothing for a notification it skips (our own mark update)', async () => {
    const marked = structuredClone(attack.notification);
    marked.finding.securityMarks = { name: `${attack.findingName}/securityMarks`, marks: world.scc.getMarks(attack.findingName) };
    const result = await handleDelivery(pubsubBody(marked), createInstance(env, { logDestination: { write: () => {} } }));
    expect(result.outcome).toBe('skipped');
    expect(await published()).toEqual([]);
  });

  it('publishes nothing in a dry run', async () => {
    const result = await handleDelivery(pubsubBody(attack.notification), createInstance({ ...env, DRY_RUN: 'true' }, { logDestination: { write: () => {} } }));
    expect(result.outcome).toBe('triaged');
    expect(await published()).toEqual([]);
  });
});
