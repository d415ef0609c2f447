/**
 * What each runbook step is meant to run, written from the rules documented
 * in lib/report/commands.ts and lib/report/runbook.ts (how kubectl and gcloud
 * read their argv), independently of the code that quotes them: the argv a
 * program must receive for the command to act on exactly what the finding
 * names, and what kubectl must read on stdin for `apply -f -`. The injection
 * and four-shell tests run the generated commands in every shell against
 * recording stand-ins and compare with this.
 */
import { parse } from 'yaml';
import type { SocatFinding } from '../../lib/finding/types.js';
import type { PodSection } from '../../lib/gather/sections.js';
import { localFileFor } from '../../lib/report/commands.js';
import { DEBUG_IMAGE, DEBUG_PROFILE, selectorLabels } from '../../lib/report/runbook.js';
import type { Expected } from '../support/recording-shell.js';

export interface Intended extends Expected {
  program: 'kubectl' | 'gcloud';
  argv: string[];
}

const given = (v: string | null | undefined): v is string => v != null && v !== '';

/** The pod section the runbook uses: only one about this very pod. */
function podFor(f: SocatFinding, pod: PodSection | null): PodSection | null {
  return pod !== null && pod.namespace === f.workload.namespace && pod.name === f.workload.pod ? pod : null;
}

/** The intended invocation of a step whose command is not null. */
export function intendedInvocation(stepId: string, f: SocatFinding, rawPod: PodSection | null): Intended {
  const pod = podFor(f, rawPod);
  const { namespace: ns, pod: name, container } = f.workload;
  const c = given(container) ? ['-c', container] : [];
  const podOperand = (p: string) => (p.startsWith('-') ? `pod/${p}` : p);
  switch (stepId) {
    case 'get_credentials': {
      const cl = f.cluster!;
      return { program: 'gcloud', argv: ['container', 'clusters', 'get-credentials', cl.name, cl.locationType === 'regional' ? '--region' : '--zone', cl.location, '--project', cl.project] };
    }
    case 'copy_binary': {
      const binary = f.socat!.binary!;
      const local = localFileFor(binary);
      if (!ns!.includes(':') && !ns!.startsWith('-') && !name!.startsWith('-')) return { program: 'kubectl', argv: ['cp', `${ns}/${name}:${binary}`, ...c, local] };
      return { program: 'kubectl', argv: ['cp', `--namespace=${ns}`, ...c, '--', `${name}:${binary}`, local] };
    }
    case 'exec':
      return { program: 'kubectl', argv: ['exec', `--namespace=${ns}`, '-ti', podOperand(name!), ...c, '--', '/bin/sh'] };
    case 'debug': {
      const target = given(container) ? container : pod!.containers[0]!.name;
      return { program: 'kubectl', argv: ['debug', `--namespace=${ns}`, '-it', podOperand(name!), `--image=${DEBUG_IMAGE}`, `--target=${target}`, `--profile=${DEBUG_PROFILE}`, '--', 'sh'] };
    }
    case 'block_c2_egress':
    case 'block_all_egress':
      return { program: 'kubectl', argv: ['apply', '-f', '-'], stdin: (received) => manifestProblems(stepId, received, f, pod) };
    case 'cordon': {
      const node = f.workload.node || pod?.node || '';
      return { program: 'kubectl', argv: node.startsWith('-') ? ['cordon', '--', node] : ['cordon', node] };
    }
    case 'delete_pod':
      return { program: 'kubectl', argv: ['delete', 'pod', `--namespace=${ns}`, ...(name!.startsWith('-') ? ['--', name!] : [name!])] };
    case 'scale_to_zero': {
      const top = pod!.owners.at(-1)!;
      const resource = { Deployment: 'deployment.apps', StatefulSet: 'statefulset.apps', ReplicaSet: 'replicaset.apps', ReplicationController: 'replicationcontroller', CronJob: 'cronjob.batch', Job: 'job.batch' }[top.kind];
      if (top.kind === 'CronJob' || top.kind === 'Job') return { program: 'kubectl', argv: ['patch', `--namespace=${ns}`, `${resource}/${top.name}`, '--type=merge', '-p', '{"spec":{"suspend":true}}'] };
      return { program: 'kubectl', argv: ['scale', `--namespace=${ns}`, `${resource}/${top.name}`, '--replicas=0'] };
    }
    default:
      throw new Error(`no intended argv for step ${stepId}`);
  }
}

function sorted(map: unknown): string {
  return map !== null && typeof map === 'object' ? JSON.stringify(Object.entries(map).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : String(map);
}

/**
 * The manifest `kubectl apply -f -` read on stdin, parsed as kubectl parses it
 * (YAML 1.1): its namespace and pod selector must be the finding's namespace
 * and the pod's labels minus the per-revision ones.
 */
export function manifestProblems(stepId: string, received: string, f: SocatFinding, pod: PodSection | null): string[] {
  let manifest: { metadata?: { namespace?: unknown }; spec?: { podSelector?: { matchLabels?: unknown } } } | null;
  try {
    manifest = parse(received, { version: '1.1' }) as typeof manifest;
  } catch (e) {
    return [`${stepId}: kubectl read no YAML manifest (${(e as Error).message.slice(0, 200)})`];
  }
  const problems: string[] = [];
  if (manifest?.metadata?.namespace !== f.workload.namespace) problems.push(`${stepId}: namespace ${JSON.stringify(manifest?.metadata?.namespace)}`);
  // The pod as read, or (not read, or gone) the finding's own kubernetes.pods[].labels, as the runbook selects.
  const expected =
    pod !== null && pod.source === 'kubernetes'
      ? selectorLabels(pod.labels, pod.owners.at(-1)?.kind ?? null)
      : selectorLabels(Object.fromEntries((f.podLabels ?? []).map((l) => [l.name, l.value])), null);
  if (sorted(manifest?.spec?.podSelector?.matchLabels) !== sorted(expected)) problems.push(`${stepId}: selector ${JSON.stringify(manifest?.spec?.podSelector?.matchLabels)}`);
  return problems;
}
