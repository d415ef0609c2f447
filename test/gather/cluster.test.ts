/**
 * The cluster gatherer: pure mapping from a GetCluster response to the report
 * section, then the real ClusterManagerClient against the GKE emulator,
 * through the gatherer alone and through runGatherers (gaps, deadline, cache).
 */
import { protos } from '@google-cloud/container';
import { createGkeClient, type GkeClient } from '../../lib/clients.js';
import type { ClusterRef, SocatFinding } from '../../lib/finding/types.js';
import { createInstanceCache, noCache, type InstanceCache } from '../../lib/gather/cache.js';
import {
  CLUSTER_STATUS_NAMES,
  DATAPATH_PROVIDER_NAMES,
  GET_CLUSTER_ATTEMPTS,
  LOGGING_COMPONENT_NAMES,
  OWNER_LABEL_WORDS,
  clusterAccess,
  controlPlaneRoute,
  clusterConsoleUrl,
  clusterGatherer,
  clusterResourceName,
  clusterSection,
  locationTypeOf,
  loggingComponents,
  networkPolicyEnforced,
  nodePoolOfNode,
  ownerLabels,
  privateEndpointOnly,
  type Cluster,
} from '../../lib/gather/cluster.js';
import type { GatherDeps } from '../../lib/gather/deps.js';
import { runGatherers } from '../../lib/gather/runner.js';
import type { ClusterSection, GatheredSections } from '../../lib/gather/sections.js';
import { GatherGap, type Gatherer } from '../../lib/gather/types.js';
import { startGkeEmulator, type GkeEmulator } from '../emulators/gke-emulator.js';
import { Status } from '../emulators/grpc-harness.js';
import { testGatherDeps } from '../support/gather-deps.js';

// ---------------------------------------------------------------------------
// Fixtures

const PROJECT = 'shop-prod';
const PROJECT_NUMBER = '123456789012';
const CA = Buffer.from('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n').toString('base64');
/** The client decodes enums as names; ICluster types repeated enums as numbers only. */
const components = (...names: string[]) => names as unknown as protos.google.container.v1.LoggingComponentConfig.Component[];
const MIG = (zone: string, name: string) => `https://www.googleapis.com/compute/v1/projects/${PROJECT}/zones/${zone}/instanceGroupManagers/${name}`;

function makeFinding(o: { cluster?: Partial<ClusterRef> | null; node?: string | null } = {}): SocatFinding {
  const base = { project: PROJECT, location: 'us-central1', name: 'prod-1', locationType: 'regional' as const };
  const ref = o.cluster === null ? null : { ...base, ...o.cluster };
  return {
    name: 'organizations/1/sources/2/locations/global/findings/f1',
    category: 'Execution: Socat Reverse Shell Detected',
    projectNumber: null,
    state: 'ACTIVE',
    severity: 'HIGH',
    eventTime: '2025-06-15T10:00:00Z',
    createTime: '2025-06-15T10:00:01Z',
    organization: '1',
    projectDisplayName: PROJECT,
    resourceName: ref ? `//container.googleapis.com/projects/${ref.project}/locations/${ref.location}/clusters/${ref.name}` : null,
    cluster: ref ? { ...ref, resourceName: `//container.googleapis.com/projects/${ref.project}/locations/${ref.location}/clusters/${ref.name}` } : null,
    workload: { namespace: 'shop', pod: 'checkout-7d9f-abcde', container: 'app', image: 'gcr.io/shop/checkout:1', node: o.node === undefined ? 'gke-prod-1-default-pool-1a2b3c4d-x7k2' : o.node },
    podLabels: null,
    processes: [],
    socat: null,
    securityMarks: {},
    mitre: null,
    notificationConfigName: null,
  };
}

/** A regional Standard cluster with most of what the section reads. */
function prodCluster(): protos.google.container.v1.ICluster {
  return {
    name: 'prod-1',
    location: 'us-central1',
    locations: ['us-central1-a', 'us-central1-b'],
    endpoint: '203.0.113.10',
    masterAuth: { clusterCaCertificate: CA, clientKey: 'legacy-secret', password: 'legacy-password' },
    network: 'shop-vpc',
    subnetwork: 'gke-nodes',
    clusterIpv4Cidr: '10.4.0.0/14',
    servicesIpv4Cidr: '10.8.0.0/20',
    ipAllocationPolicy: { useIpAliases: true, clusterIpv4CidrBlock: '10.4.0.0/14', servicesIpv4CidrBlock: '10.8.0.0/20' },
    networkPolicy: { provider: 'CALICO', enabled: true },
    workloadIdentityConfig: { workloadPool: `${PROJECT}.svc.id.goog` },
    privateClusterConfig: { enablePrivateNodes: true, enablePrivateEndpoint: false, privateEndpoint: '10.0.0.2', publicEndpoint: '203.0.113.10' },
    loggingConfig: { componentConfig: { enableComponents: components('SYSTEM_COMPONENTS', 'WORKLOADS', 'APISERVER') } },
    nodePools: [
      { name: 'default-pool', instanceGroupUrls: [MIG('us-central1-a', 'gke-prod-1-default-pool-1a2b3c4d-grp'), MIG('us-central1-b', 'gke-prod-1-default-pool-5e6f7a8b-grp')] },
      { name: 'default-pool-2', instanceGroupUrls: [MIG('us-central1-a', 'gke-prod-1-default-pool-2-9c0d1e2f-grp')] },
    ],
    resourceLabels: { env: 'prod', team: 'payments', 'oncall-rotation': 'pay-primary', cost_center: 'cc-42', app: 'shop' },
    currentMasterVersion: '1.30.5-gke.1014001',
    status: 'RUNNING',
  };
}

function expectedProdSection(overrides: Partial<ClusterSection> = {}): ClusterSection {
  return {
    location: 'us-central1',
    locationType: 'regional',
    status: 'RUNNING',
    currentMasterVersion: '1.30.5-gke.1014001',
    labels: { env: 'prod', team: 'payments', 'oncall-rotation': 'pay-primary', cost_center: 'cc-42', app: 'shop' },
    ownerLabels: { team: 'payments', 'oncall-rotation': 'pay-primary', cost_center: 'cc-42' },
    network: 'shop-vpc',
    subnetwork: 'gke-nodes',
    podCidr: '10.4.0.0/14',
    servicesCidr: '10.8.0.0/20',
    networkPolicyEnforced: true,
    workloadIdentityPool: `${PROJECT}.svc.id.goog`,
    privateEndpoint: false,
    loggingComponents: ['SYSTEM_COMPONENTS', 'WORKLOADS', 'APISERVER'],
    nodePool: 'default-pool',
    consoleUrl: `https://console.cloud.google.com/kubernetes/clusters/details/us-central1/prod-1/details?project=${PROJECT}`,
    controlPlanePath: 'public-ip',
    controlPlaneUnreachable: null,
    access: { endpoint: '203.0.113.10', caCertificate: CA },
    ...overrides,
  };
}

// ---------------------------------------------------------------------------
// Pure helpers

describe('clusterSection (pure)', () => {
  test('maps every field of a full response', () => {
    expect(clusterSection(prodCluster(), makeFinding())).toEqual(expectedProdSection());
  });

  test('an empty response falls back to the finding for location and links, and leaves the rest null', () => {
    expect(clusterSection({}, makeFinding({ cluster: { location: 'europe-west1-b', name: 'edge', locationType: 'zonal' } }))).toEqual({
      location: 'europe-west1-b',
      locationType: 'zonal',
      status: null,
      currentMasterVersion: null,
      labels: {},
      ownerLabels: {},
      network: null,
      subnetwork: null,
      podCidr: null,
      servicesCidr: null,
      networkPolicyEnforced: null,
      workloadIdentityPool: null,
      privateEndpoint: null,
      loggingComponents: null,
      nodePool: null,
      consoleUrl: `https://console.cloud.google.com/kubernetes/clusters/details/europe-west1-b/edge/details?project=${PROJECT}`,
      controlPlanePath: null,
      controlPlaneUnreachable: 'cluster endpoint unknown',
      access: null,
    });
  });

  test('the client library defaults (empty strings, *_UNSPECIFIED, null messages) read as unknown', () => {
    const section = clusterSection(
      {
        name: 'prod-1',
        location: 'us-central1',
        endpoint: '',
        status: 'STATUS_UNSPECIFIED',
        currentMasterVersion: '',
        network: '',
        clusterIpv4Cidr: '',
        ipAllocationPolicy: { clusterIpv4CidrBlock: '10.4.0.0/14', servicesIpv4CidrBlock: '' },
        networkConfig: { datapathProvider: 'DATAPATH_PROVIDER_UNSPECIFIED', network: 'projects/shop-prod/global/networks/shop-vpc' },
        networkPolicy: null,
        workloadIdentityConfig: { workloadPool: '' },
        loggingConfig: null,
        resourceLabels: {},
        nodePools: [],
      },
      makeFinding({ node: null }),
    );
    expect(section).toMatchObject({
      status: null,
      currentMasterVersion: null,
      network: 'projects/shop-prod/global/networks/shop-vpc',
      podCidr: '10.4.0.0/14',
      servicesCidr: null,
      networkPolicyEnforced: null,
      workloadIdentityPool: null,
      loggingComponents: null,
      nodePool: null,
      access: null,
    });
  });

  test('numeric enums map to their names', () => {
    const section = clusterSection({ status: 6, loggingConfig: { componentConfig: { enableComponents: [1, 2, 0] } }, networkConfig: { datapathProvider: 2 } }, makeFinding());
    expect(section.status).toBe('DEGRADED');
    expect(section.loggingComponents).toEqual(['SYSTEM_COMPONENTS', 'WORKLOADS']);
    expect(section.networkPolicyEnforced).toBe(true);
  });

  test('the enum tables agree with the protos', () => {
    const v1 = protos.google.container.v1;
    const check = (table: Readonly<Record<number, string>>, values: Record<string, number>) => {
      for (const [number, name] of Object.entries(table)) expect(values[name]).toBe(Number(number));
      const specified = Object.entries(values).filter(([name]) => !name.endsWith('_UNSPECIFIED'));
      expect(Object.keys(table)).toHaveLength(specified.length);
    };
    check(CLUSTER_STATUS_NAMES, v1.Cluster.Status as unknown as Record<string, number>);
    check(LOGGING_COMPONENT_NAMES, v1.LoggingComponentConfig.Component as unknown as Record<string, number>);
    check(DATAPATH_PROVIDER_NAMES, v1.DatapathProvider as unknown as Record<string, number>);
  });
});

describe('location type', () => {
  test.each([
    ['us-central1', 'regional'],
    ['northamerica-northeast1', 'regional'],
    ['us-central1-a', 'zonal'],
    ['europe-west1-b', 'zonal'],
    ['global', null],
    [null, null],
  ] as const)('%s → %s', (location, expected) => {
    expect(locationTypeOf(location)).toBe(expected);
  });
});

describe('owner labels', () => {
  test('the documented words match, with - and _ alike, case-insensitively', () => {
    expect(OWNER_LABEL_WORDS).toEqual(['owner', 'team', 'contact', 'oncall', 'on-call', 'maintainer', 'email', 'slack', 'squad', 'cost-center']);
    const labels = {
      owner: 'a',
      'team-name': 'b',
      contact_email: 'c',
      oncall: 'd',
      on_call: 'e',
      'on-call-rotation': 'f',
      maintainer: 'g',
      'slack-channel': 'h',
      squad: 'i',
      'cost-center': 'j',
      cost_center: 'k',
      Owner: 'l',
      env: 'prod',
      app: 'shop',
      version: '3',
      'goog-managed': 'x',
    };
    expect(Object.keys(ownerLabels(labels)).sort()).toEqual(
      ['owner', 'team-name', 'contact_email', 'oncall', 'on_call', 'on-call-rotation', 'maintainer', 'slack-channel', 'squad', 'cost-center', 'cost_center', 'Owner'].sort(),
    );
  });
});

describe('node pool of the node', () => {
  const pools = prodCluster().nodePools ?? [];

  test.each([
    ['instance group of the first pool', 'gke-prod-1-default-pool-1a2b3c4d-x7k2', 'default-pool'],
    ['its second zone', 'gke-prod-1-default-pool-5e6f7a8b-q1w2', 'default-pool'],
    ['a pool whose name extends another', 'gke-prod-1-default-pool-2-9c0d1e2f-zz9z', 'default-pool-2'],
    ['not a GKE node', 'worker-17', null],
  ])('%s', (_label, node, expected) => {
    expect(nodePoolOfNode(node, 'prod-1', pools)).toBe(expected);
  });

  test('without instance groups: exact name, then a unique shortened name', () => {
    const named = [{ name: 'default-pool' }, { name: 'default-pool-2' }, { name: 'highmem-batch-workers' }];
    expect(nodePoolOfNode('gke-prod-1-default-pool-2-9c0d1e2f-zz9z', 'prod-1', named)).toBe('default-pool-2');
    expect(nodePoolOfNode('gke-prod-1-default-pool-1a2b3c4d-x7k2', 'prod-1', named)).toBe('default-pool');
    // GKE shortens long cluster and pool names inside node names.
    expect(nodePoolOfNode('gke-a-very-long-cluste-highmem-bat-0f1e2d3c-ab12', 'a-very-long-cluster-name', named)).toBe('highmem-batch-workers');
    // "default-po" is a prefix of two pools: ambiguous, so unknown.
    expect(nodePoolOfNode('gke-prod-1-default-po-0f1e2d3c-ab12', 'prod-1', named)).toBeNull();
    expect(nodePoolOfNode('gke-other-cluster-default-pool-1a2b3c4d-x7k2', 'prod-1', named)).toBeNull();
  });

  test('Autopilot nodes (gk3-) and blue-green instance groups', () => {
    expect(nodePoolOfNode('gk3-auto-1-pool-2-8f4c1e2a-xz9k', 'auto-1', [{ name: 'pool-1' }, { name: 'pool-2' }])).toBe('pool-2');
    const blueGreen = [{ name: 'np', instanceGroupUrls: [], updateInfo: { blueGreenInfo: { greenInstanceGroupUrls: [MIG('us-central1-a', 'gke-prod-1-np-77aa88bb-grp')] } } }];
    expect(nodePoolOfNode('gke-prod-1-np-77aa88bb-m3n4', 'prod-1', blueGreen)).toBe('np');
  });
});

describe('network policy, private endpoint, access, logging', () => {
  test.each<[string, Cluster, boolean | null]>([
    ['Calico enabled', { networkPolicy: { enabled: true } }, true],
    ['Calico configured off', { networkPolicy: { enabled: false } }, false],
    ['Dataplane V2', { networkConfig: { datapathProvider: 'ADVANCED_DATAPATH' } }, true],
    ['Dataplane V2 with networkPolicy off', { networkPolicy: { enabled: false }, networkConfig: { datapathProvider: 'ADVANCED_DATAPATH' } }, true],
    ['legacy datapath, no policy', { networkConfig: { datapathProvider: 'LEGACY_DATAPATH' } }, false],
    ['Autopilot', { autopilot: { enabled: true } }, true],
    ['nothing said', {}, null],
  ])('networkPolicyEnforced: %s', (_label, cluster, expected) => {
    expect(networkPolicyEnforced(cluster)).toBe(expected);
  });

  test.each<[string, Cluster, boolean | null]>([
    ['private endpoint on', { privateClusterConfig: { enablePrivateEndpoint: true } }, true],
    ['private cluster, public endpoint on', { privateClusterConfig: { enablePrivateNodes: true } }, false],
    ['new field wins: public endpoint off', { privateClusterConfig: { enablePrivateEndpoint: false }, controlPlaneEndpointsConfig: { ipEndpointsConfig: { enablePublicEndpoint: false } } }, true],
    ['new field: public endpoint on', { controlPlaneEndpointsConfig: { ipEndpointsConfig: { enablePublicEndpoint: true } } }, false],
    ['IP endpoints disabled (DNS only)', { controlPlaneEndpointsConfig: { ipEndpointsConfig: { enabled: false } } }, true],
    ['nothing said', {}, null],
  ])('privateEndpoint: %s', (_label, cluster, expected) => {
    expect(privateEndpointOnly(cluster)).toBe(expected);
  });

  test('access uses endpoint as GKE gives it, the private address only when endpoint is empty and the public one is off', () => {
    expect(clusterAccess({ endpoint: '203.0.113.10', masterAuth: { clusterCaCertificate: CA }, privateClusterConfig: { privateEndpoint: '10.0.0.2' } })).toEqual({ endpoint: '203.0.113.10', caCertificate: CA });
    expect(clusterAccess({ endpoint: '10.0.0.2', masterAuth: { clusterCaCertificate: CA }, privateClusterConfig: { enablePrivateEndpoint: true, privateEndpoint: '10.0.0.2' } })).toEqual({ endpoint: '10.0.0.2', caCertificate: CA });
    expect(clusterAccess({ endpoint: '', masterAuth: { clusterCaCertificate: CA }, privateClusterConfig: { enablePrivateEndpoint: true, privateEndpoint: '10.0.0.3' } })).toEqual({ endpoint: '10.0.0.3', caCertificate: CA });
    expect(clusterAccess({ endpoint: '', masterAuth: { clusterCaCertificate: CA }, privateClusterConfig: { enablePrivateEndpoint: false, privateEndpoint: '10.0.0.3' } })).toBeNull();
    expect(clusterAccess({ endpoint: '203.0.113.10' })).toBeNull();
    expect(clusterAccess({ masterAuth: { clusterCaCertificate: CA } })).toBeNull();
  });

  // DNSEndpointConfig as the GKE v1 API returns it (endpoint "uid.REGION.gke.goog", per the proto comment).
  const DNS = 'gke-0123456789abcdef0123456789abcdef-123456789012.us-central1.gke.goog';

  test('the DNS-based endpoint is used when it takes external traffic, with the system trust store (no cluster CA)', () => {
    const route = controlPlaneRoute({
      endpoint: '10.0.0.2',
      masterAuth: { clusterCaCertificate: CA },
      controlPlaneEndpointsConfig: { dnsEndpointConfig: { endpoint: DNS, allowExternalTraffic: true }, ipEndpointsConfig: { enabled: true, enablePublicEndpoint: false, privateEndpoint: '10.0.0.2' } },
    });
    expect(route).toEqual({ path: 'dns-endpoint', access: { endpoint: DNS, caCertificate: null }, unreachable: null });
  });

  test('a DNS endpoint closed to external traffic is not used: the IP endpoint is, and says whether it is private', () => {
    const dnsClosed = { dnsEndpointConfig: { endpoint: DNS, allowExternalTraffic: false } };
    expect(controlPlaneRoute({ endpoint: '10.0.0.2', masterAuth: { clusterCaCertificate: CA }, controlPlaneEndpointsConfig: { ...dnsClosed, ipEndpointsConfig: { enabled: true, enablePublicEndpoint: false } } })).toEqual({
      path: 'private-ip',
      access: { endpoint: '10.0.0.2', caCertificate: CA },
      unreachable: null,
    });
    expect(controlPlaneRoute({ endpoint: '203.0.113.10', masterAuth: { clusterCaCertificate: CA }, controlPlaneEndpointsConfig: { ...dnsClosed, ipEndpointsConfig: { enabled: true, enablePublicEndpoint: true } } })).toEqual({
      path: 'public-ip',
      access: { endpoint: '203.0.113.10', caCertificate: CA },
      unreachable: null,
    });
  });

  test('no way in: IP endpoints off and the DNS endpoint closed names the setting that opens one', () => {
    const route = controlPlaneRoute({
      endpoint: DNS,
      masterAuth: { clusterCaCertificate: CA },
      controlPlaneEndpointsConfig: { dnsEndpointConfig: { endpoint: DNS, allowExternalTraffic: false }, ipEndpointsConfig: { enabled: false } },
    });
    expect(route.path).toBeNull();
    expect(route.access).toBeNull();
    expect(route.unreachable).toMatch(/DNS endpoint takes no external traffic/);
    expect(route.unreachable).toContain('--enable-dns-access');
  });

  test('an `endpoint` that is the DNS name is never paired with the cluster CA', () => {
    expect(controlPlaneRoute({ endpoint: DNS, masterAuth: { clusterCaCertificate: CA }, controlPlaneEndpointsConfig: { dnsEndpointConfig: { endpoint: DNS } } }).access).toBeNull();
  });

  test('loggingComponents: the list, [] when logging is off, null when unknown', () => {
    expect(loggingComponents({ loggingConfig: { componentConfig: { enableComponents: components('SYSTEM_COMPONENTS') } } })).toEqual(['SYSTEM_COMPONENTS']);
    expect(loggingComponents({ loggingConfig: { componentConfig: { enableComponents: [] } } })).toEqual([]);
    expect(loggingComponents({ loggingService: 'none' })).toEqual([]);
    expect(loggingComponents({ loggingService: 'logging.googleapis.com/kubernetes' })).toBeNull();
    expect(loggingComponents({})).toBeNull();
  });

  test('console link and resource name encode their parts', () => {
    expect(clusterConsoleUrl('p 1', 'us-central1', 'a/b')).toBe('https://console.cloud.google.com/kubernetes/clusters/details/us-central1/a%2Fb/details?project=p%201');
    expect(clusterResourceName({ project: PROJECT_NUMBER, location: 'us-central1-a', name: 'c' })).toBe(`projects/${PROJECT_NUMBER}/locations/us-central1-a/clusters/c`);
  });
});

// ---------------------------------------------------------------------------
// Against the emulator

let emulator: GkeEmulator;
let client: GkeClient;

beforeAll(async () => {
  emulator = await startGkeEmulator();
  client = await createGkeClient({ gkeEmulatorHost: emulator.endpoint });
});

afterAll(async () => {
  await client.close();
  await emulator.stop();
});

beforeEach(() => {
  emulator.reset();
});

function makeDeps(o: { cache?: InstanceCache } = {}): GatherDeps {
  return testGatherDeps({ now: () => new Date('2025-06-15T10:05:00Z'), gke: async () => client, cache: o.cache ?? noCache });
}

async function gather(finding: SocatFinding, deps: GatherDeps = makeDeps(), signal: AbortSignal = new AbortController().signal): Promise<ClusterSection> {
  return clusterGatherer.gather({ finding, signal, deps, sections: {}, addGap: () => undefined });
}

const gatherers = [clusterGatherer] as readonly Gatherer<GatherDeps, GatheredSections>[];

function run(finding: SocatFinding, deps: GatherDeps = makeDeps(), deadlineMs = 5_000) {
  return runGatherers(gatherers, { finding, deps, deadlineMs });
}

function seedProd(): void {
  emulator.seedCluster(prodCluster(), { project: PROJECT, projectNumber: PROJECT_NUMBER });
}

/** Lets a call the test abandoned finish, so it cannot leak into the next test's request log. */
async function settled(): Promise<void> {
  const start = Date.now();
  while (emulator.requests('GetCluster').some((e) => e.durationMs === 0)) {
    if (Date.now() - start > 10_000) throw new Error('an abandoned GetCluster never finished');
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('the catalog entry', () => {
  expect(clusterGatherer.section).toBe('cluster');
  expect(clusterGatherer.permissions).toEqual(['container.clusters.get']);
  expect(clusterGatherer.api).toBe('container.googleapis.com ClusterManager.GetCluster');
  expect(clusterGatherer.enabledByDefault).toBe(true);
  expect(clusterGatherer.needs).toEqual([]);
  expect(clusterGatherer.missing(makeFinding(), {})).toBeNull();
  expect(clusterGatherer.missing(makeFinding({ cluster: null }), {})).toMatch(/not a GKE cluster/);
});

describe('through the gatherer', () => {
  test('a regional cluster: every field, from one GetCluster by name', async () => {
    seedProd();
    expect(await gather(makeFinding())).toEqual(expectedProdSection());
    const calls = emulator.requests('GetCluster');
    expect(calls).toHaveLength(1);
    expect(calls[0]?.request).toEqual({ name: `projects/${PROJECT}/locations/us-central1/clusters/prod-1` });
  });

  test('a zonal cluster', async () => {
    emulator.seedCluster(
      {
        name: 'edge',
        location: 'europe-west1-b',
        locations: ['europe-west1-b'],
        endpoint: '198.51.100.4',
        masterAuth: { clusterCaCertificate: CA },
        network: 'default',
        subnetwork: 'default',
        clusterIpv4Cidr: '10.60.0.0/14',
        servicesIpv4Cidr: '10.64.0.0/20',
        networkConfig: { datapathProvider: 'LEGACY_DATAPATH' },
        nodePools: [{ name: 'pool-a', instanceGroupUrls: [MIG('europe-west1-b', 'gke-edge-pool-a-0a0b0c0d-grp')] }],
        currentMasterVersion: '1.29.8-gke.1031000',
        loggingService: 'none',
        status: 'RECONCILING',
      },
      { project: 'edge-proj' },
    );
    const finding = makeFinding({ cluster: { project: 'edge-proj', location: 'europe-west1-b', name: 'edge', locationType: 'zonal' }, node: 'gke-edge-pool-a-0a0b0c0d-9z8y' });
    expect(await gather(finding)).toEqual({
      location: 'europe-west1-b',
      locationType: 'zonal',
      status: 'RECONCILING',
      currentMasterVersion: '1.29.8-gke.1031000',
      labels: {},
      ownerLabels: {},
      network: 'default',
      subnetwork: 'default',
      podCidr: '10.60.0.0/14',
      servicesCidr: '10.64.0.0/20',
      networkPolicyEnforced: false,
      workloadIdentityPool: null,
      privateEndpoint: null,
      loggingComponents: [],
      nodePool: 'pool-a',
      consoleUrl: 'https://console.cloud.google.com/kubernetes/clusters/details/europe-west1-b/edge/details?project=edge-proj',
      controlPlanePath: 'public-ip',
      controlPlaneUnreachable: null,
      access: { endpoint: '198.51.100.4', caCertificate: CA },
    });
  });

  test('a finding naming the project by number reaches the same cluster', async () => {
    seedProd();
    const section = await gather(makeFinding({ cluster: { project: PROJECT_NUMBER } }));
    expect(section).toEqual(expectedProdSection({ consoleUrl: `https://console.cloud.google.com/kubernetes/clusters/details/us-central1/prod-1/details?project=${PROJECT_NUMBER}` }));
    expect(emulator.requests('GetCluster')[0]?.request.name).toBe(`projects/${PROJECT_NUMBER}/locations/us-central1/clusters/prod-1`);
  });

  test('a transient UNAVAILABLE is retried', async () => {
    seedProd();
    emulator.injectFault('GetCluster', { code: Status.UNAVAILABLE, times: 1 });
    expect((await gather(makeFinding())).nodePool).toBe('default-pool');
    expect(emulator.requests('GetCluster').map((e) => e.code)).toEqual([Status.UNAVAILABLE, Status.OK]);
  });

  test('an abort stops the wait at once and says so', async () => {
    seedProd();
    emulator.setLatency('GetCluster', 1_000);
    const controller = new AbortController();
    const pending = gather(makeFinding(), makeDeps(), controller.signal);
    setTimeout(() => controller.abort(new Error('deadline')), 50);
    await expect(pending).rejects.toThrow(GatherGap);
    await expect(pending).rejects.toThrow(/stopped waiting for GetCluster: deadline/);
    await settled();
  });

  test('an already aborted signal makes no call', async () => {
    seedProd();
    const controller = new AbortController();
    controller.abort(new Error('deadline'));
    await expect(gather(makeFinding(), makeDeps(), controller.signal)).rejects.toThrow(GatherGap);
    expect(emulator.requests('GetCluster')).toHaveLength(0);
  });
});

describe('through runGatherers', () => {
  test('success: the section and no gap', async () => {
    seedProd();
    const result = await run(makeFinding());
    expect(result.gaps).toEqual([]);
    expect(result.sections.cluster).toEqual(expectedProdSection());
  });

  test('a finding without a cluster is a gap, and no call', async () => {
    const result = await run(makeFinding({ cluster: null }));
    expect(result.gaps).toEqual([{ section: 'cluster', reason: "the finding's resource is not a GKE cluster" }]);
    expect(emulator.requests()).toHaveLength(0);
  });

  test('not found → gap', async () => {
    seedProd();
    const result = await run(makeFinding({ cluster: { name: 'deleted-cluster' } }));
    expect(result.sections.cluster).toBeUndefined();
    expect(result.gaps).toEqual([{ section: 'cluster', reason: 'not found: NOT_FOUND: Not found: projects/shop-prod/locations/us-central1/clusters/deleted-cluster.' }]);
  });

  test('permission denied → gap', async () => {
    seedProd();
    emulator.injectFault('GetCluster', { code: Status.PERMISSION_DENIED, message: `Required "container.clusters.get" permission(s) for "projects/${PROJECT}/locations/us-central1/clusters/prod-1".` });
    const result = await run(makeFinding());
    expect(result.gaps).toHaveLength(1);
    expect(result.gaps[0]?.section).toBe('cluster');
    expect(result.gaps[0]?.reason).toMatch(/^permission denied: PERMISSION_DENIED: Required "container\.clusters\.get"/);
    expect(emulator.requests('GetCluster')).toHaveLength(1);
  });

  test('unavailable on every attempt → gap naming UNAVAILABLE', async () => {
    seedProd();
    emulator.injectFault('GetCluster', { code: Status.UNAVAILABLE, message: 'The service is currently unavailable.', times: GET_CLUSTER_ATTEMPTS });
    const result = await run(makeFinding());
    expect(result.gaps).toEqual([{ section: 'cluster', reason: 'UNAVAILABLE: The service is currently unavailable.' }]);
    expect(emulator.requests('GetCluster')).toHaveLength(GET_CLUSTER_ATTEMPTS);
  });

  test('slower than the deadline → gap naming the deadline; the runner does not wait for the call', async () => {
    seedProd();
    const latencyMs = 2_000;
    const deadlineMs = 200;
    emulator.setLatency('GetCluster', latencyMs);
    const started = performance.now();
    const result = await run(makeFinding(), makeDeps(), deadlineMs);
    const elapsedMs = performance.now() - started;
    expect(result.sections.cluster).toBeUndefined();
    expect(result.gaps).toEqual([{ section: 'cluster', reason: `deadline of ${deadlineMs} ms reached` }]);
    // A hang guard, not a speed claim: it returned at the deadline, not when the call ended.
    expect(elapsedMs).toBeLessThan(latencyMs);
    await settled();
  });
});

describe('the instance cache', () => {
  const cacheOptions = { maxEntries: 10, ttlSeconds: 600 };

  test('two gathers of the same cluster make one GetCluster; each gets its own node pool', async () => {
    seedProd();
    const deps = makeDeps({ cache: createInstanceCache(cacheOptions) });
    const first = await run(makeFinding(), deps);
    const second = await run(makeFinding({ node: 'gke-prod-1-default-pool-2-9c0d1e2f-zz9z' }), deps);
    expect(first.sections.cluster?.nodePool).toBe('default-pool');
    expect(second.sections.cluster?.nodePool).toBe('default-pool-2');
    expect(emulator.requests('GetCluster')).toHaveLength(1);
  });

  test('concurrent gathers share one call', async () => {
    seedProd();
    emulator.setLatency('GetCluster', 100);
    const deps = makeDeps({ cache: createInstanceCache(cacheOptions) });
    const sections = await Promise.all([gather(makeFinding(), deps), gather(makeFinding(), deps), gather(makeFinding(), deps)]);
    expect(sections.map((s) => s.status)).toEqual(['RUNNING', 'RUNNING', 'RUNNING']);
    expect(emulator.requests('GetCluster')).toHaveLength(1);
  });

  test('a failed load is not cached: the next gather calls again', async () => {
    seedProd();
    const deps = makeDeps({ cache: createInstanceCache(cacheOptions) });
    emulator.injectFault('GetCluster', { code: Status.PERMISSION_DENIED });
    const failed = await run(makeFinding(), deps);
    expect(failed.gaps[0]?.reason).toMatch(/^permission denied/);
    const ok = await run(makeFinding(), deps);
    expect(ok.gaps).toEqual([]);
    expect(ok.sections.cluster?.status).toBe('RUNNING');
    expect(emulator.requests('GetCluster').map((e) => e.code)).toEqual([Status.PERMISSION_DENIED, Status.OK]);
  });

  test('one invocation hitting its deadline does not fail another waiting on the same call, and warms the cache', async () => {
    seedProd();
    emulator.setLatency('GetCluster', 300);
    const deps = makeDeps({ cache: createInstanceCache(cacheOptions) });
    const [short, long] = await Promise.all([run(makeFinding(), deps, 50), run(makeFinding(), deps, 5_000)]);
    expect(short.gaps).toEqual([{ section: 'cluster', reason: 'deadline of 50 ms reached' }]);
    expect(long.gaps).toEqual([]);
    expect(long.sections.cluster?.status).toBe('RUNNING');
    expect(emulator.requests('GetCluster')).toHaveLength(1);
  });

  test('the memo is keyed by the cluster resource name and keeps no credentials', async () => {
    seedProd();
    const memoized: Array<{ kind: string; key: string; value: Promise<unknown> }> = [];
    const spy: InstanceCache = {
      memo(kind, key, load) {
        const value = load();
        memoized.push({ kind, key, value });
        return value;
      },
      forget: () => undefined,
    };
    await gather(makeFinding(), makeDeps({ cache: spy }));
    expect(memoized.map(({ kind, key }) => [kind, key])).toEqual([['cluster', `projects/${PROJECT}/locations/us-central1/clusters/prod-1`]]);
    const cached = (await memoized[0]?.value) as Cluster;
    expect(cached.masterAuth).toEqual({ clusterCaCertificate: CA });
  });
});
