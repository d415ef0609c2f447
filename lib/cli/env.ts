/**
 * The commands' environment. Everything the function reads still goes
 * through parseConfig (via createInstance); what only the CLI needs, the
 * Pub/Sub emulator host for --via-topic, is read here with the same rules:
 * loopback only, and emulated together with SCC or not at all, so a test or
 * demo can never publish to a real topic while reading from an emulator.
 */
import { isLoopbackEndpoint } from '../endpoint.js';
import type { Env } from './io.js';
import { UsageError } from './errors.js';

/** The function's env with DRY_RUN forced on when asked: a dry run must not depend on the caller's env. */
export function instanceEnv(env: Env, options: { dryRun?: boolean } = {}): Record<string, string | undefined> {
  return { ...env, ...(options.dryRun ? { DRY_RUN: 'true' } : {}) };
}

function read(env: Env, name: string): string | null {
  const v = env[name]?.trim();
  return v === undefined || v === '' ? null : v;
}

export function pubsubEmulatorHost(env: Env): string | null {
  const host = read(env, 'PUBSUB_EMULATOR_HOST');
  const scc = read(env, 'SCC_EMULATOR_HOST');
  if (host !== null && !isLoopbackEndpoint(host)) {
    throw new UsageError(`configuration: PUBSUB_EMULATOR_HOST: emulator endpoints must be loopback host:port (127.0.0.1:PORT, localhost:PORT), got ${JSON.stringify(host)}`);
  }
  if (host === null && scc !== null) throw new UsageError('configuration: PUBSUB_EMULATOR_HOST is unset while SCC_EMULATOR_HOST is set: set it, or unset both to use the real APIs');
  if (host !== null && scc === null) throw new UsageError('configuration: SCC_EMULATOR_HOST is unset while PUBSUB_EMULATOR_HOST is set: set it, or unset both to use the real APIs');
  return host;
}

const TOPIC = /^projects\/([a-z][a-z0-9.:-]{4,62}[a-z0-9])\/topics\/([A-Za-z][A-Za-z0-9\-_.~+%]{2,254})$/;

export function parseTopicName(value: string): { name: string; project: string } {
  const m = TOPIC.exec(value);
  if (!m || m[2]!.startsWith('goog')) throw new UsageError(`--via-topic takes a full topic name, projects/PROJECT/topics/TOPIC, got ${JSON.stringify(value.slice(0, 200))}`);
  return { name: value, project: m[1]! };
}
