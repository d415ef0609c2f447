/**
 * Fuzzing report rendering: a finding with hostile text in every field the
 * attacker reaches (names, paths, socat argv from socat's grammar, parent
 * processes, times, marks, MITRE enums) and gathered sections with hostile
 * labels, annotations, owners, log lines, audit commands, related findings
 * and contacts go through analyzeFinding and the write-back's rendering
 * (source properties, description, next steps, console link). Nothing may
 * throw or hang; every property key is valid, every value clean (no control,
 * bidi, zero-width or line-separator character, a newline only in
 * multi-line values, no lone surrogate) and within its cap, the whole map
 * within the budget.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { readVerdictSettings } from '../../lib/config.js';
import { parseNotification } from '../../lib/finding/parse.js';
import type { GatheredSections, LogLine, LogSection } from '../../lib/gather/sections.js';
import { analyzeFinding, type Gathered } from '../../lib/report/analyze.js';
import { enrichmentFinding } from '../../lib/scc/writeback.js';
import { notificationFixture } from '../support/fixtures.js';
import { OWN_SOURCE } from '../support/scc-scenario.js';
import { socatArgv } from './arbitraries.js';
import { enrichmentProblems } from './checks.js';
import { HANG_GUARD_MS, HangGuard, seeded, hostileString, recordFigures, sometimesLong } from './support.js';

const SEED = 0x50ca7_003;
const NOW = new Date('2026-11-27T03:00:00Z');
const FIXTURE = notificationFixture('socat-v2');
const SETTINGS = [readVerdictSettings({}), readVerdictSettings({ ADMIN_PRINCIPALS: '*@example.com', TRUSTED_IMAGE_REGISTRIES: 'us-docker.pkg.dev/' })];

const guard = new HangGuard();
let inputs = 0;
let properties = 0;
let truncatedReports = 0;

// ---------------------------------------------------------------------------
// Hostile findings and gathered sections, with `text` in every attacker-reachable slot

function arbitraries(text: fc.Arbitrary<string>) {

  const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: null, freq: 4 });
  const small = <T>(arb: fc.Arbitrary<T>) => fc.array(arb, { maxLength: 2 });
  const labels = fc.dictionary(fc.oneof(hostileString(12), fc.constantFrom('team', 'owner', 'app', 'pod-template-hash', 'oncall', 'contact')), text, { maxKeys: 3 });
  const time = fc.oneof(fc.date({ min: new Date('2026-11-26T00:00:00Z'), max: new Date('2026-11-28T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString()), hostileString(25), fc.constant(''));
  const clusterSegment = fc.oneof(fc.constantFrom('shop-prod', 'p-1', '123456789012'), hostileString(12).map((s) => s.replaceAll('/', '')).filter((s) => s.trim() !== ''));
  const location = fc.constantFrom('us-central1', 'us-central1-a', 'europe-west4-b', 'xx', 'us-central1-');
  const processArb = fc.record({
    name: maybe(text),
    binary: maybe(fc.oneof(fc.constantFrom('/usr/bin/socat', '/tmp/.x/socat', '/bin/bash', 'socat'), text)),
    args: fc.oneof(socatArgv, small(text)),
    argumentsTruncated: fc.boolean(),
    pid: fc.oneof(fc.integer({ min: 1, max: 70_000 }), fc.constant(1)),
    parentPid: fc.oneof(fc.integer({ min: 0, max: 70_000 }), fc.constant(1)),
  });

  const rawNotification = fc
    .record({
      name: fc.oneof(fc.constant('organizations/123456789012/sources/9876543210123456789/locations/global/findings/4d2c7e1f0b9a48e6a3c5d7f9e1b2c3d4'), text.filter((s) => s !== '')),
      project: clusterSegment,
      location,
      cluster: clusterSegment,
      zones: fc.boolean(),
      props: fc.record({ Pod_Namespace: text, Pod_Name: text, Container_Name: text, Container_Image_Uri: text, VM_Instance_Name: text }, { requiredKeys: [] }),
      processes: fc.array(processArb, { minLength: 0, maxLength: 2 }),
      eventTime: time,
      severity: fc.oneof(fc.constantFrom('CRITICAL', 'HIGH', 'LOW'), text),
      marks: fc.dictionary(hostileString(10), hostileString(10), { maxKeys: 2 }),
      mitre: fc.record({ primaryTactic: fc.oneof(fc.constantFrom('EXECUTION', 'COMMAND_AND_CONTROL'), text), primaryTechniques: small(fc.oneof(fc.constantFrom('UNIX_SHELL', 'NON_STANDARD_PORT'), text)), version: text }, { requiredKeys: [] }),
      displayName: text,
    })
    .map((r) => ({
      // The fixture's shape, built afresh: cloning the whole fixture per input cost more than rendering it.
      notificationConfigName: FIXTURE.notificationConfigName,
      finding: {
        name: r.name,
        category: FIXTURE.finding.category,
        state: 'ACTIVE',
        resourceName: `//container.googleapis.com/projects/${r.project}/${r.zones ? 'zones' : 'locations'}/${r.location}/clusters/${r.cluster}`,
        sourceProperties: r.props,
        processes: r.processes.map((p) => ({ name: p.name ?? undefined, binary: p.binary === null ? undefined : { path: p.binary }, args: p.args, argumentsTruncated: p.argumentsTruncated, pid: p.pid, parentPid: p.parentPid })),
        eventTime: r.eventTime,
        severity: r.severity,
        securityMarks: { marks: r.marks },
        mitreAttack: r.mitre,
        containers: FIXTURE.finding.containers,
        kubernetes: FIXTURE.finding.kubernetes,
      },
      resource: { ...FIXTURE.resource, gcpMetadata: { ...FIXTURE.resource.gcpMetadata, projectDisplayName: r.displayName } },
    }));


  const logLine: fc.Arbitrary<LogLine> = fc.record({ timestamp: maybe(time), severity: maybe(text), text });
  const logSection: fc.Arbitrary<LogSection> = fc.record({
    filter: text,
    window: fc.record({ start: time, end: time }),
    count: fc.nat(500),
    truncated: fc.boolean(),
    first: small(logLine),
    last: small(logLine),
    link: text,
  });
  const related = fc.record({ name: text, category: text, source: maybe(text), eventTime: maybe(time), severity: maybe(text), state: maybe(text), namespace: maybe(text), pod: maybe(text), container: maybe(text) });
  const owner = fc.record({ kind: fc.oneof(fc.constantFrom('ReplicaSet', 'Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob', 'Node', 'ReplicationController'), text), name: text, labels });

  const sections: fc.Arbitrary<Partial<GatheredSections> & { samePod: boolean }> = fc.record(
    {
      samePod: fc.boolean(),
      cluster: fc.record({
        location: maybe(text),
        locationType: fc.constantFrom('zonal' as const, 'regional' as const, null),
        status: maybe(text),
        currentMasterVersion: maybe(text),
        labels,
        ownerLabels: labels,
        network: maybe(text),
        subnetwork: maybe(text),
        podCidr: maybe(fc.oneof(fc.constantFrom('10.52.0.0/14', '::/0'), text)),
        servicesCidr: maybe(fc.oneof(fc.constantFrom('10.56.0.0/20'), text)),
        networkPolicyEnforced: maybe(fc.boolean()),
        workloadIdentityPool: maybe(text),
        privateEndpoint: maybe(fc.boolean()),
        loggingComponents: maybe(small(text)),
        nodePool: maybe(text),
        consoleUrl: maybe(text),
        controlPlanePath: fc.constantFrom('dns-endpoint' as const, 'public-ip' as const, 'private-ip' as const, null),
        controlPlaneUnreachable: maybe(text),
        access: fc.constant(null),
      }),
      node: fc.record({ name: text, instanceId: maybe(text), labels, nodePool: maybe(text), zone: maybe(text), osImage: maybe(text), kernelVersion: maybe(text), containerRuntime: maybe(text), createdAt: maybe(time), consoleUrl: maybe(text) }),
      pod: fc.record({
        source: fc.constantFrom('kubernetes' as const, 'finding' as const),
        namespace: text,
        name: text,
        phase: maybe(text),
        startTime: maybe(time),
        labels,
        annotations: labels,
        serviceAccount: maybe(text),
        node: maybe(text),
        containers: small(fc.record({ name: text, image: maybe(text), imageDigest: maybe(text), restartCount: maybe(fc.nat(9)), ready: maybe(fc.boolean()) })),
        redFlags: small(text),
        owners: small(owner),
        consoleUrl: maybe(text),
      }),
      podLogs: logSection,
      nodeLogs: logSection,
      auditLogs: fc.tuple(logSection, small(fc.record({ kind: fc.constantFrom('exec' as const, 'attach' as const, 'debug' as const), method: maybe(text), container: maybe(text), time: maybe(time), principal: maybe(text), callerIp: maybe(text), userAgent: maybe(text), command: maybe(small(text)), namespace: maybe(text), pod: maybe(text), mentionsSocat: fc.boolean() })), small(fc.record({ kind: fc.constantFrom('exec' as const, 'attach' as const, 'debug' as const), method: maybe(text), time: maybe(time), principal: maybe(text), callerIp: maybe(text), userAgent: maybe(text), namespace: maybe(text), pod: maybe(text), statusCode: maybe(fc.integer()), reason: maybe(text) })), small(fc.record({ time: maybe(time), verb: text, principal: maybe(text) }))).map(([l, execs, refused, podChanges]) => ({ ...l, execs, refused, podChanges })),
      relatedFindings: fc.record({ windowMinutes: fc.nat(120), sameContainer: small(related), otherPodsSameWorkload: small(related), countsByCategory: fc.dictionary(text, fc.nat(9), { maxKeys: 3 }), otherInClusterCount: fc.nat(99), truncated: fc.boolean(), complete: fc.boolean() }),
      namespace: fc.record({ name: text, labels, annotations: labels }),
      contacts: fc.record({ project: text, contacts: small(fc.record({ email: text, categories: small(fc.oneof(fc.constantFrom('SECURITY', 'ALL'), text)) })) }),
    },
    { requiredKeys: ['samePod'] },
  );

  const gaps = small(fc.record({ section: text, reason: text }));

  return { rawNotification, sections, gaps };
}

/**
 * Mostly short hostile text, now and then a long run. Drawn from a seeded
 * pool: a finding and its sections hold ~150 strings, and generating each
 * afresh cost more than rendering them.
 */
const POOL = fc.sample(hostileString(24), { seed: SEED, numRuns: 5000 });
const fromPool = fc.integer({ min: 0, max: POOL.length - 1 }).map((i) => POOL[i] as string);
const ordinary = arbitraries(fc.oneof({ weight: 30, arbitrary: fromPool }, { weight: 1, arbitrary: sometimesLong(hostileString(4), 1500) }));
/** Every value thousands of characters long: the per-value caps and the 64 KiB budget have to cut. */
const everythingLong = arbitraries(fc.tuple(hostileString(6).filter((x) => x !== ''), fc.integer({ min: 500, max: 1200 })).map(([piece, n]) => piece.repeat(n)));

// ---------------------------------------------------------------------------

describe('fuzzing report rendering', () => {
  /** The property: analysis and rendering never throw or hang, and what would be written is clean and bounded. */
  function render(raw: Record<string, any>, { samePod, ...s }: Partial<GatheredSections> & { samePod: boolean }, g: Gathered['gaps'], settings: number): void {
    inputs += 1;
    const finding = parseNotification(raw);
    // Half the time the pod section is about this very pod, so the runbook builds its policies and scale step from it.
    if (samePod && s.pod) s.pod = { ...s.pod, namespace: finding.workload.namespace ?? s.pod.namespace, name: finding.workload.pod ?? s.pod.name };
    const gathered: Gathered = { sections: s, gaps: g };
    const written = guard.timeSync(raw, () => {
      const report = analyzeFinding(finding, gathered, { verdict: SETTINGS[settings]!, attributionWindowMinutes: 30 });
      return enrichmentFinding(report, { sourceName: OWN_SOURCE, organization: finding.organization, now: NOW });
    });
    const props = written.sourceProperties ?? {};
    properties += Object.keys(props).length;
    if (props.Z2_Report_Truncated) truncatedReports += 1;
    const problems = enrichmentProblems(written);
    if (problems.length > 0) throw new Error(problems.join('\n'));
  }

  it('renders hostile findings and sections into clean, bounded source properties', () => {
    const { rawNotification, sections, gaps } = ordinary;
    fc.assert(fc.property(rawNotification, sections, gaps, fc.nat(SETTINGS.length - 1), render), seeded(SEED, 9_850));
  }, 180_000);

  it('cuts to the per-value caps and the budget when every value is long', () => {
    const { rawNotification, sections, gaps } = everythingLong;
    const before = truncatedReports;
    fc.assert(fc.property(rawNotification, sections, gaps, fc.nat(SETTINGS.length - 1), render), seeded(SEED + 1, 150));
    expect(truncatedReports - before).toBeGreaterThan(50);
  }, 60_000);

  it('tried at least 10,000 inputs, none beyond the hang guard', () => {
    expect(inputs).toBeGreaterThanOrEqual(10_000);
    expect(guard.maxMs < HANG_GUARD_MS ? 'within the hang guard' : guard.describeWorst()).toBe('within the hang guard');
  });
});

afterAll(() => {
  recordFigures('fuzz-render', { renderInputs: inputs, renderPropertiesChecked: properties, renderBudgetCuts: truncatedReports, renderMaxMs: Math.round(guard.maxMs), renderTotalMs: Math.round(guard.totalMs) });
});
