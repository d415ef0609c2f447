/**
 * The Pub/Sub emulator through the real @google-cloud/pubsub client, built
 * as production builds it (createPubSubClient): every assertion is about what
 * the client sees, errors included.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Message } from '@google-cloud/pubsub';
import { createPubSubClient, type PubSubClient } from '../../lib/clients.js';
import { startPubSubEmulator, type PubSubEmulator } from './pubsub-emulator.js';

const PROJECT = 'sec-tools-4711';
let emulator: PubSubEmulator;
let pubsub: PubSubClient;

beforeAll(async () => {
  emulator = await startPubSubEmulator();
  pubsub = await createPubSubClient({ pubsubEmulatorHost: emulator.endpoint, projectId: PROJECT });
});
afterAll(async () => {
  await pubsub.close();
  await emulator.stop();
});

/** Unary Pull through the client's own request path (the high-level API only streams). */
function pull(subscription: string, maxMessages: number): Promise<Array<{ ackId: string; message: { data: Buffer; attributes?: Record<string, string>; messageId: string } }>> {
  return new Promise((resolve, reject) => {
    pubsub.request<{ receivedMessages?: any[] }>({ client: 'SubscriberClient', method: 'pull', reqOpts: { subscription, maxMessages } }, (err, res) =>
      err ? reject(err) : resolve((res?.receivedMessages ?? []) as never),
    );
  });
}

function acknowledge(subscription: string, ackIds: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    pubsub.request({ client: 'SubscriberClient', method: 'acknowledge', reqOpts: { subscription, ackIds } }, (err) => (err ? reject(err) : resolve()));
  });
}

function nack(subscription: string, ackIds: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    pubsub.request({ client: 'SubscriberClient', method: 'modifyAckDeadline', reqOpts: { subscription, ackIds, ackDeadlineSeconds: 0 } }, (err) => (err ? reject(err) : resolve()));
  });
}

describe('topics and publishing', () => {
  it('creates a topic, publishes with attributes and keeps what was published', async () => {
    const [topic] = await pubsub.createTopic(`projects/${PROJECT}/topics/alerts-1`);
    const id = await topic.publishMessage({ data: Buffer.from('{"a":1}'), attributes: { verdict: 'likely_malicious' } });
    expect(id).toMatch(/^\d+$/);
    const [stored] = emulator.published(`projects/${PROJECT}/topics/alerts-1`);
    expect(stored).toMatchObject({ messageId: id, attributes: { verdict: 'likely_malicious' } });
    expect(stored!.data.toString()).toBe('{"a":1}');
    const [meta] = await topic.getMetadata();
    expect(meta.name).toBe(`projects/${PROJECT}/topics/alerts-1`);
  });

  it.each([
    ['a malformed topic id', () => pubsub.createTopic(`projects/${PROJECT}/topics/x`), 3, /Invalid \[topics\] name/],
    ['a topic id starting with goog', () => pubsub.createTopic(`projects/${PROJECT}/topics/google-alerts`), 3, /Invalid \[topics\] name/],
    ['an existing topic', () => pubsub.createTopic(`projects/${PROJECT}/topics/alerts-1`), 6, /already exists/],
    ['publishing to a missing topic', () => pubsub.topic(`projects/${PROJECT}/topics/nope-1`).publishMessage({ data: Buffer.from('x') }), 5, /Resource not found/],
    ['an attribute key starting with goog', () => pubsub.topic(`projects/${PROJECT}/topics/alerts-1`).publishMessage({ data: Buffer.from('x'), attributes: { googFoo: 'x' } }), 3, /goog/],
    ['an attribute value over 1024 bytes', () => pubsub.topic(`projects/${PROJECT}/topics/alerts-1`).publishMessage({ data: Buffer.from('x'), attributes: { k: 'v'.repeat(1025) } }), 3, /longer than 1024/],
    ['a subscription on a missing topic', () => pubsub.createSubscription(`projects/${PROJECT}/topics/nope-2`, `projects/${PROJECT}/subscriptions/s-1`), 5, /Resource not found/],
  ])('rejects %s as the service does', async (_what, call, code, message) => {
    await expect(call()).rejects.toMatchObject({ code, details: expect.stringMatching(message) });
  });

  it('rejects an empty message (the client sends it as given)', async () => {
    await expect(pubsub.topic(`projects/${PROJECT}/topics/alerts-1`).publishMessage({ data: Buffer.alloc(0) })).rejects.toMatchObject({ code: 3 });
  });
});

describe('pulling', () => {
  const topicName = `projects/${PROJECT}/topics/pull-topic`;
  const subName = `projects/${PROJECT}/subscriptions/pull-sub`;

  beforeAll(async () => {
    await pubsub.createTopic(topicName);
    await pubsub.topic(topicName).publishMessage({ data: Buffer.from('before the subscription') });
    await pubsub.createSubscription(topicName, subName);
  });

  it('delivers only what was published after the subscription existed, until acknowledged', async () => {
    await pubsub.topic(topicName).publishMessage({ data: Buffer.from('one') });
    const first = await pull(subName, 10);
    expect(first.map((m) => Buffer.from(m.message.data).toString())).toEqual(['one']);
    // Leased: not handed out again while the lease runs.
    expect(await pull(subName, 10)).toEqual([]);
    await acknowledge(subName, [first[0]!.ackId]);
    expect(emulator.unacked(subName)).toEqual([]);
  });

  it('delivers a nacked message again with a new ack id', async () => {
    await pubsub.topic(topicName).publishMessage({ data: Buffer.from('two') });
    const [a] = await pull(subName, 1);
    await nack(subName, [a!.ackId]);
    const [b] = await pull(subName, 1);
    expect(Buffer.from(b!.message.data).toString()).toBe('two');
    expect(b!.ackId).not.toBe(a!.ackId);
    expect(b!.message.messageId).toBe(a!.message.messageId);
    await acknowledge(subName, [b!.ackId]);
  });

  it.each([
    ['max_messages 0', () => pull(subName, 0), 3],
    ['a missing subscription', () => pull(`projects/${PROJECT}/subscriptions/none-here`, 1), 5],
    ['a malformed ack id', () => acknowledge(subName, ['not-an-ack-id']), 3],
    ['no ack ids', () => acknowledge(subName, []), 3],
  ])('rejects %s', async (_what, call, code) => {
    await expect(call()).rejects.toMatchObject({ code });
  });

  it('streams messages to subscription.on("message") and takes its acks', async () => {
    const topic = `projects/${PROJECT}/topics/stream-topic`;
    const name = `projects/${PROJECT}/subscriptions/stream-sub`;
    await pubsub.createTopic(topic);
    const [subscription] = await pubsub.createSubscription(topic, name);
    const received: string[] = [];
    const done = new Promise<void>((resolve, reject) => {
      subscription.on('error', reject);
      subscription.on('message', (m: Message) => {
        received.push(m.data.toString());
        m.ack();
        if (received.length === 2) resolve();
      });
    });
    await pubsub.topic(topic).publishMessage({ data: Buffer.from('s1') });
    await pubsub.topic(topic).publishMessage({ data: Buffer.from('s2') });
    await done;
    await subscription.close();
    expect(received.sort()).toEqual(['s1', 's2']);
    // Acks travel as unary Acknowledge calls; once they are in, nothing is left.
    for (let i = 0; i < 50 && emulator.unacked(name).length > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(emulator.unacked(name)).toEqual([]);
    expect(emulator.requests('Acknowledge').length).toBeGreaterThan(0);
  });
});
