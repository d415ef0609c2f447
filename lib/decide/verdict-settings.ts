/**
 * The verdict model's tunables: one weight per signal, who counts as an
 * admin, which registries are trusted, and the two thresholds. Parsed from
 * environment strings here so the lead's parseConfig can wrap the error into
 * a ConfigError naming the same variable.
 *
 * The defaults are calibrated on test/fixtures/scenarios/: a reverse shell
 * with a shell program to a public address scores 60 on the finding alone
 * (the detector's core case, so likely_malicious), an allow-listed admin's
 * exec pulls a private-network debugging session to -30 or below
 * (likely_benign_admin), and a non-allow-listed person's exec to a public
 * address lands in between (suspicious): a person did it, someone still asks.
 */
import type { EnvVarDoc } from '../config.js';

/** Which part of the input a signal reads; `unavailable` entries are named by group. */
export type SignalGroup = 'c2_scope' | 'c2_role' | 'program' | 'lineage' | 'attribution' | 'pod' | 'related_findings' | 'image' | 'binary';

export interface SignalDoc {
  id: string;
  group: SignalGroup;
  defaultWeight: number;
  description: string;
  rationale: string;
}

/** Findings on the same container counted at most, so a noisy burst cannot swamp every other signal. */
export const RELATED_SAME_CONTAINER_CAP = 3;

export const SIGNALS: readonly SignalDoc[] = [
  {
    id: 'metadata_server_c2',
    group: 'c2_scope',
    defaultWeight: 40,
    description: 'The connecting side targets the metadata server (169.254.169.254 / metadata.google.internal).',
    rationale: 'Serves the node or workload service-account tokens; socat pointed there is credential theft or a tunnel to it.',
  },
  {
    id: 'public_c2',
    group: 'c2_scope',
    defaultWeight: 30,
    description: 'The connecting side targets a public IP address.',
    rationale: 'A shell or relay leaving the VPC to the internet is the textbook command-and-control channel.',
  },
  {
    id: 'hostname_c2',
    group: 'c2_scope',
    defaultWeight: 20,
    description: 'The connecting side targets a host name (not resolved here).',
    rationale: 'Attackers favour names they can repoint; smaller than public_c2 because the name may resolve internally.',
  },
  {
    id: 'link_local_c2',
    group: 'c2_scope',
    defaultWeight: 10,
    description: 'The connecting side targets a link-local address other than the metadata server.',
    rationale: 'Only node-local agents live there (metadata proxies, node-local DNS); a shell aimed at them is odd but not outbound.',
  },
  {
    id: 'reserved_c2',
    group: 'c2_scope',
    defaultWeight: 0,
    description: 'The connecting side targets a reserved address (documentation, multicast, 0.0.0.0, ...).',
    rationale: 'Noted, not scored: nothing real answers there, so it says little either way (a placeholder, a test, or a typo).',
  },
  {
    id: 'internal_c2',
    group: 'c2_scope',
    defaultWeight: -5,
    description: 'The connecting side targets a private or cluster-internal address (pod or services range, node subnet, RFC 1918).',
    rationale: 'Admins debug against internal services this way; kept small because lateral movement looks the same.',
  },
  {
    id: 'loopback_c2',
    group: 'c2_scope',
    defaultWeight: -10,
    description: 'The connecting side targets loopback.',
    rationale: 'Nothing leaves the pod: typical of port-forward plumbing and local tests, not of remote control.',
  },
  {
    id: 'reverse_shell',
    group: 'c2_role',
    defaultWeight: 20,
    description: 'socat connects out and attaches a program (EXEC/SYSTEM) to the connection.',
    rationale: 'The connect-back shell is the pattern the detector exists for; it passes ingress firewalls.',
  },
  {
    id: 'bind_shell',
    group: 'c2_role',
    defaultWeight: 20,
    description: 'socat listens and attaches a program (EXEC/SYSTEM) to whoever connects.',
    rationale: 'Anyone who reaches the port gets a shell; no admin tool needs one when kubectl exec exists.',
  },
  {
    id: 'relay',
    group: 'c2_role',
    defaultWeight: 5,
    description: 'socat joins two network addresses (a relay or tunnel), no program attached.',
    rationale: 'Pivoting and tunnelling use it, but so does legitimate port forwarding; the destination signals carry the weight.',
  },
  {
    id: 'pty_shell',
    group: 'program',
    defaultWeight: 15,
    description: 'The attached program is a shell and socat gives it a pseudo-terminal (pty).',
    rationale: 'A full interactive TTY is what an operator upgrades to for hands-on work (su, vi, job control).',
  },
  {
    id: 'plain_shell',
    group: 'program',
    defaultWeight: 10,
    description: 'The attached program is a shell, without a pty.',
    rationale: 'Still remote command execution; slightly less than with a pty because scripted one-shot uses exist.',
  },
  {
    id: 'started_by_web_or_interpreter',
    group: 'lineage',
    defaultWeight: 25,
    description: "socat's parent process is a web server or a language interpreter (the application).",
    rationale: 'The application spawning socat is the shape of remote code execution through the app (injection, deserialisation).',
  },
  {
    id: 'started_by_shell',
    group: 'lineage',
    defaultWeight: 0,
    description: "socat's parent process is a shell.",
    rationale: "Noted, not scored: an admin's kubectl exec session and an attacker's first-stage shell look the same.",
  },
  {
    id: 'no_exec_found',
    group: 'attribution',
    defaultWeight: 20,
    description: 'Audit logs were read and no kubectl exec into the pod precedes the finding.',
    rationale: 'No one started it from outside, so the workload did: exploitation or a compromised image.',
  },
  {
    id: 'exec_by_admin',
    group: 'attribution',
    defaultWeight: -60,
    description: 'The matching kubectl exec was made by an allow-listed admin principal (ADMIN_PRINCIPALS).',
    rationale: 'A named, expected operator acting under their own identity is the benign explanation the playbook looks for.',
  },
  {
    id: 'exec_by_person',
    group: 'attribution',
    defaultWeight: -15,
    description: 'The matching kubectl exec was made by a person not on the admin allow-list.',
    rationale: 'A person acting under their own identity is likely debugging, but an unlisted one (or a stolen account) is still worth a question.',
  },
  {
    id: 'exec_by_service_account',
    group: 'attribution',
    defaultWeight: 10,
    description: 'The matching kubectl exec was made by a service account or another non-person principal.',
    rationale: 'Automation rarely runs socat shells; a stolen or over-privileged CI identity does.',
  },
  {
    id: 'exec_mentions_socat',
    group: 'attribution',
    defaultWeight: -15,
    description: "A person's matching exec command itself runs socat.",
    rationale: 'The person typed socat visibly under their own name, which ties the shell to a deliberate, attributable action.',
  },
  {
    id: 'refused_pod_entry',
    group: 'attribution',
    defaultWeight: 10,
    description: 'A kubectl exec, attach or debug request into the pod was refused (RBAC forbid or a failed status) in the audit window.',
    rationale: 'Someone tried to get into the pod and was not allowed: probing with a stolen or under-privileged identity. Never the explanation of socat.',
  },
  {
    id: 'privileged_pod',
    group: 'pod',
    defaultWeight: 15,
    description: 'The pod can reach the node: privileged container, host namespaces, escape-grade capabilities or sensitive hostPath.',
    rationale: 'A shell there is a shell on the node, so the same activity does more damage.',
  },
  {
    id: 'related_same_container',
    group: 'related_findings',
    defaultWeight: 10,
    description: `Other findings on the same container in the window; the weight is per finding, at most ${RELATED_SAME_CONTAINER_CAP} counted.`,
    rationale: 'Independent detections on the same container (added binary, malicious script, ...) corroborate an intrusion.',
  },
  {
    id: 'related_other_pods',
    group: 'related_findings',
    defaultWeight: 10,
    description: 'Findings on other pods of the same workload in the window.',
    rationale: 'The same thing happening across replicas points to a shared cause: a vulnerable image or an exploit campaign.',
  },
  {
    id: 'untrusted_image',
    group: 'image',
    defaultWeight: 15,
    description: 'The container image is not from a trusted registry prefix (TRUSTED_IMAGE_REGISTRIES).',
    rationale: 'Images from outside the organisation escape its build and scan pipeline; a backdoored image starts such shells.',
  },
  {
    id: 'dropped_binary',
    group: 'binary',
    defaultWeight: 20,
    description: 'The socat binary runs from a scratch or memory location (/tmp, /var/tmp, /dev/shm, /dev, /run, /proc, memfd, deleted file).',
    rationale: 'Images install socat in system paths; a copy in a writable scratch location was dropped there at runtime.',
  },
  {
    id: 'unusual_binary_path',
    group: 'binary',
    defaultWeight: 5,
    description: 'The socat binary runs from outside the standard system paths, but not from a scratch location.',
    rationale: 'Application directories and home directories are odd homes for socat, yet some images ship it there.',
  },
  {
    id: 'args_truncated',
    group: 'binary',
    defaultWeight: 0,
    description: "The finding cut socat's arguments.",
    rationale: 'Noted, not scored: the C2 endpoint may be incomplete, which weakens the other signals rather than pointing anywhere.',
  },
];

export const SIGNAL_IDS: readonly string[] = SIGNALS.map((s) => s.id);

export interface VerdictSettings {
  /** Every signal id → its weight (defaults merged with VERDICT_WEIGHTS). */
  weights: Record<string, number>;
  /** Exact emails or *@domain patterns, lower-cased. */
  adminPrincipals: string[];
  /** Image prefixes, e.g. us-docker.pkg.dev/my-org- ; empty = the untrusted_image signal is unavailable. */
  trustedRegistries: string[];
  maliciousThreshold: number;
  benignThreshold: number;
}

export const DEFAULT_MALICIOUS_THRESHOLD = 60;
export const DEFAULT_BENIGN_THRESHOLD = -20;

export const DEFAULT_VERDICT_SETTINGS: VerdictSettings = Object.freeze({
  weights: Object.freeze(Object.fromEntries(SIGNALS.map((s) => [s.id, s.defaultWeight]))) as Record<string, number>,
  adminPrincipals: Object.freeze([]) as unknown as string[],
  trustedRegistries: Object.freeze([]) as unknown as string[],
  maliciousThreshold: DEFAULT_MALICIOUS_THRESHOLD,
  benignThreshold: DEFAULT_BENIGN_THRESHOLD,
});

/** For the README configuration table, in the same shape as CONFIG_ENV_VARS. */
export const VERDICT_ENV_VARS: readonly EnvVarDoc[] = [
  {
    name: 'VERDICT_WEIGHTS',
    default: '(the signal table)',
    description: 'Comma-separated `signal=weight` overrides, e.g. `public_c2=40,pty_shell=15`; whole numbers, may be negative, between -1000 and 1000.',
  },
  { name: 'ADMIN_PRINCIPALS', default: '(none)', description: 'Comma-separated admin principals: exact emails or `*@domain` (that domain only, not subdomains); case-insensitive.' },
  {
    name: 'TRUSTED_IMAGE_REGISTRIES',
    default: '(none: untrusted_image unavailable)',
    description: 'Comma-separated image prefixes, e.g. `us-docker.pkg.dev/my-org-`; a prefix without `/` is a whole registry host.',
  },
  { name: 'VERDICT_MALICIOUS_THRESHOLD', default: String(DEFAULT_MALICIOUS_THRESHOLD), description: 'A score at or above this is likely_malicious.' },
  { name: 'VERDICT_BENIGN_THRESHOLD', default: String(DEFAULT_BENIGN_THRESHOLD), description: 'A score at or below this is likely_benign_admin; must be below the malicious threshold.' },
];

export class VerdictSettingsError extends Error {
  override name = 'VerdictSettingsError';
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(message);
  }
}

export interface VerdictSettingsEnv {
  VERDICT_WEIGHTS?: string;
  ADMIN_PRINCIPALS?: string;
  TRUSTED_IMAGE_REGISTRIES?: string;
  VERDICT_MALICIOUS_THRESHOLD?: string;
  VERDICT_BENIGN_THRESHOLD?: string;
}

const MAX_ABS = 1000;
const WHOLE = /^[+-]?\d{1,4}$/;
// Same shape of address attribution.ts treats as an email; no wildcard except a leading "*@".
const ADMIN_PATTERN = /^(\*|[^@\s*,]+)@([a-z0-9-]+(?:\.[a-z0-9-]+)+)$/;
// Registry host, optional port, optional path prefix; no scheme, no wildcard, no whitespace.
const REGISTRY_PREFIX = /^[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?(?::\d{1,5})?(?:\/[a-z0-9._\/-]*)?$/;

function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v !== '');
}

function present(value: string | undefined): string | undefined {
  const v = value?.trim();
  return v === undefined || v === '' ? undefined : v;
}

function wholeNumber(variable: string, what: string, text: string): number {
  if (!WHOLE.test(text)) throw new VerdictSettingsError(variable, `${what}: expected a whole number, got ${JSON.stringify(text)}`);
  const n = Number(text);
  if (Math.abs(n) > MAX_ABS) throw new VerdictSettingsError(variable, `${what}: must be between -${MAX_ABS} and ${MAX_ABS}, got ${n}`);
  // Number('-0') is -0, which would print as 0 but compare oddly in tests.
  return n === 0 ? 0 : n;
}

function parseWeights(text: string | undefined): Record<string, number> {
  const weights: Record<string, number> = { ...DEFAULT_VERDICT_SETTINGS.weights };
  const seen = new Set<string>();
  for (const entry of list(text)) {
    const eq = entry.indexOf('=');
    if (eq < 0) throw new VerdictSettingsError('VERDICT_WEIGHTS', `expected signal=weight, got ${JSON.stringify(entry)}`);
    const id = entry.slice(0, eq).trim();
    if (!SIGNAL_IDS.includes(id)) {
      throw new VerdictSettingsError('VERDICT_WEIGHTS', `unknown signal ${JSON.stringify(id)}; known: ${SIGNAL_IDS.join(', ')}`);
    }
    if (seen.has(id)) throw new VerdictSettingsError('VERDICT_WEIGHTS', `signal ${id} is set twice`);
    seen.add(id);
    weights[id] = wholeNumber('VERDICT_WEIGHTS', id, entry.slice(eq + 1).trim());
  }
  return weights;
}

/**
 * A comma-separated list of principal patterns (exact emails or `*@domain`),
 * lower-cased. One syntax for every list of principals: ADMIN_PRINCIPALS here,
 * RESPONSE_APPROVERS in lib/config.ts; isAdminPrincipal matches against it.
 */
export function parsePrincipalPatterns(variable: string, text: string | undefined): string[] {
  return list(text).map((p) => {
    const lower = p.toLowerCase();
    if (!ADMIN_PATTERN.test(lower)) {
      throw new VerdictSettingsError(variable, `expected an email address or *@domain, got ${JSON.stringify(p)}`);
    }
    return lower;
  });
}

function parseAdmins(text: string | undefined): string[] {
  return parsePrincipalPatterns('ADMIN_PRINCIPALS', text);
}

function parseRegistries(text: string | undefined): string[] {
  return list(text).map((r) => {
    if (!REGISTRY_PREFIX.test(r)) {
      throw new VerdictSettingsError(
        'TRUSTED_IMAGE_REGISTRIES',
        `expected an image prefix such as us-docker.pkg.dev/my-org- (lower-case, no scheme, no wildcard), got ${JSON.stringify(r)}`,
      );
    }
    return r;
  });
}

export function parseVerdictSettings(raw: VerdictSettingsEnv): VerdictSettings {
  const maliciousText = present(raw.VERDICT_MALICIOUS_THRESHOLD);
  const benignText = present(raw.VERDICT_BENIGN_THRESHOLD);
  const maliciousThreshold = maliciousText === undefined ? DEFAULT_MALICIOUS_THRESHOLD : wholeNumber('VERDICT_MALICIOUS_THRESHOLD', 'threshold', maliciousText);
  const benignThreshold = benignText === undefined ? DEFAULT_BENIGN_THRESHOLD : wholeNumber('VERDICT_BENIGN_THRESHOLD', 'threshold', benignText);
  if (benignThreshold >= maliciousThreshold) {
    // Blame the variable the operator set; when both are set, the malicious one.
    const variable = maliciousText !== undefined ? 'VERDICT_MALICIOUS_THRESHOLD' : 'VERDICT_BENIGN_THRESHOLD';
    throw new VerdictSettingsError(
      variable,
      `the benign threshold (${benignThreshold}) must be below the malicious threshold (${maliciousThreshold}), or nothing could be suspicious`,
    );
  }
  return {
    weights: parseWeights(raw.VERDICT_WEIGHTS),
    adminPrincipals: parseAdmins(raw.ADMIN_PRINCIPALS),
    trustedRegistries: parseRegistries(raw.TRUSTED_IMAGE_REGISTRIES),
    maliciousThreshold,
    benignThreshold,
  };
}

/** Exact address, or `*@domain` for that domain only: a subdomain is another organisation's namespace. */
export function isAdminPrincipal(principal: string | null, admins: readonly string[]): boolean {
  if (principal === null) return false;
  const p = principal.trim().toLowerCase();
  const at = p.lastIndexOf('@');
  if (at < 0) return false;
  const domain = p.slice(at + 1);
  return admins.some((a) => a === p || (a.startsWith('*@') && a.slice(2) === domain));
}

/** A prefix without "/" names a whole registry host, so gcr.io does not trust gcr.io.evil.example. */
export function isTrustedImage(image: string, registries: readonly string[]): boolean {
  return registries.some((r) => image.startsWith(r.includes('/') ? r : `${r}/`));
}
