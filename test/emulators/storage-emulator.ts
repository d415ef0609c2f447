/**
 * A local Cloud Storage JSON API for the capture action's evidence upload,
 * speaking what @google-cloud/storage sends with `resumable: false`: one
 * multipart upload, `POST /upload/storage/v1/b/BUCKET/o?uploadType=multipart&name=...`,
 * a multipart/related body of the object resource (JSON) and the media
 * (https://cloud.google.com/storage/docs/uploading-objects#uploading-an-object,
 * https://cloud.google.com/storage/docs/json_api/v1/objects/insert). Also
 * GET and DELETE of one object, for tests.
 *
 * It answers as Cloud Storage does, in Google's JSON error shape (google-rest.ts):
 * - `ifGenerationMatch=0` when the object exists: 412 conditionNotMet
 *   (https://cloud.google.com/storage/docs/request-preconditions: a generation
 *   precondition that does not hold fails with 412 Precondition Failed; 0
 *   matches only when there is no live object).
 * - A bucket with a retention policy: replacing or deleting an object younger
 *   than the period is refused with 403 (the bucket's `retentionPolicy`: "Any
 *   attempt to overwrite or delete objects younger than the retention period
 *   will result in a PERMISSION_DENIED error", Storage JSON API Bucket
 *   resource; reason retentionPolicyNotMet).
 * - `md5Hash` / `crc32c` in the resource that do not match the media: 400
 *   (a checksum given with an upload is checked by the server, and a mismatch
 *   rejects the write with 400: https://cloud.google.com/storage/docs/data-validation;
 *   client libraries pass it as the resource's md5Hash/crc32c,
 *   googleapis/google-cloud-php#9178).
 * - An unknown bucket: 404 notFound; a denied permission: 403 forbidden.
 * Resumable uploads are not served (501, named): the capture action does not use them.
 */
import { createHash } from 'node:crypto';
import { CRC32C } from '@google-cloud/storage';
import { googleError, startRestServer, type RestAnswer, type RestFault, type RestLogEntry } from './google-rest.js';

export interface StoredObject {
  bucket: string;
  name: string;
  generation: string;
  metageneration: string;
  contentType: string;
  size: string;
  md5Hash: string;
  crc32c: string;
  metadata: Record<string, string>;
  timeCreated: string;
  retentionExpirationTime?: string;
  media: Buffer;
}

export interface StorageBucketSeed {
  name: string;
  /** The bucket's retention period; objects younger than it cannot be replaced or deleted. */
  retentionPeriodSeconds?: number;
}

export interface StorageEmulatorOptions {
  user?: string;
  now?: () => Date;
}

export interface StorageEmulator {
  /** 127.0.0.1:PORT, for createStorageClient({storageEmulatorHost}). */
  readonly endpoint: string;
  readonly log: readonly RestLogEntry[];
  seedBucket(seed: StorageBucketSeed): void;
  deny(permission: string): void;
  injectFault(fault: RestFault): void;
  object(bucket: string, name: string): StoredObject | undefined;
  objects(bucket: string): StoredObject[];
  reset(): void;
  stop(): Promise<void>;
}

/** The parts of a multipart/related body: headers (lower-cased) and bytes. */
export function parseMultipart(body: Buffer, contentType: string | undefined): { headers: Record<string, string>; body: Buffer }[] | null {
  const m = /^multipart\/related;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType ?? '');
  if (!m) return null;
  const boundary = Buffer.from(`--${m[1] ?? m[2]}`);
  const parts: { headers: Record<string, string>; body: Buffer }[] = [];
  let at = body.indexOf(boundary);
  if (at < 0) return null;
  for (;;) {
    at += boundary.length;
    if (body.subarray(at, at + 2).toString() === '--') return parts;
    if (body.subarray(at, at + 2).toString() !== '\r\n') return null;
    at += 2;
    const headEnd = body.indexOf('\r\n\r\n', at);
    if (headEnd < 0) return null;
    const headers: Record<string, string> = {};
    for (const line of body.subarray(at, headEnd).toString('latin1').split('\r\n')) {
      const i = line.indexOf(':');
      if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
    }
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), boundary]), headEnd + 4);
    if (next < 0) return null;
    parts.push({ headers, body: body.subarray(headEnd + 4, next) });
    at = next + 2;
  }
}

function crc32cOf(data: Buffer): string {
  const c = new CRC32C();
  c.update(data);
  return c.toString();
}

export async function startStorageEmulator(options: StorageEmulatorOptions = {}): Promise<StorageEmulator> {
  const now = options.now ?? (() => new Date());
  const user = options.user ?? 'responder@sec-tools.iam.gserviceaccount.com';
  const buckets = new Map<string, StorageBucketSeed>();
  const objects = new Map<string, StoredObject>();
  const denied = new Set<string>();
  let generation = BigInt(now().getTime()) * 1000n;

  function forbidden(permission: string, what: string): RestAnswer | null {
    if (!denied.has(permission)) return null;
    return { status: 403, body: googleError(403, 'forbidden', `${user} does not have ${permission} access to ${what}. Permission '${permission}' denied on resource (or it may not exist).`) };
  }

  function retentionRefusal(bucket: StorageBucketSeed, existing: StoredObject): RestAnswer | null {
    if (bucket.retentionPeriodSeconds === undefined || existing.retentionExpirationTime === undefined) return null;
    if (now().getTime() >= Date.parse(existing.retentionExpirationTime)) return null;
    return {
      status: 403,
      body: googleError(
        403,
        'retentionPolicyNotMet',
        `Object '${bucket.name}/${existing.name}' is subject to bucket's retention policy or object retention and cannot be deleted or overwritten until ${existing.retentionExpirationTime}`,
      ),
    };
  }

  function resource(o: StoredObject): Record<string, unknown> {
    const { media: _media, ...rest } = o;
    return {
      kind: 'storage#object',
      id: `${o.bucket}/${o.name}/${o.generation}`,
      selfLink: `http://storage.invalid/storage/v1/b/${o.bucket}/o/${encodeURIComponent(o.name)}`,
      etag: Buffer.from(o.generation).toString('base64'),
      storageClass: 'STANDARD',
      updated: o.timeCreated,
      ...rest,
    };
  }

  function upload(entry: RestLogEntry, bucketName: string): RestAnswer {
    if (entry.query.uploadType !== 'multipart') {
      return { status: 501, body: googleError(501, 'notImplemented', `uploadType=${entry.query.uploadType ?? '(none)'} is not served by this emulator; only multipart`) };
    }
    const bucket = buckets.get(bucketName);
    const denial = forbidden('storage.objects.create', 'the Google Cloud Storage object');
    if (denial) return denial;
    if (!bucket) return { status: 404, body: googleError(404, 'notFound', 'The specified bucket does not exist.') };
    const parts = parseMultipart(entry.body, entry.headers['content-type'] as string | undefined);
    if (!parts || parts.length !== 2) return { status: 400, body: googleError(400, 'invalid', 'Invalid multipart request: expected the object resource and the media.') };
    let meta: Record<string, unknown>;
    try {
      meta = JSON.parse(parts[0]!.body.toString('utf8')) as Record<string, unknown>;
    } catch {
      return { status: 400, body: googleError(400, 'parseError', 'Parse Error') };
    }
    const name = entry.query.name ?? (typeof meta.name === 'string' ? meta.name : undefined);
    if (!name) return { status: 400, body: googleError(400, 'required', 'Required') };
    // Object names: 1-1024 bytes of UTF-8, no CR or LF (https://cloud.google.com/storage/docs/objects#naming).
    if (Buffer.byteLength(name) > 1024 || /[\r\n]/.test(name)) return { status: 400, body: googleError(400, 'invalid', 'The specified object name is not valid.') };
    const media = Buffer.from(parts[1]!.body);
    const md5Hash = createHash('md5').update(media).digest('base64');
    const crc32c = crc32cOf(media);
    if (typeof meta.md5Hash === 'string' && meta.md5Hash !== md5Hash) {
      return { status: 400, body: googleError(400, 'invalid', `Provided MD5 hash "${meta.md5Hash}" doesn't match calculated MD5 hash "${md5Hash}".`) };
    }
    if (typeof meta.crc32c === 'string' && meta.crc32c !== crc32c) {
      return { status: 400, body: googleError(400, 'invalid', `Provided CRC32C "${meta.crc32c}" doesn't match calculated CRC32C "${crc32c}".`) };
    }
    const key = `${bucketName}/${name}`;
    const existing = objects.get(key);
    if (entry.query.ifGenerationMatch !== undefined && entry.query.ifGenerationMatch !== (existing?.generation ?? '0')) {
      return { status: 412, body: googleError(412, 'conditionNotMet', 'At least one of the pre-conditions you specified did not hold.', { locationType: 'header', location: 'If-Match' }) };
    }
    if (existing) {
      const refusal = forbidden('storage.objects.delete', 'the Google Cloud Storage object') ?? retentionRefusal(bucket, existing);
      if (refusal) return refusal;
    }
    const created = now();
    generation += 1n;
    const obj: StoredObject = {
      bucket: bucketName,
      name,
      generation: generation.toString(),
      metageneration: '1',
      contentType: typeof meta.contentType === 'string' ? meta.contentType : 'application/octet-stream',
      size: String(media.length),
      md5Hash,
      crc32c,
      metadata: meta.metadata && typeof meta.metadata === 'object' ? Object.fromEntries(Object.entries(meta.metadata as Record<string, unknown>).map(([k, v]) => [k, String(v)])) : {},
      timeCreated: created.toISOString(),
      ...(bucket.retentionPeriodSeconds === undefined ? {} : { retentionExpirationTime: new Date(created.getTime() + bucket.retentionPeriodSeconds * 1000).toISOString() }),
      media,
    };
    objects.set(key, obj);
    return { status: 200, body: resource(obj) };
  }

  function route(entry: RestLogEntry): RestAnswer {
    const up = /^\/upload\/storage\/v1\/b\/([^/]+)\/o$/.exec(entry.path);
    if (up && entry.method === 'POST') return upload(entry, up[1]!);
    const one = /^\/storage\/v1\/b\/([^/]+)\/o\/(.+)$/.exec(entry.path);
    if (one) {
      const bucket = buckets.get(one[1]!);
      if (!bucket) return { status: 404, body: googleError(404, 'notFound', 'The specified bucket does not exist.') };
      const o = objects.get(`${one[1]}/${one[2]}`);
      if (!o) return { status: 404, body: googleError(404, 'notFound', `No such object: ${one[1]}/${one[2]}`) };
      if (entry.method === 'GET') {
        return entry.query.alt === 'media' ? { status: 200, body: null, raw: o.media, contentType: o.contentType } : { status: 200, body: resource(o) };
      }
      if (entry.method === 'DELETE') {
        const refusal = forbidden('storage.objects.delete', 'the Google Cloud Storage object') ?? retentionRefusal(bucket, o);
        if (refusal) return refusal;
        objects.delete(`${one[1]}/${one[2]}`);
        return { status: 204, body: null };
      }
    }
    return { status: 404, body: googleError(404, 'notFound', `Not Found: ${entry.method} ${entry.path}`) };
  }

  const server = await startRestServer(route);
  return {
    endpoint: server.endpoint,
    log: server.log,
    seedBucket(seed) {
      buckets.set(seed.name, { ...seed });
    },
    deny(permission) {
      denied.add(permission);
    },
    injectFault: (fault) => server.injectFault(fault),
    object: (bucket, name) => objects.get(`${bucket}/${name}`),
    objects: (bucket) => [...objects.values()].filter((o) => o.bucket === bucket),
    reset() {
      buckets.clear();
      objects.clear();
      denied.clear();
      server.clearFaults();
      server.clearLog();
    },
    stop: () => server.stop(),
  };
}
