/**
 * The error taxonomy. Whether a failure is worth a Pub/Sub redelivery is
 * decided here and nowhere else (lib/outcome.ts turns the answer into ack or
 * retry). Unknown errors count as transient: a redelivery that fails again
 * ends in the dead-letter topic, where someone sees it, whereas a wrong "permanent"
 * would drop the notification silently.
 */

/** The input cannot be triaged as given; retrying the same bytes cannot help. */
export class InvalidInputError extends Error {
  override name = 'InvalidInputError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export type ErrorClass = 'transient' | 'permanent';

// gRPC status codes (google.rpc.Code).
const TRANSIENT_GRPC = new Set([
  1, // CANCELLED: the call was cut off (instance shutdown, client timeout)
  2, // UNKNOWN: usually a broken stream
  4, // DEADLINE_EXCEEDED
  8, // RESOURCE_EXHAUSTED: quota; back off via redelivery
  10, // ABORTED: concurrency conflict, retry the whole operation
  13, // INTERNAL
  14, // UNAVAILABLE
]);
const PERMANENT_GRPC = new Set([
  3, // INVALID_ARGUMENT
  5, // NOT_FOUND
  6, // ALREADY_EXISTS
  7, // PERMISSION_DENIED
  9, // FAILED_PRECONDITION
  11, // OUT_OF_RANGE
  12, // UNIMPLEMENTED
  16, // UNAUTHENTICATED
]);
const TRANSIENT_NET = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND', 'ECONNABORTED', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT']);

function numericField(err: object, key: string): number | null {
  const v = (err as Record<string, unknown>)[key];
  return typeof v === 'number' && Number.isInteger(v) ? v : null;
}

export function classifyError(err: unknown): ErrorClass {
  if (err instanceof InvalidInputError) return 'permanent';
  if (typeof err !== 'object' || err === null) return 'transient';
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && TRANSIENT_NET.has(code)) return 'transient';
  // HTTP-style errors (Kubernetes client, REST fallbacks) carry a status.
  const http = numericField(err, 'statusCode') ?? numericField(err, 'status') ?? (typeof code === 'number' && code >= 100 ? code : null);
  if (http !== null) {
    if (http === 429 || http >= 500) return 'transient';
    if (http >= 400) return 'permanent';
  }
  if (typeof code === 'number') {
    if (TRANSIENT_GRPC.has(code)) return 'transient';
    if (PERMANENT_GRPC.has(code)) return 'permanent';
  }
  const cause = (err as { cause?: unknown }).cause;
  if (cause !== undefined && cause !== err) return classifyError(cause);
  return 'transient';
}

const GRPC_NAMES = ['OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS', 'PERMISSION_DENIED', 'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE', 'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS', 'UNAUTHENTICATED'];

/** A one-line description for logs and report gaps: code name plus the message's first line, capped. */
export function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err).slice(0, 300);
  const code = (err as { code?: unknown }).code;
  const prefix = typeof code === 'number' && code < GRPC_NAMES.length ? `${GRPC_NAMES[code]}: ` : typeof code === 'string' ? `${code}: ` : '';
  const firstLine = (err.message.split('\n')[0] ?? '').replace(/^\d+ [A-Z_]+: /, '');
  return `${prefix}${firstLine}`.slice(0, 300);
}
