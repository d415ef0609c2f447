/**
 * Exit codes and the errors that carry them. Scripts branch on the code, so
 * each one means one thing; --help and docs/operator-tools.md list them.
 */
import { ConfigError } from '../config.js';
import { describeError, InvalidInputError } from '../errors.js';

export const EXIT = {
  /** Done: the result is on stdout (a skipped finding is a result too). */
  OK: 0,
  /** A bug or an unexpected state; the one stderr line says what. */
  INTERNAL: 1,
  /** Bad usage, invalid input or configuration, or a named finding/topic that does not exist. */
  USAGE: 2,
  /** The work was attempted and a Google API refused or failed it (or some findings of a backfill failed). */
  FAILED: 3,
  /** Stopped by SIGINT/SIGTERM; what finished is kept and a re-run resumes. */
  INTERRUPTED: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export class CliError extends Error {
  override name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: ExitCode,
  ) {
    super(message);
  }
}

export class UsageError extends CliError {
  override name = 'UsageError';
  constructor(message: string) {
    super(message, EXIT.USAGE);
  }
}

const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND', 'ECONNABORTED', 'EHOSTUNREACH', 'ENETUNREACH']);

/** A gRPC status (numeric code) or a network error: the API, not our code, failed. */
export function isApiError(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const code = (err as { code?: unknown }).code;
  return (typeof code === 'number' && Number.isInteger(code) && code > 0 && code <= 16) || (typeof code === 'string' && NETWORK_CODES.has(code));
}

/** gRPC status code of an error, when it has one. */
export function grpcCode(err: unknown): number | null {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'number' && Number.isInteger(code) ? code : null;
}

/** Maps anything thrown out of a command to its exit code and the one line for stderr. */
export function exitFor(err: unknown): { code: ExitCode; message: string } {
  const firstLine = (text: string) => (text.split('\n')[0] ?? '').slice(0, 500);
  if (err instanceof CliError) return { code: err.exitCode, message: firstLine(err.message) };
  if (err instanceof ConfigError) return { code: EXIT.USAGE, message: `configuration: ${firstLine(err.message)}` };
  if (err instanceof InvalidInputError || (err as { code?: unknown })?.code?.toString().startsWith('ERR_PARSE_ARGS')) {
    return { code: EXIT.USAGE, message: firstLine((err as Error).message) };
  }
  if (isApiError(err)) return { code: EXIT.FAILED, message: firstLine(describeError(err)) };
  const message = err instanceof Error ? err.message : String(err);
  return { code: EXIT.INTERNAL, message: `internal error: ${firstLine(message ?? String(err))}` };
}
