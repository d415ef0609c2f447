/**
 * Playbook Step 3, the pod: read from the cluster's Kubernetes API, with the
 * settings that decide what a reverse shell in it can reach (red flags) and
 * the chain of owners up to the workload someone deployed. A pod already
 * gone is reported from what the finding carries, with a gap saying so.
 */
import type { ConfigurationOptions, V1Container, V1EphemeralContainer, V1ObjectMeta, V1OwnerReference, V1Pod, V1PodSecurityContext } from '@kubernetes/client-node';
import { describeError } from '../errors.js';
import type { KubeApis } from '../clients.js';
import type { SocatFinding } from '../finding/types.js';
import type { GatherDeps } from './deps.js';
import { clusterAccess, CONNECT_THROUGH_DNS_ENDPOINT, isAbortError, kubeCall, kubeConsoleUrl, kubeStatus, kubeTime, withRouteHint } from './kube.js';
import type { GatheredSections, OwnerRef, PodContainer, PodSection } from './sections.js';
import type { Gatherer } from './types.js';

export interface OwnerReader {
  /** The API group the kind must come from; an ownerReference of another group is some custom resource of the same name. */
  group: 'apps' | 'batch';
  read(kube: KubeApis, namespace: string, name: string, options: ConfigurationOptions): Promise<{ metadata?: V1ObjectMeta }>;
}

export const OWNER_READERS: Readonly<Record<string, OwnerReader>> = {
  ReplicaSet: { group: 'apps', read: (k, namespace, name, o) => k.apps.readNamespacedReplicaSet({ namespace, name }, o) },
  Deployment: { group: 'apps', read: (k, namespace, name, o) => k.apps.readNamespacedDeployment({ namespace, name }, o) },
  StatefulSet: { group: 'apps', read: (k, namespace, name, o) => k.apps.readNamespacedStatefulSet({ namespace, name }, o) },
  DaemonSet: { group: 'apps', read: (k, namespace, name, o) => k.apps.readNamespacedDaemonSet({ namespace, name }, o) },
  Job: { group: 'batch', read: (k, namespace, name, o) => k.batch.readNamespacedJob({ namespace, name }, o) },
  CronJob: { group: 'batch', read: (k, namespace, name, o) => k.batch.readNamespacedCronJob({ namespace, name }, o) },
};

/** Pod → ReplicaSet → Deployment is the longest built-in chain; the cap only guards against reference loops. */
const MAX_OWNER_DEPTH = 5;

/** The controlling owner, as Kubernetes garbage collection and kubectl treat it; else the first listed. */
function controllerRef(refs: V1OwnerReference[] | undefined): V1OwnerReference | null {
  if (!refs || refs.length === 0) return null;
  return refs.find((r) => r.controller === true) ?? refs[0] ?? null;
}

function ownerFailure(err: unknown): string {
  const status = kubeStatus(err);
  if (status === 403) return `permission denied: ${describeError(err)}`;
  if (status === 404) return `not found (deleted?): ${describeError(err)}`;
  return describeError(err);
}

/** An owner object read by kind and name: from the Kubernetes API, or from an owners.json export. */
export type OwnerLookup = (kind: string, reader: OwnerReader, name: string) => Promise<{ metadata?: V1ObjectMeta }>;

/**
 * The owner chain from the pod's controller up: one walk for the gatherer
 * (API reads) and `analyze --evidence` (owners.json). A lookup that fails
 * ends the chain with a gap; `fatal` says which failures must propagate
 * instead (the deadline).
 */
export async function ownerChain(
  pod: V1Pod,
  namespace: string,
  lookup: OwnerLookup,
  addGap: (reason: string) => void,
  fatal: (err: unknown) => boolean = () => false,
): Promise<OwnerRef[]> {
  const owners: OwnerRef[] = [];
  const seen = new Set<string>();
  let ref = controllerRef(pod.metadata?.ownerReferences);
  while (ref && owners.length < MAX_OWNER_DEPTH) {
    const id = `${ref.kind}/${ref.name}`;
    if (seen.has(id)) break;
    seen.add(id);
    const reader = OWNER_READERS[ref.kind];
    if (!reader || ref.apiVersion.split('/')[0] !== reader.group) {
      owners.push({ kind: ref.kind, name: ref.name, labels: {} });
      // A static pod's mirror is owned by its Node, which the node section covers; anything else is a kind not read here.
      if (ref.kind !== 'Node') addGap(`owner ${ref.kind} ${namespace}/${ref.name} (${ref.apiVersion}) is not a kind this gatherer reads; the owner chain ends there`);
      break;
    }
    const current: V1OwnerReference = ref;
    let owner: { metadata?: V1ObjectMeta };
    try {
      owner = await lookup(current.kind, reader, current.name);
    } catch (err) {
      if (fatal(err)) throw err;
      owners.push({ kind: current.kind, name: current.name, labels: {} });
      addGap(`owner ${current.kind} ${namespace}/${current.name} could not be read: ${ownerFailure(err)}`);
      break;
    }
    owners.push({ kind: current.kind, name: owner.metadata?.name ?? current.name, labels: { ...(owner.metadata?.labels ?? {}) } });
    ref = controllerRef(owner.metadata?.ownerReferences);
  }
  return owners;
}

/** "docker-pullable://repo@sha256:..." on older runtimes; containerd reports the reference itself. */
function imageDigest(imageID: string | undefined): string | null {
  if (!imageID) return null;
  return imageID.replace(/^docker(?:-pullable)?:\/\//, '');
}

function containers(pod: V1Pod): PodContainer[] {
  const statuses = new Map((pod.status?.containerStatuses ?? []).map((s) => [s.name, s]));
  return (pod.spec?.containers ?? []).map((c) => {
    const s = statuses.get(c.name);
    return {
      name: c.name,
      image: c.image ?? s?.image ?? null,
      imageDigest: imageDigest(s?.imageID),
      restartCount: s?.restartCount ?? null,
      ready: s?.ready ?? null,
    };
  });
}

function containerFlags(label: string, c: V1Container | V1EphemeralContainer, podSc: V1PodSecurityContext | undefined): string[] {
  const flags: string[] = [];
  const sc = c.securityContext;
  if (sc?.privileged === true) flags.push(`privileged ${label}`);
  // Container settings override the pod's; the image's USER is unknown here, so an unset user can only be "may".
  const runAsUser = sc?.runAsUser ?? podSc?.runAsUser;
  const runAsNonRoot = sc?.runAsNonRoot ?? podSc?.runAsNonRoot;
  if (runAsUser === 0) flags.push(`${label} runs as root (runAsUser 0)`);
  else if (runAsUser === undefined && runAsNonRoot !== true) flags.push(`${label} may run as root (no runAsNonRoot/runAsUser)`);
  if (sc?.allowPrivilegeEscalation === true) flags.push(`${label} allows privilege escalation`);
  for (const cap of sc?.capabilities?.add ?? []) flags.push(`${label} adds capability ${cap}`);
  return flags;
}

function redFlags(pod: V1Pod): string[] {
  const spec = pod.spec;
  if (!spec) return [];
  const flags: string[] = [];
  if (spec.hostPID === true) flags.push('hostPID');
  if (spec.hostNetwork === true) flags.push('hostNetwork');
  if (spec.hostIPC === true) flags.push('hostIPC');
  for (const c of spec.initContainers ?? []) flags.push(...containerFlags(`init container ${c.name}`, c, spec.securityContext));
  for (const c of spec.containers ?? []) flags.push(...containerFlags(`container ${c.name}`, c, spec.securityContext));
  for (const c of spec.ephemeralContainers ?? []) {
    // Ephemeral containers are added to a running pod (kubectl debug): a way in that the workload's spec does not show.
    flags.push(`ephemeral container ${c.name} (${c.image ?? 'no image'}) was added to the running pod`);
    flags.push(...containerFlags(`ephemeral container ${c.name}`, c, spec.securityContext));
  }
  for (const v of spec.volumes ?? []) {
    if (v.hostPath) flags.push(`hostPath ${v.hostPath.path} (volume ${v.name})`);
  }
  // The ServiceAccount admission plugin adds this projected volume only when the token is mounted, whether the
  // pod or its ServiceAccount decided: a shell in the pod can then call the Kubernetes API as that account.
  const tokenVolume = (spec.volumes ?? []).some((v) => v.projected?.sources?.some((s) => s.serviceAccountToken !== undefined));
  if (tokenVolume) flags.push(`service account token mounted (${spec.serviceAccountName ?? spec.serviceAccount ?? 'default'})`);
  return flags;
}

/** A pod already gone: only what the finding carries. */
export function podFromFinding(finding: SocatFinding, namespace: string, name: string): PodSection {
  const w = finding.workload;
  return {
    source: 'finding',
    namespace,
    name,
    phase: null,
    startTime: null,
    labels: {},
    annotations: {},
    serviceAccount: null,
    node: w.node,
    containers: w.container ? [{ name: w.container, image: w.image, imageDigest: null, restartCount: null, ready: null }] : [],
    redFlags: [],
    owners: [],
    consoleUrl: null,
  };
}

/** The report section from a Pod as the API returns it (kubectl get pod -o json prints the same fields); `owners` from ownerChain. */
export function podSection(pod: V1Pod, owners: OwnerRef[], finding: SocatFinding, namespace: string, name: string): PodSection {
  return {
    source: 'kubernetes',
    namespace: pod.metadata?.namespace ?? namespace,
    name: pod.metadata?.name ?? name,
    phase: pod.status?.phase ?? null,
    startTime: kubeTime(pod.status?.startTime),
    labels: { ...(pod.metadata?.labels ?? {}) },
    annotations: { ...(pod.metadata?.annotations ?? {}) },
    serviceAccount: pod.spec?.serviceAccountName ?? pod.spec?.serviceAccount ?? null,
    node: pod.spec?.nodeName ?? null,
    containers: containers(pod),
    redFlags: redFlags(pod),
    owners,
    consoleUrl: kubeConsoleUrl(finding.cluster, 'pod', [namespace, name], 'details'),
  };
}

export const podGatherer: Gatherer<GatherDeps, GatheredSections, 'pod'> = {
  section: 'pod',
  description:
    'The pod (playbook Step 3): phase, service account, node, containers with the image digests actually running, security red flags (privileged, host namespaces, root, capabilities, hostPath, mounted token) and the owner chain up to the top-level workload with its labels.',
  needs: ['cluster'],
  api: 'Kubernetes API core/v1 pods get; apps/v1 replicasets, deployments, statefulsets, daemonsets get; batch/v1 jobs, cronjobs get',
  permissions: [
    'container.pods.get',
    'container.replicaSets.get',
    'container.deployments.get',
    'container.statefulSets.get',
    'container.daemonSets.get',
    'container.jobs.get',
    'container.cronJobs.get',
    CONNECT_THROUGH_DNS_ENDPOINT,
  ],
  enabledByDefault: true,
  missing(finding) {
    if (!finding.workload.namespace || !finding.workload.pod) return 'the finding names no pod (Pod_Namespace and Pod_Name)';
    return null;
  },
  async gather(ctx) {
    const access = clusterAccess(ctx.sections);
    const namespace = ctx.finding.workload.namespace as string;
    const name = ctx.finding.workload.pod as string;
    const kube = await ctx.deps.kube(access);
    let pod: V1Pod;
    try {
      pod = await kubeCall(ctx.signal, (o) => kube.core.readNamespacedPod({ namespace, name }, o));
    } catch (err) {
      if (kubeStatus(err) !== 404) throw withRouteHint(err, ctx.sections);
      ctx.addGap(`pod ${namespace}/${name} no longer exists; showing what the finding carries`);
      return podFromFinding(ctx.finding, namespace, name);
    }
    // What was read, for owners.json.
    const ownerObjects: unknown[] = [];
    const chain = await ownerChain(
      pod,
      namespace,
      async (kind, reader, ownerName) => {
        const owner = await kubeCall(ctx.signal, (o) => reader.read(kube, namespace, ownerName, o));
        // A get answers with kind and apiVersion; kept explicit so owners.json reads back like kubectl's List.
        ownerObjects.push({ apiVersion: `${reader.group}/v1`, kind, ...owner });
        return owner;
      },
      ctx.addGap,
      (err) => isAbortError(err) || ctx.signal.aborted,
    );
    ctx.deps.evidence?.record('pod.json', pod);
    ctx.deps.evidence?.record('owners.json', ownerObjects);
    return podSection(pod, chain, ctx.finding, namespace, name);
  },
};
