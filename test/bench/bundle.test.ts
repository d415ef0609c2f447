/**
 * The deployed artifact itself: scripts/build-bundle.mjs trims protos, API
 * classes and dependency code that the rest of the suite runs untrimmed
 * from dist/. This builds the bundle, serves it with functions-framework in
 * its own process as Cloud Run would, and triages one finding against the
 * emulators: every gatherer must come back without a gap, so nothing the
 * function calls was trimmed away. Then the hostile suites that drive the
 * function end to end (fault matrix, notification fuzzer, injection, secrets,
 * delivery) run again, in a jest of their own, against this same bundle
 * (test/hostile/under-test.ts): the same assertions must hold. No timing.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import tls from 'node:tls';
import { pathToFileURL } from 'node:url';
import { deliver } from '../../scripts/bench/deliver.js';
import { startFunction, type FunctionProcess } from '../../scripts/bench/function-process.js';
import { DEFAULT_LATENCIES } from '../../scripts/bench/model.js';
import { seedClusters, seedFinding, startBenchWorld, type BenchWorld } from '../../scripts/bench/world.js';
import { handleDelivery } from '../../lib/handler.js';
import { MARK_EVENT_TIME } from '../../lib/scc/marks.js';
import { createInstance } from '../../lib/wiring.js';
import { kubeTestCert } from '../emulators/kube-emulator.js';
import { projectRoot } from '../support/fixtures.js';
import { ownFindings, plainProperties } from '../support/scc-scenario.js';
import { LOADED_BY_FILE, UNDER_TEST_ENV } from '../hostile/support.js';

const root = projectRoot();
// Inside the project, so that the bundle's one external import (functions-framework) resolves.
const out = join(root, 'build', 'bundle-under-test');

/**
 * Every Cluster field the gatherer reads set to something that shows in the
 * report (the bundle keeps only those fields of the GKE protos), and some it
 * does not read, which the bundle's client must skip.
 */
function richer(world: BenchWorld, resourceName: string): void {
  const [, project, location, name] = /projects\/([^/]+)\/locations\/([^/]+)\/clusters\/([^/]+)$/.exec(resourceName)!;
  const stored = world.gke.getCluster(project!, location!, name!)!;
  world.gke.seedCluster(
    {
      ...stored,
      subnetwork: 'bench-subnet',
      clusterIpv4Cidr: '10.4.0.0/14',
      servicesIpv4Cidr: '10.8.0.0/20',
      ipAllocationPolicy: { useIpAliases: true, clusterIpv4CidrBlock: '10.4.0.0/14', servicesIpv4CidrBlock: '10.8.0.0/20' },
      networkConfig: { network: 'projects/p/global/networks/bench-vpc', subnetwork: 'bench-subnet', datapathProvider: 'ADVANCED_DATAPATH' },
      workloadIdentityConfig: { workloadPool: `${project}.svc.id.goog` },
      // The DNS-based endpoint (here the same Kubernetes emulator) wins over the private IP; its
      // certificate is trusted through the system store, which the function process gets the
      // emulator's CA in (NODE_EXTRA_CA_CERTS below), as GKE's is publicly trusted.
      controlPlaneEndpointsConfig: {
        dnsEndpointConfig: { endpoint: stored.endpoint!, allowExternalTraffic: true },
        ipEndpointsConfig: { enabled: true, enablePublicEndpoint: false, privateEndpoint: '10.0.0.2' },
      },
      privateClusterConfig: { enablePrivateNodes: true, enablePrivateEndpoint: true, privateEndpoint: '10.0.0.2' },
      // The client decodes enums as names; the seed type has numbers only.
      loggingConfig: { componentConfig: { enableComponents: ['SYSTEM_COMPONENTS', 'WORKLOADS', 'APISERVER'] as unknown as number[] } },
      loggingService: 'logging.googleapis.com/kubernetes',
      // Not read: decoded past by the trimmed client.
      locations: [`${location}-a`, `${location}-b`],
      addonsConfig: { httpLoadBalancing: { disabled: false } },
      nodeConfig: { machineType: 'e2-standard-4', diskSizeGb: 100, labels: { tier: 'bench' } },
      description: 'a cluster with more than the report needs',
    },
    { project: project! },
  );
}

let world: BenchWorld;
let fn: FunctionProcess;
let report: Record<string, unknown>;
let status: number;
let originalMarks: Record<string, string>;
let primed: SpawnSyncReturns<string>;
let notification: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- as seedFinding returns it
let reportFromDist: Record<string, unknown>;
let distOutcome: string;

beforeAll(async () => {
  const { buildBundle } = (await import(pathToFileURL(join(root, 'scripts', 'build-bundle.mjs')).href)) as {
    buildBundle(options: { out: string }): Promise<unknown>;
  };
  await buildBundle({ out });
  // As the deployed package's postinstall does (terraform/scripts/package-function-source.mjs).
  primed = spawnSync(process.execPath, [join(out, 'prime-compile-cache.mjs')], { encoding: 'utf8' });
  // No injected latency: this checks what the bundle does, not how fast.
  world = await startBenchWorld(Object.fromEntries(Object.keys(DEFAULT_LATENCIES).map((k) => [k, 0])) as typeof DEFAULT_LATENCIES);
  const [cluster] = await seedClusters(world, 'bundle', 1, 1, 1);
  richer(world, cluster!.resourceName);
  notification = seedFinding(world, cluster!, cluster!.pods[0]!, new Date(Date.now() - 60_000), 2);
  fn = await startFunction({ root, source: out, env: { ...world.env, NODE_EXTRA_CA_CERTS: join(root, 'test', 'emulators', 'kube-certs', 'ca.crt') } });
  await fn.ready;
  ({ status } = await deliver(fn.url, notification, 'bundle-1'));
  const name = notification.finding.name as string;
  const enrichment = ownFindings(world.scc).filter((f) => plainProperties(f).I01_Original_Finding === name);
  expect(enrichment).toHaveLength(1);
  report = plainProperties(enrichment[0]!);
  originalMarks = world.scc.getMarks(name) ?? {};
  // The same notification through the code the rest of the suite tests (dist/, untrimmed, in this process): same report.
  const instance = createInstance(world.env, { logDestination: { write: () => true } });
  const systemCAs = tls.getCACertificates('default');
  tls.setDefaultCACertificates([...systemCAs, kubeTestCert('ca.crt')]);
  try {
    distOutcome = (await handleDelivery(notification, instance)).outcome;
  } finally {
    tls.setDefaultCACertificates(systemCAs);
  }
  reportFromDist = plainProperties(ownFindings(world.scc).find((f) => plainProperties(f).I01_Original_Finding === name)!);
}, 120_000);

afterAll(async () => {
  await fn?.stop();
  await world?.stop();
  rmSync(out, { recursive: true, force: true });
});

describe('the deployed bundle', () => {
  it('primes its compile cache for this Node, every module of it', () => {
    expect(primed.status).toBe(0);
    const modules = 1 + readdirSync(join(out, 'chunks')).filter((f) => f.endsWith('.mjs')).length;
    expect(primed.stdout.trim()).toBe(`compile cache: ${modules} modules, Node ${process.version}`);
    const [versionDir] = readdirSync(join(out, '.compile-cache'));
    expect(versionDir).toMatch(new RegExp(`^${process.version}-`));
    expect(readdirSync(join(out, '.compile-cache', versionDir!)).length).toBeGreaterThanOrEqual(modules);
  });

  it('acknowledges the delivery and marks the original as triaged', () => {
    expect(status).toBe(204);
    expect(originalMarks[MARK_EVENT_TIME]).toBeDefined();
  });

  it('gathers every section without a gap: nothing it calls was trimmed', () => {
    expect(report.E1_Gaps ?? '').toBe('');
    // DNSEndpointConfig survived the proto trimming: the Kubernetes sections came through it.
    expect(report.J32_Cluster_Control_Plane_Path).toBe('dns-endpoint');
    expect(fn.stderr()).not.toMatch(/TypeError|is not a function|no such type|not found in/i);
  });

  it('writes exactly the report the untrimmed code writes for the same notification', () => {
    expect(distOutcome).toBe('triaged');
    expect(Object.keys(report).length).toBeGreaterThan(40);
    expect(report).toEqual(reportFromDist);
  });

  it('carries what each SDK returned: GKE, Kubernetes (node, pod, owners, namespace), Logging, Security Center, Essential Contacts', () => {
    expect(String(report.J03_Cluster)).toContain('bundle-01');
    expect(String(report.J10_Cluster_Pod_CIDR)).toBe('10.4.0.0/14');
    expect(String(report.J07_Cluster_Workload_Identity_Pool)).toMatch(/svc\.id\.goog$/);
    expect(String(report.J08_Cluster_Logging_Components)).toMatch(/APISERVER/);
    expect(String(report.J27_Node_Instance_Id)).not.toBe('');
    expect(String(report.J20_Pod_Owner_Chain)).toMatch(/ReplicaSet/);
    expect(String(report.J20_Pod_Owner_Chain)).toMatch(/Deployment/);
    expect(Number(report.D1_Related_Same_Container_Count)).toBeGreaterThan(0);
    expect(String(report.K1_Logs_Pod)).not.toBe('');
    expect(String(report.G2_Security_Contacts)).not.toBe('');
  });
});

/** The suites that drive the function through its entry point (test/hostile/under-test.ts). */
const HOSTILE_SUITES = ['faults', 'fuzz-notification', 'injection', 'secrets', 'delivery'].map((n) => `dist/test/hostile/${n}.test.js`);

interface JestJson {
  success: boolean;
  numTotalTests: number;
  numFailedTests: number;
  numPendingTests: number;
  testResults: Array<{ name: string; status: string; assertionResults: Array<{ status: string; fullName: string }> }>;
}

describe('the hostile suites against the deployed bundle', () => {
  let run: { code: number | null; output: string; results: JestJson | null };

  beforeAll(async () => {
    const resultsFile = join(out, 'hostile-results.json');
    const child = spawn(
      process.execPath,
      ['--experimental-vm-modules', join(root, 'node_modules/jest/bin/jest.js'), '--json', `--outputFile=${resultsFile}`, ...HOSTILE_SUITES.map((f) => join(root, f))],
      { cwd: root, env: { ...process.env, [UNDER_TEST_ENV]: `bundle:${out}` }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    run = { code, output, results: existsSync(resultsFile) ? (JSON.parse(readFileSync(resultsFile, 'utf8')) as JestJson) : null };
  }, 900_000);

  it('loaded the bundle, not dist/, in every suite', () => {
    const loadedBy = existsSync(join(out, LOADED_BY_FILE)) ? readFileSync(join(out, LOADED_BY_FILE), 'utf8').split('\n').filter(Boolean) : [];
    expect([...new Set(loadedBy)].sort()).toEqual([...HOSTILE_SUITES].sort());
  });

  it('passes every test of them, none skipped', () => {
    const failed = (run.results?.testResults ?? []).flatMap((r) => r.assertionResults.filter((a) => a.status !== 'passed').map((a) => `${a.status}: ${a.fullName}`));
    expect({ code: run.code, failed, tail: run.code === 0 ? '' : run.output.slice(-3000) }).toEqual({ code: 0, failed: [], tail: '' });
    expect(run.results?.testResults.map((r) => [r.name.slice(root.length + 1), r.status]).sort()).toEqual(HOSTILE_SUITES.map((f) => [f, 'passed']).sort());
    expect(run.results!.numTotalTests).toBeGreaterThan(100);
  });
});
