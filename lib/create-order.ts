/**
 * The order in which a cold instance builds its clients.
 *
 * Loading an SDK and constructing its client is CPU work, done one at a time
 * on the one thread, and the first event asks for every client in the same
 * moment (all gatherers start together). The longest chain of a triage is
 * GetCluster → Kubernetes node read → node logs → write-back, so whatever
 * CPU work runs before a call of that chain has left delays the report by
 * as much. Three rules, each measured on the bench's cold start (README,
 * Performance):
 *
 * - By rank: clients of the chain first, GKE, then Kubernetes, then Logging.
 *   In the order asked, Security Center came first and GetCluster left only
 *   once every client was built.
 * - A creation may name what must happen before the next one starts: after
 *   GKE, GetCluster's connection. Loading the Kubernetes client (a quarter
 *   of a second of CPU) while GetCluster waits on the network is free;
 *   loading it while GetCluster still needs the CPU to connect moved the
 *   call behind it.
 * - Clients no call of the chain uses (Security Center, Essential Contacts)
 *   wait for the first triage of the instance to have started all its
 *   gatherers, node logs included: built any earlier, they stood between
 *   the node read's answer and the node-logs query.
 *
 * Warm, none of this costs anything: each client is built once per instance.
 */

export type ClientKind = 'gke' | 'kube' | 'logging' | 'scc' | 'contacts';

const RANK: Record<ClientKind, number> = { gke: 0, kube: 1, logging: 2, scc: 3, contacts: 4 };
const OFF_CHAIN: ReadonlySet<ClientKind> = new Set(['scc', 'contacts']);
/** Off-chain clients are held at most this long, whatever happens to the first triage. */
const OFF_CHAIN_HOLD_MAX_MS = 1500;

interface Pending {
  kind: ClientKind;
  seq: number;
  start: () => Promise<void>;
}

/** A client and what the next creation waits for (settled either way). Not named `then`: that would make it look thenable. */
export class Created<T> {
  readonly beforeNext: Promise<void>;

  constructor(
    readonly client: T,
    beforeNext: Promise<unknown>,
  ) {
    this.beforeNext = beforeNext.then(
      () => undefined,
      () => undefined,
    );
  }
}

/** One per instance (below); tests make their own. */
export class CreateOrder {
  private readonly queue: Pending[] = [];
  private seq = 0;
  private draining = false;
  private wake: (() => void) | null = null;
  private offChainHeld: Promise<void> | null = null;
  private holdUsed = false;
  private firstTriageStarted!: () => void;
  /** Resolves when the first hold ends: the first triage has started every gatherer (or the hold timed out). */
  readonly whenFirstTriageStarted: Promise<void> = new Promise((resolve) => (this.firstTriageStarted = resolve));

  constructor(private readonly holdMaxMs = OFF_CHAIN_HOLD_MAX_MS) {}

  /**
   * Runs `create` in its turn. When it resolves with a Created, the next
   * creation waits for its `beforeNext` (settled either way).
   */
  run<T>(kind: ClientKind, create: () => Promise<T | Created<T>>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({
        kind,
        seq: this.seq++,
        start: async () => {
          let result: T | Created<T>;
          try {
            result = await create();
          } catch (err) {
            reject(err);
            return;
          }
          if (result instanceof Created) {
            resolve(result.client as T);
            await result.beforeNext;
          } else {
            resolve(result);
          }
        },
      });
      this.wake?.();
      if (!this.draining) {
        this.draining = true;
        // Not a microtask: everything asked for in this turn is queued before the first one starts.
        setImmediate(() => void this.drain());
      }
    });
  }

  /**
   * Called when a triage starts gathering; returns what to call once all its
   * gatherers have started. Only the first triage holds the off-chain
   * clients back; later ones find them built.
   */
  holdOffChain(): () => void {
    if (this.holdUsed) return () => undefined;
    this.holdUsed = true;
    let release!: () => void;
    this.offChainHeld = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, this.holdMaxMs);
      timer.unref();
      release = () => {
        clearTimeout(timer);
        // A gatherer that has started has not necessarily sent its call: a gRPC call takes a few turns to be written.
        setImmediate(() => setImmediate(resolve));
      };
    }).then(() => {
      this.offChainHeld = null;
      this.firstTriageStarted();
      this.wake?.();
    });
    return release;
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      this.queue.sort((a, b) => RANK[a.kind] - RANK[b.kind] || a.seq - b.seq);
      const next = this.offChainHeld ? this.queue.find((p) => !OFF_CHAIN.has(p.kind)) : this.queue[0];
      if (!next) {
        // Only held creations left: wait for the hold to end or for one that is not held.
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = null;
        continue;
      }
      this.queue.splice(this.queue.indexOf(next), 1);
      await next.start();
    }
    this.draining = false;
  }
}

const instanceOrder = new CreateOrder();

export function inCreateOrder<T>(kind: ClientKind, create: () => Promise<T | Created<T>>): Promise<T> {
  return instanceOrder.run(kind, create);
}

export function holdOffChainClients(): () => void {
  return instanceOrder.holdOffChain();
}

export function firstTriageStarted(): Promise<void> {
  return instanceOrder.whenFirstTriageStarted;
}

/** A grpc-js channel, as far as it is read here. */
interface ChannelLike {
  getConnectivityState(tryToConnect: boolean): number;
  watchConnectivityState(currentState: number, deadline: Date | number, callback: (error?: Error) => void): void;
}

// grpc-js connectivityState values.
const READY = 2;
const TRANSIENT_FAILURE = 3;
const SHUTDOWN = 4;

/**
 * Resolves once the channel has connected (or failed to), or after maxMs:
 * by then the calls waiting for it have been written. Never rejects.
 */
export function untilConnected(channel: ChannelLike, maxMs: number): Promise<void> {
  const deadline = Date.now() + maxMs;
  return new Promise<void>((resolve) => {
    const check = (): void => {
      let state: number;
      try {
        state = channel.getConnectivityState(false);
      } catch {
        resolve();
        return;
      }
      if (state === READY || state === TRANSIENT_FAILURE || state === SHUTDOWN || Date.now() >= deadline) {
        // One more turn: the call picked on READY is written to the socket in it.
        setImmediate(resolve);
        return;
      }
      try {
        channel.watchConnectivityState(state, deadline, (error) => (error ? resolve() : check()));
      } catch {
        resolve();
      }
    };
    check();
  });
}
