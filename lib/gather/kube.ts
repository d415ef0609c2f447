/**
 * What the Kubernetes gatherers (node, pod) share: calls bounded by the
 * deadline's signal, errors turned into readable statuses, times, console links.
 */
import type { ConfigurationOptions, ObservableMiddleware } from '@kubernetes/client-node';
import type { KubeAccess } from '../clients.js';
import type { ClusterRef } from '../finding/types.js';
import type { GatheredSections } from './sections.js';
import { untilAborted } from './abort.js';
import { GatherGap } from './types.js';


/**
 * Per-call options that hand the deadline's signal to the fetch underneath.
 * client-node 2.x has no signal parameter, but its RequestContext has one and
 * call-time middleware can set it (the same mechanism as its own
 * setHeaderOptions). The object-style API runs on the Observable API, so the
 * middleware returns the package's Observable; the module is imported here
 * rather than at the top because lib/clients.ts loads it lazily, and by the
 * time a call is made deps.kube() has loaded it already.
 */
async function withSignal(signal: AbortSignal): Promise<ConfigurationOptions> {
  const { Observable } = await import('@kubernetes/client-node');
  const middleware: ObservableMiddleware = {
    pre: (context) => {
      const existing = context.getSignal();
      context.setSignal(existing ? AbortSignal.any([existing, signal]) : signal);
      return new Observable(Promise.resolve(context));
    },
    post: (response) => new Observable(Promise.resolve(response)),
  };
  return { middleware: [middleware], middlewareMergeStrategy: 'append' };
}

/** A failed Kubernetes API call, with the HTTP status where the runner and classifyError look for it. */
export class KubeApiError extends Error {
  override name = 'KubeApiError';
  readonly statusCode: number;
  readonly code: number;
  /** The Status reason (NotFound, Forbidden, ...), when the server sent one. */
  readonly reason: string | null;
  constructor(statusCode: number, reason: string | null, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.statusCode = statusCode;
    this.code = statusCode;
    this.reason = reason;
  }
}

/** HTTP status of a client-node ApiException (or a KubeApiError); null for anything else. */
export function kubeStatus(err: unknown): number | null {
  if (err instanceof KubeApiError) return err.statusCode;
  // Duck-typed: importing ApiException would load client-node eagerly, which lib/clients.ts avoids.
  if (typeof err === 'object' && err !== null && 'body' in err && 'headers' in err) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'number' && code >= 100 && code <= 599) return code;
  }
  return null;
}

export function isAbortError(err: unknown): boolean {
  const name = (err as { name?: unknown } | null)?.name;
  return name === 'AbortError' || name === 'TimeoutError';
}

/** ApiException carries the response body as received: the JSON text of a Status, when the server sent one. */
function statusBodyOf(body: unknown): { message?: unknown; reason?: unknown } | undefined {
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body);
    } catch {
      return undefined;
    }
  }
  return typeof body === 'object' && body !== null ? (body as { message?: unknown; reason?: unknown }) : undefined;
}

/**
 * ApiException's message is "HTTP-Code: 404\nMessage: Unknown API Status
 * Code!\nBody: ...", and a TLS or connection failure is just "fetch failed":
 * neither says what went wrong in a gap. This keeps the server's own Status
 * message (e.g. 'pods "x" is forbidden: User ... cannot get ...') or the
 * network cause, and the status code or error code for classification.
 */
function toKubeError(err: unknown): unknown {
  if (isAbortError(err)) return err;
  const status = kubeStatus(err);
  if (status !== null && !(err instanceof KubeApiError)) {
    const body = statusBodyOf((err as { body?: unknown }).body);
    const reason = typeof body?.reason === 'string' ? body.reason : status === 401 ? 'Unauthorized' : null;
    const serverMessage = typeof body?.message === 'string' ? body.message : null;
    let message: string;
    if ((status === 403 || status === 404) && serverMessage) message = serverMessage;
    else if (status === 401) message = `HTTP 401 Unauthorized: the cluster rejected the credentials${serverMessage && serverMessage !== 'Unauthorized' ? ` (${serverMessage})` : ''}`;
    else message = `HTTP ${status}${reason ? ` ${reason}` : ''}${serverMessage ? `: ${serverMessage}` : ''}`;
    return new KubeApiError(status, reason, message, { cause: err });
  }
  // Checked by shape, not instanceof: undici and node:tls may build these errors in another realm (vm contexts, jest).
  const cause = (err as { cause?: { message?: unknown; code?: unknown } } | null)?.cause;
  if ((err as { name?: unknown })?.name === 'TypeError' && (err as { message?: unknown }).message === 'fetch failed' && typeof cause?.message === 'string') {
    // The cause carries the TLS or socket error; its code (ECONNREFUSED, UNABLE_TO_VERIFY_LEAF_SIGNATURE, ...) stays for classifyError.
    // Node's advice to trust the system CAs is wrong here: the cluster's own CA is the only right trust anchor.
    const detail = cause.message.replace(/; if the root CA is installed locally.*$/s, '');
    return Object.assign(new Error(`Kubernetes API unreachable: ${detail}`, { cause: err }), typeof cause.code === 'string' ? { code: cause.code } : {});
  }
  return err;
}

/** One Kubernetes API call under the deadline, with failures made readable. */
export async function kubeCall<T>(signal: AbortSignal, call: (options: ConfigurationOptions) => Promise<T>): Promise<T> {
  try {
    return await untilAborted(withSignal(signal).then(call), signal);
  } catch (err) {
    if (signal.aborted) {
      // fetch rejects with whatever reason the signal carries; one recognisable error lets a cache waiter tell it apart.
      throw Object.assign(new Error('Kubernetes API call cut off at the deadline', { cause: err }), { name: 'AbortError' });
    }
    throw toKubeError(err);
  }
}

/** Kubernetes timestamps arrive as Date objects from client-node; report them as the API writes them. */
export function kubeTime(value: Date | string | undefined | null): string | null {
  if (value === undefined || value === null) return null;
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return null;
  return d.toISOString().replace('.000Z', 'Z');
}

/**
 * Every Kubernetes call through GKE's DNS-based endpoint needs this IAM
 * permission on the cluster, checked before the request reaches the API
 * server (cloud.google.com/kubernetes-engine/docs/concepts/network-isolation,
 * "DNS-based endpoint"); the IP endpoints do not check it.
 */
export const CONNECT_THROUGH_DNS_ENDPOINT = 'container.clusters.connect';

export function clusterAccess(sections: Partial<GatheredSections>): KubeAccess {
  const access = sections.cluster?.access ?? null;
  if (!access) throw new GatherGap(sections.cluster?.controlPlaneUnreachable ?? 'cluster endpoint unknown');
  return access;
}

/**
 * A private-only IP endpoint is reached only through VPC egress the function
 * may not have: a network failure there names the two settings that open a way.
 */
export function withRouteHint(err: unknown, sections: Partial<GatheredSections>): unknown {
  if (sections.cluster?.controlPlanePath !== 'private-ip' || !(err instanceof Error) || !err.message.startsWith('Kubernetes API unreachable')) return err;
  // A new error: the failed read may be shared through the cache by other triages.
  const hint = " (the control plane answers only on its private IP: deploy the function with VPC egress (terraform vpc_connector), or allow external traffic on the cluster's DNS endpoint)";
  const code = (err as { code?: unknown }).code;
  return Object.assign(new Error(`${err.message}${hint}`, { cause: err }), typeof code === 'string' ? { code } : {});
}

/** A GKE console page of a node or pod: .../kubernetes/KIND/LOCATION/CLUSTER/PARTS.../PAGE?project=P, each part URL-encoded. */
export function kubeConsoleUrl(cluster: ClusterRef | null, kind: 'node' | 'pod', parts: readonly string[], page: string): string | null {
  if (!cluster) return null;
  const path = [cluster.location, cluster.name, ...parts].map(encodeURIComponent).join('/');
  return `https://console.cloud.google.com/kubernetes/${kind}/${path}/${page}?project=${encodeURIComponent(cluster.project)}`;
}

// ---------------------------------------------------------------------------
