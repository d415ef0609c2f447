/**
 * The bench's organization on loopback: the same emulators the tests use,
 * with per-method latency, seeded with as many clusters, nodes, pods and
 * socat findings as a phase needs. Every cluster gets its own project and
 * its own Kubernetes API server (a kube emulator), as real clusters do, so
 * nothing is shared between clusters that would not be in production.
 */
import { startContactsEmulator, type ContactsEmulator } from '../../test/emulators/contacts-emulator.js';
import { startGkeEmulator, type GkeEmulator } from '../../test/emulators/gke-emulator.js';
import { startKubeEmulator, type KubeEmulator, type KubeObject } from '../../test/emulators/kube-emulator.js';
import { startLoggingEmulator, type LoggingEmulator } from '../../test/emulators/logging-emulator.js';
import { startSccEmulator, type SccEmulator } from '../../test/emulators/scc-emulator.js';
import { notificationFixture } from '../../test/support/fixtures.js';
import { CTD_SOURCE, ORG, OWN_SOURCE, seedOriginal, seedSources } from '../../test/support/scc-scenario.js';
import type { Latencies } from './model.js';

export const LOCATION = 'us-central1';

export interface BenchPod {
  namespace: string;
  name: string;
  container: string;
  image: string;
  node: string;
}

export interface BenchCluster {
  project: string;
  projectNumber: string;
  name: string;
  resourceName: string;
  kube: KubeEmulator;
  nodes: string[];
  pods: BenchPod[];
}

export interface BenchWorld {
  scc: SccEmulator;
  gke: GkeEmulator;
  logging: LoggingEmulator;
  contacts: ContactsEmulator;
  kubes: KubeEmulator[];
  latencies: Latencies;
  /** The function's environment (every API emulated). */
  env: Record<string, string>;
  stop(): Promise<void>;
}

export async function startBenchWorld(latencies: Latencies): Promise<BenchWorld> {
  const [scc, gke, logging, contacts] = await Promise.all([startSccEmulator(), startGkeEmulator(), startLoggingEmulator(), startContactsEmulator()]);
  seedSources(scc);
  scc.setLatency('ListFindings', latencies.sccList);
  for (const rpc of ['UpdateFinding', 'UpdateSecurityMarks', 'CreateFinding']) scc.setLatency(rpc, latencies.sccWrite);
  gke.setLatency('GetCluster', latencies.getCluster);
  logging.setLatency('ListLogEntries', latencies.loggingList);
  contacts.setLatency('ComputeContacts', latencies.contacts);
  const world: BenchWorld = {
    scc,
    gke,
    logging,
    contacts,
    kubes: [],
    latencies,
    env: {
      SCC_SOURCE_NAME: OWN_SOURCE,
      SCC_EMULATOR_HOST: scc.endpoint,
      GKE_EMULATOR_HOST: gke.endpoint,
      LOGGING_EMULATOR_HOST: logging.endpoint,
      CONTACTS_EMULATOR_HOST: contacts.endpoint,
      LOG_LEVEL: 'info',
    },
    async stop() {
      await Promise.all([scc.stop(), gke.stop(), logging.stop(), contacts.stop(), ...world.kubes.map((k) => k.stop())]);
    },
  };
  return world;
}

const meta = (name: string, extra: Record<string, unknown> = {}) => ({ name, creationTimestamp: '2026-11-20T08:00:00Z', ...extra });

function nodeObject(name: string, instanceId: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: meta(name, {
      labels: { 'cloud.google.com/gke-nodepool': 'default-pool', 'topology.kubernetes.io/zone': `${LOCATION}-b`, 'kubernetes.io/hostname': name },
      annotations: { 'container.googleapis.com/instance_id': instanceId },
    }),
    status: { nodeInfo: { osImage: 'Container-Optimized OS from Google', kernelVersion: '6.6.93+', containerRuntimeVersion: 'containerd://1.7.28' } },
  };
}

/**
 * Seeds `count` clusters named PREFIX-01..., each with `nodes` nodes and
 * `pods` pods (Deployments of three replicas) spread over them.
 */
export async function seedClusters(world: BenchWorld, prefix: string, count: number, nodes: number, pods: number): Promise<BenchCluster[]> {
  const clusters: BenchCluster[] = [];
  const kubes = await Promise.all(Array.from({ length: count }, () => startKubeEmulator()));
  for (const [c, kube] of kubes.entries()) {
    world.kubes.push(kube);
    kube.setLatency(world.latencies.kubeRead);
    const index = world.kubes.length;
    const name = `${prefix}-${String(c + 1).padStart(2, '0')}`;
    const project = `bench-${name}`.slice(0, 30).replace(/-+$/, '');
    const projectNumber = String(700_000_000_000 + index);
    const resourceName = `//container.googleapis.com/projects/${project}/locations/${LOCATION}/clusters/${name}`;
    world.gke.seedCluster(
      {
        name,
        location: LOCATION,
        endpoint: kube.access.endpoint,
        masterAuth: { clusterCaCertificate: kube.access.caCertificate },
        network: 'bench-vpc',
        nodePools: [{ name: 'default-pool', instanceGroupUrls: [`https://www.googleapis.com/compute/v1/projects/${project}/zones/${LOCATION}-b/instanceGroupManagers/gke-${name}-default-pool-0badc0de-grp`] }],
        resourceLabels: { env: 'prod', team: 'bench' },
        currentMasterVersion: '1.33.5-gke.1201000',
        status: 'RUNNING',
      },
      { project, projectNumber },
    );
    world.contacts.seedProject({ projectNumber, projectId: project, organization: ORG });
    world.contacts.addContact(`projects/${projectNumber}`, { email: `${name}-security@example.com`, categories: ['SECURITY'] });
    const nodeNames = Array.from({ length: nodes }, (_, n) => `gke-${name}-default-pool-0badc0de-${String(n).padStart(4, '0')}`);
    nodeNames.forEach((n, i) => kube.seed(nodeObject(n, String(4_820_000_000_000_000_000n + BigInt(index * 1000 + i)))));
    const namespace = 'shop';
    kube.seed({ apiVersion: 'v1', kind: 'Namespace', metadata: meta(namespace, { labels: { team: 'payments' } }) });
    const benchPods: BenchPod[] = [];
    for (let p = 0; p < pods; p++) {
      const app = `app${Math.floor(p / 3)}`;
      const hash = '7d9fb6c5d4';
      if (p % 3 === 0) {
        kube.seed({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { ...meta(app), namespace, labels: { app, team: 'payments' } } });
        kube.seed({
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          metadata: { ...meta(`${app}-${hash}`), namespace, labels: { app }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: app, controller: true }] },
        });
      }
      const podName = `${app}-${hash}-${'bcdfghjklmnpqrstvwxz'.charAt(p % 20)}${'2456789bcd'.charAt(Math.floor(p / 20) % 10)}x2q`;
      const image = `us-docker.pkg.dev/${project}/apps/${app}:1.0.${p}`;
      const node = nodeNames[p % nodeNames.length] as string;
      kube.seed({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { ...meta(podName), namespace, labels: { app, 'pod-template-hash': hash }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `${app}-${hash}`, controller: true }] },
        spec: { nodeName: node, serviceAccountName: app, containers: [{ name: app, image, securityContext: { runAsNonRoot: true, runAsUser: 10001 } }] },
        status: { phase: 'Running', startTime: '2026-11-20T08:00:05Z', containerStatuses: [{ name: app, image, imageID: `${image}@sha256:${'5b0c7a4f'.repeat(8)}`, restartCount: 0, ready: true }] },
      });
      benchPods.push({ namespace, name: podName, container: app, image, node });
    }
    clusters.push({ project, projectNumber, name, resourceName, kube, nodes: nodeNames, pods: benchPods });
  }
  return clusters;
}

let nextFinding = 1;

/** A socat notification for a pod, its finding stored in CTD's source (the marks go onto it), with a couple of other CTD findings around it. */
export function seedFinding(world: BenchWorld, cluster: BenchCluster, pod: BenchPod, eventTime: Date, related = 0): Record<string, any> {
  const n = structuredClone(notificationFixture('socat-v2'));
  const serial = nextFinding++;
  const id = `f${String(serial).padStart(31, '0')}`;
  const f = n.finding;
  f.name = `${CTD_SOURCE}/locations/global/findings/${id}`;
  f.canonicalName = `projects/${cluster.projectNumber}/sources/${CTD_SOURCE.split('/').pop()}/locations/global/findings/${id}`;
  f.securityMarks = { name: `${f.name}/securityMarks` };
  f.resourceName = cluster.resourceName;
  f.eventTime = eventTime.toISOString();
  f.createTime = new Date(eventTime.getTime() + 1500).toISOString();
  f.sourceProperties = { Pod_Namespace: pod.namespace, Pod_Name: pod.name, Container_Name: pod.container, Container_Image_Uri: pod.image, VM_Instance_Name: pod.node };
  f.containers = [{ name: pod.container, uri: pod.image, imageId: `sha256:${'5b0c7a4f'.repeat(8)}`, createTime: '2026-11-20T08:00:05Z' }];
  f.kubernetes = {
    pods: [{ ns: pod.namespace, name: pod.name, containers: [{ name: pod.container, uri: pod.image }] }],
    nodes: [{ name: `//compute.googleapis.com/projects/${cluster.project}/zones/${LOCATION}-b/instances/${pod.node}` }],
  };
  n.resource.name = cluster.resourceName;
  n.resource.displayName = cluster.name;
  n.resource.gcpMetadata.project = `//cloudresourcemanager.googleapis.com/projects/${cluster.projectNumber}`;
  n.resource.gcpMetadata.parent = n.resource.gcpMetadata.project;
  n.resource.gcpMetadata.projectDisplayName = cluster.project;
  n.resource.gcpMetadata.parentDisplayName = cluster.project;
  seedOriginal(world.scc, n);
  for (let r = 0; r < related; r++) {
    world.scc.addFinding(`${CTD_SOURCE}/locations/global/findings/r${String(serial).padStart(27, '0')}${String(r).padStart(4, '0')}`, {
      resourceName: cluster.resourceName,
      category: 'Execution: Added Binary Executed',
      state: 'ACTIVE',
      severity: 'HIGH',
      findingClass: 'THREAT',
      eventTime: new Date(eventTime.getTime() - (r + 1) * 30_000),
      sourceProperties: { Pod_Namespace: pod.namespace, Pod_Name: pod.name, Container_Name: pod.container },
    });
  }
  return n;
}
