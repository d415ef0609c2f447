/**
 * Structured logs in Cloud Logging's field names (severity, message), one JSON
 * object per line on stdout, which Cloud Run forwards as jsonPayload. Secrets
 * that could reach a log object through a report are censored by path; and
 * every string logged is attacker-influenced text until proven otherwise (a
 * finding name, a rejection reason quoting a field, an API error quoting the
 * request), so each is redacted, cleaned of control and bidi characters and
 * capped before it is written (JSON escaping alone keeps the line intact, but
 * Logs Explorer shows the decoded value).
 */
import { pino, type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from './config.js';
import { excerptLine } from './gather/log-query.js';

export type { Logger } from 'pino';

const SEVERITY: Record<string, string> = {
  trace: 'DEBUG',
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARNING',
  error: 'ERROR',
  fatal: 'CRITICAL',
};

/** Longest string field in a log line; outcome reasons and finding names fit with room to spare. */
export const LOG_STRING_MAX_CHARS = 2000;
const MAX_DEPTH = 6;

function safeForLog(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return excerptLine(value, LOG_STRING_MAX_CHARS);
  if (depth >= MAX_DEPTH || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => safeForLog(v, depth + 1));
  // Errors and other class instances keep their serializers.
  if (Object.getPrototypeOf(value) !== Object.prototype) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [excerptLine(k, 200), safeForLog(v, depth + 1)]));
}

export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      messageKey: 'message',
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ severity: SEVERITY[label] ?? 'DEFAULT' }),
        log: (object) => safeForLog(object, 0) as Record<string, unknown>,
      },
      redact: {
        paths: ['*.authorization', '*.Authorization', '*.token', '*.accessToken', '*.password', '*.privateKey', '*.private_key', 'headers.authorization'],
        censor: '[REDACTED]',
      },
    },
    destination,
  );
}
