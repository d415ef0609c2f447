/**
 * What the REST emulators (Compute, Cloud Storage) share: Google's JSON error
 * body, a loopback HTTP server, the request log and injected faults.
 *
 * Error shape: `{"error": {"code", "message", "errors": [{"message",
 * "domain", "reason"}]}}`, as both JSON APIs document it
 * (https://cloud.google.com/storage/docs/json_api/v1/status-codes, and
 * Compute's "Error 409: The resource 'projects/P/.../instances/X' already
 * exists, alreadyExists" as client libraries print code, message and reason:
 * scylladb/scylla-machine-image#184, GoogleCloudPlatform/scientific-computing-examples#53).
 * gax's REST transport and the Storage client both read `code`, `message` and
 * `errors[].reason` from it.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface GoogleErrorItem {
  message: string;
  domain: string;
  reason: string;
  [field: string]: string;
}

export interface GoogleErrorBody {
  error: { code: number; message: string; errors: GoogleErrorItem[] };
}

export function googleError(code: number, reason: string, message: string, extra: Record<string, string> = {}): GoogleErrorBody {
  return { error: { code, message, errors: [{ message, domain: 'global', reason, ...extra }] } };
}

/** One request as received: the path with its query, exactly as sent, and the body. */
export interface RestLogEntry {
  method: string;
  /** Path and query as on the request line (percent-encoding kept). */
  url: string;
  /** Path without the query, percent-decoded per segment. */
  path: string;
  query: Record<string, string>;
  headers: Record<string, string | string[] | undefined>;
  /** The raw body. */
  body: Buffer;
  /** The status answered; null while pending. */
  status: number | null;
}

export interface RestFault {
  /** HTTP status to answer. */
  status: number;
  /** Error reason (errors[0].reason); default by status. */
  reason?: string;
  message?: string;
  /** How many matching requests fail; default 1. */
  count?: number;
  /** A substring of the request's method + ' ' + url, or a pattern tested against it; omitted: every request. */
  match?: string | RegExp;
}

const DEFAULT_REASONS: Record<number, string> = {
  400: 'invalid',
  401: 'required',
  403: 'forbidden',
  404: 'notFound',
  409: 'conflict',
  412: 'conditionNotMet',
  429: 'rateLimitExceeded',
  500: 'backendError',
  503: 'backendError',
};

export interface RestAnswer {
  status: number;
  body: unknown;
  /** Sent as is instead of JSON (e.g. object media). */
  raw?: Buffer;
  contentType?: string;
}

export interface RestServer {
  readonly port: number;
  readonly endpoint: string;
  readonly log: readonly RestLogEntry[];
  injectFault(fault: RestFault): void;
  clearFaults(): void;
  clearLog(): void;
  stop(): Promise<void>;
}

function decodeQuery(search: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of search) out[k] = v;
  return out;
}

/** Serves `handle` on 127.0.0.1; faults are answered before it, every request is logged. */
export async function startRestServer(handle: (entry: RestLogEntry) => RestAnswer | Promise<RestAnswer>): Promise<RestServer> {
  const log: RestLogEntry[] = [];
  const faults: { fault: RestFault; remaining: number }[] = [];

  function takeFault(key: string): RestFault | null {
    const i = faults.findIndex((f) => f.remaining > 0 && (f.fault.match === undefined || (typeof f.fault.match === 'string' ? key.includes(f.fault.match) : f.fault.match.test(key))));
    if (i < 0) return null;
    const f = faults[i]!;
    f.remaining--;
    if (f.remaining <= 0) faults.splice(i, 1);
    return f.fault;
  }

  async function answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const url = req.url ?? '/';
    const parsed = new URL(url, 'http://emulator.invalid');
    let path: string;
    try {
      path = parsed.pathname.split('/').map(decodeURIComponent).join('/');
    } catch {
      path = parsed.pathname;
    }
    const entry: RestLogEntry = {
      method: req.method ?? 'GET',
      url,
      path,
      query: decodeQuery(parsed.searchParams),
      headers: req.headers,
      body: Buffer.concat(chunks),
      status: null,
    };
    log.push(entry);
    let out: RestAnswer;
    const fault = takeFault(`${entry.method} ${url}`);
    if (fault) {
      out = { status: fault.status, body: googleError(fault.status, fault.reason ?? DEFAULT_REASONS[fault.status] ?? 'backendError', fault.message ?? `injected fault ${fault.status}`) };
    } else {
      try {
        out = await handle(entry);
      } catch (err) {
        out = { status: 500, body: googleError(500, 'backendError', `emulator error: ${(err as Error).message}`) };
      }
    }
    entry.status = out.status;
    if (out.status === 204) {
      res.writeHead(204).end();
      return;
    }
    const payload = out.raw ?? Buffer.from(JSON.stringify(out.body));
    res.writeHead(out.status, { 'content-type': out.contentType ?? 'application/json; charset=UTF-8', 'content-length': String(payload.length) }).end(payload);
  }

  const server: Server = createServer((req, res) => {
    answer(req, res).catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    endpoint: `127.0.0.1:${port}`,
    log,
    injectFault(fault) {
      faults.push({ fault: { ...fault }, remaining: fault.count ?? 1 });
    },
    clearFaults() {
      faults.length = 0;
    },
    clearLog() {
      log.length = 0;
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
