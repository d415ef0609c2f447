/**
 * Builds one function instance from its environment: configuration, logger,
 * lazily created clients. Shared by the deployed entry point, the tests (with
 * an explicit env object, never process.env) and the demo.
 */
import type { CloudEvent } from '@google-cloud/functions-framework';
import type { DestinationStream } from 'pino';
import { createSccClient, type SccClient } from './clients.js';
import { parseConfig } from './config.js';
import { handleDelivery, type HandlerDeps } from './handler.js';
import { createLogger } from './logger.js';
import { RetryableFailure } from './outcome.js';

type Env = Record<string, string | undefined>;

export interface InstanceOptions {
  logDestination?: DestinationStream;
  now?: () => Date;
}

/** Throws ConfigError on a bad environment. */
export function createInstance(env: Env, options: InstanceOptions = {}): HandlerDeps {
  const config = parseConfig(env);
  let scc: Promise<SccClient> | null = null;
  return {
    config,
    logger: createLogger(config.logLevel, options.logDestination),
    now: options.now ?? (() => new Date()),
    scc: () => (scc ??= createSccClient(config)),
  };
}

/**
 * The CloudEvent handler. The instance is built on the first event; a broken
 * configuration makes every delivery retry (and finally park in the
 * dead-letter topic) instead of acking notifications it cannot handle.
 */
export function cloudEventHandler(env: Env, options: InstanceOptions = {}): (event: CloudEvent<unknown>) => Promise<void> {
  let instance: HandlerDeps | null = null;
  return async (event) => {
    if (instance === null) {
      try {
        instance = createInstance(env, options);
      } catch (err) {
        const reason = `configuration: ${(err as Error).message}`;
        createLogger('error', options.logDestination).error({ outcome: 'retry', reason }, 'triage outcome');
        throw new RetryableFailure(reason);
      }
    }
    await handleDelivery(event.data, instance);
  };
}
