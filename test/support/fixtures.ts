/** Fixture loading for tests compiled into dist/test: paths resolve from the project root. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('package.json not found above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
  return dir;
}

export function loadJson<T = Record<string, any>>(relative: string): T {
  return JSON.parse(readFileSync(join(projectRoot(), relative), 'utf8')) as T;
}

export function notificationFixture(name: 'socat-v2' | 'socat-v1-zonal' | 'socat-admin-v2'): Record<string, any> {
  return loadJson(`test/fixtures/notifications/${name}.json`);
}

/** The headers of a binary-mode CloudEvent, as Eventarc delivers a Pub/Sub message. */
export function cloudEventHeaders(id: string): Record<string, string> {
  return {
    'content-type': 'application/json',
    'ce-specversion': '1.0',
    'ce-type': 'google.cloud.pubsub.topic.v1.messagePublished',
    'ce-source': '//pubsub.googleapis.com/projects/sec-tools/topics/scc-socat-findings',
    'ce-id': id,
    'ce-time': new Date().toISOString(),
  };
}

/** A Pub/Sub message body ({message, subscription}) as push and CloudEvent deliveries carry it. */
export function pubsubBody(notification: unknown, opts: { messageId?: string; publishTime?: string } = {}): Record<string, unknown> {
  return {
    message: {
      data: Buffer.from(JSON.stringify(notification)).toString('base64'),
      messageId: opts.messageId ?? '1001',
      publishTime: opts.publishTime ?? new Date().toISOString(),
      attributes: {},
    },
    subscription: 'projects/sec-tools/subscriptions/scc-socat-triage',
  };
}
