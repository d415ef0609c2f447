/**
 * Who started socat: the `kubectl exec` into this pod that best explains it,
 * read from the audit log's pods/exec events. Pure; the audit-log gatherer
 * has already fetched and decoded the events.
 *
 * Matching rules:
 * - the event must name this pod, and this namespace when the finding names
 *   one (pod names carry a random suffix, so a pod-only match is still
 *   specific, and it is what the audit-log gatherer's own query does);
 * - it must lie in [eventTime - window, eventTime]: an exec after the
 *   detection cannot have started the process that was detected;
 * - among those, one whose command mentions socat wins, else the latest.
 *
 * Principal rule (person vs. automation): a principal is a person only when
 * it is an email address a human can own — any domain except
 * gserviceaccount.com and its subdomains — or a Workforce Identity
 * Federation principal (…/workforcePools/…). Everything else is treated as
 * automation: Google service accounts, Kubernetes identities (system:*),
 * workload identity pool principals, client-certificate common names
 * (kubernetes-admin) and an absent principal. The point of the split is
 * "is there a human we can ask?", and none of these names one.
 */
import type { ExecEvent } from '../gather/sections.js';
import { parseRfc3339, type Instant } from '../timestamp.js';
import type { Attribution } from './types.js';

/** Matches LOG_WINDOW_BEFORE_MINUTES' default: the audit query never reaches further back. */
export const DEFAULT_ATTRIBUTION_WINDOW_MINUTES = 30;

export interface AttributionInput {
  /** null = audit logs were not gathered. */
  execs: ExecEvent[] | null;
  namespace: string | null;
  pod: string | null;
  eventTime: string | null;
  windowMinutes?: number;
}

const EMAIL = /^[^@\s]+@([^@\s]+\.[^@\s]+)$/;

export type PrincipalKind = 'person' | 'automation';

export function classifyPrincipal(principal: string | null): PrincipalKind {
  const p = principal?.trim() ?? '';
  if (p === '' || p.toLowerCase().startsWith('system:')) return 'automation';
  if (p.startsWith('principal://') || p.startsWith('principalSet://')) {
    return p.includes('/workforcePools/') ? 'person' : 'automation';
  }
  const m = EMAIL.exec(p);
  if (!m) return 'automation';
  const domain = (m[1] as string).toLowerCase();
  return domain === 'gserviceaccount.com' || domain.endsWith('.gserviceaccount.com') ? 'automation' : 'person';
}

function compare(a: Instant, b: Instant): number {
  return a.seconds !== b.seconds ? a.seconds - b.seconds : a.nanos - b.nanos;
}

function minus(t: Instant, minutes: number): Instant {
  return { seconds: t.seconds - Math.round(minutes * 60), nanos: t.nanos };
}

function target(namespace: string | null, pod: string): string {
  return namespace === null ? `pod ${pod}` : `pod ${namespace}/${pod}`;
}

function describeExec(e: ExecEvent, at: Instant, eventAt: Instant, count: number, who: string): string {
  const command = e.command === null ? 'the command was not logged' : e.mentionsSocat ? 'the command mentions socat' : 'the command does not mention socat';
  const of = count > 1 ? `; the best match of ${count} execs into the pod in the window` : '';
  return (
    `${who} ${e.principal ?? '(no principal)'} exec'd into ${target(e.namespace, e.pod ?? '?')} ` +
    `from ${e.callerIp ?? 'an unknown IP'} (user agent ${e.userAgent ?? 'unknown'}) at ${e.time}, ` +
    `${eventAt.seconds - at.seconds} s before the finding; ${command}${of}.`
  );
}

export function attribute(input: AttributionInput): Attribution {
  const window = input.windowMinutes ?? DEFAULT_ATTRIBUTION_WINDOW_MINUTES;
  if (input.execs === null) {
    return { kind: 'unknown', exec: null, execCount: 0, explanation: 'Audit logs were not gathered, so who started socat is unknown.' };
  }
  if (input.pod === null) {
    return { kind: 'unknown', exec: null, execCount: 0, explanation: 'The finding names no pod, so no kubectl exec can be matched to it.' };
  }
  const pod = input.pod;
  const intoPod = input.execs.filter((e) => e.pod === pod && (input.namespace === null || e.namespace === input.namespace));
  const eventAt = input.eventTime === null ? null : parseRfc3339(input.eventTime);
  if (eventAt === null) {
    return {
      kind: 'unknown',
      exec: null,
      execCount: intoPod.length,
      explanation: `The finding has no usable event time, so none of the ${intoPod.length} kubectl exec events into ${target(input.namespace, pod)} can be placed before it.`,
    };
  }
  const from = minus(eventAt, window);
  const timed: { e: ExecEvent; at: Instant }[] = [];
  for (const e of intoPod) {
    const at = e.time === null ? null : parseRfc3339(e.time);
    // An event with no usable time cannot be shown to precede the detection.
    if (at !== null && compare(at, from) >= 0 && compare(at, eventAt) <= 0) timed.push({ e, at });
  }
  if (timed.length === 0) {
    return {
      kind: 'no_exec_found',
      exec: null,
      execCount: 0,
      explanation:
        `No kubectl exec into ${target(input.namespace, pod)} in the ${window} minutes before the finding: ` +
        'the workload itself started socat — points to exploitation or a compromised image.',
    };
  }
  const latestFirst = timed.sort((a, b) => compare(b.at, a.at));
  const best = latestFirst.find((t) => t.e.mentionsSocat) ?? latestFirst[0]!;
  const person = classifyPrincipal(best.e.principal) === 'person';
  return {
    kind: person ? 'interactive_exec_by_person' : 'exec_by_service_account',
    exec: best.e,
    execCount: timed.length,
    explanation: describeExec(best.e, best.at, eventAt, timed.length, person ? 'Person' : 'Non-person principal'),
  };
}
