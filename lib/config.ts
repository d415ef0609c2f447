/**
 * Every environment variable the project reads is read here, once, by
 * parseConfig(env). Nothing else touches process.env. A bad value throws
 * ConfigError naming the variable; the README's configuration table lists
 * the same variables (test/config.test.ts keeps the two in step).
 */
import { isLoopbackEndpoint } from './endpoint.js';

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
  {
    name: 'SCC_EMULATOR_HOST',
    default: '(unset)',
    description: 'host:port of a local SCC emulator, for tests and the demo. Loopback addresses only.',
  },
];

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
  return {
    sccSourceName,
    categories,
    maxEventAgeSeconds: parseInteger(env, 'MAX_EVENT_AGE_SECONDS', 86400, 60, 31 * 86400),
    dryRun,
    logLevel: logLevel as LogLevel,
    sccEmulatorHost: parseEmulatorHost(env, 'SCC_EMULATOR_HOST'),
  };
}
