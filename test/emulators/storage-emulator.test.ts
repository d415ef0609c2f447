/**
 * The Cloud Storage emulator through the real @google-cloud/storage client:
 * the multipart upload it sends with resumable: false, the write-once
 * precondition, the retention policy and hash checks.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { createStorageClient, type StorageClient } from '../../lib/clients.js';
import { ConfigError } from '../../lib/config.js';
import { startStorageEmulator, type StorageEmulator } from './storage-emulator.js';

const BUCKET = 'sec-evidence-shop';

let emulator: StorageEmulator;
let storage: StorageClient;

beforeAll(async () => {
  emulator = await startStorageEmulator();
  storage = await createStorageClient({ storageEmulatorHost: emulator.endpoint, emulated: true });
});

afterAll(async () => {
  await emulator.stop();
});

beforeEach(() => {
  emulator.reset();
  emulator.seedBucket({ name: BUCKET, retentionPeriodSeconds: 30 * 86400 });
});

const DATA = Buffer.from('{"kind": "Pod"}\n');
const md5 = (b: Buffer) => createHash('md5').update(b).digest('base64');

async function failure(call: Promise<unknown>): Promise<{ code: unknown; reason: unknown; message: string }> {
  try {
    await call;
  } catch (err) {
    const e = err as { code?: unknown; errors?: { reason?: unknown }[]; message: string };
    return { code: e.code, reason: e.errors?.[0]?.reason, message: e.message };
  }
  throw new Error('expected the call to fail');
}

function save(name: string, data: Buffer, options: Record<string, unknown> = {}): Promise<void> {
  return storage.bucket(BUCKET).file(name).save(data, { resumable: false, validation: false, ...options });
}

describe('storage emulator through @google-cloud/storage', () => {
  it('receives one multipart upload with the resource, the media and ifGenerationMatch=0 in the query', async () => {
    await save('socat-triage/k/d/pod.json', DATA, { preconditionOpts: { ifGenerationMatch: 0 }, metadata: { contentType: 'application/json', md5Hash: md5(DATA), metadata: { sha256: 'abc' } } });
    expect(emulator.log.map((e) => `${e.method} ${e.url}`)).toEqual([
      `POST /upload/storage/v1/b/${BUCKET}/o?uploadType=multipart&name=socat-triage%2Fk%2Fd%2Fpod.json&ifGenerationMatch=0`,
    ]);
    const stored = emulator.object(BUCKET, 'socat-triage/k/d/pod.json');
    expect(stored?.media.equals(DATA)).toBe(true);
    expect(stored).toMatchObject({ contentType: 'application/json', metadata: { sha256: 'abc' }, md5Hash: md5(DATA), size: String(DATA.length) });
    expect(stored?.retentionExpirationTime).toBeDefined();
  });

  it('refuses a second write of the same name with ifGenerationMatch=0: 412 conditionNotMet, the first kept', async () => {
    await save('a.json', DATA, { preconditionOpts: { ifGenerationMatch: 0 } });
    const f = await failure(save('a.json', Buffer.from('{}'), { preconditionOpts: { ifGenerationMatch: 0 } }));
    expect(f).toMatchObject({ code: 412, reason: 'conditionNotMet' });
    expect(emulator.object(BUCKET, 'a.json')?.media.equals(DATA)).toBe(true);
  });

  it('refuses to replace or delete an object younger than the retention period with 403 retentionPolicyNotMet', async () => {
    await save('b.json', DATA, { preconditionOpts: { ifGenerationMatch: 0 } });
    const overwrite = await failure(save('b.json', Buffer.from('tampered')));
    expect(overwrite).toMatchObject({ code: 403, reason: 'retentionPolicyNotMet' });
    const del = await failure(storage.bucket(BUCKET).file('b.json').delete());
    expect(del).toMatchObject({ code: 403, reason: 'retentionPolicyNotMet' });
    expect(emulator.object(BUCKET, 'b.json')?.media.equals(DATA)).toBe(true);
  });

  it('lets a bucket without retention replace and delete (so the refusal above is the policy, not a blanket rule)', async () => {
    emulator.seedBucket({ name: 'scratch-bucket' });
    await storage.bucket('scratch-bucket').file('c.json').save(DATA, { resumable: false, validation: false });
    await storage.bucket('scratch-bucket').file('c.json').save(Buffer.from('{}'), { resumable: false, validation: false });
    expect(emulator.object('scratch-bucket', 'c.json')?.media.toString()).toBe('{}');
    await storage.bucket('scratch-bucket').file('c.json').delete();
    expect(emulator.object('scratch-bucket', 'c.json')).toBeUndefined();
  });

  it('refuses bytes that do not match the md5Hash sent with them (400)', async () => {
    const f = await failure(save('d.json', DATA, { metadata: { md5Hash: md5(Buffer.from('other')) } }));
    expect(f.code).toBe(400);
    expect(emulator.object(BUCKET, 'd.json')).toBeUndefined();
  });

  it('answers an unknown bucket with 404 and a denied permission with 403 forbidden', async () => {
    expect(await failure(storage.bucket('no-such-bucket').file('e.json').save(DATA, { resumable: false, validation: false }))).toMatchObject({ code: 404 });
    emulator.deny('storage.objects.create');
    const f = await failure(save('f.json', DATA));
    expect(f).toMatchObject({ code: 403, reason: 'forbidden' });
    expect(f.message).toMatch(/storage\.objects\.create/);
  });

  it('is never reached by accident: without its host while other emulators are set, no client is made', async () => {
    await expect(createStorageClient({ storageEmulatorHost: null, emulated: true })).rejects.toThrow(ConfigError);
  });
});
