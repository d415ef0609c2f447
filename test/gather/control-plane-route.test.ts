/**
 * How the Kubernetes gatherers reach a cluster's control plane, end to end:
 * GetCluster through the real @google-cloud/container client against the GKE
 * emulator, then the node read through the real @kubernetes/client-node
 * (createKubeApis) against the HTTPS Kubernetes emulator.
 *
 * The DNS-based endpoint presents a publicly trusted certificate, not one of
 * the cluster CA (lib/gather/cluster.ts controlPlaneRoute). Here the kube
 * emulator's test CA stands in for a public CA: it is added to the process's
 * default trust store (tls.setDefaultCACertificates), and the cluster's own
 * CA (masterAuth.clusterCaCertificate) is a different one, which did not sign
 * the emulator's certificate. A gatherer that paired the DNS endpoint with the
 * cluster CA, or fell back to the IP endpoint, would fail here.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import tls from 'node:tls';
import { createGkeClient, createKubeApis, EMULATOR_ACCESS_TOKEN, type GkeClient, type KubeAccess } from '../../lib/clients.js';
import { parseNotification } from '../../lib/finding/parse.js';
import { clusterGatherer } from '../../lib/gather/cluster.js';
import type { GatherDeps } from '../../lib/gather/deps.js';
import { nodeGatherer } from '../../lib/gather/node.js';
import { runGatherers } from '../../lib/gather/runner.js';
import type { GatheredSections } from '../../lib/gather/sections.js';
import type { Gatherer } from '../../lib/gather/types.js';
import { startGkeEmulator, type GkeEmulator } from '../emulators/gke-emulator.js';
import { base64Pem, kubeTestCert, startKubeEmulator, type KubeEmulator } from '../emulators/kube-emulator.js';
import { notificationFixture } from '../support/fixtures.js';
import { testGatherDeps } from '../support/gather-deps.js';

const finding = parseNotification(notificationFixture('socat-v2'));
const ref = finding.cluster!;
const NODE = finding.workload.node!;

let gke: GkeEmulator;
let kube: KubeEmulator;
let client: GkeClient;
let defaultCAs: string[];

beforeAll(async () => {
  gke = await startGkeEmulator();
  kube = await startKubeEmulator();
  client = await createGkeClient({ gkeEmulatorHost: gke.endpoint });
  defaultCAs = tls.getCACertificates('default');
  tls.setDefaultCACertificates([...defaultCAs, kubeTestCert('ca.crt')]);
  kube.seed({ apiVersion: 'v1', kind: 'Node', metadata: { name: NODE, annotations: { 'container.googleapis.com/instance_id': '4817263541987654321' } } });
});

afterAll(async () => {
  tls.setDefaultCACertificates(defaultCAs);
  await client.close();
  await kube.stop();
  await gke.stop();
});

function deps(): GatherDeps {
  return testGatherDeps({ gke: async () => client, kube: (access: KubeAccess) => createKubeApis(access, EMULATOR_ACCESS_TOKEN) });
}

const gatherers = [clusterGatherer, nodeGatherer] as unknown as Gatherer<GatherDeps, GatheredSections>[];

function seed(controlPlaneEndpointsConfig: object, endpoint: string) {
  gke.seedCluster(
    {
      name: ref.name,
      location: ref.location,
      endpoint,
      // Not the CA that signed the emulator's certificate.
      masterAuth: { clusterCaCertificate: base64Pem(kubeTestCert('other-ca.crt')) },
      controlPlaneEndpointsConfig,
    },
    { project: ref.project },
  );
}

describe('control plane route', () => {
  it('reads the node through the DNS-based endpoint, trusting the system store, and says so', async () => {
    seed({ dnsEndpointConfig: { endpoint: kube.access.endpoint, allowExternalTraffic: true }, ipEndpointsConfig: { enabled: false } }, '');
    const r = await runGatherers(gatherers, { finding, deps: deps(), deadlineMs: 5000 });
    expect(r.gaps).toEqual([]);
    expect(r.sections.cluster?.controlPlanePath).toBe('dns-endpoint');
    expect(r.sections.cluster?.access).toEqual({ endpoint: kube.access.endpoint, caCertificate: null });
    expect(r.sections.node?.instanceId).toBe('4817263541987654321');
  });

  it('with the DNS endpoint closed and the IP endpoints off, the node gap names the setting to change', async () => {
    seed({ dnsEndpointConfig: { endpoint: kube.access.endpoint, allowExternalTraffic: false }, ipEndpointsConfig: { enabled: false } }, kube.access.endpoint);
    const r = await runGatherers(gatherers, { finding, deps: deps(), deadlineMs: 5000 });
    expect(r.sections.cluster?.controlPlanePath).toBeNull();
    expect(r.gaps).toEqual([{ section: 'node', reason: expect.stringContaining('allow external traffic on its DNS endpoint') }]);
  });

  it('a private-only IP endpoint that cannot be reached names VPC egress and the DNS endpoint', async () => {
    // 127.0.0.1:1 refuses connections, as a private IP does without VPC egress (there it times out).
    seed({ dnsEndpointConfig: { endpoint: 'gke-x.us-central1.gke.goog', allowExternalTraffic: false }, ipEndpointsConfig: { enabled: true, enablePublicEndpoint: false, privateEndpoint: '127.0.0.1:1' } }, '127.0.0.1:1');
    const r = await runGatherers(gatherers, { finding, deps: deps(), deadlineMs: 5000 });
    expect(r.sections.cluster?.controlPlanePath).toBe('private-ip');
    expect(r.gaps).toEqual([{ section: 'node', reason: expect.stringMatching(/Kubernetes API unreachable.*private IP.*vpc_connector.*DNS endpoint/) }]);
  });
});
