/**
 * Every environment variable the project reads is read here, once, by
 * parseConfig(env). Nothing else touches process.env. A bad value throws
 * ConfigError naming the variable; the README's configuration table lists
 * the same variables (test/config.test.ts keeps the two in step).
 */
import { DEFAULT_VERDICT_SETTINGS, parsePrincipalPatterns, parseVerdictSettings, VERDICT_ENV_VARS, VerdictSettingsError, type VerdictSettings } from './decide/verdict-settings.js';
import { isResponseAction, RESPONSE_ACTIONS, type ResponseAction } from './respond/types.js';
import { isLoopbackEndpoint } from './endpoint.js';
import type { GatherSettings } from './gather/deps.js';

export const DEFAULT_CATEGORY = 'Execution: Socat Reverse Shell Detected';

export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
  }
}

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface Config {
  /** organizations/O/sources/S: the project's own SCC source the enrichment finding is written to. */
  sccSourceName: string | null;
  /** Finding categories that are triaged; anything else is skipped. */
  categories: string[];
  /** Deliveries published longer ago than this are acked with an error log instead of triaged. */
  maxEventAgeSeconds: number;
  /** Gather and analyze, log the report, write nothing to SCC. */
  dryRun: boolean;
  logLevel: LogLevel;
  /** host:port of a local SCC emulator (loopback only); null = the real API. */
  sccEmulatorHost: string | null;
  gkeEmulatorHost: string | null;
  loggingEmulatorHost: string | null;
  contactsEmulatorHost: string | null;
  pubsubEmulatorHost: string | null;
  /** host:port of a local Compute Engine emulator (the capture action's boot-disk snapshot); loopback only. */
  computeEmulatorHost: string | null;
  /** host:port of a local Cloud Storage emulator (the capture action's evidence upload); loopback only. */
  storageEmulatorHost: string | null;
  /**
   * True when any *_EMULATOR_HOST is set. Then no client may reach a real
   * Google API: the response clients (Compute, Storage), which no gatherer
   * uses, refuse to be created without their own emulator (lib/clients.ts).
   */
  emulated: boolean;
  /** The Cloud Storage bucket (with a retention policy) the capture action keeps evidence files in; null = not configured. */
  evidenceBucket: string | null;
  /** projects/P/topics/T: one triage-completed message per triaged finding goes there; null = no fan-out. */
  fanoutTopic: string | null;
  /** All gatherers together get this long; what is not in by then becomes a gap. */
  gatherDeadlineMs: number;
  /** Gatherers switched off by section name (see the README catalog). */
  disabledGatherers: string[];
  relatedWindowMinutes: number;
  logWindowBeforeMinutes: number;
  logWindowAfterMinutes: number;
  logEntriesMax: number;
  logPagesMax: number;
  logExcerptEntries: number;
  logLineMaxChars: number;
  cacheTtlSeconds: number;
  cacheMaxEntries: number;
  /** Signal weights, allow-lists and thresholds of the verdict model. */
  verdict: VerdictSettings;
  /** The response (issue #15): who may approve, what the triage requests by itself. */
  response: ResponseSettings;
}

export interface ResponseSettings {
  /** Principal patterns (ADMIN_PRINCIPALS syntax) whose approval mark the responder acts on. */
  approvers: string[];
  /** Actions the triage requests itself for likely_malicious verdicts at or above minScore; empty = none. */
  autoActions: ResponseAction[];
  autoMinScore: number;
  /** The triage function's own service account: the only setter whose mark counts as an automatic request. */
  triageServiceAccount: string | null;
  /** How far before the notification the audit log is searched for the mark's setter. */
  approvalLogWindowMinutes: number;
}

export interface EnvVarDoc {
  name: string;
  default: string;
  description: string;
}

/** The documented variables, in README order. */
export const CONFIG_ENV_VARS: readonly EnvVarDoc[] = [
  {
    name: 'SCC_SOURCE_NAME',
    default: '(required unless DRY_RUN)',
    description: "The project's own SCC source, `organizations/ORG/sources/SOURCE`; enrichment findings are written there.",
  },
  {
    name: 'TRIAGE_CATEGORIES',
    default: DEFAULT_CATEGORY,
    description: 'Comma-separated finding categories to triage; others are skipped with a logged reason.',
  },
  {
    name: 'MAX_EVENT_AGE_SECONDS',
    default: '86400',
    description: 'A delivery published longer ago than this is acked with an error log (stale retry), not triaged.',
  },
  { name: 'DRY_RUN', default: 'false', description: 'true: triage and log the report, write nothing to SCC.' },
  { name: 'LOG_LEVEL', default: 'info', description: 'pino level: fatal, error, warn, info, debug, trace or silent.' },
  { name: 'GATHER_DEADLINE_MS', default: '20000', description: 'Shared deadline for all gatherers; a lookup still running then becomes a gap in the report.' },
  { name: 'DISABLED_GATHERERS', default: '(none)', description: 'Comma-separated gatherer sections to switch off (relatedFindings, cluster, node, pod, podLogs, auditLogs, nodeLogs, nodeK8sLogs, namespace, contacts).' },
  { name: 'RELATED_WINDOW_MINUTES', default: '60', description: 'Related findings: same cluster within ± this many minutes of the finding.' },
  { name: 'LOG_WINDOW_BEFORE_MINUTES', default: '30', description: 'Log queries start this many minutes before the finding.' },
  { name: 'LOG_WINDOW_AFTER_MINUTES', default: '10', description: 'Log queries end this many minutes after the finding.' },
  {
    name: 'LOG_ENTRIES_MAX',
    default: '1000',
    description: 'At most this many entries are read per log query, newest first, over all its pages; a query stopped by it is marked incomplete.',
  },
  {
    name: 'LOG_PAGES_MAX',
    default: '5',
    description: 'At most this many ListLogEntries pages per log query (a page may come back partial or empty); a query stopped by it is marked incomplete.',
  },
  { name: 'LOG_EXCERPT_ENTRIES', default: '5', description: 'The report keeps the first and last this many entries of each log query.' },
  { name: 'LOG_LINE_MAX_CHARS', default: '300', description: 'Each log excerpt line is capped at this many characters.' },
  { name: 'CACHE_TTL_SECONDS', default: '300', description: 'How long an instance reuses cluster, node and related-findings lookups.' },
  { name: 'CACHE_MAX_ENTRIES', default: '1000', description: 'How many lookups an instance keeps at most.' },
  { name: 'FANOUT_TOPIC', default: '(unset: no fan-out)', description: 'projects/P/topics/T: publish one triage-completed message per triaged finding (docs/operator-tools.md has the schema).' },
  ...VERDICT_ENV_VARS,
  {
    name: 'RESPONSE_APPROVERS',
    default: '(none: every console approval is refused)',
    description: 'respondSocatFinding: comma-separated principals whose `socat_response` mark is carried out: exact emails or `*@domain` (as ADMIN_PRINCIPALS).',
  },
  {
    name: 'AUTO_RESPONSE',
    default: '(none)',
    description: `Comma-separated actions (${RESPONSE_ACTIONS.join(', ')}) the triage requests itself for likely_malicious verdicts at or above AUTO_RESPONSE_MIN_SCORE; carried out with the approver \`automatic\`. Needs TRIAGE_SERVICE_ACCOUNT.`,
  },
  { name: 'AUTO_RESPONSE_MIN_SCORE', default: '(VERDICT_MALICIOUS_THRESHOLD)', description: 'The lowest verdict score AUTO_RESPONSE acts on.' },
  {
    name: 'TRIAGE_SERVICE_ACCOUNT',
    default: '(unset)',
    description: "The triage function's service account email: the responder counts a mark as an automatic request only when this account set it.",
  },
  {
    name: 'APPROVAL_LOG_WINDOW_MINUTES',
    default: '60',
    description: 'respondSocatFinding: how many minutes before the notification the Data Access audit log is searched for who set the mark.',
  },
  {
    name: 'SCC_EMULATOR_HOST',
    default: '(unset)',
    description: 'host:port of a local SCC emulator, for tests and the demo. Loopback addresses only.',
  },
  { name: 'GKE_EMULATOR_HOST', default: '(unset)', description: 'host:port of a local GKE ClusterManager emulator. Loopback only; Kubernetes calls then use the emulator token.' },
  { name: 'LOGGING_EMULATOR_HOST', default: '(unset)', description: 'host:port of a local Cloud Logging emulator. Loopback only.' },
  { name: 'CONTACTS_EMULATOR_HOST', default: '(unset)', description: 'host:port of a local Essential Contacts emulator. Loopback only.' },
  { name: 'PUBSUB_EMULATOR_HOST', default: '(unset)', description: 'host:port of a local Pub/Sub emulator for the fan-out. Loopback only (IPv4 or localhost).' },
  {
    name: 'COMPUTE_EMULATOR_HOST',
    default: '(unset)',
    description: 'host:port of a local Compute Engine emulator (the capture action). Loopback only; required for capture once another emulator is set.',
  },
  {
    name: 'STORAGE_EMULATOR_HOST',
    default: '(unset)',
    description: 'host:port of a local Cloud Storage emulator (the capture action). Loopback only; required for the evidence upload once another emulator is set.',
  },
  {
    name: 'EVIDENCE_BUCKET',
    default: '(unset: snapshot only)',
    description: 'Cloud Storage bucket, with a retention policy, where the capture action keeps the evidence files (never overwritten); unset: the boot-disk snapshot alone is taken and the record says the files were not kept.',
  },
];

export const GATHERER_SECTIONS = ['relatedFindings', 'cluster', 'node', 'pod', 'podLogs', 'auditLogs', 'nodeLogs', 'nodeK8sLogs', 'namespace', 'contacts'] as const;

/**
 * Cloud Storage bucket names: 3-63 characters of lowercase letters, digits,
 * '-', '_' (dotted names up to 222, each part at most 63), starting and
 * ending with a letter or digit; never an IP address or a "goog" prefix.
 * https://cloud.google.com/storage/docs/buckets#naming
 */
export function isBucketName(name: string): boolean {
  if (!/^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/.test(name)) return false;
  if (!name.includes('.') && name.length > 63) return false;
  if (name.split('.').some((part) => part.length === 0 || part.length > 63)) return false;
  if (/^\d+\.\d+\.\d+\.\d+$/.test(name) || name.startsWith('goog') || /g(?:oo|0{2})gle/.test(name)) return false;
  return true;
}

const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const SOURCE_NAME = /^organizations\/\d{1,32}\/sources\/\d{1,32}$/;

type Env = Record<string, string | undefined>;

function read(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

function parseBoolean(env: Env, name: string, fallback: boolean): boolean {
  const value = read(env, name);
  if (value === undefined) return fallback;
  if (/^(true|1|yes)$/i.test(value)) return true;
  if (/^(false|0|no)$/i.test(value)) return false;
  throw new ConfigError(name, `expected true or false, got ${JSON.stringify(value)}`);
}

function parseInteger(env: Env, name: string, fallback: number, min: number, max: number): number {
  const value = read(env, name);
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value)) throw new ConfigError(name, `expected a whole number, got ${JSON.stringify(value)}`);
  const n = Number(value);
  if (n < min || n > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${n}`);
  return n;
}

function parseEmulatorHost(env: Env, name: string): string | null {
  const value = read(env, name);
  if (value === undefined) return null;
  if (!isLoopbackEndpoint(value)) {
    throw new ConfigError(name, `emulator endpoints must be loopback host:port (127.0.0.1:PORT, [::1]:PORT, localhost:PORT), got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Which gatherers call which emulated API (Kubernetes is reached through GKE's answer). */
const GATHERERS_BY_EMULATOR: Record<string, readonly string[]> = {
  SCC_EMULATOR_HOST: ['relatedFindings'],
  GKE_EMULATOR_HOST: ['cluster', 'node', 'pod', 'namespace'],
  LOGGING_EMULATOR_HOST: ['podLogs', 'auditLogs', 'nodeLogs', 'nodeK8sLogs'],
  CONTACTS_EMULATOR_HOST: ['contacts'],
};

/**
 * A half-emulated setup would send the rest of the calls to the real Google
 * APIs (and probe for credentials) from a test or demo machine. Once any
 * emulator is set, every API must be emulated or its gatherers disabled.
 */
function requireCompleteEmulation(hosts: Record<string, string | null>, disabled: readonly string[]): void {
  if (Object.values(hosts).every((h) => h === null)) return;
  for (const [variable, gatherers] of Object.entries(GATHERERS_BY_EMULATOR)) {
    if (hosts[variable] !== null) continue;
    const live = gatherers.filter((g) => !disabled.includes(g));
    if (live.length > 0) {
      throw new ConfigError(variable, `is unset while other emulators are set: set it, or add ${live.join(',')} to DISABLED_GATHERERS`);
    }
  }
}

/** The verdict model's variables; also used alone by the offline CLI. */
export function readVerdictSettings(env: Env): VerdictSettings {
  try {
    return parseVerdictSettings({
      VERDICT_WEIGHTS: read(env, 'VERDICT_WEIGHTS'),
      ADMIN_PRINCIPALS: read(env, 'ADMIN_PRINCIPALS'),
      TRUSTED_IMAGE_REGISTRIES: read(env, 'TRUSTED_IMAGE_REGISTRIES'),
      VERDICT_MALICIOUS_THRESHOLD: read(env, 'VERDICT_MALICIOUS_THRESHOLD'),
      VERDICT_BENIGN_THRESHOLD: read(env, 'VERDICT_BENIGN_THRESHOLD'),
    });
  } catch (err) {
    if (err instanceof VerdictSettingsError) throw new ConfigError(err.variable, err.message);
    throw err;
  }
}

export { DEFAULT_VERDICT_SETTINGS };

/** The gatherers' windows and caps; also used alone by `analyze --evidence`, so evidence is read as the function reads the APIs. */
export function readGatherSettings(env: Env): GatherSettings {
  return {
    relatedWindowMinutes: parseInteger(env, 'RELATED_WINDOW_MINUTES', 60, 1, 7 * 24 * 60),
    logWindowBeforeMinutes: parseInteger(env, 'LOG_WINDOW_BEFORE_MINUTES', 30, 0, 24 * 60),
    logWindowAfterMinutes: parseInteger(env, 'LOG_WINDOW_AFTER_MINUTES', 10, 0, 24 * 60),
    logEntriesMax: parseInteger(env, 'LOG_ENTRIES_MAX', 1000, 1, 5000),
    logPagesMax: parseInteger(env, 'LOG_PAGES_MAX', 5, 1, 50),
    logExcerptEntries: parseInteger(env, 'LOG_EXCERPT_ENTRIES', 5, 0, 50),
    logLineMaxChars: parseInteger(env, 'LOG_LINE_MAX_CHARS', 300, 40, 4096),
  };
}

const SERVICE_ACCOUNT_EMAIL = /^[a-z][a-z0-9-]{4,28}[a-z0-9]@[a-z][a-z0-9-]{4,28}[a-z0-9]\.iam\.gserviceaccount\.com$/;

/** The response variables; verdict gives AUTO_RESPONSE_MIN_SCORE its default. */
export function readResponseSettings(env: Env, verdict: VerdictSettings): ResponseSettings {
  let approvers: string[];
  try {
    approvers = parsePrincipalPatterns('RESPONSE_APPROVERS', read(env, 'RESPONSE_APPROVERS'));
  } catch (err) {
    if (err instanceof VerdictSettingsError) throw new ConfigError(err.variable, err.message);
    throw err;
  }
  const autoActions: ResponseAction[] = [];
  for (const item of (read(env, 'AUTO_RESPONSE') ?? '').split(',').map((a) => a.trim()).filter((a) => a !== '')) {
    if (!isResponseAction(item)) throw new ConfigError('AUTO_RESPONSE', `unknown action ${JSON.stringify(item)}; known: ${RESPONSE_ACTIONS.join(', ')}`);
    if (autoActions.includes(item)) throw new ConfigError('AUTO_RESPONSE', `action ${item} is listed twice`);
    autoActions.push(item);
  }
  const scoreText = read(env, 'AUTO_RESPONSE_MIN_SCORE');
  if (scoreText !== undefined && !/^[+-]?\d{1,4}$/.test(scoreText)) {
    throw new ConfigError('AUTO_RESPONSE_MIN_SCORE', `expected a whole number, got ${JSON.stringify(scoreText)}`);
  }
  const autoMinScore = scoreText === undefined ? verdict.maliciousThreshold : Number(scoreText);
  if (autoMinScore < verdict.maliciousThreshold) {
    throw new ConfigError(
      'AUTO_RESPONSE_MIN_SCORE',
      `${autoMinScore} is below VERDICT_MALICIOUS_THRESHOLD (${verdict.maliciousThreshold}): AUTO_RESPONSE only acts on likely_malicious verdicts`,
    );
  }
  const triageServiceAccount = read(env, 'TRIAGE_SERVICE_ACCOUNT')?.toLowerCase() ?? null;
  if (triageServiceAccount !== null && !SERVICE_ACCOUNT_EMAIL.test(triageServiceAccount)) {
    throw new ConfigError('TRIAGE_SERVICE_ACCOUNT', `expected NAME@PROJECT.iam.gserviceaccount.com, got ${JSON.stringify(triageServiceAccount)}`);
  }
  if (autoActions.length > 0 && triageServiceAccount === null) {
    throw new ConfigError('TRIAGE_SERVICE_ACCOUNT', 'is required when AUTO_RESPONSE lists actions: the responder accepts an automatic request only from the triage function\'s own service account');
  }
  return {
    approvers,
    autoActions: RESPONSE_ACTIONS.filter((a) => autoActions.includes(a)),
    autoMinScore,
    triageServiceAccount,
    approvalLogWindowMinutes: parseInteger(env, 'APPROVAL_LOG_WINDOW_MINUTES', 60, 1, 7 * 24 * 60),
  };
}

export function parseConfig(env: Env): Config {
  const sccSourceName = read(env, 'SCC_SOURCE_NAME') ?? null;
  if (sccSourceName !== null && !SOURCE_NAME.test(sccSourceName)) {
    throw new ConfigError('SCC_SOURCE_NAME', `expected organizations/ORG_ID/sources/SOURCE_ID, got ${JSON.stringify(sccSourceName)}`);
  }
  const categories = (read(env, 'TRIAGE_CATEGORIES') ?? DEFAULT_CATEGORY)
    .split(',')
    .map((c) => c.trim())
    .filter((c) => c !== '');
  if (categories.length === 0) throw new ConfigError('TRIAGE_CATEGORIES', 'lists no category');
  const logLevel = (read(env, 'LOG_LEVEL') ?? 'info').toLowerCase();
  if (!LOG_LEVELS.includes(logLevel as LogLevel)) {
    throw new ConfigError('LOG_LEVEL', `expected one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(logLevel)}`);
  }
  const dryRun = parseBoolean(env, 'DRY_RUN', false);
  if (!dryRun && sccSourceName === null) {
    throw new ConfigError('SCC_SOURCE_NAME', 'is required unless DRY_RUN=true');
  }
  const disabledGatherers = (read(env, 'DISABLED_GATHERERS') ?? '')
    .split(',')
    .map((g) => g.trim())
    .filter((g) => g !== '');
  for (const g of disabledGatherers) {
    if (!(GATHERER_SECTIONS as readonly string[]).includes(g)) {
      throw new ConfigError('DISABLED_GATHERERS', `unknown gatherer ${JSON.stringify(g)}; known: ${GATHERER_SECTIONS.join(', ')}`);
    }
  }
  const emulators = {
    SCC_EMULATOR_HOST: parseEmulatorHost(env, 'SCC_EMULATOR_HOST'),
    GKE_EMULATOR_HOST: parseEmulatorHost(env, 'GKE_EMULATOR_HOST'),
    LOGGING_EMULATOR_HOST: parseEmulatorHost(env, 'LOGGING_EMULATOR_HOST'),
    CONTACTS_EMULATOR_HOST: parseEmulatorHost(env, 'CONTACTS_EMULATOR_HOST'),
  };
  // The response APIs: no gatherer to disable, so they join the all-or-nothing rule through `emulated`
  // (set alone, they still require the gatherers' emulators).
  const responseEmulators = {
    COMPUTE_EMULATOR_HOST: parseEmulatorHost(env, 'COMPUTE_EMULATOR_HOST'),
    STORAGE_EMULATOR_HOST: parseEmulatorHost(env, 'STORAGE_EMULATOR_HOST'),
  };
  requireCompleteEmulation({ ...emulators, ...responseEmulators }, disabledGatherers);
  const evidenceBucket = read(env, 'EVIDENCE_BUCKET') ?? null;
  if (evidenceBucket !== null && !isBucketName(evidenceBucket)) {
    throw new ConfigError('EVIDENCE_BUCKET', `expected a Cloud Storage bucket name (lowercase letters, digits, '-', '_', '.'), got ${JSON.stringify(evidenceBucket)}`);
  }
  const fanoutTopic = read(env, 'FANOUT_TOPIC') ?? null;
  if (fanoutTopic !== null && !/^projects\/[a-z][a-z0-9-]{4,28}[a-z0-9]\/topics\/[A-Za-z][A-Za-z0-9\-_.~+%]{2,254}$/.test(fanoutTopic)) {
    throw new ConfigError('FANOUT_TOPIC', `expected projects/PROJECT_ID/topics/TOPIC, got ${JSON.stringify(fanoutTopic)}`);
  }
  const pubsubEmulatorHost = parseEmulatorHost(env, 'PUBSUB_EMULATOR_HOST');
  const verdict = readVerdictSettings(env);
  // The fan-out joins the all-or-nothing rule: emulated everything else means an emulated Pub/Sub too.
  if (fanoutTopic !== null && pubsubEmulatorHost === null && Object.values(emulators).some((h) => h !== null)) {
    throw new ConfigError('PUBSUB_EMULATOR_HOST', 'is unset while FANOUT_TOPIC and other emulators are set: set it, or unset FANOUT_TOPIC');
  }
  return {
    sccSourceName,
    categories,
    maxEventAgeSeconds: parseInteger(env, 'MAX_EVENT_AGE_SECONDS', 86400, 60, 31 * 86400),
    dryRun,
    logLevel: logLevel as LogLevel,
    sccEmulatorHost: emulators.SCC_EMULATOR_HOST,
    gkeEmulatorHost: emulators.GKE_EMULATOR_HOST,
    loggingEmulatorHost: emulators.LOGGING_EMULATOR_HOST,
    contactsEmulatorHost: emulators.CONTACTS_EMULATOR_HOST,
    pubsubEmulatorHost,
    computeEmulatorHost: responseEmulators.COMPUTE_EMULATOR_HOST,
    storageEmulatorHost: responseEmulators.STORAGE_EMULATOR_HOST,
    emulated: [...Object.values(emulators), pubsubEmulatorHost, ...Object.values(responseEmulators)].some((h) => h !== null),
    evidenceBucket,
    fanoutTopic,
    gatherDeadlineMs: parseInteger(env, 'GATHER_DEADLINE_MS', 20000, 100, 300000),
    disabledGatherers,
    ...readGatherSettings(env),
    cacheTtlSeconds: parseInteger(env, 'CACHE_TTL_SECONDS', 300, 0, 86400),
    cacheMaxEntries: parseInteger(env, 'CACHE_MAX_ENTRIES', 1000, 1, 100000),
    verdict,
    response: readResponseSettings(env, verdict),
  };
}
