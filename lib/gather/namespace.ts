/**
 * Playbook Step 7, whom to call: the namespace the pod runs in. Teams label
 * and annotate their namespaces with who owns them (team, owner, contact,
 * on-call...), often more reliably than individual workloads; the decision
 * stage (lib/decide/owners.ts) picks the owner-like keys out of this section.
 */
import type { V1Namespace } from '@kubernetes/client-node';
import type { GatherDeps } from './deps.js';
import { clusterAccess, CONNECT_THROUGH_DNS_ENDPOINT, isAbortError, kubeCall, kubeStatus, withRouteHint } from './kube.js';
import type { GatheredSections } from './sections.js';
import { GatherGap, type Gatherer } from './types.js';

export interface NamespaceSection {
  name: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}


/**
 * kubectl apply stores the whole object as JSON here: it repeats the labels
 * and annotations already kept and can be hundreds of KiB, which the instance
 * cache and the report should not carry.
 */
const DROPPED_ANNOTATIONS = new Set(['kubectl.kubernetes.io/last-applied-configuration']);

export function namespaceSection(name: string, namespace: V1Namespace): NamespaceSection {
  const annotations = Object.fromEntries(Object.entries(namespace.metadata?.annotations ?? {}).filter(([k]) => !DROPPED_ANNOTATIONS.has(k)));
  return { name: namespace.metadata?.name ?? name, labels: { ...(namespace.metadata?.labels ?? {}) }, annotations };
}

export const namespaceGatherer: Gatherer<GatherDeps, GatheredSections, 'namespace'> = {
  section: 'namespace',
  description: "The pod's namespace (playbook Step 7): its labels and annotations, where teams record who owns it (team, owner, contact, on-call).",
  needs: ['cluster'],
  api: 'Kubernetes API core/v1 namespaces get',
  permissions: ['container.namespaces.get', CONNECT_THROUGH_DNS_ENDPOINT],
  enabledByDefault: true,
  missing(finding) {
    return finding.workload.namespace ? null : 'the finding names no namespace';
  },
  async gather(ctx) {
    const access = clusterAccess(ctx.sections);
    const name = ctx.finding.workload.namespace as string;
    const kube = await ctx.deps.kube(access);
    // A namespace's labels change rarely and every finding in it asks the same question: one read per cache TTL.
    const read = () =>
      ctx.deps.cache.memo('namespace', `${access.endpoint}/${name}`, () =>
        kubeCall(ctx.signal, (o) => kube.core.readNamespace({ name }, o)).then((ns) => {
          // The cache keeps only the section, so what was read is recorded here, on a fresh read.
          ctx.deps.evidence?.record('namespace.json', ns);
          return namespaceSection(name, ns);
        }),
      );
    let section: NamespaceSection;
    try {
      try {
        section = await read();
      } catch (err) {
        // A shared read started by another triage was cut off by that triage's deadline, not ours: start our own.
        if (!isAbortError(err) || ctx.signal.aborted) throw err;
        section = await read();
      }
    } catch (err) {
      if (kubeStatus(err) === 404) throw new GatherGap(`namespace ${name} no longer exists`);
      throw withRouteHint(err, ctx.sections);
    }
    // The cached object is shared by every triage in this instance: hand out a copy.
    return structuredClone(section);
  },
};
