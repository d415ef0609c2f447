/**
 * How bad it is: a weighted sum of named signals, each recorded as a reason
 * with its weight and what was seen, so every verdict can be explained and
 * re-added by hand (score === sum of reason weights, always). Weights and
 * thresholds come from VerdictSettings (lib/decide/verdict-settings.ts,
 * where each default is argued). A signal whose input is missing is not
 * guessed: it goes to `unavailable` with the reason, so an offline analysis
 * says what it could not see. Pure: no I/O.
 */
import { posix } from 'node:path';
import { cleanLine } from '../sanitize.js';
import type { PodSection, RelatedFindingsSection } from '../gather/sections.js';
import type { Gap } from '../gather/types.js';
import type { C2Endpoint } from '../report/types.js';
import type { Attribution, C2Scope, Lineage, Verdict, VerdictLevel, VerdictReason } from './types.js';
import { isAdminPrincipal, isTrustedImage, RELATED_SAME_CONTAINER_CAP, SIGNALS, type SignalGroup, type VerdictSettings } from './verdict-settings.js';

export interface VerdictInput {
  c2: C2Endpoint;
  /** classifyC2's answer for c2.host; null when it was not classified. */
  scope: C2Scope | null;
  /** classifyHost's answer for c2.hop.host (the proxy the pod connects to); null or absent without one. */
  hopScope?: C2Scope | null;
  lineage: Lineage | null;
  attribution: Attribution;
  pod: PodSection | null;
  relatedFindings: RelatedFindingsSection | null;
  /** The workload's container image as the finding names it. */
  image: string | null;
  /** The report's process facts; the binary falls back to socat's lineage entry. */
  process?: { binary: string | null; argsTruncated: boolean } | null;
  /** Accepted for callers that have it; not scored, because CTD sets it per detector and so it cannot tell two socat findings apart. */
  severity?: string | null;
  /** The gatherers' gaps: their reasons explain unavailable signals. */
  gaps?: Gap[];
}

const DEFAULT_WEIGHTS: Record<string, number> = Object.fromEntries(SIGNALS.map((s) => [s.id, s.defaultWeight]));

const SCOPE_SIGNAL: Record<C2Scope, string> = {
  metadata_server: 'metadata_server_c2',
  public: 'public_c2',
  hostname: 'hostname_c2',
  link_local: 'link_local_c2',
  reserved: 'reserved_c2',
  pod_cidr: 'internal_c2',
  services_cidr: 'internal_c2',
  node_subnet: 'internal_c2',
  private: 'internal_c2',
  loopback: 'loopback_c2',
};

const SCOPE_WORDS: Record<C2Scope, string> = {
  metadata_server: 'the metadata server',
  public: 'a public address',
  hostname: 'a host name, not resolved here',
  link_local: 'a link-local address',
  reserved: 'a reserved address',
  pod_cidr: "an address in the cluster's pod range",
  services_cidr: "an address in the cluster's services range",
  node_subnet: "an address in the nodes' subnet",
  private: 'a private address',
  loopback: 'loopback',
};

const SHELLS = new Set(['sh', 'bash', 'dash', 'ash', 'zsh', 'ksh', 'mksh', 'csh', 'tcsh', 'fish', 'rbash', 'pwsh', 'powershell']);

/**
 * A shell anywhere in the command counts, not only as the first word: the
 * wrappers attackers use to get a TTY (`python -c 'pty.spawn("/bin/bash")'`,
 * `script -qc /bin/sh`, `busybox sh`) still hand over a shell.
 */
export function shellIn(program: string): string | null {
  for (const token of program.split(/[\s'"();,=]+/)) {
    const name = posix.basename(token);
    if (SHELLS.has(name)) return name;
  }
  return null;
}

const STANDARD_DIRS = ['/bin/', '/sbin/', '/usr/bin/', '/usr/sbin/', '/usr/local/bin/', '/usr/local/sbin/', '/usr/libexec/'];
// World-writable tmpfs and pseudo-filesystems: nothing an image installs runs from there.
const SCRATCH_DIRS = ['/tmp/', '/var/tmp/', '/dev/shm/', '/dev/', '/run/', '/var/run/', '/proc/'];

export type BinaryLocation = 'standard' | 'scratch' | 'unusual';

export function binaryLocation(binary: string): BinaryLocation {
  const raw = binary.trim();
  if (/^\/?memfd:/.test(raw) || raw.endsWith(' (deleted)')) return 'scratch';
  if (!raw.startsWith('/')) return 'unusual';
  // The kernel reports resolved paths, but a hostile finding could send /usr/bin/../../tmp/x.
  const path = posix.normalize(raw);
  if (SCRATCH_DIRS.some((d) => path.startsWith(d))) return 'scratch';
  if (STANDARD_DIRS.some((d) => path.startsWith(d))) return 'standard';
  return 'unusual';
}

const ESCAPE_CAPABILITIES = new Set(['ALL', 'SYS_ADMIN', 'SYS_PTRACE', 'SYS_MODULE', 'SYS_RAWIO', 'DAC_READ_SEARCH', 'BPF', 'NET_ADMIN']);
// Host paths that expose the node's processes, devices, credentials or container runtime.
const SENSITIVE_HOST_PATHS = ['/proc', '/sys', '/dev', '/etc', '/root', '/home', '/run', '/var/run', '/var/lib/kubelet', '/var/lib/docker', '/var/lib/containerd'];

/** The pod's red flags that let a shell in it reach the node; "runs as root" alone does not. */
export function escapeFlags(redFlags: readonly string[]): string[] {
  return redFlags.filter((flag) => {
    if (/^privileged /.test(flag) || flag === 'hostPID' || flag === 'hostNetwork' || flag === 'hostIPC') return true;
    const cap = / adds capability (?:CAP_)?([A-Za-z_]+)$/.exec(flag);
    if (cap) return ESCAPE_CAPABILITIES.has((cap[1] as string).toUpperCase());
    const host = /^hostPath (.+) \(volume [^)]*\)$/.exec(flag);
    if (host) {
      const p = posix.normalize(host[1] as string).replace(/(.)\/$/, '$1');
      return p === '/' || SENSITIVE_HOST_PATHS.some((s) => p === s || p.startsWith(`${s}/`));
    }
    return false;
  });
}

/**
 * The program as reasons show it: socat now hands on exactly what it runs,
 * C escapes decoded (`\e`, `\0`), so invisible characters are dropped here
 * rather than written as `\u001b` text into words for people.
 */
function shownProgram(program: string | null): string {
  return program === null ? 'no program' : JSON.stringify(cleanLine(program, 400));
}

function endpointText(c2: Pick<C2Endpoint, 'host' | 'port'>): string {
  const host = c2.host === null ? '?' : c2.host.includes(':') ? `[${c2.host}]` : c2.host;
  return c2.port === null ? host : `${host}:${c2.port}`;
}

export function levelFor(score: number, settings: VerdictSettings): VerdictLevel {
  if (score >= settings.maliciousThreshold) return 'likely_malicious';
  if (score <= settings.benignThreshold) return 'likely_benign_admin';
  return 'suspicious';
}

export function decideVerdict(input: VerdictInput, settings: VerdictSettings): Verdict {
  const reasons: VerdictReason[] = [];
  const unavailable: string[] = [];
  const weightOf = (signal: string): number => settings.weights[signal] ?? DEFAULT_WEIGHTS[signal] ?? 0;
  const fire = (signal: string, detail: string, weight = weightOf(signal)): void => {
    reasons.push({ signal, weight, detail });
  };
  const miss = (group: SignalGroup, reason: string): void => {
    unavailable.push(`${group}: ${reason}`);
  };
  const notGathered = (section: string): string => {
    const gap = input.gaps?.find((g) => g.section === section);
    return gap ? `not gathered (${gap.reason})` : 'not gathered';
  };
  const { c2 } = input;

  // Where it connects. A listener names only its own port, so bind shells have no destination to judge.
  // Through a SOCKS/PROXY hop the pod's packets go to the proxy: a remote proxy is what is scored
  // (the target is judged from the proxy's side, where its 127.0.0.1 is the proxy's own); a proxy
  // inside the pod (a Tor or SOCKS daemon on loopback) hands the target on from the pod itself,
  // so then the target is scored. An argv socat refuses connects nowhere and is not scored.
  const hop = c2.hop ?? null;
  const hopScope = input.hopScope ?? null;
  const others = (c2.peers ?? []).slice(1).filter((p) => p.direction === 'connect' && p.host !== null);
  const alsoText = others.length === 0 ? '' : `; also connects to ${others.map((p) => endpointText({ ...c2, host: p.host, port: p.port })).join(', ')} (the other half of a dual address)`;
  if (c2.refused !== null && c2.refused !== undefined) {
    miss('c2_scope', `socat would refuse these arguments (${c2.refused}), so it connected nowhere`);
  } else if (c2.role !== 'bind' && hop !== null && hop.host !== null && hopScope !== null && hopScope !== 'loopback') {
    fire(
      SCOPE_SIGNAL[hopScope],
      `connects to the proxy ${endpointText({ ...c2, host: hop.host, port: hop.port })}: ${SCOPE_WORDS[hopScope]}; the proxy is asked for ${endpointText(c2)}, which is judged from the proxy's side, not the pod's${alsoText}`,
    );
  } else if (c2.role !== 'bind' && hop !== null && hop.host !== null && hopScope === null) {
    miss('c2_scope', `the proxy ${endpointText({ ...c2, host: hop.host, port: hop.port })} was not classified`);
  } else if (c2.role !== 'bind') {
    const through = hop !== null && hopScope === 'loopback' ? ` through a proxy inside the pod (${endpointText({ ...c2, host: hop.host, port: hop.port })}, e.g. a Tor or SOCKS daemon; an IP block cannot cut it, isolate the pod)` : '';
    if (c2.host === null) {
      if (c2.role !== 'unknown') miss('c2_scope', "socat's arguments name no destination host");
    } else if (input.scope === null) {
      miss('c2_scope', `the destination ${endpointText(c2)} was not classified`);
    } else {
      fire(SCOPE_SIGNAL[input.scope], `connects${through} to ${endpointText(c2)}: ${SCOPE_WORDS[input.scope]}${alsoText}`);
    }
  }

  // What it does.
  const transport = c2.transport ?? 'unknown transport';
  switch (c2.role) {
    case 'reverse':
      fire('reverse_shell', `connects out over ${transport} to ${endpointText(c2)} and runs ${shownProgram(c2.program)}`);
      break;
    case 'bind':
      fire('bind_shell', `listens over ${transport}${c2.port === null ? '' : ` on port ${c2.port}`} and runs ${shownProgram(c2.program)} for whoever connects`);
      break;
    case 'relay':
      fire('relay', `relays between two network addresses, towards ${endpointText(c2)}`);
      break;
    case 'unknown':
      miss('c2_role', "socat's arguments show neither a remote shell nor a relay (unreadable, truncated, or a local pipe), so role and program signals were not evaluated");
      break;
  }
  if ((c2.role === 'reverse' || c2.role === 'bind') && c2.program !== null) {
    const shell = shellIn(c2.program);
    if (shell !== null) {
      if (c2.pty) fire('pty_shell', `the program ${shownProgram(c2.program)} is a shell (${shell}) with a pty`);
      else fire('plain_shell', `the program ${shownProgram(c2.program)} is a shell (${shell}), without a pty`);
    }
  }

  // Who started it: the process tree.
  if (input.lineage === null) {
    miss('lineage', 'the finding shows no process ancestry');
  } else if (input.lineage.startedBy === null) {
    miss('lineage', "socat's parent process is not in the finding");
  } else if (input.lineage.startedBy === 'web_server' || input.lineage.startedBy === 'interpreter') {
    const parent = input.lineage.startedBy === 'web_server' ? 'a web server' : 'an interpreter';
    fire('started_by_web_or_interpreter', `socat was started by ${parent}: ${input.lineage.summary}`);
  } else if (input.lineage.startedBy === 'shell') {
    fire('started_by_shell', `socat was started by a shell: ${input.lineage.summary}`);
  }

  // Who started it: the audit log.
  const a = input.attribution;
  switch (a.kind) {
    case 'unknown':
      miss('attribution', input.gaps?.some((g) => g.section === 'auditLogs') ? `audit logs ${notGathered('auditLogs')}` : a.explanation);
      break;
    case 'no_exec_found':
      fire('no_exec_found', a.explanation);
      break;
    case 'interactive_exec_by_person':
    case 'exec_by_service_account': {
      const principal = a.exec?.principal ?? null;
      if (isAdminPrincipal(principal, settings.adminPrincipals)) fire('exec_by_admin', `allow-listed admin: ${a.explanation}`);
      else if (a.kind === 'interactive_exec_by_person') fire('exec_by_person', `not on the admin allow-list: ${a.explanation}`);
      else fire('exec_by_service_account', a.explanation);
      if (a.kind === 'interactive_exec_by_person' && a.exec?.mentionsSocat === true) {
        fire('exec_mentions_socat', `${principal}'s exec command runs socat: ${JSON.stringify(a.exec.command)}`);
      }
      break;
    }
  }

  if (a.refused.length > 0) {
    const r = a.refused[0]!;
    const more = a.refused.length > 1 ? ` (and ${a.refused.length - 1} more)` : '';
    fire(
      'refused_pod_entry',
      `${a.refused.length} refused request(s) into the pod: ${r.principal ?? '(no principal)'} tried ${r.method ?? r.kind} at ${r.time ?? '?'} from ${r.callerIp ?? 'an unknown IP'}` +
        `${r.statusCode === null ? '' : ` (status ${r.statusCode}${r.reason ? `: ${r.reason}` : ''})`}${more}`,
    );
  }

  // What the shell can reach.
  if (input.pod === null) {
    miss('pod', `the pod spec was ${notGathered('pod')}`);
  } else if (input.pod.source !== 'kubernetes') {
    miss('pod', "the pod is gone; its spec could not be read, only the finding's facts remain");
  } else {
    const flags = escapeFlags(input.pod.redFlags);
    if (flags.length > 0) fire('privileged_pod', `the pod can reach its node: ${flags.join('; ')}`);
  }

  // Whether it is part of something bigger.
  const rf = input.relatedFindings;
  if (rf === null) {
    miss('related_findings', `related findings were ${notGathered('relatedFindings')}`);
  } else {
    const counted = Object.values(rf.countsByCategory).reduce((n, c) => n + c, 0);
    const same = Math.max(counted, rf.sameContainer.length);
    const atLeast = rf.truncated ? 'at least ' : '';
    if (same > 0) {
      const byCategory = Object.entries(rf.countsByCategory).map(([category, n]) => `${category} ×${n}`);
      const counts = Math.min(same, RELATED_SAME_CONTAINER_CAP);
      fire(
        'related_same_container',
        `${atLeast}${same} other finding(s) on the same container within ${rf.windowMinutes} min (${byCategory.join(', ')}); ${counts} counted`,
        weightOf('related_same_container') * counts,
      );
    }
    const others = rf.otherPodsSameWorkload;
    if (others.length > 0) {
      const pods = [...new Set(others.map((f) => f.pod ?? '?'))];
      fire('related_other_pods', `${atLeast}${others.length} finding(s) on other pods of the workload within ${rf.windowMinutes} min (pods ${pods.join(', ')})`);
    }
    // Finding none is evidence only when every page was read; `!== false` keeps reports from before the field.
    if (rf.complete === false && (same === 0 || others.length === 0)) {
      const gap = input.gaps?.find((g) => g.section === 'relatedFindings');
      const which = same === 0 && others.length === 0 ? 'none found' : same === 0 ? 'none found on the same container' : 'none found on other pods of the workload';
      miss('related_findings', `${which}, but the read was incomplete${gap ? ` (${gap.reason})` : ''}: absence not established`);
    }
  }

  // Where the code came from.
  if (settings.trustedRegistries.length === 0) {
    miss('image', 'no trusted registries configured (TRUSTED_IMAGE_REGISTRIES)');
  } else if (input.image === null) {
    miss('image', 'the finding names no container image');
  } else if (!isTrustedImage(input.image, settings.trustedRegistries)) {
    fire('untrusted_image', `the image ${input.image} is from none of the trusted registries (${settings.trustedRegistries.join(', ')})`);
  }

  const binary = input.process?.binary ?? input.lineage?.chain.at(-1)?.binary ?? null;
  if (binary === null) {
    miss('binary', 'the finding shows no socat binary path');
  } else {
    const where = binaryLocation(binary);
    if (where === 'scratch') fire('dropped_binary', `socat runs from ${binary}, a scratch or in-memory location`);
    else if (where === 'unusual') fire('unusual_binary_path', `socat runs from ${binary}, outside the standard system paths`);
  }
  if (input.process?.argsTruncated === true) {
    fire('args_truncated', "the finding cut socat's arguments; the destination and program may be incomplete");
  }

  const score = reasons.reduce((sum, r) => sum + r.weight, 0);
  return { level: levelFor(score, settings), score, reasons, unavailable };
}
