/**
 * Playbook Step 2, the node: the GKE node named by VM_Instance_Name, read
 * from the cluster's Kubernetes API. Its container.googleapis.com/instance_id
 * annotation is the Compute Engine instance id the node-log query needs.
 */
import type { V1Node } from '@kubernetes/client-node';
import type { ClusterRef } from '../finding/types.js';
import type { GatherDeps } from './deps.js';
import { clusterAccess, CONNECT_THROUGH_DNS_ENDPOINT, isAbortError, kubeCall, kubeConsoleUrl, kubeStatus, kubeTime, withRouteHint } from './kube.js';
import type { GatheredSections, NodeSection } from './sections.js';
import { GatherGap, type Gatherer } from './types.js';

const INSTANCE_ID_ANNOTATION = 'container.googleapis.com/instance_id';
const NODE_POOL_LABEL = 'cloud.google.com/gke-nodepool';
const ZONE_LABELS = ['topology.kubernetes.io/zone', 'failure-domain.beta.kubernetes.io/zone'];

/** The report section from a Node as the API returns it (kubectl get node -o json prints the same fields). */
export function nodeSection(name: string, node: V1Node, cluster: ClusterRef | null): NodeSection {
  const labels = { ...(node.metadata?.labels ?? {}) };
  const info = node.status?.nodeInfo;
  return {
    name: node.metadata?.name ?? name,
    instanceId: node.metadata?.annotations?.[INSTANCE_ID_ANNOTATION] ?? null,
    labels,
    nodePool: labels[NODE_POOL_LABEL] ?? null,
    zone: ZONE_LABELS.map((k) => labels[k]).find((z) => z !== undefined) ?? null,
    osImage: info?.osImage ?? null,
    kernelVersion: info?.kernelVersion ?? null,
    containerRuntime: info?.containerRuntimeVersion ?? null,
    createdAt: kubeTime(node.metadata?.creationTimestamp),
    consoleUrl: kubeConsoleUrl(cluster, 'node', [name], 'summary'),
  };
}

export const nodeGatherer: Gatherer<GatherDeps, GatheredSections, 'node'> = {
  section: 'node',
  description: 'The GKE node the container ran on (playbook Step 2): Compute Engine instance id, node pool, zone, OS image, kernel and container runtime, labels.',
  needs: ['cluster'],
  api: 'Kubernetes API core/v1 nodes get',
  permissions: ['container.nodes.get', CONNECT_THROUGH_DNS_ENDPOINT],
  enabledByDefault: true,
  missing(finding) {
    return finding.workload.node ? null : 'the finding names no node (VM_Instance_Name)';
  },
  async gather(ctx) {
    const access = clusterAccess(ctx.sections);
    const name = ctx.finding.workload.node as string;
    const kube = await ctx.deps.kube(access);
    // Nodes change little while a node lives: one read serves every finding on it for the cache's TTL.
    const read = () => ctx.deps.cache.memo('node', `${access.endpoint}/${name}`, () => kubeCall(ctx.signal, (o) => kube.core.readNode({ name }, o)));
    let node: V1Node;
    try {
      try {
        node = await read();
      } catch (err) {
        // A shared read started by another triage was cut off by that triage's deadline, not ours: start our own.
        if (!isAbortError(err) || ctx.signal.aborted) throw err;
        node = await read();
      }
    } catch (err) {
      if (kubeStatus(err) === 404) throw new GatherGap(`node ${name} no longer exists (deleted or recycled)`);
      throw withRouteHint(err, ctx.sections);
    }
    ctx.deps.evidence?.record('node.json', node);
    return nodeSection(name, node, ctx.finding.cluster);
  },
};
