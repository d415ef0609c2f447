/**
 * Structured logs in Cloud Logging's field names (severity, message), one JSON
 * object per line on stdout, which Cloud Run forwards as jsonPayload. Secrets
 * that could reach a log object through a report are censored by path.
 */
import { pino, type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from './config.js';

export type { Logger } from 'pino';

const SEVERITY: Record<string, string> = {
  trace: 'DEBUG',
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARNING',
  error: 'ERROR',
  fatal: 'CRITICAL',
};

export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      messageKey: 'message',
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ severity: SEVERITY[label] ?? 'DEFAULT' }),
      },
      redact: {
        paths: ['*.authorization', '*.Authorization', '*.token', '*.accessToken', '*.password', '*.privateKey', '*.private_key', 'headers.authorization'],
        censor: '[REDACTED]',
      },
    },
    destination,
  );
}
