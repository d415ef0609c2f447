/**
 * The deployed artifact itself: scripts/build-bundle.mjs trims protos, API
 * classes and dependency code that the rest of the suite runs untrimmed
 * from dist/. This builds the bundle, serves it with functions-framework in
 * its own process as Cloud Run would, and triages one finding against the
 * emulators: every gatherer must come back without a gap, so nothing the
 * function calls was trimmed away. No timing.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { deliver } from '../../scripts/bench/deliver.js';
import { startFunction, type FunctionProcess } from '../../scripts/bench/function-process.js';
import { DEFAULT_LATENCIES } from '../../scripts/bench/model.js';
import { seedClusters, seedFinding, startBenchWorld, type BenchWorld } from '../../scripts/bench/world.js';
import { MARK_EVENT_TIME } from '../../lib/scc/marks.js';
import { projectRoot } from '../support/fixtures.js';
import { ownFindings, plainProperties } from '../support/scc-scenario.js';

const root = projectRoot();
// Inside the project, so that the bundle's one external import (functions-framework) resolves.
const out = join(root, 'build', 'bundle-under-test');

let world: BenchWorld;
let fn: FunctionProcess;
let report: Record<string, unknown>;
let status: number;
let originalMarks: Record<string, string>;
let primed: SpawnSyncReturns<string>;

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
  const notification = seedFinding(world, cluster!, cluster!.pods[0]!, new Date(Date.now() - 60_000), 2);
  fn = await startFunction({ root, source: out, env: world.env });
  await fn.ready;
  ({ status } = await deliver(fn.url, notification, 'bundle-1'));
  const name = notification.finding.name as string;
  const enrichment = ownFindings(world.scc).filter((f) => plainProperties(f).I01_Original_Finding === name);
  expect(enrichment).toHaveLength(1);
  report = plainProperties(enrichment[0]!);
  originalMarks = world.scc.getMarks(name) ?? {};
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
    expect(fn.stderr()).not.toMatch(/TypeError|is not a function|no such type|not found in/i);
  });

  it('carries what each SDK returned: GKE, Kubernetes (node, pod, owners, namespace), Logging, Security Center, Essential Contacts', () => {
    expect(String(report.J03_Cluster)).toContain('bundle-01');
    expect(String(report.J27_Node_Instance_Id)).not.toBe('');
    expect(String(report.J20_Pod_Owner_Chain)).toMatch(/ReplicaSet/);
    expect(String(report.J20_Pod_Owner_Chain)).toMatch(/Deployment/);
    expect(Number(report.D1_Related_Same_Container_Count)).toBeGreaterThan(0);
    expect(String(report.K1_Logs_Pod)).not.toBe('');
    expect(String(report.G2_Security_Contacts)).not.toBe('');
  });
});
