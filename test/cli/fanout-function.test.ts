/**
 * The function's fan-out end to end: a notification delivered to the real
 * handler with FANOUT_TOPIC and PUBSUB_EMULATOR_HOST in the instance's env
 * ends in one triage-completed message on the topic, valid against
 * FANOUT_MESSAGE_SCHEMA and naming what the write-back wrote.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import Ajv2020Module from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { FANOUT_MESSAGE_SCHEMA, FANOUT_MESSAGE_TYPE } from '../../lib/fanout.js';
import { handleDelivery } from '../../lib/handler.js';
import { createInstance } from '../../lib/wiring.js';
import { startPubSubEmulator, type PubSubEmulator } from '../emulators/pubsub-emulator.js';
import { pubsubBody } from '../support/fixtures.js';
import { seedAttack, startWorld, type Scenario, type World } from '../support/world.js';

const Ajv2020 = ((Ajv2020Module as unknown as { default?: unknown }).default ?? Ajv2020Module) as unknown as new (o: object) => {
  compile(schema: object): ((data: unknown) => boolean) & { errors?: unknown[] | null };
};
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as unknown as (ajv: object) => void;

const TOPIC = 'projects/sec-tools-4711/topics/socat-triage-results';

describe('the function publishes one triage-completed message per triaged finding', () => {
  let world: World;
  let pubsub: PubSubEmulator;
  let attack: Scenario;
  let env: Record<string, string>;
  const validate = (() => {
    const ajv = new Ajv2020({ strict: true, allErrors: true });
    addFormats(ajv);
    return ajv.compile(FANOUT_MESSAGE_SCHEMA);
  })();

  beforeAll(async () => {
    [world, pubsub] = await Promise.all([startWorld(), startPubSubEmulator()]);
    pubsub.createTopic(TOPIC);
    attack = seedAttack(world, new Date(Date.now() - 120_000));
    env = { ...world.env, FANOUT_TOPIC: TOPIC, PUBSUB_EMULATOR_HOST: pubsub.endpoint };
  });
  afterAll(async () => {
    await Promise.all([world.stop(), pubsub.stop()]);
  });

  it('publishes the message after the write-back, valid against its schema', async () => {
    const instance = createInstance(env, { logDestination: { write: () => {} } });
    const result = await handleDelivery(pubsubBody(attack.notification), instance);
    expect(result.outcome).toBe('triaged');
    const published = pubsub.published(TOPIC);
    expect(published).toHaveLength(1);
    const message = JSON.parse(published[0]!.data.toString('utf8'));
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
    expect(published[0]!.attributes).toMatchObject({ type: FANOUT_MESSAGE_TYPE, schemaVersion: '1', c2Role: 'reverse' });
  });

  it('publishes nothing for a notification it skips (our own mark update)', async () => {
    const before = pubsub.published(TOPIC).length;
    const marked = structuredClone(attack.notification);
    marked.finding.securityMarks = { name: `${attack.findingName}/securityMarks`, marks: world.scc.getMarks(attack.findingName) };
    const result = await handleDelivery(pubsubBody(marked), createInstance(env, { logDestination: { write: () => {} } }));
    expect(result.outcome).toBe('skipped');
    expect(pubsub.published(TOPIC)).toHaveLength(before);
  });

  it('publishes nothing in a dry run', async () => {
    const before = pubsub.published(TOPIC).length;
    const result = await handleDelivery(pubsubBody(attack.notification), createInstance({ ...env, DRY_RUN: 'true' }, { logDestination: { write: () => {} } }));
    expect(result.outcome).toBe('triaged');
    expect(pubsub.published(TOPIC)).toHaveLength(before);
  });
});
