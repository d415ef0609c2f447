/**
 * test/support/google-pubsub.ts: Google's Pub/Sub emulator started on a free
 * loopback port and stopped; what it says when Java or the component is
 * missing; the push delivery and redelivery the demo relies on; and
 * readTopic's complete read. A machine without the emulator fails the tests
 * that need it with "could not run: …", never passes them.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import { createConnection } from 'node:net';
import { dirname } from 'node:path';
import { createPubSubClient, type PubSubClient } from '../../lib/clients.js';
import { EmulatorUnavailable, javaMajor, locateGooglePubSub, readTopic, startGooglePubSub, type GooglePubSub } from '../support/google-pubsub.js';

const PROJECT = 'sec-tools-4711';

describe('finding the emulator', () => {
  it.each([
    ['openjdk version "17.0.15" 2025-04-15', 17],
    ['java version "1.8.0_392"', 8],
    ['openjdk version "21" 2023-09-19', 21],
    ['no version here', null],
  ])('reads the Java major version from %j', (text, major) => {
    expect(javaMajor(text)).toBe(major);
  });

  it('names the missing Cloud SDK, component and Java', () => {
    expect(locateGooglePubSub({ PATH: '' })).toEqual({ unavailable: 'the Cloud SDK is not installed (no gcloud on PATH)' });
    expect(locateGooglePubSub({ PATH: '', CLOUDSDK_ROOT_DIR: '/nonexistent-sdk' })).toEqual({
      unavailable: 'the pubsub-emulator component is not installed in /nonexistent-sdk (gcloud components install pubsub-emulator)',
    });
  });

  it('says Java is missing when the component is there but no java is', () => {
    const found = locateGooglePubSub();
    if ('unavailable' in found) throw new EmulatorUnavailable(found.unavailable);
    // The jar sits in <root>/platform/pubsub-emulator/lib.
    const root = dirname(dirname(dirname(dirname(found.jar))));
    expect(locateGooglePubSub({ PATH: '', CLOUDSDK_ROOT_DIR: root })).toEqual({ unavailable: 'Java is not installed (the emulator needs a JRE; Java 17 on these machines)' });
  });

  it('refuses to start with a "could not run:" error naming the reason', async () => {
    await expect(startGooglePubSub({ env: { PATH: '' } })).rejects.toThrow("could not run: Google's Pub/Sub emulator: the Cloud SDK is not installed (no gcloud on PATH)");
  });
});

describe("Google's emulator through the real client", () => {
  let emulator: GooglePubSub | undefined;
  let client: PubSubClient | undefined;
  let server: Server;
  const posts: Array<{ path: string; body: Record<string, any> }> = [];
  let answers: number[] = [];

  beforeAll(async () => {
    emulator = await startGooglePubSub();
    client = await createPubSubClient({ pubsubEmulatorHost: emulator.endpoint, projectId: PROJECT });
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        posts.push({ path: req.url ?? '', body: JSON.parse(body) as Record<string, any> });
        res.statusCode = answers.shift() ?? 204;
        res.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  }, 90_000);
  afterAll(async () => {
    await client?.close();
    await new Promise((resolve) => server?.close(resolve));
    await emulator?.stop();
  });

  it('listens on loopback', () => {
    expect(emulator!.endpoint).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(emulator!.output()).toContain('Server started, listening on');
  });

  it('pushes a published message to the endpoint as a push body, and redelivers it after a 500', async () => {
    const topicName = `projects/${PROJECT}/topics/pushed`;
    const [topic] = await client!.createTopic(topicName);
    const port = (server.address() as { port: number }).port;
    await topic.createSubscription(`projects/${PROJECT}/subscriptions/pushed-fn`, { pushConfig: { pushEndpoint: `http://127.0.0.1:${port}/${topicName}` } });
    answers = [500, 204];
    const id = await topic.publishMessage({ data: Buffer.from('{"finding":{}}') });
    for (let i = 0; i < 300 && posts.length < 2; i++) await new Promise((r) => setTimeout(r, 50));
    expect(posts).toHaveLength(2);
    for (const post of posts) {
      expect(post.path).toBe(`/${topicName}`);
      // The push body of https://cloud.google.com/pubsub/docs/push#receive_push: {message: {data (base64), messageId, publishTime, attributes}, subscription}.
      expect(post.body).toMatchObject({ subscription: `projects/${PROJECT}/subscriptions/pushed-fn`, message: { messageId: id, data: Buffer.from('{"finding":{}}').toString('base64') } });
    }
    // Acked by the 204: nothing more arrives.
    await new Promise((r) => setTimeout(r, 1500));
    expect(posts).toHaveLength(2);
  });

  it('readTopic returns exactly what was published before it, once', async () => {
    const topicName = `projects/${PROJECT}/topics/read-me`;
    const sub = `projects/${PROJECT}/subscriptions/read-me-reader`;
    const [topic] = await client!.createTopic(topicName);
    await topic.createSubscription(sub);
    const ids = [await topic.publishMessage({ data: Buffer.from('a'), attributes: { k: 'v' } }), await topic.publishMessage({ data: Buffer.from('b') })];
    const read = await readTopic(client!, topicName, sub);
    expect(read.map((m) => [m.messageId, m.data.toString(), m.attributes])).toEqual([
      [ids[0], 'a', { k: 'v' }],
      [ids[1], 'b', {}],
    ]);
    expect(await readTopic(client!, topicName, sub)).toEqual([]);
  });

  it('stops and frees its port', async () => {
    const { port } = emulator!;
    await client!.close();
    client = undefined;
    await emulator!.stop();
    emulator = undefined;
    const refused = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ host: '127.0.0.1', port });
      socket.once('connect', () => (socket.destroy(), resolve(false)));
      socket.once('error', () => resolve(true));
    });
    expect(refused).toBe(true);
  });
});
