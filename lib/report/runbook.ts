/**
 * The runbook: playbook Step 5 (investigate) and Step 7 (respond) as commands
 * ready to paste into Cloud Shell, in the order a responder would run them.
 * The function never executes any of it. Like lib/report/commands.ts, every
 * value is attacker-influenced and is shell-quoted, never rewritten; a step
 * that cannot address exactly what the finding names has a null command and
 * a note saying why. Notes never quote input values: they are read as plain
 * text and must not carry what the attacker wrote.
 *
 * kubectl's handling of the forms used here was checked with kubectl v1.32
 * against a fake API server logging requests (and is re-checked in
 * test/report/runbook.test.ts where kubectl is installed):
 *  - `--namespace=VALUE`, `--target=VALUE` keep the value verbatim after the
 *    first '=' (a leading '-', '=' or ':' included).
 *  - `kubectl debug` and `kubectl delete` read an operand containing '/' as
 *    TYPE/NAME, so a pod name with '/' cannot be written; `pod/NAME` (debug)
 *    and `--` (delete, cordon) keep a '-'-leading name positional.
 *  - `kubectl cordon` reads 'a/b' as resource type 'a' even after `--`.
 *  - `kubectl apply -f -` decodes YAML 1.1 (see lib/report/network-policy.ts).
 *  - Without --profile, kubectl debug warns that the default "legacy" profile
 *    is deprecated.
 */
import ipaddr from 'ipaddr.js';
import type { FindingLabel, SocatFinding } from '../finding/types.js';
import type { OwnerRef, PodSection } from '../gather/sections.js';
import { hasLoneSurrogate, isShellWritable, shellJoin } from '../shell/quote.js';
import { buildCommands, MAX_COMMAND_VALUE_CHARS, usable } from './commands.js';
import { c2EgressPolicy, denyAllEgressPolicy, isDisplaySafeYaml, isLabelKey, isLabelValue, singleAddressCidr, type BuiltPolicy, type SingleAddress } from './network-policy.js';
import type { C2Endpoint, C2Peer } from './types.js';

export interface RunbookStep {
  id: string;
  title: string;
  command: string | null;
  /** why / caveat in one or two sentences */
  note: string | null;
  /** true when it changes the cluster (containment) */
  disruptive: boolean;
  warning?: string | null;
}

export interface Runbook {
  steps: RunbookStep[];
}

export interface RunbookInput {
  finding: SocatFinding;
  c2: C2Endpoint;
  /** The address to block as a /32 or /128 CIDR, when the caller knows it better than c2.host (e.g. the proxy in front of it); null to use c2.host. */
  egressCidr: string | null;
  pod: PodSection | null;
  networkPolicyEnforced: boolean | null;
}

export const STEP_IDS = [
  'get_credentials',
  'copy_binary',
  'exec',
  'debug',
  'block_c2_egress',
  'block_all_egress',
  'cordon',
  'delete_pod',
  'scale_to_zero',
] as const;

export type StepId = (typeof STEP_IDS)[number];

/** Pinned minor version: a shell and the usual tools, and an image most registry mirrors carry. */
export const DEBUG_IMAGE = 'busybox:1.36';

/**
 * "general" rather than the deprecated default "legacy": it adds SYS_PTRACE,
 * which reading the target's /proc/PID/root and environ needs when its
 * processes run with capabilities the debug container lacks.
 */
export const DEBUG_PROFILE = 'general';

export const WARNING_NOT_ENFORCED = 'the cluster does not enforce NetworkPolicy: enable Dataplane V2 or network policy enforcement first';
export const WARNING_ENFORCEMENT_UNKNOWN =
  'could not tell whether the cluster enforces NetworkPolicy: check that Dataplane V2 or network policy enforcement is enabled, or this policy does nothing';

/**
 * Labels that differ between pods of one workload: per rollout revision
 * (Deployment, StatefulSet, DaemonSet) and per StatefulSet replica. Without
 * them the selector keeps matching the workload's other and replacement pods.
 */
export const PER_POD_LABEL_KEYS: ReadonlySet<string> = new Set([
  'pod-template-hash',
  'controller-revision-hash',
  'statefulset.kubernetes.io/pod-name',
  'apps.kubernetes.io/pod-index',
]);

/** Labels the Job controller sets per Job: each run of a CronJob gets new values. */
export const PER_JOB_LABEL_KEYS: ReadonlySet<string> = new Set([
  'controller-uid',
  'job-name',
  'batch.kubernetes.io/controller-uid',
  'batch.kubernetes.io/job-name',
  'batch.kubernetes.io/job-completion-index',
]);


type Built = { command: string; note: string } | { command: null; note: string };

/**
 * Why a value can be in a finding yet not in a command: one of these hides
 * what the command does, raw or escaped, in one of the shells it is for
 * (lib/shell/quote.ts).
 */
const UNWRITABLE = 'control or invisible characters, which no command can show exactly in every shell';

function refused(note: string): Built {
  return { command: null, note };
}

export function buildRunbook(input: RunbookInput): Runbook {
  const { finding: f, pod: rawPod } = input;
  // A pod section about another pod would lend this one its labels and owners.
  const pod = rawPod !== null && rawPod.namespace === f.workload.namespace && rawPod.name === f.workload.pod ? rawPod : null;
  const commands = buildCommands(f);
  const policyWarning =
    input.networkPolicyEnforced === true ? null : input.networkPolicyEnforced === false ? WARNING_NOT_ENFORCED : WARNING_ENFORCEMENT_UNKNOWN;

  const step = (id: StepId, title: string, built: Built, disruptive: boolean, warning: string | null = null): RunbookStep => ({
    id,
    title,
    command: built.command,
    note: built.note,
    disruptive,
    warning,
  });

  const selector = selectorFor(f, pod);
  return {
    steps: [
      step('get_credentials', 'Get credentials for the cluster', getCredentials(f, commands.getCredentials), false),
      step('copy_binary', 'Copy the socat binary out of the container', copyBinary(commands.copyBinary), false),
      step('exec', 'Open a shell in the container', exec(commands.exec), false),
      step('debug', 'Debug with an ephemeral container (image without /bin/sh)', debug(f, pod), false),
      step('block_c2_egress', 'Block egress to the C2 address', blockC2(f, input, selector), true, policyWarning),
      step('block_all_egress', "Block all egress of the pod's workload", blockAll(f, input.c2, selector), true, policyWarning),
      step('cordon', 'Cordon the node', cordon(f, pod), true),
      step('delete_pod', 'Delete the pod', deletePod(f), true),
      step('scale_to_zero', 'Scale the workload to zero', scaleToZero(f, pod), true),
    ],
  };
}

function getCredentials(f: SocatFinding, command: string | null): Built {
  if (command !== null) return { command, note: 'Run first: every kubectl command below uses the context this sets.' };
  if (f.cluster === null) return refused('The finding does not name a GKE cluster.');
  return refused(`The cluster name, location or project cannot be passed to gcloud exactly (empty, too long, starting with "-", or ${UNWRITABLE}).`);
}

function copyBinary(command: string | null): Built {
  if (command !== null) {
    return { command, note: 'Keeps the binary socat ran as evidence before the container goes away; kubectl cp needs tar in the container.' };
  }
  return refused(
    `The binary path, namespace, pod or container is missing or cannot be written exactly for kubectl cp (a relative path, a trailing "/" or "\\", ":" or "/" in the pod name, or ${UNWRITABLE}).`,
  );
}

function exec(command: string | null): Built {
  if (command !== null) {
    return { command, note: 'Needs /bin/sh in the image (use debug otherwise); the attacker may still be in this container and see what you run.' };
  }
  return refused(`The namespace, pod or container is missing or cannot be written exactly for kubectl exec ("/" in the pod or namespace name, or ${UNWRITABLE}).`);
}

/** The finding's container; else the pod's only container; null when neither tells which one. */
function targetContainer(f: SocatFinding, pod: PodSection | null): string | null | 'unusable' {
  const named = f.workload.container;
  if (named != null && named !== '') return usable(named) ? named : 'unusable';
  if (pod !== null && pod.containers.length === 1) {
    const only = pod.containers[0]!.name;
    return usable(only) ? only : 'unusable';
  }
  return null;
}

function debug(f: SocatFinding, pod: PodSection | null): Built {
  const { namespace, pod: podName } = f.workload;
  if (!usable(namespace) || !usable(podName)) return refused(`The namespace or pod is missing or cannot be passed exactly (too long, or ${UNWRITABLE}).`);
  if (namespace.includes('/') || podName.includes('/')) return refused('kubectl cannot address a pod or namespace whose name contains "/".');
  const container = targetContainer(f, pod);
  if (container === 'unusable') return refused(`The container name cannot be passed exactly (too long, or ${UNWRITABLE}).`);
  if (container === null) return refused('The finding does not name the container and the pod does not have exactly one, and --target needs it to share its processes.');
  const podOperand = podName.startsWith('-') ? `pod/${podName}` : podName;
  return {
    command: shellJoin([
      'kubectl', 'debug', `--namespace=${namespace}`, '-it', podOperand, `--image=${DEBUG_IMAGE}`, `--target=${container}`, `--profile=${DEBUG_PROFILE}`, '--', 'sh',
    ]),
    note:
      'For images without /bin/sh: adds a busybox container that shares the target container\'s processes (its files are under /proc/PID/root) and stays in the pod spec until the pod is deleted. ' +
      'Under Pod Security "baseline" or "restricted" use --profile=baseline or --profile=restricted; nodes that cannot pull from Docker Hub need a mirrored image.',
  };
}

/** The labels a policy selects on, and where they came from, for the step's note. */
export type Selector = { labels: Record<string, string>; origin: string } | { reason: string };

const FROM_POD = 'the pod as read from the cluster';
const FROM_FINDING = "the finding's own kubernetes.pods[].labels (the pod was not read from the cluster)";

/**
 * The pod's labels minus those that change between the workload's pods, so the
 * policy also covers replacements. Never empty: an empty podSelector selects
 * every pod in the namespace.
 */
export function selectorLabels(labels: Readonly<Record<string, string>>, topOwnerKind: string | null): Record<string, string> {
  const perJob = topOwnerKind === 'CronJob';
  return Object.fromEntries(Object.entries(labels).filter(([k]) => !PER_POD_LABEL_KEYS.has(k) && !(perJob && PER_JOB_LABEL_KEYS.has(k))));
}

/**
 * The finding's labels for the pod as a map, or why they cannot select it.
 * They are attacker-influenced text that no API server has validated: only
 * valid Kubernetes label keys and values are used, and a label listed twice
 * with different values is refused (dropping either would widen the selector).
 */
function findingLabels(labels: readonly FindingLabel[]): { labels: Record<string, string> } | { reason: string } {
  const map = new Map<string, string>();
  for (const { name, value } of labels) {
    if (!isLabelKey(name) || !isLabelValue(value)) {
      return { reason: "A label in the finding's kubernetes.pods[].labels is not a valid Kubernetes label key or value, so it cannot select the pod." };
    }
    if (map.has(name) && map.get(name) !== value) return { reason: "The finding's kubernetes.pods[].labels give one label two values, so which pods to select is unknown." };
    map.set(name, value);
  }
  return { labels: Object.fromEntries(map) };
}

function selectorFor(f: SocatFinding, pod: PodSection | null): Selector {
  if (pod !== null && pod.source === 'kubernetes') return clusterPodSelector(pod.labels, pod.owners.at(-1)?.kind ?? null, f.workload.namespace);
  if (f.podLabels !== null) {
    const read = findingLabels(f.podLabels);
    if ('reason' in read) return read;
    // The owners are unknown here, so per-Job labels stay: the selector is narrower, never wider.
    return policySelector(selectorLabels(read.labels, null), FROM_FINDING, f.workload.namespace);
  }
  return { reason: "The pod's labels are unknown (it was not read from the cluster, and the finding lists none for it), and a policy needs them to select the pod." };
}

/** The selector for a pod read from the cluster: its labels minus per-revision (and, under a CronJob, per-Job) ones. */
export function clusterPodSelector(labels: Readonly<Record<string, string>>, topOwnerKind: string | null, namespace: string | null): Selector {
  return policySelector(selectorLabels(labels, topOwnerKind), FROM_POD, namespace);
}

function policySelector(labels: Record<string, string>, origin: string, namespace: string | null): Selector {
  const entries = Object.entries(labels);
  if (entries.length === 0) return { reason: `The pod has no labels besides per-revision ones (per ${origin}); an empty selector would select every pod in the namespace.` };
  // Dropping a label would widen the selector, so one that cannot be carried refuses the policy. Labels travel
  // inside the YAML, which writes control characters as visible escapes ("\n"); whatever it would write raw makes
  // kubectlApplyHeredoc refuse the step. NUL and lone surrogates: no Kubernetes label can hold them.
  const fits = (s: string) => s.length <= MAX_COMMAND_VALUE_CHARS && !s.includes('\0') && !hasLoneSurrogate(s);
  if (!entries.every(([k, v]) => k !== '' && fits(k) && fits(v))) return { reason: 'A label of the pod cannot be written exactly.' };
  if (!usable(namespace) || namespace.includes('/')) return { reason: 'The namespace is missing or cannot be passed to kubectl exactly.' };
  return { labels, origin };
}

/** Which labels the policy selects on and where they came from; only valid label text reaches here. */
function selectsOn(selector: { labels: Record<string, string>; origin: string }): string {
  // Labels read from the API server are valid by its validation; anything else is not echoed into prose (the manifest carries it exactly).
  if (!Object.entries(selector.labels).every(([k, v]) => isLabelKey(k) && isLabelValue(v))) return `Selects on the labels in the manifest, from ${selector.origin}. `;
  const pairs = Object.entries(selector.labels)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`);
  return `Selects on ${pairs.join(', ')}, from ${selector.origin}. `;
}

/** Loopback and unspecified addresses never leave the pod's network namespace. */
function blockable(a: SingleAddress): SingleAddress | string {
  const range = ipaddr.parse(a.address).range();
  if (range === 'loopback' || range === 'unspecified') {
    return `The C2 address ${a.cidr} is ${range}: that traffic never leaves the pod, so no NetworkPolicy can block it.`;
  }
  return a;
}

/**
 * The addresses the pod itself sends the shell's packets to: for SOCKS and
 * PROXY the proxy (the hop), not the target behind it; every connecting half
 * of a dual `A!!B` address. A string says why no policy can be built.
 */
function c2Addresses(c2: C2Endpoint, egressCidr: string | null): SingleAddress[] | string {
  if (egressCidr !== null) {
    const given = singleAddressCidr(egressCidr);
    if (given === null) return 'The egress CIDR given is not a single IPv4 (/32) or IPv6 (/128) address, and this step blocks the C2 address alone.';
    const one = blockable(given);
    return typeof one === 'string' ? one : [one];
  }
  if (c2.refused !== null && c2.refused !== undefined) return 'socat would refuse these arguments, so it connected nowhere: there is no C2 address to block.';
  if (c2.role === 'bind') return 'socat listens (a bind shell): the attacker connects in, so blocking egress to an address does not cut it; delete the pod instead.';
  const peers: C2Peer[] = (c2.peers ?? []).filter((p) => p.direction === 'connect');
  const targets = peers.length > 0 ? peers : [{ direction: 'connect' as const, transport: c2.transport, host: c2.host, port: c2.port, ipVersion: c2.ipVersion, hop: c2.hop ?? null }];
  if (targets.every((t) => t.host === null && t.hop === null) && c2.transport === 'unix') return 'socat uses a UNIX socket here, not a network address.';
  const out: SingleAddress[] = [];
  for (const t of targets) {
    const proxied = t.transport === 'socks' || t.transport === 'proxy';
    const host = proxied ? (t.hop?.host ?? null) : t.host;
    if (proxied && host === null) return "socat goes through a proxy: the pod's packets go to the proxy, not to the C2, and the proxy's address is not known here.";
    if (host === null) return "socat's arguments name no C2 host.";
    // A zone id or a '/' is no single address a policy can carry.
    const parsed = host.includes('/') ? null : singleAddressCidr(host);
    if (parsed === null) {
      return proxied
        ? "socat goes through a proxy named by a host name, and a NetworkPolicy matches IP addresses only: resolve the proxy's name and block each address, or use block_all_egress."
        : 'The C2 is a host name, and a NetworkPolicy matches IP addresses only: resolve it and block each address (which may change), or use block_all_egress.';
    }
    const range = ipaddr.parse(parsed.address).range();
    if (proxied && (range === 'loopback' || range === 'unspecified')) {
      return `socat goes through a proxy inside the pod (${parsed.cidr}, such as a Tor or SOCKS daemon), which makes the outside connection itself: an IP block cannot cut it. Isolate the pod instead: block_all_egress, then delete_pod.`;
    }
    const one = blockable(parsed);
    if (typeof one === 'string') return one;
    if (!out.some((o) => o.cidr === one.cidr)) out.push(one);
  }
  return out;
}

/** The runbook's C2-only policy, as the block_c2_egress step prints it and the block-c2 action applies it. */
export interface C2Block {
  policy: BuiltPolicy;
  /** For people: what it selects, what it allows and blocks, and its limits. */
  description: string;
}

/**
 * The C2-only egress policy for the pods `selector` picks, or why there is
 * none: the C2 is not an IP address the pod sends packets to (host name,
 * proxy named by host name or inside the pod, UNIX socket, bind shell, an argv
 * socat refuses), or the selector could not be built. One decision for the
 * runbook step and the response action (lib/respond/kube-actions.ts).
 */
export function c2BlockPolicy(c2: C2Endpoint, egressCidr: string | null, namespace: string | null, selector: Selector): C2Block | { reason: string } {
  const targets = c2Addresses(c2, egressCidr);
  if (typeof targets === 'string') return { reason: targets };
  if ('reason' in selector) return selector;
  const [first, ...rest] = targets as [SingleAddress, ...SingleAddress[]];
  const policy = c2EgressPolicy({ namespace: namespace!, podLabels: selector.labels, c2Cidr: first.cidr, extraCidrs: rest.map((r) => r.cidr) });
  const proxied = egressCidr === null && (c2.transport === 'socks' || c2.transport === 'proxy') && (c2.hop ?? null) !== null;
  const list = targets.map((t) => t.cidr).join(' and ');
  const what = proxied ? `${list}, the proxy the pod connects to (the C2 target behind it is named in the report; the pod never sends it packets directly)` : list;
  return {
    policy,
    description:
      selectsOn(selector) +
      `Allows these pods every egress except to ${what} (in-cluster and DNS traffic stay allowed), so only the C2 path closes, for replacement pods too; it selects the pod's labels minus per-revision ones, so other pods of the namespace with the same labels are covered as well. ` +
      `NetworkPolicies are additive: if another policy already allows egress to the C2, this one cannot remove it (nor block a C2 that is a pod of this cluster, which the in-cluster rule allows), and if others already restrict these pods' egress it widens that to everything but the C2 — check kubectl get networkpolicy first, or use block_all_egress.`,
  };
}

function blockC2(f: SocatFinding, input: RunbookInput, selector: Selector): Built {
  const block = c2BlockPolicy(input.c2, input.egressCidr, f.workload.namespace, selector);
  if ('reason' in block) return refused(block.reason);
  return applyStep(block.policy, block.description);
}

function blockAll(f: SocatFinding, c2: C2Endpoint, selector: Selector): Built {
  if ('reason' in selector) return refused(selector.reason);
  const policy = denyAllEgressPolicy({ namespace: f.workload.namespace!, podLabels: selector.labels });
  const bind = c2.role === 'bind' ? ' socat listens here (a bind shell), and an egress policy does not stop inbound connections.' : '';
  return applyStep(
    policy,
    selectsOn(selector) +
    "Denies all egress, DNS included, of every pod in the namespace with the pod's labels (minus per-revision ones): it cuts the reverse shell whatever its address, and the workload's own outbound calls. " +
      `NetworkPolicies are additive: another policy that allows egress for these pods still applies.${bind}`,
  );
}

function applyStep(policy: BuiltPolicy, note: string): Built {
  const command = kubectlApplyHeredoc(policy.yaml);
  if (command === null) return refused('A label or the namespace holds control, invisible or bidi characters that the YAML would show raw.');
  return { command, note: `${note} Remove it with kubectl delete networkpolicy ${policy.name} in the namespace.` };
}

/**
 * A delimiter that is no line of `text`, so the here-document ends exactly
 * where the text does; null if every candidate occurs (text that does so is
 * not one this module generates).
 */
export function heredocTerminator(text: string): string | null {
  const lines = new Set(text.split('\n'));
  const candidates = ['EOF', 'EOF_SOCAT_TRIAGE', ...Array.from({ length: 8 }, (_, i) => `EOF_SOCAT_TRIAGE_${i + 1}`)];
  return candidates.find((c) => !lines.has(c)) ?? null;
}

/**
 * `kubectl apply -f -` fed by a quoted here-document: with the delimiter
 * quoted, no shell expands anything in the body (POSIX.1-2017 XCU 2.7.4) —
 * no parameters, commands or backslashes, and (checked with bash 5.2 and zsh
 * 5.9 in test/shell/four-shells.test.ts) no history expansion when pasted
 * into an interactive shell. Null for text that does not end in a newline or
 * would show hidden characters raw.
 */
export function kubectlApplyHeredoc(yaml: string): string | null {
  if (!yaml.endsWith('\n') || !isDisplaySafeYaml(yaml) || !yaml.split('\n').every(isShellWritable)) return null;
  const eof = heredocTerminator(yaml);
  if (eof === null) return null;
  return `${shellJoin(['kubectl', 'apply', '-f', '-'])} <<'${eof}'\n${yaml}${eof}`;
}

function cordon(f: SocatFinding, pod: PodSection | null): Built {
  // An empty name from the finding is as good as none; the pod section may know it.
  const node = f.workload.node || pod?.node || null;
  if (node === null) return refused('The node is unknown.');
  if (!usable(node) || node.includes('/')) return refused('The node name cannot be passed to kubectl exactly.');
  return {
    command: shellJoin(node.startsWith('-') ? ['kubectl', 'cordon', '--', node] : ['kubectl', 'cordon', node]),
    note: 'Stops new pods being scheduled on the node while it is investigated; pods already there keep running (draining would evict them and lose evidence). Undo with kubectl uncordon.',
  };
}

function deletePod(f: SocatFinding): Built {
  const { namespace, pod } = f.workload;
  if (!usable(namespace) || !usable(pod)) return refused('The namespace or pod is missing or cannot be passed exactly.');
  if (namespace.includes('/') || pod.includes('/')) return refused('kubectl cannot address a pod or namespace whose name contains "/".');
  return {
    command: shellJoin(['kubectl', 'delete', 'pod', `--namespace=${namespace}`, ...(pod.startsWith('-') ? ['--', pod] : [pod])]),
    note:
      'Stops the compromised container (playbook Step 7), losing its memory and filesystem: copy the binary first. A controller starts a replacement from the same spec, so contain the workload too if the image or its configuration let the attacker in.',
  };
}

interface ScaleForm {
  resource: string;
  action: 'scale' | 'suspend';
  note: string;
}

const AUTOSCALE_CAVEAT = 'a HorizontalPodAutoscaler or a GitOps controller would scale it back up (check kubectl get hpa in the namespace).';

/**
 * Fully qualified resources: an owner of another API group with the same kind
 * ends the gathered chain too, and must not be mistaken for the built-in one.
 */
const SCALE_FORMS: Readonly<Record<string, ScaleForm>> = {
  Deployment: { resource: 'deployment.apps', action: 'scale', note: `Stops every pod of the Deployment and keeps it from starting new ones; ${AUTOSCALE_CAVEAT}` },
  StatefulSet: { resource: 'statefulset.apps', action: 'scale', note: `Stops every pod of the StatefulSet (its volumes stay); ${AUTOSCALE_CAVEAT}` },
  ReplicaSet: { resource: 'replicaset.apps', action: 'scale', note: `Stops every pod of the ReplicaSet, which no Deployment owns; ${AUTOSCALE_CAVEAT}` },
  ReplicationController: { resource: 'replicationcontroller', action: 'scale', note: `Stops every pod of the ReplicationController; ${AUTOSCALE_CAVEAT}` },
  CronJob: {
    resource: 'cronjob.batch',
    action: 'suspend',
    note: 'A CronJob cannot be scaled: suspending it stops new runs, but the Job already running keeps its pod — delete that pod (or its Job) too. Undo with suspend:false.',
  },
  Job: {
    resource: 'job.batch',
    action: 'suspend',
    note: 'A Job cannot be scaled: suspending it terminates its running pods and starts none until it is resumed (suspend:false). A CronJob above it, if its owner could not be read, would still start new Jobs.',
  },
};

/** Merge patch; built as JSON so it is exactly what the API receives. */
const SUSPEND_PATCH = JSON.stringify({ spec: { suspend: true } });

function scaleToZero(f: SocatFinding, pod: PodSection | null): Built {
  const namespace = f.workload.namespace;
  if (pod === null || pod.source !== 'kubernetes') return refused("The pod's owner is unknown: the pod was not read from the cluster.");
  const top: OwnerRef | undefined = pod.owners.at(-1);
  if (top === undefined) return refused('The pod has no controller: deleting it (delete_pod) stops it for good.');
  if (top.kind === 'DaemonSet') {
    return refused('A DaemonSet cannot be scaled: delete it, or give it a nodeSelector no node matches, to stop its pods on every node.');
  }
  if (top.kind === 'Node') return refused('A static pod: the kubelet runs it from a manifest file on the node; remove that file to stop it.');
  const form = SCALE_FORMS[top.kind];
  if (form === undefined) return refused('The top-level owner is not a Deployment, StatefulSet, ReplicaSet, ReplicationController, Job or CronJob that kubectl can scale or suspend.');
  // Only the Deployment controller adds pod-template-hash; a chain that ends at
  // such a ReplicaSet stopped because its owner could not be read, and the
  // Deployment would undo scaling the ReplicaSet.
  if (top.kind === 'ReplicaSet' && Object.hasOwn(pod.labels, 'pod-template-hash')) {
    return refused('The owner chain ends at a ReplicaSet that a Deployment most likely manages but could not be read; scaling the ReplicaSet would be undone. Scale that Deployment instead.');
  }
  if (!usable(namespace) || namespace.includes('/')) return refused('The namespace is missing or cannot be passed exactly.');
  if (!usable(top.name) || top.name.includes('/')) return refused("The owner's name cannot be passed to kubectl exactly.");
  const operand = `${form.resource}/${top.name}`;
  const command =
    form.action === 'scale'
      ? shellJoin(['kubectl', 'scale', `--namespace=${namespace}`, operand, '--replicas=0'])
      : shellJoin(['kubectl', 'patch', `--namespace=${namespace}`, operand, '--type=merge', '-p', SUSPEND_PATCH]);
  return { command, note: form.note };
}
