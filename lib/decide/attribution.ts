/**
 * Who started socat: the session into this pod (kubectl exec, attach or a
 * debug container) that can explain it, read from the audit log. Pure; the
 * audit-log gatherer has already fetched and decoded the events, and split
 * allowed sessions from refused attempts.
 *
 * A session explains socat only when it can (docs/attribution-research.md
 * has the sources):
 * - it names this pod, and this namespace when the finding names one;
 * - it lies in [eventTime - window, eventTime]: a session after the
 *   detection cannot have started the process that was detected;
 * - socat's lineage does not show the application starting it: a process
 *   started through exec descends from the container runtime, not from the
 *   container's own process tree, so a web server or an interpreter among
 *   socat's ancestors rules every session out (an admin who starts socat
 *   from an interpreter they exec'd is counted as the application: the safe
 *   side, and the rejected session is still shown);
 * - the container it entered, when logged, is the finding's container;
 * - its command, when logged, can lead to socat: it mentions socat, or it is
 *   a shell, interpreter or multi-call binary run interactively or with a
 *   script that runs further programs.
 * Among those, one whose command mentions socat wins, else the latest.
 * Refused requests are never sessions; they are reported on their own.
 *
 * Absence is evidence only from a complete read: `no_exec_found` needs an
 * audit read that covered the whole window with every page read; otherwise
 * the kind is `unknown` and says why.
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
import { posix } from 'node:path';
import type { ExecEvent, RefusedAttempt } from '../gather/sections.js';
import { parseRfc3339, type Instant } from '../timestamp.js';
import { kindOfName } from './lineage.js';
import type { Attribution, ConsideredSession, Lineage, ProcessKind } from './types.js';

/** Matches LOG_WINDOW_BEFORE_MINUTES' default: the audit query never reaches further back. */
export const DEFAULT_ATTRIBUTION_WINDOW_MINUTES = 30;
/** Sessions listed in the report; the count says how many there were. */
export const MAX_CONSIDERED = 10;

/** What the audit-log section says, or null when audit logs were not gathered. */
export interface AuditEvidence {
  execs: readonly ExecEvent[];
  refused: readonly RefusedAttempt[];
  /** More entries existed than were read (a page token left, a budget or the deadline hit). */
  truncated: boolean;
  /** The time range the read covered. */
  window: { start: string; end: string } | null;
}

export interface AttributionInput {
  audit: AuditEvidence | null;
  namespace: string | null;
  pod: string | null;
  /** The finding's container, when it names one. */
  container?: string | null;
  eventTime: string | null;
  windowMinutes?: number;
  /** socat's ancestry as the finding shows it; null when unknown. */
  lineage?: Lineage | null;
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

const ENTRY_WORDS = { exec: 'kubectl exec', attach: 'kubectl attach', debug: 'kubectl debug (ephemeral container)' } as const;

function sessionName(e: { kind: keyof typeof ENTRY_WORDS; method: string | null }): string {
  return `${ENTRY_WORDS[e.kind]}${e.method ? ` (${e.method})` : ''}`;
}

// ---------------------------------------------------------------------------
// What a session can have started

/**
 * Programs that run further programs when started without a script: a person
 * types socat at their prompt. Shells, interpreters and socat itself are told
 * by lineage's kindOfName; these are the others.
 */
const OTHER_LAUNCHERS = new Set(['busybox', 'toybox', 'irb', 'ipython', 'su', 'sudo', 'doas', 'script', 'tmux', 'screen']);
const LAUNCHER_KINDS: ReadonlySet<ProcessKind> = new Set(['shell', 'interpreter', 'web_server', 'socat']);

function launches(name: string): boolean {
  return OTHER_LAUNCHERS.has(name) || LAUNCHER_KINDS.has(kindOfName(name));
}
/** Programs that run the program named in their arguments (after options, VAR=value and a duration). */
const WRAPPERS = new Set(['env', 'nohup', 'setsid', 'timeout', 'xargs', 'nsenter', 'chroot', 'nice', 'ionice', 'stdbuf', 'exec', 'command']);
/** Words in a -c script that start further programs out of our sight (a download piped to a shell, an interpreter). */
const SCRIPT_LAUNCH = /\b(?:socat|sh|bash|dash|ash|zsh|ksh|busybox|python[\d.]*|perl|ruby|php|node|curl|wget|eval|source|exec)\b|(?:^|[\s;&|(])\.\s/;
const SCRIPT_FLAGS = new Set(['-c', '-e', '-ec', '-ce', '-lc', '-cl', '-ic', '-ci', '--command', '-m', '-r']);

function programName(arg: string): string {
  return posix.basename(arg.trim()).replace(/^-/, '').toLowerCase();
}

/** Why a logged command cannot lead to socat, or null when it can (or when it is not logged). */
export function commandCannotLead(command: readonly string[] | null): string | null {
  if (command === null || command.length === 0) return null;
  if (command.some((arg) => /socat/i.test(arg))) return null;
  let name = programName(command[0] ?? '');
  let rest = command.slice(1);
  for (let depth = 0; WRAPPERS.has(name) && depth < 4; depth++) {
    const next = rest.findIndex((arg) => !arg.startsWith('-') && !arg.includes('=') && !/^\d+(\.\d+)?[smhd]?$/.test(arg));
    if (next < 0) return `its command ${JSON.stringify(command.slice(0, 8))} runs ${name} with no program to start`;
    name = programName(rest[next] as string);
    rest = rest.slice(next + 1);
  }
  if (!launches(name)) {
    return `its command ${JSON.stringify(command.slice(0, 8))} runs ${name || 'an unnamed program'}, which starts no further programs`;
  }
  const flag = rest.findIndex((arg) => SCRIPT_FLAGS.has(arg));
  if (flag < 0) return null; // an interactive shell or interpreter: anything typed there, socat included
  const script = rest.slice(flag + 1).join(' ');
  if (SCRIPT_LAUNCH.test(script)) return null;
  return `its command ${JSON.stringify(command.slice(0, 8))} runs a script that neither mentions socat nor starts further programs`;
}

/** The ancestor that shows the application started socat, or null. */
export function applicationAncestor(lineage: Lineage | null | undefined): string | null {
  if (!lineage || lineage.chain.length < 2) return null;
  const ancestors = lineage.chain.slice(0, -1);
  const app = ancestors.find((e) => e.kind === 'web_server' || e.kind === 'interpreter');
  if (!app) return null;
  return `socat's lineage (${lineage.summary}) shows the application (${app.kind === 'web_server' ? 'a web server' : 'an interpreter'}) starting it; a process started through kubectl exec descends from the container runtime, not from the application`;
}

// ---------------------------------------------------------------------------

function describeSession(e: ExecEvent, at: Instant, eventAt: Instant, count: number, who: string): string {
  const command = e.command === null ? 'the command was not logged' : e.mentionsSocat ? 'the command mentions socat' : 'the command does not mention socat';
  const of = count > 1 ? `; the best match of ${count} sessions into the pod in the window` : '';
  const into = e.container ? ` (container ${e.container})` : '';
  return (
    `${who} ${e.principal ?? '(no principal)'} entered ${target(e.namespace, e.pod ?? '?')}${into} by ${sessionName(e)} ` +
    `from ${e.callerIp ?? 'an unknown IP'} (user agent ${e.userAgent ?? 'unknown'}) at ${e.time}, ` +
    `${eventAt.seconds - at.seconds} s before the finding; ${command}${of}.`
  );
}

function refusedNote(refused: readonly RefusedAttempt[]): string {
  if (refused.length === 0) return '';
  const who = [...new Set(refused.map((r) => r.principal ?? '(no principal)'))].slice(0, 3).join(', ');
  return ` ${refused.length} refused request(s) into the pod in the window (by ${who}) are reported apart: a refusal explains nothing.`;
}

/** Why the read cannot prove an absence, or null when it covered [from, eventAt] with every page. */
function incompleteRead(audit: AuditEvidence, from: Instant, eventAt: Instant): string | null {
  if (audit.truncated) return 'the audit read stopped before the end of its window (more entries than were read)';
  if (audit.window === null) return null;
  const start = parseRfc3339(audit.window.start);
  const end = parseRfc3339(audit.window.end);
  if (start === null || end === null || compare(start, from) > 0 || compare(end, eventAt) < 0) {
    return `the audit read covered ${audit.window.start} to ${audit.window.end}, not the whole attribution window`;
  }
  return null;
}

export function attribute(input: AttributionInput): Attribution {
  const window = input.windowMinutes ?? DEFAULT_ATTRIBUTION_WINDOW_MINUTES;
  const none = { exec: null, execCount: 0, considered: [], refused: [] };
  if (input.audit === null) {
    return { kind: 'unknown', ...none, explanation: 'Audit logs were not gathered, so who started socat is unknown.' };
  }
  if (input.pod === null) {
    return { kind: 'unknown', ...none, explanation: 'The finding names no pod, so no session into it can be matched.' };
  }
  const pod = input.pod;
  const mine = <T extends { pod: string | null; namespace: string | null }>(e: T) => e.pod === pod && (input.namespace === null || e.namespace === input.namespace);
  const intoPod = input.audit.execs.filter(mine);
  const refused = input.audit.refused.filter(mine);
  const eventAt = input.eventTime === null ? null : parseRfc3339(input.eventTime);
  if (eventAt === null) {
    return {
      kind: 'unknown',
      ...none,
      execCount: intoPod.length,
      refused,
      explanation: `The finding has no usable event time, so none of the ${intoPod.length} sessions into ${target(input.namespace, pod)} can be placed before it.`,
    };
  }
  const from = minus(eventAt, window);
  const timed: { e: ExecEvent; at: Instant }[] = [];
  for (const e of intoPod) {
    const at = e.time === null ? null : parseRfc3339(e.time);
    // An event with no usable time cannot be shown to precede the detection.
    if (at !== null && compare(at, from) >= 0 && compare(at, eventAt) <= 0) timed.push({ e, at });
  }
  const latestFirst = timed.sort((a, b) => compare(b.at, a.at));
  const application = applicationAncestor(input.lineage);
  const container = input.container ?? null;
  const judged = latestFirst.map(({ e, at }) => {
    let reason: string | null = application;
    if (reason === null && container !== null && e.container !== null && e.container !== container) {
      reason = `it entered container ${e.container}, the finding is in container ${container}`;
    }
    reason ??= commandCannotLead(e.command);
    return { e, at, reason };
  });
  const candidates = judged.filter((j) => j.reason === null);
  const best = candidates.find((j) => j.e.mentionsSocat) ?? candidates[0];
  const considered: ConsideredSession[] = judged.slice(0, MAX_CONSIDERED).map((j) => ({
    session: j.e,
    taken: j === best,
    reason: j === best ? 'taken: the closest session before the finding that can have started socat' + (j.e.mentionsSocat ? ' (its command mentions socat)' : '') : `rejected: ${j.reason ?? 'another session explains socat better'}`,
  }));
  if (best === undefined) {
    const rejected = judged.length === 0 ? '' : ` ${judged.length} session(s) into the pod in the window cannot have started it (${judged[0]!.reason}).`;
    const incomplete = incompleteRead(input.audit, from, eventAt);
    if (incomplete !== null) {
      return {
        kind: 'unknown',
        exec: null,
        execCount: timed.length,
        considered,
        refused,
        explanation: `No session into ${target(input.namespace, pod)} that explains socat was found, but ${incomplete}, so its absence proves nothing.${rejected}${refusedNote(refused)}`,
      };
    }
    return {
      kind: 'no_exec_found',
      exec: null,
      execCount: timed.length,
      considered,
      refused,
      explanation:
        `No kubectl exec, attach or debug session into ${target(input.namespace, pod)} in the ${window} minutes before the finding can have started socat ` +
        `(every audit entry of the window was read):${rejected} the workload itself started socat — points to exploitation or a compromised image.${refusedNote(refused)}`,
    };
  }
  const person = classifyPrincipal(best.e.principal) === 'person';
  return {
    kind: person ? 'interactive_exec_by_person' : 'exec_by_service_account',
    exec: best.e,
    execCount: timed.length,
    considered,
    refused,
    explanation: describeSession(best.e, best.at, eventAt, timed.length, person ? 'Person' : 'Non-person principal') + refusedNote(refused),
  };
}
