/**
 * Google's own Pub/Sub emulator (the Cloud SDK's `pubsub-emulator` component,
 * what `gcloud beta emulators pubsub start` runs), started on a free loopback
 * port for the tests and the demo. Its jar is run directly with Java instead
 * of through gcloud's wrapper: gcloud only adds `--host` and `--port` to the
 * same command (googlecloudsdk/command_lib/emulators/util.py BuildArgsList)
 * and costs a Python start-up. Its working directory is a temp directory
 * (gcloud's `--data-dir` only holds the env.yaml the wrapper writes).
 *
 * Readiness is the line the emulator prints from its listen callback,
 * "Server started, listening on PORT" (documented as the start-up output at
 * https://cloud.google.com/sdk/gcloud/reference/beta/emulators/pubsub/start).
 *
 * When Java or the component is missing, `locateGooglePubSub()` says which,
 * and `startGooglePubSub()` throws an `EmulatorUnavailable` whose message
 * begins "could not run:" so a test fails visibly and the demo can print one
 * line and fall back. No test-framework imports: the demo uses it too.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, realpathSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import type { PubSubClient } from '../../lib/clients.js';

export class EmulatorUnavailable extends Error {
  constructor(reason: string) {
    super(`could not run: Google's Pub/Sub emulator: ${reason}`);
    this.name = 'EmulatorUnavailable';
  }
}

export interface GooglePubSubLocation {
  java: string;
  jar: string;
}

export interface GooglePubSub {
  /** 127.0.0.1:PORT, for PUBSUB_EMULATOR_HOST / createPubSubClient({pubsubEmulatorHost}). */
  readonly endpoint: string;
  readonly port: number;
  /** The emulator's own output so far (for failure messages). */
  output(): string;
  stop(): Promise<void>;
}

/** The first executable called `name` on PATH (no shell involved). */
function onPath(name: string, path: string): string | null {
  for (const dir of path.split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    if (existsSync(candidate)) return candidate;
  }
  return null;
}

/** The Java major version `java -version` reports ("17.0.15" → 17, legacy "1.8.0" → 8), or null. */
export function javaMajor(versionOutput: string): number | null {
  const m = /version "(\d+)(?:\.(\d+))?/.exec(versionOutput);
  if (!m) return null;
  const first = Number(m[1]);
  return first === 1 && m[2] !== undefined ? Number(m[2]) : first;
}

/**
 * Where the emulator's jar and a usable Java are, or why not. The Cloud SDK
 * root is found from the `gcloud` on PATH (bin/gcloud under the root), or
 * CLOUDSDK_ROOT_DIR when set; the component lives in its
 * platform/pubsub-emulator directory (googlecloudsdk/command_lib/emulators/util.py GetEmulatorRoot).
 */
export function locateGooglePubSub(env: NodeJS.ProcessEnv = process.env): GooglePubSubLocation | { unavailable: string } {
  const path = env.PATH ?? '';
  let sdkRoot = env.CLOUDSDK_ROOT_DIR ?? null;
  if (!sdkRoot) {
    const gcloud = onPath('gcloud', path);
    if (!gcloud) return { unavailable: 'the Cloud SDK is not installed (no gcloud on PATH)' };
    sdkRoot = dirname(dirname(realpathSync(gcloud)));
  }
  const lib = join(sdkRoot, 'platform', 'pubsub-emulator', 'lib');
  const jars = existsSync(lib) ? readdirSync(lib).filter((f) => /^cloud-pubsub-emulator-.*\.jar$/.test(f)).sort() : [];
  if (jars.length === 0) return { unavailable: `the pubsub-emulator component is not installed in ${sdkRoot} (gcloud components install pubsub-emulator)` };
  const java = env.JAVA_HOME ? join(env.JAVA_HOME, 'bin', 'java') : onPath('java', path);
  if (!java || !existsSync(java)) return { unavailable: 'Java is not installed (the emulator needs a JRE; Java 17 on these machines)' };
  const version = spawnSync(java, ['-version'], { encoding: 'utf8', timeout: 20_000 });
  const major = javaMajor(`${version.stderr ?? ''}${version.stdout ?? ''}`);
  if (major === null) return { unavailable: `${java} -version printed no version (${String(version.error?.message ?? version.stderr).trim().slice(0, 200)})` };
  if (major < 11) return { unavailable: `${java} is Java ${major}; the emulator needs Java 11 or later` };
  return { java, jar: join(lib, jars.at(-1)!) };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

const READY = /Server started, listening on (\d+)/;

export async function startGooglePubSub(options: { readyTimeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<GooglePubSub> {
  const where = locateGooglePubSub(options.env);
  if ('unavailable' in where) throw new EmulatorUnavailable(where.unavailable);
  const dir = mkdtempSync(join(tmpdir(), 'google-pubsub-'));
  const port = await freePort();
  // A test's emulator lives seconds and carries a handful of messages: start-up dominates, and the C1 compiler alone
  // with the serial collector reach "Server started" sooner (a median 1.3 s instead of 2.1 s on the 2-core machine).
  const child = spawn(where.java, ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC', '-jar', where.jar, '--host=127.0.0.1', `--port=${port}`], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '', HOME: dir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())));
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new EmulatorUnavailable(`no "Server started" line within ${options.readyTimeoutMs ?? 60_000} ms: ${output.trim().slice(-1000)}`)), options.readyTimeoutMs ?? 60_000);
    const onData = (d: Buffer) => {
      output = (output + String(d)).slice(-50_000);
      if (READY.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new EmulatorUnavailable(`${where.java} did not start: ${err.message}`));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new EmulatorUnavailable(`it exited (${signal ?? code}) before it was ready: ${output.trim().slice(-1000)}`));
    });
  });
  const stop = async () => {
    if (!exited) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exit;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await ready;
  } catch (err) {
    await stop();
    throw err;
  }
  return { endpoint: `127.0.0.1:${port}`, port, output: () => output, stop };
}

export interface ReadMessage {
  messageId: string;
  data: Buffer;
  attributes: Record<string, string>;
}

const SENTINEL_ATTRIBUTE = 'readTopicSentinel';

/**
 * Every message on `subscription` that was published before this call, each
 * acknowledged: a sentinel message is published to `topic` and unary Pulls
 * run until it comes back. Pub/Sub promises order only within an ordering key
 * (https://cloud.google.com/pubsub/docs/ordering); the read is complete
 * because the emulator hands a single subscription's messages out in publish
 * order, and a test calls this only after the publishes it looks for have
 * returned. Fails (never answers "nothing") when the sentinel does not arrive.
 */
export async function readTopic(client: PubSubClient, topic: string, subscription: string, timeoutMs = 15_000): Promise<ReadMessage[]> {
  const sentinel = `${Date.now()}-${Math.random().toString(16).slice(2)}`;
  await client.topic(topic).publishMessage({ data: Buffer.from('sentinel'), attributes: { [SENTINEL_ATTRIBUTE]: sentinel } });
  const messages: ReadMessage[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const received = await unary<{ receivedMessages?: Array<{ ackId: string; message: { messageId: string; data?: Uint8Array; attributes?: Record<string, string> } }> }>(client, 'pull', { subscription, maxMessages: 1000 });
    const list = received.receivedMessages ?? [];
    if (list.length > 0) await unary(client, 'acknowledge', { subscription, ackIds: list.map((r) => r.ackId) });
    let done = false;
    for (const { message } of list) {
      const attributes = { ...(message.attributes ?? {}) };
      if (attributes[SENTINEL_ATTRIBUTE] !== undefined) {
        // A sentinel from an earlier read that timed out is dropped as well.
        if (attributes[SENTINEL_ATTRIBUTE] === sentinel) done = true;
        continue;
      }
      messages.push({ messageId: message.messageId, data: Buffer.from(message.data ?? new Uint8Array()), attributes });
    }
    if (done) return messages;
    if (Date.now() > deadline) throw new Error(`readTopic: the sentinel published to ${topic} did not reach ${subscription} within ${timeoutMs} ms; the read is incomplete`);
  }
}

/** One unary Subscriber call through the client's own request path (its high-level API only streams). */
function unary<T>(client: PubSubClient, method: 'pull' | 'acknowledge', reqOpts: Record<string, unknown>): Promise<T> {
  return new Promise((resolve, reject) => {
    client.request<T>({ client: 'SubscriberClient', method, reqOpts }, (err, res) => (err ? reject(err) : resolve(res as T)));
  });
}
