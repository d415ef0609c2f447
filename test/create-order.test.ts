import { describe, expect, it } from '@jest/globals';
import { Created, CreateOrder, untilConnected, type ClientKind } from '../lib/create-order.js';

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

function recorder(order: CreateOrder) {
  const log: string[] = [];
  const make = (kind: ClientKind, then?: () => Promise<unknown>) =>
    order.run(kind, async () => {
      log.push(`create ${kind}`);
      return then ? new Created(kind, then()) : kind;
    });
  return { log, make };
}

describe('CreateOrder', () => {
  it('builds clients asked for in the same turn by rank: the longest chain first', async () => {
    const { log, make } = recorder(new CreateOrder());
    const built = await Promise.all((['contacts', 'scc', 'logging', 'kube', 'gke'] as const).map((k) => make(k)));
    expect(built).toEqual(['contacts', 'scc', 'logging', 'kube', 'gke']);
    expect(log).toEqual(['create gke', 'create kube', 'create logging', 'create scc', 'create contacts']);
  });

  it('hands out a Created client at once and starts the next creation only when its `beforeNext` settles', async () => {
    const { log, make } = recorder(new CreateOrder());
    let connected!: () => void;
    const gke = make('gke', () => new Promise<void>((resolve) => (connected = resolve)));
    const kube = make('kube');
    expect(await gke).toBe('gke');
    for (let i = 0; i < 5; i++) await turn();
    expect(log).toEqual(['create gke']);
    connected();
    expect(await kube).toBe('kube');
    expect(log).toEqual(['create gke', 'create kube']);
  });

  it('goes on after a `beforeNext` that rejects, and after a creation that fails', async () => {
    const order = new CreateOrder();
    const { make } = recorder(order);
    const failing = order.run('gke', async () => {
      throw new Error('no SDK');
    });
    const rejectedThen = make('kube', () => Promise.reject(new Error('never connected')));
    const logging = make('logging');
    await expect(failing).rejects.toThrow('no SDK');
    expect(await rejectedThen).toBe('kube');
    expect(await logging).toBe('logging');
  });

  it('holds off-chain clients until the first triage has started every gatherer, and lets chain clients pass', async () => {
    const order = new CreateOrder();
    const { log, make } = recorder(order);
    const release = order.holdOffChain();
    const scc = make('scc');
    const contacts = make('contacts');
    await make('gke');
    // A chain client asked for while the off-chain ones wait is built first.
    await make('logging');
    for (let i = 0; i < 5; i++) await turn();
    expect(log).toEqual(['create gke', 'create logging']);
    release();
    expect(await scc).toBe('scc');
    expect(await contacts).toBe('contacts');
    expect(log).toEqual(['create gke', 'create logging', 'create scc', 'create contacts']);
  });

  it('tells when the first triage has started every gatherer: at the release, or at the limit', async () => {
    const order = new CreateOrder();
    let started = false;
    void order.whenFirstTriageStarted.then(() => (started = true));
    const release = order.holdOffChain();
    for (let i = 0; i < 5; i++) await turn();
    expect(started).toBe(false);
    release();
    await order.whenFirstTriageStarted;
    const timedOut = new CreateOrder(20);
    timedOut.holdOffChain();
    await expect(timedOut.whenFirstTriageStarted).resolves.toBeUndefined();
  });

  it('holds only for the first triage, and for no longer than its limit', async () => {
    const order = new CreateOrder(30);
    const { make } = recorder(order);
    order.holdOffChain(); // never released
    const started = performance.now();
    expect(await make('scc')).toBe('scc');
    expect(performance.now() - started).toBeGreaterThanOrEqual(25);
    const second = order.holdOffChain();
    expect(await make('contacts')).toBe('contacts');
    second();
  });
});

/** A channel whose states are played back in order, one per watch; records the watches. */
function scriptedChannel(states: number[], options: { throwOnRead?: boolean } = {}) {
  let i = 0;
  const watches: number[] = [];
  return {
    watches,
    getConnectivityState(): number {
      if (options.throwOnRead) throw new Error('channel closed');
      return states[i]!;
    },
    watchConnectivityState(current: number, deadline: Date | number, callback: (error?: Error) => void): void {
      watches.push(current);
      if (i + 1 < states.length) {
        setTimeout(() => {
          i++;
          callback();
        }, 2);
      } else {
        setTimeout(() => callback(new Error('deadline')), Math.max(0, Number(deadline) - Date.now()));
      }
    },
  };
}

const IDLE = 0;
const CONNECTING = 1;
const READY = 2;
const TRANSIENT_FAILURE = 3;

describe('untilConnected', () => {
  it('waits from IDLE through CONNECTING to READY', async () => {
    const channel = scriptedChannel([IDLE, CONNECTING, READY]);
    await untilConnected(channel, 5000);
    expect(channel.watches).toEqual([IDLE, CONNECTING]);
  });

  it('stops waiting when the connection fails', async () => {
    const channel = scriptedChannel([CONNECTING, TRANSIENT_FAILURE, READY]);
    await untilConnected(channel, 5000);
    expect(channel.watches).toEqual([CONNECTING]);
  });

  it('gives up after maxMs when nothing connects (no call was made)', async () => {
    const channel = scriptedChannel([IDLE]);
    const started = performance.now();
    await untilConnected(channel, 40);
    expect(performance.now() - started).toBeGreaterThanOrEqual(35);
    expect(channel.watches).toEqual([IDLE]);
  });

  it('resolves, never rejects, when the channel cannot be read', async () => {
    await expect(untilConnected(scriptedChannel([IDLE], { throwOnRead: true }), 5000)).resolves.toBeUndefined();
  });
});
