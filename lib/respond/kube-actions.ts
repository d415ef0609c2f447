/**
 * The responder's Kubernetes actions (issue #15): block-c2, isolate, cordon
 * and delete-pod. Planning is pure and decides every refusal specific to an
 * action; execution sends the plan's requests in order through
 * @kubernetes/client-node (lib/clients.ts builds it) and turns every answer
 * of the API server into a record, never a throw.
 *
 * Idempotency: a re-delivered approval must change nothing twice. Where the
 * API answers a repeat itself (409 AlreadyExists on create, 404 on a delete)
 * the answer decides; where a write would silently succeed again (a label or
 * cordon patch), the plan reads the object first and the write is skipped
 * when what it would set is already there, as `kubectl cordon` does
 * (kubernetes/kubectl pkg/drain/cordon.go: get the node, patch only when
 * spec.unschedulable differs).
 *
 * Names come from the finding and are hostile: a plan is made only for names
 * that are valid Kubernetes names (so the request path addresses exactly that
 * object, and the undo command is exact in every shell).
 */
import { createHash } from 'node:crypto';
import type { ConfigurationOptions } from '@kubernetes/client-node';
import type { KubeApis } from '../clients.js';
import { kubeCall, KubeApiError } from '../gather/kube.js';
import type { PermissionUse } from '../permissions.js';
import { c2EgressPolicy, CREATED_BY_LABEL, isLabelValue, quarantinePolicy, type NetworkPolicyManifest } from '../report/network-policy.js';
import { c2BlockPolicy, clusterPodSelector, type Selector } from '../report/runbook.js';
import { cleanLine } from '../sanitize.js';
import { shellJoin } from '../shell/quote.js';
import { canonicalTimestamp } from '../timestamp.js';
import { captured, forceCommand, refusedPlan } from './plan.js';
import type { PlanContext, PlannedRequest, ResponseAction, ResponsePlan, ResponseRecord } from './types.js';

/**
 * GKE checks IAM before RBAC: each Kubernetes verb needs container.<resource>.<verb>, and PATCH needs update
 * (https://cloud.google.com/kubernetes-engine/docs/reference/api-permissions, "Kubernetes API permissions").
 * Not part of REQUIRED_PERMISSIONS: the triage function never writes to a cluster.
 */
export const PERMISSIONS: readonly PermissionUse[] = [
  { permission: 'container.networkPolicies.create', usedBy: 'lib/respond/kube-actions.ts: block-c2 and isolate create their NetworkPolicy' },
  { permission: 'container.networkPolicies.get', usedBy: 'lib/respond/kube-actions.ts: block-c2 and isolate read a policy of the same name on 409 AlreadyExists' },
  { permission: 'container.networkPolicies.update', usedBy: 'lib/respond/kube-actions.ts: block-c2 adds a second C2 of the same pods to their policy (PUT)' },
  { permission: 'container.pods.get', usedBy: 'lib/respond/kube-actions.ts: isolate reads the pod before labelling it' },
  { permission: 'container.pods.update', usedBy: 'lib/respond/kube-actions.ts: isolate labels the pod (PATCH)' },
  { permission: 'container.pods.delete', usedBy: 'lib/respond/kube-actions.ts: delete-pod' },
  { permission: 'container.nodes.get', usedBy: 'lib/respond/kube-actions.ts: cordon reads the node first' },
  { permission: 'container.nodes.update', usedBy: 'lib/respond/kube-actions.ts: cordon sets spec.unschedulable (PATCH)' },
];

/** The label isolate puts on the pod; its value names the detection. */
export const QUARANTINE_LABEL = 'socat-triage.security/quarantine';

/**
 * The Deployment controller adds pod-template-hash to every ReplicaSet it
 * makes, to the ReplicaSet's selector and to its pods
 * (https://kubernetes.io/docs/concepts/workloads/controllers/deployment/#pod-template-hash-label).
 */
export const POD_TEMPLATE_HASH = 'pod-template-hash';

const MERGE_PATCH = 'application/merge-patch+json';
/** What kubectl cordon sends (a two-way strategic merge patch of spec.unschedulable). */
const STRATEGIC_MERGE_PATCH = 'application/strategic-merge-patch+json';

// Object names: a namespace is a DNS-1123 label, pods and nodes DNS-1123 subdomains
// (https://kubernetes.io/docs/concepts/overview/working-with-objects/names/).
const DNS1123_LABEL = /^[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*$/;

function isNamespaceName(name: string | null): name is string {
  return name !== null && DNS1123_LABEL.test(name);
}

function isObjectName(name: string | null): name is string {
  return name !== null && DNS1123_SUBDOMAIN.test(name);
}

const NOT_ENFORCED = 'The cluster does not enforce NetworkPolicy (neither Dataplane V2 nor network policy enforcement is on)';

/**
 * A policy on a cluster that does not enforce NetworkPolicy changes nothing
 * while its record would say "done": refused, even with --force (enable
 * enforcement first). When enforcement could not be told (the cluster was not
 * read, or GKE did not say), the engineer can check and then insist with
 * --force; refusing silently-ineffective containment is the safer default.
 */
function enforcementRefusal(ctx: PlanContext, action: ResponseAction, what: string): string | null {
  const enforced = ctx.subject.cluster?.networkPolicyEnforced ?? null;
  if (enforced === true) return null;
  if (enforced === false) {
    return `${NOT_ENFORCED}, so ${what} would be recorded as done while blocking nothing, and --force does not change that. Enable enforcement first, or contain the pod another way: capture, then delete-pod.`;
  }
  if (ctx.force) return null;
  return (
    `Could not tell whether the cluster enforces NetworkPolicy (the cluster was not read, or GKE did not say), and ${what} blocks nothing on a cluster that does not. ` +
    'Check with gcloud container clusters describe (networkPolicy.enabled true, or datapathProvider ADVANCED_DATAPATH), then force it from a terminal (an approval in the console never forces): ' +
    forceCommand(action, ctx)
  );
}

function namespacePath(namespace: string): string {
  return `/api/v1/namespaces/${encodeURIComponent(namespace)}`;
}

function policiesPath(namespace: string): string {
  return `/apis/networking.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/networkpolicies`;
}

function podPath(namespace: string, pod: string): string {
  return `${namespacePath(namespace)}/pods/${encodeURIComponent(pod)}`;
}

function nodePath(node: string): string {
  return `/api/v1/nodes/${encodeURIComponent(node)}`;
}

function deletePolicyCommand(name: string, namespace: string): string {
  return shellJoin(['kubectl', 'delete', 'networkpolicy', name, `--namespace=${namespace}`]);
}

/** The selector of the pod's labels as read from the cluster; labels known only from the finding are not acted on. */
function clusterSelector(ctx: PlanContext, namespace: string): Selector {
  const pod = ctx.subject.pod;
  if (pod === null || pod.source !== 'kubernetes') {
    return {
      reason:
        "The pod's labels were not read from the cluster (it was gone, or the read failed), and a policy applied for you selects only on labels the API server returned. Use the runbook's block_c2_egress step after checking the labels it uses.",
    };
  }
  return clusterPodSelector(pod.labels, pod.topOwnerKind, namespace);
}

export function planBlockC2(ctx: PlanContext): ResponsePlan {
  const namespace = ctx.subject.workload.namespace;
  if (!isNamespaceName(namespace)) return refusedPlan('block-c2', 'The namespace is missing or is not a valid Kubernetes namespace name, so no policy can be created in it.');
  const block = c2BlockPolicy(ctx.subject.c2, null, namespace, clusterSelector(ctx, namespace));
  if ('reason' in block) return refusedPlan('block-c2', block.reason);
  const enforcement = enforcementRefusal(ctx, 'block-c2', 'the policy');
  if (enforcement !== null) return refusedPlan('block-c2', enforcement);
  return {
    action: 'block-c2',
    allowed: true,
    reason:
      `Creates NetworkPolicy ${block.policy.name} in ${namespace}. ${block.description} ` +
      'If a policy of that name exists (another C2 of the same pods), the addresses it blocks are kept and this one is added.',
    requests: [{ api: 'kubernetes', method: 'POST', path: policiesPath(namespace), body: block.policy.manifest }],
    undo: deletePolicyCommand(block.policy.name, namespace),
  };
}

/**
 * A label value naming the detection: the finding's id when it is a valid
 * label value (SCC finding ids are 1-32 alphanumerics), else a digest of its
 * name. Either way the same detection gives the same value.
 */
export function quarantineValue(findingName: string): string {
  const id = findingName.slice(findingName.lastIndexOf('/') + 1);
  if (/^[A-Za-z0-9]{1,63}$/.test(id)) return id;
  return createHash('sha256').update(findingName, 'utf8').digest('hex').slice(0, 32);
}

export function planIsolate(ctx: PlanContext): ResponsePlan {
  const { namespace, pod } = ctx.subject.workload;
  if (!isNamespaceName(namespace) || !isObjectName(pod)) return refusedPlan('isolate', 'The namespace or pod is missing or is not a valid Kubernetes name, so the pod cannot be addressed.');
  const seen = ctx.subject.pod;
  if (seen === null || seen.source !== 'kubernetes') {
    return refusedPlan('isolate', "The pod was not read from the cluster, so its labels (and whether relabelling releases it from its controller) are unknown. Use delete-pod after capture, or the runbook's steps.");
  }
  const enforcement = enforcementRefusal(ctx, 'isolate', 'the quarantine policy');
  if (enforcement !== null) return refusedPlan('isolate', enforcement);

  const value = quarantineValue(ctx.subject.findingName);
  const policy = quarantinePolicy({ namespace, podLabels: { [QUARANTINE_LABEL]: value } });
  // Only a Deployment's ReplicaSet is known to select on a label the pod carries; other controllers' selectors are
  // user-defined and not in the report, so removing a guessed label could orphan nothing or everything.
  // The value goes back into the undo command: only a valid label value (what the API server stores) is taken.
  const seenHash = Object.hasOwn(seen.labels, POD_TEMPLATE_HASH) ? seen.labels[POD_TEMPLATE_HASH]! : null;
  const hash = seenHash !== null && isLabelValue(seenHash) && (seen.topOwnerKind === 'Deployment' || seen.topOwnerKind === 'ReplicaSet') ? seenHash : null;
  const labels: Record<string, string | null> = { [QUARANTINE_LABEL]: value };
  if (hash !== null) labels[POD_TEMPLATE_HASH] = null;

  const undoLabels = [QUARANTINE_LABEL + '-', ...(hash !== null ? [`${POD_TEMPLATE_HASH}=${hash}`] : [])];
  const undo = `${shellJoin(['kubectl', 'label', 'pod', `--namespace=${namespace}`, pod, ...undoLabels])} && ${deletePolicyCommand(policy.name, namespace)}`;
  const replaced =
    hash !== null
      ? `The patch also removes ${POD_TEMPLATE_HASH}, which its ReplicaSet selects on: the ReplicaSet lets the pod go and starts a replacement, while this pod keeps running, cut off, for forensics ("Isolating Pods from a ReplicaSet", https://kubernetes.io/docs/concepts/workloads/controllers/replicaset/#isolating-pods-from-a-replicaset). Undo gives it back to the ReplicaSet, which then has one pod too many and removes one.`
      : `Its controller (${seen.topOwnerKind ?? 'none'}) does not select on a label known to be safe to remove, so the pod stays counted and no replacement starts: the workload runs with this pod cut off. Capture, then delete-pod, to have it replaced.`;
  return {
    action: 'isolate',
    allowed: true,
    reason:
      `Creates NetworkPolicy ${policy.name} in ${namespace}, denying all ingress and egress of pods labelled ${QUARANTINE_LABEL}=${value}, then labels this pod so (one merge patch). ` +
      // Policy first: it selects a label no pod has yet, so creating it changes nothing; the label then puts the pod under it
      // in the same write that releases it from its ReplicaSet. Label first would leave the pod relabelled and unrestricted
      // until the policy exists, or for good if creating it failed; a policy whose label patch failed selects no pod.
      'The policy comes first, so the pod is never relabelled without being cut off. ' +
      replaced,
    requests: [
      { api: 'kubernetes', method: 'POST', path: policiesPath(namespace), body: policy.manifest },
      { api: 'kubernetes', method: 'GET', path: podPath(namespace, pod), body: null },
      { api: 'kubernetes', method: 'PATCH', path: podPath(namespace, pod), body: { metadata: { labels } }, contentType: MERGE_PATCH },
    ],
    undo,
  };
}

export function planCordon(ctx: PlanContext): ResponsePlan {
  // An empty name from the finding is as good as none.
  const node = ctx.subject.workload.node || ctx.subject.node?.name || null;
  if (node === null) return refusedPlan('cordon', 'The node is unknown (neither the finding nor the pod names it).');
  if (!isObjectName(node)) return refusedPlan('cordon', 'The node name is not a valid Kubernetes node name, so the node cannot be addressed.');
  return {
    action: 'cordon',
    allowed: true,
    reason:
      `Marks node ${node} unschedulable, as kubectl cordon does: no new pods are scheduled on it while it is investigated; pods already there, the compromised one included, keep running (draining would evict them and lose evidence).`,
    requests: [
      { api: 'kubernetes', method: 'GET', path: nodePath(node), body: null },
      { api: 'kubernetes', method: 'PATCH', path: nodePath(node), body: { spec: { unschedulable: true } }, contentType: STRATEGIC_MERGE_PATCH },
    ],
    undo: shellJoin(['kubectl', 'uncordon', node]),
  };
}

export function planDeletePod(ctx: PlanContext): ResponsePlan {
  const { namespace, pod } = ctx.subject.workload;
  if (!isNamespaceName(namespace) || !isObjectName(pod)) return refusedPlan('delete-pod', 'The namespace or pod is missing or is not a valid Kubernetes name, so the pod cannot be addressed.');
  const deleted = ctx.previous.find((r) => r.action === 'delete-pod' && (r.result === 'done' || r.result === 'already_done'));
  if (deleted !== undefined) {
    // A StatefulSet recreates its pod under the same name: deleting "again" would delete the replacement.
    return {
      action: 'delete-pod',
      allowed: true,
      reason: `The pod was already deleted for this detection (recorded ${deleted.at}); a pod of that name now is a new one and is left alone.`,
      requests: [],
      undo: null,
    };
  }
  if (!captured(ctx.previous) && !ctx.force) {
    return refusedPlan(
      'delete-pod',
      "No evidence has been captured for this detection, and deleting the pod loses its memory, its writable layer and whatever socat left there. Run capture first (it snapshots the node's boot disk and keeps the evidence files), or delete without it from a terminal (an approval in the console never forces): " + forceCommand('delete-pod', ctx),
    );
  }
  return {
    action: 'delete-pod',
    allowed: true,
    reason:
      `Deletes pod ${pod} in ${namespace} with its own grace period: the compromised container stops. This cannot be undone: a controller, if the pod has one, starts a replacement from the same spec (contain the workload too if the image or its configuration let the attacker in); a pod without one is gone for good.`,
    requests: [{ api: 'kubernetes', method: 'DELETE', path: podPath(namespace, pod), body: null }],
    undo: null,
  };
}

// ---------------------------------------------------------------------------
// Execution

export interface ExecuteOptions {
  /** Who approved it (ResponseRecord.approver). */
  approver: string | null;
  /** Bounds every request; default 30 s. */
  signal?: AbortSignal;
  now?: () => Date;
}

type Answer = { ok: true; body: unknown } | { ok: false; status: number | null; reason: string | null; detail: string };

const NP_COLLECTION = /^\/apis\/networking\.k8s\.io\/v1\/namespaces\/([^/]+)\/networkpolicies$/;
const NP_OBJECT = /^\/apis\/networking\.k8s\.io\/v1\/namespaces\/([^/]+)\/networkpolicies\/([^/]+)$/;
const POD_OBJECT = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)$/;
const NODE_OBJECT = /^\/api\/v1\/nodes\/([^/]+)$/;

/**
 * client-node 2.x sends every PATCH as its generator's first listed type,
 * application/json-patch+json; the type is chosen per call with header
 * middleware, setHeaderOptions (client-node's own examples/typescript/patch/patch-example.ts).
 */
async function withContentType(contentType: string, options: ConfigurationOptions): Promise<ConfigurationOptions> {
  const { setHeaderOptions } = await import('@kubernetes/client-node');
  return setHeaderOptions('Content-Type', contentType, options);
}

/** The call client-node makes for one planned request; a request this module does not plan is a programming error. */
function callFor(kube: KubeApis, req: PlannedRequest): (options: ConfigurationOptions) => Promise<unknown> {
  const d = decodeURIComponent;
  const body = req.body as never;
  let m: RegExpExecArray | null;
  if ((m = NP_COLLECTION.exec(req.path)) && req.method === 'POST') {
    const namespace = d(m[1]!);
    return (o) => kube.networking.createNamespacedNetworkPolicy({ namespace, body }, o);
  }
  if ((m = NP_OBJECT.exec(req.path))) {
    const [namespace, name] = [d(m[1]!), d(m[2]!)];
    if (req.method === 'GET') return (o) => kube.networking.readNamespacedNetworkPolicy({ name, namespace }, o);
    if (req.method === 'PUT') return (o) => kube.networking.replaceNamespacedNetworkPolicy({ name, namespace, body }, o);
  }
  if ((m = POD_OBJECT.exec(req.path))) {
    const [namespace, name] = [d(m[1]!), d(m[2]!)];
    if (req.method === 'GET') return (o) => kube.core.readNamespacedPod({ name, namespace }, o);
    if (req.method === 'PATCH' && req.contentType) {
      const type = req.contentType;
      return async (o) => kube.core.patchNamespacedPod({ name, namespace, body }, await withContentType(type, o));
    }
    if (req.method === 'DELETE') return (o) => kube.core.deleteNamespacedPod({ name, namespace }, o);
  }
  if ((m = NODE_OBJECT.exec(req.path))) {
    const name = d(m[1]!);
    if (req.method === 'GET') return (o) => kube.core.readNode({ name }, o);
    if (req.method === 'PATCH' && req.contentType) {
      const type = req.contentType;
      return async (o) => kube.core.patchNode({ name, body }, await withContentType(type, o));
    }
  }
  throw new Error(`kube-actions: no client call for ${req.method} ${req.path}`);
}

/** Models of client-node as wire JSON (their property names are the wire names for the kinds used here). */
function wire(value: unknown): unknown {
  return value === undefined ? null : JSON.parse(JSON.stringify(value));
}

async function send(kube: KubeApis, req: PlannedRequest, signal: AbortSignal): Promise<Answer> {
  try {
    return { ok: true, body: wire(await kubeCall(signal, callFor(kube, req))) };
  } catch (err) {
    const what = `${req.method} ${req.path}`;
    if (err instanceof KubeApiError) {
      // The server's message names objects from the finding: cleaned before it reaches people.
      return { ok: false, status: err.statusCode, reason: err.reason, detail: cleanLine(`${what} answered ${err.statusCode}${err.reason ? ` ${err.reason}` : ''}: ${err.message}`, 600) };
    }
    return { ok: false, status: null, reason: null, detail: cleanLine(`${what} failed: ${err instanceof Error ? err.message : String(err)}`, 600) };
  }
}

function sortedJson(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortedJson);
  if (typeof v !== 'object' || v === null) return v;
  const o = v as Record<string, unknown>;
  return Object.fromEntries(
    Object.keys(o)
      .sort()
      .filter((k) => o[k] !== undefined && o[k] !== null)
      .map((k) => [k, sortedJson(o[k])]),
  );
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(sortedJson(a)) === JSON.stringify(sortedJson(b));
}

interface Run {
  kube: KubeApis;
  signal: AbortSignal;
  record: (result: ResponseRecord['result'], detail: string, undo?: string | null) => ResponseRecord;
}

function runFor(plan: ResponsePlan, kube: KubeApis, options: ExecuteOptions): Run {
  const now = options.now ?? (() => new Date());
  return {
    kube,
    signal: options.signal ?? AbortSignal.timeout(30_000),
    record: (result, detail, undo = plan.undo) => ({
      action: plan.action,
      approver: options.approver,
      at: canonicalTimestamp(now().toISOString())!,
      result,
      detail,
      undo,
    }),
  };
}

/** Checks that the plan is one of `action`'s, then runs it; a refused plan is recorded as refused without a request. */
async function execute(action: ResponseAction, plan: ResponsePlan, kube: KubeApis, options: ExecuteOptions, body: (run: Run) => Promise<ResponseRecord>): Promise<ResponseRecord> {
  if (plan.action !== action) throw new Error(`execute ${action} was handed a ${plan.action} plan`);
  const run = runFor(plan, kube, options);
  if (!plan.allowed) return run.record('refused', plan.reason, null);
  return body(run);
}

/** The single addresses a block-c2 policy of ours leaves out of 0.0.0.0/0 and ::/0. */
function blockedAddresses(spec: unknown): string[] {
  const first = (spec as { egress?: { to?: { ipBlock?: { except?: unknown } }[] }[] } | null)?.egress?.[0]?.to ?? [];
  return first.flatMap((peer) => (Array.isArray(peer.ipBlock?.except) ? (peer.ipBlock.except as unknown[]).filter((e): e is string => typeof e === 'string') : []));
}

/** The policy as block-c2 would build it for these pods and addresses; null when it is no policy of ours. */
function rebuilt(existing: NetworkPolicyManifest, addresses: readonly string[]): NetworkPolicyManifest | null {
  const [first, ...rest] = addresses;
  const labels = existing.spec?.podSelector?.matchLabels;
  if (first === undefined || labels === undefined) return null;
  try {
    return c2EgressPolicy({ namespace: existing.metadata.namespace, podLabels: labels, c2Cidr: first, extraCidrs: rest, name: existing.metadata.name }).manifest;
  } catch {
    return null;
  }
}

function isOurs(existing: NetworkPolicyManifest): boolean {
  const own = rebuilt(existing, blockedAddresses(existing.spec));
  return own !== null && existing.metadata.labels?.[Object.keys(CREATED_BY_LABEL)[0]!] === Object.values(CREATED_BY_LABEL)[0] && sameJson(own.spec, existing.spec);
}

export function executeBlockC2(plan: ResponsePlan, kube: KubeApis, options: ExecuteOptions): Promise<ResponseRecord> {
  return execute('block-c2', plan, kube, options, async (run) => {
    const post = plan.requests[0]!;
    const planned = post.body as NetworkPolicyManifest;
    const { name, namespace } = planned.metadata;
    const created = await send(run.kube, post, run.signal);
    if (created.ok) return run.record('done', `Created NetworkPolicy ${name} in ${namespace}, blocking egress to ${blockedAddresses(planned.spec).join(' and ')}.`);
    if (created.reason !== 'AlreadyExists') return run.record('failed', created.detail, null);

    // The name depends on the namespace and the selected labels only: the policy of an earlier approval, for this C2 or another of the same pods.
    const objectPath = `${post.path}/${encodeURIComponent(name)}`;
    const read = await send(run.kube, { api: 'kubernetes', method: 'GET', path: objectPath, body: null }, run.signal);
    if (!read.ok) return run.record('failed', `NetworkPolicy ${name} exists but could not be read: ${read.detail}`, null);
    const existing = read.body as NetworkPolicyManifest;
    if (!isOurs(existing) || !sameJson(existing.spec?.podSelector, planned.spec.podSelector)) {
      return run.record('failed', `A NetworkPolicy named ${name} exists in ${namespace} that is not one scc-socat-triage made for these pods; it was left alone. Inspect it with kubectl get networkpolicy.`, null);
    }
    const had = blockedAddresses(existing.spec);
    const union = [...had, ...blockedAddresses(planned.spec).filter((a) => !had.includes(a))];
    const merged = rebuilt(existing, union)!;
    if (sameJson(merged.spec, existing.spec)) return run.record('already_done', `NetworkPolicy ${name} in ${namespace} already blocks egress to ${union.join(' and ')}.`);
    // Two "everything but X" policies would each allow the other's X, so a second C2 of the same pods joins the first in one policy.
    const body = { ...merged, metadata: { ...merged.metadata, resourceVersion: (existing.metadata as { resourceVersion?: string }).resourceVersion } };
    const replaced = await send(run.kube, { api: 'kubernetes', method: 'PUT', path: objectPath, body }, run.signal);
    if (!replaced.ok) {
      const hint = replaced.reason === 'Conflict' ? ' It changed while being updated; approve again.' : '';
      return run.record('failed', `${replaced.detail}${hint}`, null);
    }
    return run.record('done', `Replaced NetworkPolicy ${name} in ${namespace}: it now blocks egress to ${union.join(' and ')} (it blocked ${had.join(' and ')}).`);
  });
}

export function executeIsolate(plan: ResponsePlan, kube: KubeApis, options: ExecuteOptions): Promise<ResponseRecord> {
  return execute('isolate', plan, kube, options, async (run) => {
    const [post, get, patch] = plan.requests as [PlannedRequest, PlannedRequest, PlannedRequest];
    const planned = post.body as NetworkPolicyManifest;
    const { name, namespace } = planned.metadata;
    const created = await send(run.kube, post, run.signal);
    let policyExisted = false;
    if (!created.ok) {
      if (created.reason !== 'AlreadyExists') return run.record('failed', created.detail, null);
      const read = await send(run.kube, { api: 'kubernetes', method: 'GET', path: `${post.path}/${encodeURIComponent(name)}`, body: null }, run.signal);
      if (!read.ok) return run.record('failed', `NetworkPolicy ${name} exists but could not be read: ${read.detail}`, null);
      if (!sameJson((read.body as NetworkPolicyManifest).spec, planned.spec)) {
        return run.record('failed', `A NetworkPolicy named ${name} exists in ${namespace} with another spec; it was left alone and the pod was not relabelled. Inspect it with kubectl get networkpolicy.`, null);
      }
      policyExisted = true;
    }
    const policyUndo = deletePolicyCommand(name, namespace);
    const pod = await send(run.kube, get, run.signal);
    if (!pod.ok) {
      const gone = pod.status === 404 ? ' The pod is gone; the quarantine policy selects no pod.' : '';
      return run.record('failed', `${pod.detail}${gone}`, policyUndo);
    }
    const want = (patch.body as { metadata: { labels: Record<string, string | null> } }).metadata.labels;
    const have = ((pod.body as { metadata?: { labels?: Record<string, string> } }).metadata?.labels ?? {}) as Record<string, string>;
    const inPlace = Object.entries(want).every(([k, v]) => (v === null ? !Object.hasOwn(have, k) : have[k] === v));
    if (inPlace) {
      return run.record(policyExisted ? 'already_done' : 'done', `The pod is already labelled ${QUARANTINE_LABEL}=${want[QUARANTINE_LABEL]} and NetworkPolicy ${name} in ${namespace} isolates it.`);
    }
    const labelled = await send(run.kube, patch, run.signal);
    if (!labelled.ok) return run.record('failed', `${labelled.detail} NetworkPolicy ${name} selects no pod until the label is set.`, policyUndo);
    const released = Object.hasOwn(want, POD_TEMPLATE_HASH) ? `; ${POD_TEMPLATE_HASH} removed, so its ReplicaSet starts a replacement` : '';
    return run.record('done', `Isolated the pod: labelled ${QUARANTINE_LABEL}=${want[QUARANTINE_LABEL]}${released}; NetworkPolicy ${name} in ${namespace} denies all its ingress and egress.`);
  });
}

export function executeCordon(plan: ResponsePlan, kube: KubeApis, options: ExecuteOptions): Promise<ResponseRecord> {
  return execute('cordon', plan, kube, options, async (run) => {
    const [get, patch] = plan.requests as [PlannedRequest, PlannedRequest];
    const node = await send(run.kube, get, run.signal);
    if (!node.ok) return run.record('failed', node.detail, null);
    const name = decodeURIComponent(get.path.slice(get.path.lastIndexOf('/') + 1));
    if ((node.body as { spec?: { unschedulable?: boolean } }).spec?.unschedulable === true) return run.record('already_done', `Node ${name} was already cordoned.`);
    const patched = await send(run.kube, patch, run.signal);
    if (!patched.ok) return run.record('failed', patched.detail, null);
    return run.record('done', `Cordoned node ${name}: no new pods are scheduled on it.`);
  });
}

export function executeDeletePod(plan: ResponsePlan, kube: KubeApis, options: ExecuteOptions): Promise<ResponseRecord> {
  return execute('delete-pod', plan, kube, options, async (run) => {
    const del = plan.requests[0];
    if (del === undefined) return run.record('already_done', plan.reason);
    const deleted = await send(run.kube, del, run.signal);
    if (deleted.ok) return run.record('done', `Deleted the pod (${del.path}).`);
    if (deleted.status === 404) return run.record('already_done', `The pod was already gone (${del.path} answered 404 NotFound).`);
    return run.record('failed', deleted.detail);
  });
}

export const KUBE_ACTIONS = {
  'block-c2': { plan: planBlockC2, execute: executeBlockC2 },
  isolate: { plan: planIsolate, execute: executeIsolate },
  cordon: { plan: planCordon, execute: executeCordon },
  'delete-pod': { plan: planDeletePod, execute: executeDeletePod },
} as const satisfies Record<Exclude<ResponseAction, 'capture'>, { plan: (ctx: PlanContext) => ResponsePlan; execute: typeof executeCordon }>;
