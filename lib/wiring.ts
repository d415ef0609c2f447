/**
 * Builds one function instance from its environment: configuration, logger,
 * lazily created clients. Shared by the deployed entry point, the tests (with
 * an explicit env object, never process.env) and the demo.
 */
import type { CloudEvent } from '@google-cloud/functions-framework';
import type { DestinationStream } from 'pino';
import {
  createComputeClients,
  createStorageClient,
  createContactsClient,
  createGkeClient,
  createKubeApis,
  createLoggingClient,
  createPubSubClient,
  createSccClient,
  EMULATOR_ACCESS_TOKEN,
  googleAccessTokenProvider,
  type SccClient,
} from './clients.js';
import { holdOffChainClients } from './create-order.js';
import { parseConfig, type Config } from './config.js';
import { createInstanceCache } from './gather/cache.js';
import type { GatherDeps } from './gather/deps.js';
import type { EvidenceRecorder } from './gather/evidence.js';
import { enabledGatherers } from './gather/registry.js';
import { handleDelivery, type HandlerDeps } from './handler.js';
import { createLogger } from './logger.js';
import { RetryableFailure } from './outcome.js';
import { SCC_QUOTA_RETRY, type RetryPolicy } from './retry.js';
import { ConfigError } from './config.js';
import { handleResponseDelivery, storedReportReader, type ReportReader, type ResponderDeps, type ResponseActionModules } from './respond/responder.js';
import { actionModules } from './respond/actions.js';
import type { Logger } from './logger.js';

type Env = Record<string, string | undefined>;

export interface InstanceOptions {
  logDestination?: DestinationStream;
  now?: () => Date;
  /**
   * How SCC quota refusals are waited out in the client: SCC_QUOTA_RETRY
   * for the function. null hands them to the caller, for the CLI, whose
   * throttle is shared by its workers and reports as it waits.
   */
  sccQuotaBackoff?: RetryPolicy | null;
  /** Receives what each gatherer read (`triage --save-evidence`). */
  evidence?: EvidenceRecorder | null;
}

/** One client per instance, created on first use; a failed creation is retried next time. */
function lazy<T>(create: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | null = null;
  return () => {
    pending ??= create().catch((err) => {
      pending = null;
      throw err;
    });
    return pending;
  };
}

type GatherClients = Pick<GatherDeps, 'scc' | 'gke' | 'logging' | 'kube' | 'contacts'>;

/** The gatherers' clients, each created on first use. */
function gatherClients(config: Config, scc: () => Promise<SccClient>): GatherClients {
  // Against the emulators Kubernetes gets the emulator's token; real clusters get a Google access token.
  const token = config.gkeEmulatorHost ? async () => EMULATOR_ACCESS_TOKEN : googleAccessTokenProvider();
  return {
    scc,
    gke: lazy(() => createGkeClient(config)),
    logging: lazy(() => createLoggingClient(config)),
    kube: async (access) => createKubeApis(access, await token()),
    contacts: lazy(() => createContactsClient(config)),
  };
}

function gatherDeps(config: Config, clients: GatherClients, now: () => Date, evidence: EvidenceRecorder | null): GatherDeps {
  return {
    settings: {
      relatedWindowMinutes: config.relatedWindowMinutes,
      logWindowBeforeMinutes: config.logWindowBeforeMinutes,
      logWindowAfterMinutes: config.logWindowAfterMinutes,
      logEntriesMax: config.logEntriesMax,
      logPagesMax: config.logPagesMax,
      logExcerptEntries: config.logExcerptEntries,
      logLineMaxChars: config.logLineMaxChars,
    },
    now,
    ownSourceName: config.sccSourceName,
    ...clients,
    cache: createInstanceCache({ maxEntries: config.cacheMaxEntries, ttlSeconds: config.cacheTtlSeconds }),
    evidence,
  };
}

function fanoutPublisher(config: Config): HandlerDeps['fanout'] {
  const topic = config.fanoutTopic;
  if (topic === null) return null;
  const project = topic.split('/')[1]!;
  return lazy(async () => (await createPubSubClient({ pubsubEmulatorHost: config.pubsubEmulatorHost, projectId: project })).topic(topic));
}

/** Throws ConfigError on a bad environment. */
export function createInstance(env: Env, options: InstanceOptions = {}): HandlerDeps {
  const config = parseConfig(env);
  const now = options.now ?? (() => new Date());
  // A refusal for SCC's per-minute quota is waited out in the client, not handed to Pub/Sub (SCC_QUOTA_RETRY).
  const quotaBackoff = options.sccQuotaBackoff === undefined ? SCC_QUOTA_RETRY : options.sccQuotaBackoff;
  const scc = lazy(() => createSccClient(config, { quotaBackoff }));
  return {
    config,
    logger: createLogger(config.logLevel, options.logDestination),
    now,
    scc,
    gather: { gatherers: enabledGatherers(config.disabledGatherers), deps: gatherDeps(config, gatherClients(config, scc), now, options.evidence ?? null), onGatherStart: holdOffChainClients },
    fanout: fanoutPublisher(config),
  };
}

/**
 * The CloudEvent handler. The instance is built on the first event; a broken
 * configuration makes every delivery retry (and finally park in the
 * dead-letter topic) instead of acking notifications it cannot handle.
 */
export function cloudEventHandler(env: Env, options: InstanceOptions = {}): (event: CloudEvent<unknown>) => Promise<void> {
  return lazyInstanceHandler(() => createInstance(env, options), handleDelivery, 'triage outcome', options);
}

/**
 * The instance is built on the first delivery; a configuration error is
 * logged as that entry point's outcome line and thrown as retryable.
 */
function lazyInstanceHandler<D>(
  create: () => D,
  handle: (body: unknown, deps: D) => Promise<unknown>,
  outcomeMessage: string,
  options: InstanceOptions,
): (event: CloudEvent<unknown>) => Promise<void> {
  let instance: D | null = null;
  return async (event) => {
    if (instance === null) {
      try {
        instance = create();
      } catch (err) {
        const reason = `configuration: ${(err as Error).message}`;
        createLogger('error', options.logDestination).error({ outcome: 'retry', reason }, outcomeMessage);
        throw new RetryableFailure(reason);
      }
    }
    await handle(event.data, instance);
  };
}

// ---------------------------------------------------------------------------
// respondSocatFinding

export interface ResponderOptions extends InstanceOptions {
  /** The action modules; default the real ones (lib/respond/actions.ts) on this instance's clients. */
  actions?: ResponseActionModules;
  /** How the report is read back from the enrichment finding; default its stored Z_Report (lib/scc/stored-report.ts). */
  readReport?: ReportReader;
}

/**
 * The real action modules on this instance's clients. Capture keeps the
 * evidence files too: re-gathered at capture time through the gatherers with
 * a recorder, as `triage --save-evidence` gathers them (lib/respond/regather.ts),
 * on the same clients the actions and the audit-log read use.
 */
function responderActions(config: Config, clients: GatherClients, now: () => Date): ResponseActionModules {
  return actionModules(
    {
      gke: clients.gke,
      kube: clients.kube,
      compute: lazy(() => createComputeClients(config)),
      storage: lazy(() => createStorageClient(config)),
    },
    () => ({ approver: null, now, timeoutMs: config.gatherDeadlineMs }),
    async (subject) => {
      // Imported on the first approved capture, never at start: rendering the files takes google-gax's
      // proto3 JSON serializer (lib/cli/proto-json.ts), which a cold instance must not load (scripts/build-bundle.mjs).
      const { regatheredEvidence } = await import('./respond/regather.js');
      return regatheredEvidence({ config, scc: clients.scc, now, gatherDeps: (evidence) => gatherDeps(config, clients, now, evidence) })(subject);
    },
  );
}

/** Throws ConfigError on a bad environment. */
export function createResponderInstance(env: Env, options: ResponderOptions = {}): ResponderDeps & { logger: Logger } {
  const config = parseConfig(env);
  if (config.sccSourceName === null) throw new ConfigError('SCC_SOURCE_NAME', 'is required by respondSocatFinding (its records go to our own source)');
  const emulated = [config.sccEmulatorHost, config.gkeEmulatorHost, config.loggingEmulatorHost, config.contactsEmulatorHost].some((h) => h !== null);
  // The audit-log read is not a gatherer DISABLED_GATHERERS can switch off: emulated anything means emulated Logging too.
  if (emulated && config.loggingEmulatorHost === null) throw new ConfigError('LOGGING_EMULATOR_HOST', 'is unset while other emulators are set: respondSocatFinding reads the audit log');
  if (emulated && config.sccEmulatorHost === null) throw new ConfigError('SCC_EMULATOR_HOST', 'is unset while other emulators are set: respondSocatFinding writes its records to SCC');
  const quotaBackoff = options.sccQuotaBackoff === undefined ? SCC_QUOTA_RETRY : options.sccQuotaBackoff;
  const now = options.now ?? (() => new Date());
  const clients = gatherClients(config, lazy(() => createSccClient(config, { quotaBackoff })));
  return {
    config,
    logger: createLogger(config.logLevel, options.logDestination),
    now,
    scc: clients.scc,
    logging: clients.logging,
    readReport: options.readReport ?? storedReportReader,
    actions: options.actions ?? responderActions(config, clients, now),
  };
}

/** The responder's CloudEvent handler: a broken configuration retries (and parks), as the triage's does. */
export function responderCloudEventHandler(env: Env, options: ResponderOptions = {}): (event: CloudEvent<unknown>) => Promise<void> {
  return lazyInstanceHandler(() => createResponderInstance(env, options), handleResponseDelivery, 'response outcome', options);
}
