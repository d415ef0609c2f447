/**
 * A local Cloud Pub/Sub v1 API over real gRPC, for tests, the demo and
 * benchmarks. The real `PubSub` client talks to it unchanged
 * (createPubSubClient({pubsubEmulatorHost: emulator.endpoint})), including
 * `subscription.on('message')`, which runs on StreamingPull.
 *
 * Implemented: Publisher CreateTopic, GetTopic, Publish; Subscriber
 * CreateSubscription, GetSubscription, Pull, Acknowledge, ModifyAckDeadline,
 * StreamingPull. Every other RPC answers UNIMPLEMENTED.
 *
 * It rejects what the real service rejects, with the same status codes:
 * resource names outside `projects/P/topics|subscriptions/ID` with the
 * documented id rules (a letter first, 3-255 of [A-Za-z0-9-_.~+%], not
 * "goog…"), a Publish with no messages or an empty message, more than 1000
 * messages or 10 MB in one request, attribute keys over 256 bytes / values
 * over 1024 bytes / more than 100 attributes / keys starting with "goog",
 * mixed ordering keys in one request, ack deadlines outside 10-600 s
 * (0-600 for ModifyAckDeadline), Pull without a positive max_messages, and
 * malformed ack ids. Unknown topics and subscriptions are NOT_FOUND, existing
 * ones ALREADY_EXISTS.
 *
 * Delivery follows Pub/Sub's model: a subscription receives what is published
 * after it was created; a delivered message is leased for the ack deadline
 * and delivered again (with a new ack id) when the lease runs out or is
 * nacked (deadline 0); an ack id from an expired lease is ignored, as the
 * service ignores it without exactly-once delivery.
 *
 * Where Google documents nothing (error texts, message id format, how long an
 * empty Pull waits) the emulator picks a deterministic behaviour and says so.
 * No test-framework imports: the demo uses it too.
 */
import type grpc from '@grpc/grpc-js';
import {
  GrpcEmulator,
  RpcError,
  Status,
  alreadyExists,
  clientProtoIncludeDirs,
  invalidArgument,
  loadProtos,
  notFound,
  type FaultSpec,
  type LoadedProtos,
  type RequestLogEntry,
} from './grpc-harness.js';

export type { FaultSpec, RequestLogEntry } from './grpc-harness.js';

const PUBLISHER = 'google.pubsub.v1.Publisher';
const SUBSCRIBER = 'google.pubsub.v1.Subscriber';

/** The RPCs this emulator implements; every other one answers UNIMPLEMENTED. */
export const IMPLEMENTED_RPCS = ['CreateTopic', 'GetTopic', 'Publish', 'CreateSubscription', 'GetSubscription', 'Pull', 'Acknowledge', 'ModifyAckDeadline', 'StreamingPull'] as const;

export const MAX_MESSAGES_PER_PUBLISH = 1000;
export const MAX_REQUEST_BYTES = 10 * 1000 * 1000;
export const MAX_ATTRIBUTES = 100;
export const MAX_ATTRIBUTE_KEY_BYTES = 256;
export const MAX_ATTRIBUTE_VALUE_BYTES = 1024;
export const MAX_ORDERING_KEY_BYTES = 1024;
export const DEFAULT_ACK_DEADLINE_SECONDS = 10;

type Obj = Record<string, any>;

let sharedProtos: LoadedProtos | null = null;
function pubsubProtos(): LoadedProtos {
  // The protos the client speaks: since @google-cloud/pubsub 6 its generated clients are @google-cloud/pubsub-api
  // ("Split GAPIC from the pubsub handwritten package", googleapis/google-cloud-node handwritten/pubsub/CHANGELOG.md, 6.0.0).
  sharedProtos ??= loadProtos(['google/pubsub/v1/pubsub.proto'], clientProtoIncludeDirs('@google-cloud/pubsub-api'));
  return sharedProtos;
}

// ---------------------------------------------------------------------------
// Names

const RESOURCE_ID = /^[A-Za-z][A-Za-z0-9\-_.~+%]{2,254}$/;
// Project ids, including the legacy domain-scoped form (example.com:project).
const PROJECT_ID = /^(?:[a-z][a-z0-9.-]*[a-z0-9]:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$/;

function parseName(kind: 'topics' | 'subscriptions', name: string): { project: string; id: string } | null {
  const m = new RegExp(`^projects/([^/]+)/${kind}/([^/]+)$`).exec(name);
  if (!m) return null;
  const [, project, id] = m as unknown as [string, string, string];
  if (!PROJECT_ID.test(project) || !RESOURCE_ID.test(id) || id.startsWith('goog')) return null;
  return { project, id };
}

/** The service's wording for a malformed name: "Invalid [topics] name: (name=...)". */
function requireName(kind: 'topics' | 'subscriptions', name: unknown): string {
  const text = String(name ?? '');
  if (!parseName(kind, text)) throw invalidArgument(`Invalid [${kind}] name: (name=${text})`);
  return text;
}

function resourceNotFound(name: string): RpcError {
  return notFound(`Resource not found (resource=${name.slice(name.lastIndexOf('/') + 1)}).`);
}

// ---------------------------------------------------------------------------
// Public surface

export interface PublishedMessage {
  topic: string;
  messageId: string;
  data: Buffer;
  attributes: Record<string, string>;
  orderingKey: string;
  publishTime: Date;
}

export interface SubscriptionOptions {
  ackDeadlineSeconds?: number;
}

export interface PubSubEmulatorOptions {
  /** Clock for publish times and leases. */
  now?: () => Date;
  /** How long a Pull with nothing to deliver waits for a message before answering empty; default 200 ms. */
  pullWaitMs?: number;
  host?: string;
  port?: number;
}

export interface PubSubEmulator {
  /** 127.0.0.1:PORT, for PUBSUB_EMULATOR_HOST / createPubSubClient({pubsubEmulatorHost}). */
  readonly endpoint: string;
  readonly port: number;
  /** Seeds a topic (full name); throws when it is malformed or exists. */
  createTopic(name: string): void;
  /** Seeds a subscription on an existing topic. */
  createSubscription(name: string, topic: string, options?: SubscriptionOptions): void;
  topics(): string[];
  /** Every message published to `topic` since start (or reset), oldest first, whether or not anyone pulled it. */
  published(topic: string): PublishedMessage[];
  /** Messages of a subscription not yet acknowledged (leased or waiting). */
  unacked(subscription: string): PublishedMessage[];
  readonly requestLog: readonly RequestLogEntry[];
  requests(method?: string): RequestLogEntry[];
  clearRequestLog(): void;
  setLatency(method: string, ms: number): void;
  injectFault(method: string, fault: FaultSpec): void;
  clearFaults(): void;
  /** Drops topics, subscriptions, messages, faults and latencies; open streams are ended. */
  reset(): void;
  stop(): Promise<void>;
}

// ---------------------------------------------------------------------------

interface Pending {
  message: PublishedMessage;
  /** Current lease: the ack id that may settle it and when it runs out; null when waiting for delivery. */
  lease: { ackId: string; until: number; timer: NodeJS.Timeout } | null;
  deliveries: number;
  /** The stream the current lease went to, for its flow-control count. */
  stream: Stream | null;
}

interface Stream {
  call: grpc.ServerDuplexStream<Obj, Obj>;
  ackDeadlineSeconds: number;
  maxOutstanding: number;
}

interface SubRecord {
  name: string;
  topic: string;
  ackDeadlineSeconds: number;
  resource: Obj;
  /** Unacknowledged messages in publish order. */
  pending: Pending[];
  streams: Set<Stream>;
  /** Pull calls waiting for a message. */
  waiters: Set<() => void>;
}

const ACK_ID = /^([0-9a-f]{8})-(\d+)$/;

function byteLength(value: string): number {
  return Buffer.byteLength(value, 'utf8');
}

export async function startPubSubEmulator(options: PubSubEmulatorOptions = {}): Promise<PubSubEmulator> {
  const protos = pubsubProtos();
  const now = options.now ?? (() => new Date());
  const pullWaitMs = options.pullWaitMs ?? 200;
  const topics = new Map<string, Obj>();
  const subscriptions = new Map<string, SubRecord>();
  const published = new Map<string, PublishedMessage[]>();
  /** ack id → the subscription and pending entry it leases. */
  const leases = new Map<string, { sub: SubRecord; pending: Pending }>();
  let nextMessageId = 1;
  let nextAck = 1;
  // Ack ids embed an emulator-instance tag, so an id from another emulator (or a reset) is recognisably foreign but well-formed.
  let instanceTag = Math.floor(Math.random() * 0xffffffff).toString(16).padStart(8, '0');

  function addTopic(name: string): Obj {
    if (topics.has(name)) throw alreadyExists('Topic already exists');
    const topic = { name, state: 'ACTIVE' };
    topics.set(name, topic);
    published.set(name, []);
    return topic;
  }

  function ackDeadlineOf(value: unknown, field: string, min: number): number {
    const n = Number(value ?? 0);
    if (!Number.isInteger(n) || n < min || n > 600) throw invalidArgument(`Invalid ${field}: ${JSON.stringify(value)}; it must be between ${min} and 600 seconds`);
    return n;
  }

  function addSubscription(name: string, topic: string, ackDeadline: unknown): Obj {
    if (!topics.has(topic)) throw resourceNotFound(topic);
    if (subscriptions.has(name)) throw alreadyExists('Subscription already exists');
    // 0 (unset) means the default, as the service documents.
    const ackDeadlineSeconds = Number(ackDeadline ?? 0) === 0 ? DEFAULT_ACK_DEADLINE_SECONDS : ackDeadlineOf(ackDeadline, 'ack_deadline_seconds', 10);
    const resource = {
      name,
      topic,
      ackDeadlineSeconds,
      messageRetentionDuration: { seconds: '604800' },
      expirationPolicy: { ttl: { seconds: '2678400' } },
      state: 'ACTIVE',
    };
    subscriptions.set(name, { name, topic, ackDeadlineSeconds, resource, pending: [], streams: new Set(), waiters: new Set() });
    return resource;
  }

  function requireSubscription(name: unknown): SubRecord {
    const text = requireName('subscriptions', name);
    const sub = subscriptions.get(text);
    if (!sub) throw resourceNotFound(text);
    return sub;
  }

  function releaseLease(pending: Pending): void {
    if (!pending.lease) return;
    clearTimeout(pending.lease.timer);
    leases.delete(pending.lease.ackId);
    pending.lease = null;
    pending.stream = null;
  }

  /** Leases one message to a receiver and returns the ReceivedMessage for the wire. */
  function lease(sub: SubRecord, pending: Pending, deadlineSeconds: number): Obj {
    releaseLease(pending);
    const ackId = `${instanceTag}-${nextAck++}`;
    const timer = setTimeout(() => {
      // The lease ran out without an ack: the message is due again.
      if (pending.lease?.ackId !== ackId) return;
      releaseLease(pending);
      pump(sub);
    }, deadlineSeconds * 1000);
    timer.unref();
    pending.lease = { ackId, until: now().getTime() + deadlineSeconds * 1000, timer };
    pending.deliveries += 1;
    leases.set(ackId, { sub, pending });
    const m = pending.message;
    const seconds = Math.floor(m.publishTime.getTime() / 1000);
    const wire: Obj = {
      messageId: m.messageId,
      publishTime: { seconds: String(seconds), nanos: (m.publishTime.getTime() - seconds * 1000) * 1e6 },
    };
    if (m.data.length > 0) wire.data = m.data;
    if (Object.keys(m.attributes).length > 0) wire.attributes = { ...m.attributes };
    if (m.orderingKey !== '') wire.orderingKey = m.orderingKey;
    return { ackId, message: wire };
  }

  function available(sub: SubRecord): Pending[] {
    return sub.pending.filter((p) => p.lease === null);
  }

  function outstandingOn(stream: Stream): number {
    let n = 0;
    for (const { pending } of leases.values()) if (pending.stream === stream) n++;
    return n;
  }

  /** Hands waiting messages to open streams and wakes waiting Pulls. */
  function pump(sub: SubRecord): void {
    for (const stream of sub.streams) {
      const free = stream.maxOutstanding > 0 ? stream.maxOutstanding - outstandingOn(stream) : Number.POSITIVE_INFINITY;
      const batch = available(sub).slice(0, Math.max(0, Math.min(free, 1000)));
      if (batch.length === 0) continue;
      const receivedMessages = batch.map((p) => {
        const received = lease(sub, p, stream.ackDeadlineSeconds);
        p.stream = stream;
        return received;
      });
      stream.call.write({ receivedMessages });
    }
    if (available(sub).length > 0) for (const wake of [...sub.waiters]) wake();
  }

  function acknowledge(sub: SubRecord, ackIds: unknown): void {
    const ids = (Array.isArray(ackIds) ? ackIds : []) as unknown[];
    if (ids.length === 0) throw invalidArgument('No ack ids specified.');
    for (const id of ids) if (typeof id !== 'string' || !ACK_ID.test(id)) throw invalidArgument('Some acknowledgement ids in the request were invalid. This could be because the acknowledgement ids have expired or the acknowledgement ids were malformed.');
    for (const id of ids as string[]) {
      const leased = leases.get(id);
      // An expired or foreign ack id is ignored, as the service does without exactly-once delivery.
      if (!leased || leased.sub !== sub) continue;
      releaseLease(leased.pending);
      sub.pending = sub.pending.filter((p) => p !== leased.pending);
    }
  }

  function modifyDeadline(sub: SubRecord, ackIds: unknown, seconds: number): void {
    for (const id of (Array.isArray(ackIds) ? ackIds : []) as unknown[]) {
      if (typeof id !== 'string' || !ACK_ID.test(id)) throw invalidArgument('Some acknowledgement ids in the request were invalid.');
    }
    let nacked = false;
    for (const id of ackIds as string[]) {
      const leased = leases.get(id);
      if (!leased || leased.sub !== sub) continue;
      const { pending } = leased;
      if (seconds === 0) {
        releaseLease(pending);
        nacked = true;
        continue;
      }
      // Same ack id, new deadline from now.
      clearTimeout(pending.lease!.timer);
      const timer = setTimeout(() => {
        if (pending.lease?.ackId !== id) return;
        releaseLease(pending);
        pump(sub);
      }, seconds * 1000);
      timer.unref();
      pending.lease = { ackId: id, until: now().getTime() + seconds * 1000, timer };
    }
    if (nacked) pump(sub);
  }

  function validateMessages(messages: Obj[]): void {
    if (messages.length === 0) throw invalidArgument('The request contains no messages.');
    if (messages.length > MAX_MESSAGES_PER_PUBLISH) throw invalidArgument(`The value for message_count is too large. You passed ${messages.length} in the request, but the maximum value is ${MAX_MESSAGES_PER_PUBLISH}.`);
    let bytes = 0;
    const orderingKeys = new Set<string>();
    for (const m of messages) {
      const data = m.data ? Buffer.from(m.data as Uint8Array) : Buffer.alloc(0);
      const attributes: Record<string, unknown> = m.attributes ?? {};
      if (data.length === 0 && Object.keys(attributes).length === 0) {
        throw invalidArgument('One or more messages in the publish request is empty. Each message must contain either non-empty data, or at least one attribute.');
      }
      if (Object.keys(attributes).length > MAX_ATTRIBUTES) throw invalidArgument(`A message has ${Object.keys(attributes).length} attributes; the maximum is ${MAX_ATTRIBUTES}.`);
      for (const [key, value] of Object.entries(attributes)) {
        if (key === '' || byteLength(key) > MAX_ATTRIBUTE_KEY_BYTES) throw invalidArgument(`Invalid attribute key ${JSON.stringify(key.slice(0, 40))}: keys must be 1-${MAX_ATTRIBUTE_KEY_BYTES} bytes.`);
        if (key.startsWith('goog')) throw invalidArgument(`Invalid attribute key ${JSON.stringify(key.slice(0, 40))}: keys must not start with "goog".`);
        if (byteLength(String(value)) > MAX_ATTRIBUTE_VALUE_BYTES) throw invalidArgument(`The value of attribute ${JSON.stringify(key.slice(0, 40))} is longer than ${MAX_ATTRIBUTE_VALUE_BYTES} bytes.`);
        bytes += byteLength(key) + byteLength(String(value));
      }
      const orderingKey = String(m.orderingKey ?? '');
      if (byteLength(orderingKey) > MAX_ORDERING_KEY_BYTES) throw invalidArgument(`The ordering key is longer than ${MAX_ORDERING_KEY_BYTES} bytes.`);
      orderingKeys.add(orderingKey);
      bytes += data.length + byteLength(orderingKey);
    }
    if (orderingKeys.size > 1) throw invalidArgument('All messages in a publish request must have the same ordering key.');
    if (bytes > MAX_REQUEST_BYTES) throw invalidArgument(`The value for request_size is too large. You passed ${bytes} in the request, but the maximum value is ${MAX_REQUEST_BYTES}.`);
  }

  const publisherHandlers = {
    CreateTopic(req: Obj): Obj {
      return addTopic(requireName('topics', req.name));
    },
    GetTopic(req: Obj): Obj {
      const name = requireName('topics', req.topic);
      const topic = topics.get(name);
      if (!topic) throw resourceNotFound(name);
      return topic;
    },
    Publish(req: Obj): Obj {
      const name = requireName('topics', req.topic);
      if (!topics.has(name)) throw resourceNotFound(name);
      const messages = (req.messages ?? []) as Obj[];
      validateMessages(messages);
      const publishTime = now();
      const messageIds: string[] = [];
      for (const m of messages) {
        // message_id and publish_time are the server's: whatever a publisher sent is replaced.
        const message: PublishedMessage = {
          topic: name,
          messageId: String(nextMessageId++),
          data: m.data ? Buffer.from(m.data as Uint8Array) : Buffer.alloc(0),
          attributes: Object.fromEntries(Object.entries((m.attributes ?? {}) as Record<string, unknown>).map(([k, v]) => [k, String(v)])),
          orderingKey: String(m.orderingKey ?? ''),
          publishTime,
        };
        published.get(name)!.push(message);
        messageIds.push(message.messageId);
        for (const sub of subscriptions.values()) if (sub.topic === name) sub.pending.push({ message, lease: null, deliveries: 0, stream: null });
      }
      for (const sub of subscriptions.values()) if (sub.topic === name) pump(sub);
      return { messageIds };
    },
  };

  const subscriberHandlers = {
    CreateSubscription(req: Obj): Obj {
      const name = requireName('subscriptions', req.name);
      const topic = requireName('topics', req.topic);
      return addSubscription(name, topic, req.ackDeadlineSeconds);
    },
    GetSubscription(req: Obj): Obj {
      return requireSubscription(req.subscription).resource;
    },
    async Pull(req: Obj): Promise<Obj> {
      const sub = requireSubscription(req.subscription);
      const max = Number(req.maxMessages ?? 0);
      if (!Number.isInteger(max) || max <= 0) throw invalidArgument('max_messages must be a positive integer.');
      if (available(sub).length === 0 && req.returnImmediately !== true) {
        // The service holds an empty Pull "for a bounded amount of time"; the emulator waits pullWaitMs.
        await new Promise<void>((resolve) => {
          const done = () => {
            clearTimeout(timer);
            sub.waiters.delete(done);
            resolve();
          };
          const timer = setTimeout(done, pullWaitMs);
          sub.waiters.add(done);
        });
      }
      return { receivedMessages: available(sub).slice(0, Math.min(max, 1000)).map((p) => lease(sub, p, sub.ackDeadlineSeconds)) };
    },
    Acknowledge(req: Obj): Obj {
      acknowledge(requireSubscription(req.subscription), req.ackIds);
      return {};
    },
    ModifyAckDeadline(req: Obj): Obj {
      const sub = requireSubscription(req.subscription);
      const seconds = ackDeadlineOf(req.ackDeadlineSeconds, 'ack_deadline_seconds', 0);
      const ids = (req.ackIds ?? []) as unknown[];
      if (ids.length === 0) throw invalidArgument('No ack ids specified.');
      modifyDeadline(sub, ids, seconds);
      return {};
    },
  } satisfies Record<string, (req: Obj) => Obj | Promise<Obj>>;

  const openStreams = new Set<Stream>();

  function streamingPull(call: grpc.ServerDuplexStream<Obj, Obj>): void {
    let stream: Stream | null = null;
    let sub: SubRecord | null = null;
    // Emitting 'error' with a status object is how grpc-js ends a server stream with that status.
    const fail = (err: unknown) => {
      const e = err instanceof RpcError ? err : new RpcError(Status.INTERNAL, String(err));
      call.emit('error', { code: e.code, details: e.details });
    };
    const close = () => {
      if (stream && sub) {
        sub.streams.delete(stream);
        openStreams.delete(stream);
        // Leases held by a closed stream stay until their deadline, as on the service.
      }
    };
    call.on('data', (req: Obj) => {
      try {
        if (!stream) {
          if (!req.subscription) throw invalidArgument('The first request on a StreamingPull stream must name the subscription.');
          sub = requireSubscription(req.subscription);
          const deadline = ackDeadlineOf(req.streamAckDeadlineSeconds, 'stream_ack_deadline_seconds', 10);
          stream = { call, ackDeadlineSeconds: deadline, maxOutstanding: Number(req.maxOutstandingMessages ?? 0) };
          sub.streams.add(stream);
          openStreams.add(stream);
        } else if (req.subscription) {
          throw invalidArgument('subscription must only be set on the first request of a StreamingPull stream.');
        }
        if (req.ackIds?.length) acknowledge(sub!, req.ackIds);
        const modIds = (req.modifyDeadlineAckIds ?? []) as unknown[];
        const modSeconds = (req.modifyDeadlineSeconds ?? []) as unknown[];
        if (modIds.length !== modSeconds.length) throw invalidArgument('modify_deadline_seconds and modify_deadline_ack_ids must be the same size.');
        modIds.forEach((id, i) => modifyDeadline(sub!, [id], ackDeadlineOf(modSeconds[i], 'modify_deadline_seconds', 0)));
        if (req.streamAckDeadlineSeconds) stream.ackDeadlineSeconds = ackDeadlineOf(req.streamAckDeadlineSeconds, 'stream_ack_deadline_seconds', 10);
        pump(sub!);
      } catch (err) {
        close();
        fail(err);
      }
    });
    call.on('end', () => {
      close();
      call.end();
    });
    call.on('cancelled', close);
    call.on('error', close);
  }

  const server = await GrpcEmulator.start({
    host: options.host,
    port: options.port,
    services: [
      { definition: protos.service(PUBLISHER), handlers: publisherHandlers },
      { definition: protos.service(SUBSCRIBER), handlers: subscriberHandlers, streamingHandlers: { StreamingPull: streamingPull as grpc.UntypedHandleCall } },
    ],
  });

  function endStreams(): void {
    for (const stream of openStreams) stream.call.emit('error', { code: Status.UNAVAILABLE, details: 'emulator shutting down' });
    openStreams.clear();
  }

  function clearAll(): void {
    endStreams();
    for (const { pending } of leases.values()) if (pending.lease) clearTimeout(pending.lease.timer);
    leases.clear();
    topics.clear();
    subscriptions.clear();
    published.clear();
    instanceTag = Math.floor(Math.random() * 0xffffffff).toString(16).padStart(8, '0');
  }

  const copy = (m: PublishedMessage): PublishedMessage => ({ ...m, data: Buffer.from(m.data), attributes: { ...m.attributes }, publishTime: new Date(m.publishTime) });

  return {
    endpoint: server.endpoint,
    port: server.port,
    createTopic(name) {
      if (!parseName('topics', name)) throw new Error(`not a topic name: ${name}`);
      addTopic(name);
    },
    createSubscription(name, topic, opts = {}) {
      if (!parseName('subscriptions', name)) throw new Error(`not a subscription name: ${name}`);
      addSubscription(name, topic, opts.ackDeadlineSeconds);
    },
    topics: () => [...topics.keys()],
    published: (topic) => (published.get(topic) ?? []).map(copy),
    unacked: (name) => (subscriptions.get(name)?.pending ?? []).map((p) => copy(p.message)),
    get requestLog() {
      return server.requestLog;
    },
    requests: (method) => server.requests(method),
    clearRequestLog: () => server.clearRequestLog(),
    setLatency: (method, ms) => server.setLatency(method, ms),
    injectFault: (method, fault) => server.injectFault(method, fault),
    clearFaults: () => server.clearFaults(),
    reset() {
      clearAll();
      server.clearRequestLog();
      server.clearFaults();
      server.clearLatency();
    },
    async stop() {
      clearAll();
      await server.stop();
    },
  };
}
