/**
 * The related-findings gatherer against the SCC emulator, through the real
 * v2 client built as production builds it: what the gatherer sends (parent,
 * filter, paging), how it sorts what comes back into the section, and what
 * becomes a gap.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { createSccClient, type SccClient } from '../../lib/clients.js';
import { parseNotification } from '../../lib/finding/parse.js';
import type { SocatFinding } from '../../lib/finding/types.js';
import { createInstanceCache, noCache } from '../../lib/gather/cache.js';
import type { GatherDeps } from '../../lib/gather/deps.js';
import {
  createRelatedFindingsGatherer,
  filterString,
  relatedFindingsGatherer,
  relatedQuery,
  timestampToRfc3339,
  workloadKey,
} from '../../lib/gather/related-findings.js';
import { runGatherers } from '../../lib/gather/runner.js';
import type { GatheredSections, RelatedFinding, RelatedFindingsSection } from '../../lib/gather/sections.js';
import type { Gatherer } from '../../lib/gather/types.js';
import { ENRICHMENT_CATEGORY } from '../../lib/scc/names.js';
import { Status } from '../emulators/grpc-harness.js';
import { CTD_SOURCE_DISPLAY_NAME, startSccEmulator, type SccEmulator, type SeedFinding } from '../emulators/scc-emulator.js';
import { notificationFixture } from '../support/fixtures.js';
import { testGatherDeps } from '../support/gather-deps.js';

const ORG = '123456789012';
const CTD = `organizations/${ORG}/sources/9876543210123456789`;
const ETD = `organizations/${ORG}/sources/7777`;
const OWN = `organizations/${ORG}/sources/5555`;
const OLD_OWN = `organizations/${ORG}/sources/6666`;
const CLUSTER = '//container.googleapis.com/projects/shop-prod-4711/locations/us-central1/clusters/shop-prod';
const OTHER_CLUSTER = '//container.googleapis.com/projects/shop-prod-4711/locations/europe-west1/clusters/shop-eu';
const ORIGINAL_ID = '4d2c7e1f0b9a48e6a3c5d7f9e1b2c3d4';
const ORIGINAL = `${CTD}/locations/global/findings/${ORIGINAL_ID}`;
const SOCAT = 'Execution: Socat Reverse Shell Detected';
const ADDED_BINARY = 'Execution: Added Binary Executed';
const MALICIOUS_SCRIPT = 'Execution: Malicious Script Executed';
const ADDED_LIBRARY = 'Execution: Added Library Loaded';
const T = '2026-11-27T02:41:17.532941Z';
const T_MS = Date.parse(T);
const POD = 'checkout-7d9fb6c5d4-x2lqp';
const PARENT = `organizations/${ORG}/sources/-/locations/global`;
// T is in the bucket 02:40-02:45; ±30 min around it → 02:10 .. 03:15.
const FILTER = `resource_name="${CLUSTER}" AND event_time >= "2026-11-27T02:10:00.000Z" AND event_time <= "2026-11-27T03:15:00.000Z"`;

let emu: SccEmulator;
let client: SccClient;

beforeAll(async () => {
  emu = await startSccEmulator({ now: () => new Date('2026-11-27T04:00:00Z') });
  client = await createSccClient({ sccEmulatorHost: emu.endpoint });
});

afterAll(async () => {
  await client.close();
  await emu.stop();
});

beforeEach(() => {
  emu.reset();
  seedWorld();
});

// ---------------------------------------------------------------------------
// Fixtures

function at(minutes: number): string {
  return new Date(T_MS + minutes * 60_000).toISOString();
}

interface SeedSpec {
  source?: string;
  category: string;
  minutes: number;
  resourceName?: string;
  ns?: string;
  pod?: string;
  container?: string;
  /** Workload facts only in kubernetes.pods[], not in sourceProperties. */
  structured?: boolean;
  severity?: string;
  state?: string;
}

function seed(id: string, spec: SeedSpec): string {
  const source = spec.source ?? CTD;
  const name = `${source}/locations/global/findings/${id}`;
  const finding: SeedFinding = {
    category: spec.category,
    resourceName: spec.resourceName ?? CLUSTER,
    eventTime: at(spec.minutes),
    severity: spec.severity ?? 'HIGH',
    state: spec.state ?? 'ACTIVE',
  };
  if (spec.structured) {
    finding.kubernetes = { pods: [{ ns: spec.ns, name: spec.pod, containers: spec.container ? [{ name: spec.container }] : [] }] };
  } else {
    const props: Record<string, string> = {};
    if (spec.ns) props.Pod_Namespace = spec.ns;
    if (spec.pod) props.Pod_Name = spec.pod;
    if (spec.container) props.Container_Name = spec.container;
    finding.sourceProperties = props;
  }
  emu.addFinding(name, finding);
  return name;
}

const sameContainer = { ns: 'shop', pod: POD, container: 'checkout' };

function seedWorld(): void {
  emu.addSource({ name: CTD, displayName: CTD_SOURCE_DISPLAY_NAME });
  emu.addSource({ name: ETD, displayName: 'Event Threat Detection' });
  emu.addSource({ name: OWN, displayName: 'Socat triage' });
  emu.addSource({ name: OLD_OWN, displayName: 'Socat triage (old)' });
  emu.addFinding(ORIGINAL, {
    category: SOCAT,
    resourceName: CLUSTER,
    eventTime: T,
    severity: 'CRITICAL',
    canonicalName: `projects/987654321098/sources/9876543210123456789/locations/global/findings/${ORIGINAL_ID}`,
    sourceProperties: { Pod_Namespace: 'shop', Pod_Name: POD, Container_Name: 'checkout' },
  });
  // Same container.
  seed('a1', { category: ADDED_BINARY, minutes: -2, ...sameContainer });
  seed('a2', { category: ADDED_BINARY, minutes: -10, ...sameContainer });
  seed('m1', { category: MALICIOUS_SCRIPT, minutes: 5, ...sameContainer, structured: true, severity: 'CRITICAL' });
  seed('n1', { category: ADDED_LIBRARY, minutes: 3, ns: 'shop', pod: POD, state: 'INACTIVE' }); // container unknown
  // Same pod, other container: none of the lists.
  seed('sidecar1', { category: ADDED_BINARY, minutes: 1, ns: 'shop', pod: POD, container: 'istio-proxy' });
  // Other pods of the same Deployment (also an older ReplicaSet).
  seed('w1', { category: ADDED_BINARY, minutes: 1, ns: 'shop', pod: 'checkout-7d9fb6c5d4-h8k2m', container: 'checkout' });
  seed('w2', { category: SOCAT, minutes: -20, ns: 'shop', pod: 'checkout-5f6d7c8b9x-qwrtz', container: 'checkout', severity: 'CRITICAL' });
  // Elsewhere in the cluster.
  seed('o1', { category: ADDED_BINARY, minutes: 4, ns: 'shop', pod: 'cart-6b7c8d9f5g-bcdfg', container: 'cart' });
  seed('o2', { category: ADDED_BINARY, minutes: 4, ns: 'staging', pod: POD, container: 'checkout' });
  seed('e1', { source: ETD, category: 'Privilege Escalation: Create Kubernetes cluster role with privileged verbs', minutes: -5 });
  // Another cluster, and outside the window (t1 outside the query, t2/t3 inside the query but outside this finding's ±30 min).
  seed('x1', { category: ADDED_BINARY, minutes: 0, resourceName: OTHER_CLUSTER, ...sameContainer });
  seed('t1', { category: ADDED_BINARY, minutes: -45, ...sameContainer });
  seed('t2', { category: ADDED_BINARY, minutes: 31, ...sameContainer });
  seed('t3', { category: ADDED_BINARY, minutes: -31, ...sameContainer });
  // Ours: never related.
  seed('own1', { source: OWN, category: ENRICHMENT_CATEGORY, minutes: 0, ...sameContainer });
  seed('own2', { source: OWN, category: 'Socat triage note', minutes: 1, ...sameContainer });
  seed('stale', { source: OLD_OWN, category: ENRICHMENT_CATEGORY, minutes: 2, ...sameContainer });
}

function related(id: string, category: string, minutes: number, extra: Partial<RelatedFinding> = {}): RelatedFinding {
  return {
    name: `${CTD}/locations/global/findings/${id}`,
    category,
    source: CTD_SOURCE_DISPLAY_NAME,
    eventTime: at(minutes),
    severity: 'HIGH',
    state: 'ACTIVE',
    namespace: 'shop',
    pod: POD,
    container: 'checkout',
    ...extra,
  };
}

const EXPECTED: RelatedFindingsSection = {
  windowMinutes: 30,
  sameContainer: [
    related('a2', ADDED_BINARY, -10),
    related('a1', ADDED_BINARY, -2),
    related('n1', ADDED_LIBRARY, 3, { container: null, state: 'INACTIVE' }),
    related('m1', MALICIOUS_SCRIPT, 5, { severity: 'CRITICAL' }),
  ],
  otherPodsSameWorkload: [
    related('w2', SOCAT, -20, { pod: 'checkout-5f6d7c8b9x-qwrtz', severity: 'CRITICAL' }),
    related('w1', ADDED_BINARY, 1, { pod: 'checkout-7d9fb6c5d4-h8k2m' }),
  ],
  countsByCategory: { [ADDED_BINARY]: 2, [ADDED_LIBRARY]: 1, [MALICIOUS_SCRIPT]: 1 },
  // sidecar1, o1, o2, e1
  otherInClusterCount: 4,
  truncated: false,
  complete: true,
};

function notification(edit: (n: Record<string, any>) => void = () => {}): SocatFinding {
  const n = notificationFixture('socat-v2');
  edit(n);
  return parseNotification(n);
}

const finding = notification();

function deps(over: Partial<GatherDeps> = {}): GatherDeps {
  return testGatherDeps({
    settings: { relatedWindowMinutes: 30 },
    now: () => new Date('2026-11-27T03:00:00Z'),
    ownSourceName: OWN,
    scc: async () => client,
    ...over,
  });
}

type G = Gatherer<GatherDeps, GatheredSections, 'relatedFindings'>;

async function gather(f: SocatFinding, d: GatherDeps = deps(), g: G = relatedFindingsGatherer, signal = new AbortController().signal): Promise<{ section: RelatedFindingsSection; gaps: string[] }> {
  const gaps: string[] = [];
  const section = await g.gather({ finding: f, signal, deps: d, sections: {}, addGap: (r) => gaps.push(r) });
  return { section, gaps };
}

function run(f: SocatFinding, d: GatherDeps = deps(), deadlineMs = 5000, g: G = relatedFindingsGatherer) {
  // The runner is generic over all sections; this gatherer is one of them.
  return runGatherers<GatherDeps, GatheredSections>([g as unknown as Gatherer<GatherDeps, GatheredSections>], { finding: f, deps: d, deadlineMs });
}

const listCalls = () => emu.requests('ListFindings');

// ---------------------------------------------------------------------------

describe('workloadKey', () => {
  it.each([
    ['checkout-7d9fb6c5d4-x2lqp', 'checkout'], // Deployment
    ['api-v2-7d9fb6c5d4-x2lqp', 'api-v2'], // dashes in the Deployment name
    ['checkout-5f6d7c8b9x-qwrtz', 'checkout'], // another ReplicaSet of the same Deployment
    ['nginx-3837372172-xk2lp', 'nginx'], // old clusters: decimal pod-template-hash
    ['backup-28912345-bcdfg', 'backup'], // CronJob → Job NAME-<minutes> → pod
    ['web-0', 'web'], // StatefulSet
    ['redis-cluster-12', 'redis-cluster'],
    ['fluentbit-gke-x2lqp', 'fluentbit-gke'], // DaemonSet
    ['csi-gcs-x2lqp', 'csi-gcs'], // DaemonSet whose name part looks hash-like but is too short
    ['migrate-db-5kq8z', 'migrate-db'], // Job
    ['toolbox-abcde', null], // vowels: not a generated suffix, a bare pod
    ['debug', null],
    ['web-01', null],
    ['', null],
    [null, null],
  ] as const)('%s → %s', (pod, key) => {
    expect(workloadKey(pod)).toBe(key);
  });
});

describe('query helpers', () => {
  it('quotes filter values, escaping " and \\', () => {
    expect(filterString('plain')).toBe('"plain"');
    expect(filterString('a"b\\c')).toBe('"a\\"b\\\\c"');
  });

  it('gives every event time in a bucket the same query, covering each one\'s own window', () => {
    const base = { organization: ORG, resourceName: CLUSTER, windowMinutes: 30, bucketMinutes: 5 };
    const first = relatedQuery({ ...base, centerMs: Date.parse('2026-11-27T02:40:00Z') });
    for (const t of ['2026-11-27T02:40:00Z', T, '2026-11-27T02:44:59.999Z']) {
      const q = relatedQuery({ ...base, centerMs: Date.parse(t) });
      expect(q).toEqual(first);
      expect(q.startMs).toBeLessThanOrEqual(Date.parse(t) - 30 * 60_000);
      expect(q.endMs).toBeGreaterThanOrEqual(Date.parse(t) + 30 * 60_000);
    }
    expect(first.filter).toBe(FILTER);
    expect(first.parent).toBe(PARENT);
    expect(relatedQuery({ ...base, centerMs: Date.parse('2026-11-27T02:45:00Z') }).cacheKey).not.toBe(first.cacheKey);
    expect(relatedQuery({ ...base, windowMinutes: 10, centerMs: T_MS }).cacheKey).not.toBe(first.cacheKey);
  });

  it('converts proto timestamps to RFC 3339 at the boundary', () => {
    expect(timestampToRfc3339({ seconds: '1795747277', nanos: 532941000 })).toBe('2026-11-27T02:41:17.532941Z');
    expect(timestampToRfc3339({ seconds: 1795747277, nanos: 532000000 })).toBe('2026-11-27T02:41:17.532Z');
    expect(timestampToRfc3339({ seconds: '1795747277', nanos: 1 })).toBe('2026-11-27T02:41:17.000000001Z');
    expect(timestampToRfc3339({ seconds: '1795747277' })).toBe('2026-11-27T02:41:17Z');
    expect(timestampToRfc3339(null)).toBeNull();
    expect(timestampToRfc3339({ seconds: '1', nanos: -1 })).toBeNull();
  });
});

describe('relatedFindingsGatherer', () => {
  it('declares its API, permission and no dependencies', () => {
    expect(relatedFindingsGatherer.section).toBe('relatedFindings');
    expect(relatedFindingsGatherer.needs).toEqual([]);
    expect(relatedFindingsGatherer.permissions).toEqual(['securitycenter.findings.list']);
    expect(relatedFindingsGatherer.api).toBe('securitycenter.googleapis.com SecurityCenter.ListFindings (v2)');
    expect(relatedFindingsGatherer.enabledByDefault).toBe(true);
    expect(relatedFindingsGatherer.missing(finding, {})).toBeNull();
  });

  it('lists the cluster organization-wide and sorts the results into the section', async () => {
    const { section, gaps } = await gather(finding);
    expect(section).toEqual(EXPECTED);
    expect(gaps).toEqual([]);

    const calls = listCalls();
    expect(calls).toHaveLength(1);
    expect(calls[0]!.code).toBe(Status.OK);
    expect(calls[0]!.request).toMatchObject({ parent: PARENT, filter: FILTER, pageSize: 1000 });
    expect(calls[0]!.request.pageToken ?? '').toBe('');
  });

  // gcloud's reference shows the mask as fields of each ListFindingsResult: --field-mask="finding.category,finding.resource_name".
  it('sends a field mask only in the documented finding.X form, which SCC accepts', async () => {
    await gather(finding);
    const paths = (listCalls()[0]!.request.fieldMask as { paths: string[] }).paths;
    expect(paths.length).toBeGreaterThan(0);
    expect(paths.filter((p) => !/^finding\.[a-z_]+$/.test(p))).toEqual([]);
    expect(listCalls()[0]!.code).toBe(Status.OK);
  });

  it('produces the same section through runGatherers', async () => {
    const r = await run(finding);
    expect(r.gaps).toEqual([]);
    expect(r.sections).toEqual({ relatedFindings: EXPECTED });
  });

  it('excludes the finding itself when the notification names it by its canonical (projects/) name', async () => {
    const canonical = notification((n) => {
      n.finding.name = n.finding.canonicalName;
    });
    expect(canonical.name).toMatch(/^projects\//);
    expect(canonical.organization).toBe(ORG);
    expect((await gather(canonical)).section).toEqual(EXPECTED);
  });

  it('reads the window from the settings; without ownSourceName only the category keeps our findings out', async () => {
    const d = deps({ ownSourceName: null, settings: { ...deps().settings, relatedWindowMinutes: 4 } });
    const { section } = await gather(finding, d);
    expect(section).toEqual({
      windowMinutes: 4,
      sameContainer: [
        related('a1', ADDED_BINARY, -2),
        related('own2', 'Socat triage note', 1, { name: `${OWN}/locations/global/findings/own2`, source: 'Socat triage' }),
        related('n1', ADDED_LIBRARY, 3, { container: null, state: 'INACTIVE' }),
      ],
      otherPodsSameWorkload: [related('w1', ADDED_BINARY, 1, { pod: 'checkout-7d9fb6c5d4-h8k2m' })],
      countsByCategory: { [ADDED_BINARY]: 1, [ADDED_LIBRARY]: 1, 'Socat triage note': 1 },
      // sidecar1, and o1/o2 exactly at the edge (+4 min: inclusive)
      otherInClusterCount: 3,
      truncated: false,
      complete: true,
    } satisfies RelatedFindingsSection);
  });

  it('follows pages up to the cap and says so when more remain', async () => {
    // 16 findings match the query.
    const capped = createRelatedFindingsGatherer({ pageSize: 4, maxPages: 2 });
    const { section, gaps } = await gather(finding, deps(), capped);
    expect(section.truncated).toBe(true);
    // Unread pages: finding nothing would not mean nothing, and the gap says how far the read got.
    expect(section.complete).toBe(false);
    expect(gaps).toEqual(['only the first 2 page(s) of up to 4 findings on the cluster were read and more remained: the lists may miss findings, so none found is not none']);
    const calls = listCalls();
    expect(calls).toHaveLength(2);
    expect(calls.map((c) => c.request.pageSize)).toEqual([4, 4]);
    expect(calls[0]!.request.pageToken ?? '').toBe('');
    expect(calls[1]!.request.pageToken).not.toBe('');
    expect(calls[1]!.request.filter).toBe(FILTER);

    emu.clearRequestLog();
    const allPages = createRelatedFindingsGatherer({ pageSize: 4, maxPages: 4 });
    expect((await gather(finding, deps(), allPages)).section).toEqual(EXPECTED);
    expect(listCalls()).toHaveLength(4);
  });

  it('caps each list at the findings nearest in time, still counting all of them', async () => {
    const g = createRelatedFindingsGatherer({ listCap: 2 });
    const { section } = await gather(finding, deps(), g);
    expect(section).toEqual({
      ...EXPECTED,
      sameContainer: [related('a1', ADDED_BINARY, -2), related('n1', ADDED_LIBRARY, 3, { container: null, state: 'INACTIVE' })],
      truncated: true,
    });
  });

  it('escapes the resource name in the filter', async () => {
    const odd = '//container.googleapis.com/projects/p/locations/us-central1/clusters/a"b\\c';
    seed('odd1', { category: ADDED_BINARY, minutes: -1, resourceName: odd, ...sameContainer });
    const f = notification((n) => {
      n.finding.resourceName = odd;
    });
    const { section } = await gather(f);
    expect(section.sameContainer).toEqual([related('odd1', ADDED_BINARY, -1)]);
    expect(listCalls()[0]!.request.filter).toBe(
      'resource_name="//container.googleapis.com/projects/p/locations/us-central1/clusters/a\\"b\\\\c" AND event_time >= "2026-11-27T02:10:00.000Z" AND event_time <= "2026-11-27T03:15:00.000Z"',
    );
  });

  it('centres the window on now when the finding has no eventTime, and says so', async () => {
    const f = notification((n) => {
      delete n.finding.eventTime;
    });
    // now = 02:43:00: bucket 02:40, so the same query as the finding's own.
    const r = await run(f, deps({ now: () => new Date('2026-11-27T02:43:00Z') }));
    expect(r.gaps).toEqual([{ section: 'relatedFindings', reason: 'the finding has no eventTime: the window is centred on the time of triage' }]);
    expect(listCalls()[0]!.request.filter).toBe(FILTER);
    // 02:13 .. 03:13: the window moved with it, so t2 (03:12:17) is now in.
    expect(r.sections.relatedFindings).toEqual({
      ...EXPECTED,
      sameContainer: [...EXPECTED.sameContainer, related('t2', ADDED_BINARY, 31)],
      countsByCategory: { ...EXPECTED.countsByCategory, [ADDED_BINARY]: 3 },
    });
  });

  it('reports what the finding lacks without calling SCC', async () => {
    const noResource = notification((n) => {
      delete n.finding.resourceName;
    });
    const noOrg = notification((n) => {
      n.finding.name = n.finding.canonicalName;
      n.finding.parent = 'projects/987654321098/sources/9876543210123456789/locations/global';
      delete n.resource.gcpMetadata.organization;
    });
    expect(noOrg.organization).toBeNull();
    const a = await run(noResource);
    const b = await run(noOrg);
    expect(a.gaps).toEqual([{ section: 'relatedFindings', reason: 'the finding has no resourceName, so there is no cluster to list related findings for' }]);
    expect(b.gaps).toEqual([{ section: 'relatedFindings', reason: 'the finding does not reveal its organization, so related findings cannot be listed organization-wide' }]);
    expect(a.sections).toEqual({});
    expect(listCalls()).toHaveLength(0);
  });
});

describe('sharing one query per cluster and bucket', () => {
  const SECOND_POD = 'checkout-7d9fb6c5d4-h8k2m';
  const secondName = `${CTD}/locations/global/findings/b2c3d4e5f60718293a4b5c6d7e8f9012`;

  function second(minutes: number): SocatFinding {
    return notification((n) => {
      n.finding.name = secondName;
      delete n.finding.canonicalName;
      n.finding.eventTime = at(minutes);
      n.finding.sourceProperties.Pod_Name = SECOND_POD;
      n.finding.kubernetes.pods[0].name = SECOND_POD;
    });
  }

  it('serves two findings of the same cluster and bucket from one ListFindings call, each filtered to its own pod and window', async () => {
    emu.addFinding(secondName, { category: SOCAT, resourceName: CLUSTER, eventTime: at(1.5), severity: 'HIGH', sourceProperties: { Pod_Namespace: 'shop', Pod_Name: SECOND_POD, Container_Name: 'checkout' } });
    const d = deps({ cache: createInstanceCache({ maxEntries: 100, ttlSeconds: 60 }) });
    const [r1, r2] = await Promise.all([run(finding, d), run(second(1.5), d)]);
    expect(listCalls()).toHaveLength(1);

    expect(r1.gaps).toEqual([]);
    // The second socat finding is new in the world, on another pod of the same Deployment.
    expect(r1.sections.relatedFindings).toEqual({
      ...EXPECTED,
      otherPodsSameWorkload: [
        ...EXPECTED.otherPodsSameWorkload,
        related('b2c3d4e5f60718293a4b5c6d7e8f9012', SOCAT, 1.5, { pod: SECOND_POD }),
      ],
    });

    // Its window is 02:12:47 .. 03:12:47: t2 (+31) is in, t3 (-31) is out; the first finding is another pod's.
    const s2 = r2.sections.relatedFindings!;
    expect(r2.gaps).toEqual([]);
    expect(s2.sameContainer.map((f) => f.name)).toEqual([`${CTD}/locations/global/findings/w1`]);
    expect(s2.otherPodsSameWorkload.map((f) => f.name.replace(/^.*\//, ''))).toEqual(['w2', 'a2', 'a1', ORIGINAL_ID, 'sidecar1', 'n1', 'm1', 't2']);
    expect(s2.countsByCategory).toEqual({ [ADDED_BINARY]: 1 });
    expect(s2.otherInClusterCount).toBe(3); // o1, o2, e1

    // Later invocations in the same bucket reuse the list; another bucket reads again.
    await run(finding, d);
    expect(listCalls()).toHaveLength(1);
    await run(second(6), d); // 02:47:17: bucket 02:45
    expect(listCalls()).toHaveLength(2);
    expect(listCalls()[1]!.request.filter).toBe(
      `resource_name="${CLUSTER}" AND event_time >= "2026-11-27T02:15:00.000Z" AND event_time <= "2026-11-27T03:20:00.000Z"`,
    );
  });
});

describe('failures become gaps', () => {
  it.each([
    ['PERMISSION_DENIED', Status.PERMISSION_DENIED, /^permission denied: PERMISSION_DENIED: .*securitycenter\.findings\.list/],
    ['UNAVAILABLE', Status.UNAVAILABLE, /^UNAVAILABLE: /],
    ['RESOURCE_EXHAUSTED', Status.RESOURCE_EXHAUSTED, /^RESOURCE_EXHAUSTED: /],
  ])('%s', async (_name, code, reason) => {
    emu.injectFault('ListFindings', { code, message: 'caller lacks securitycenter.findings.list or quota' });
    const d = deps({ cache: createInstanceCache({ maxEntries: 100, ttlSeconds: 60 }) });
    const r = await run(finding, d);
    expect(r.sections).toEqual({});
    expect(r.gaps).toHaveLength(1);
    expect(r.gaps[0]!.section).toBe('relatedFindings');
    expect(r.gaps[0]!.reason).toMatch(reason);
    // Not retried by the client (non-idempotent in its config), and the failure is not cached.
    expect(listCalls()).toHaveLength(1);
    const again = await run(finding, d);
    expect(again.sections).toEqual({ relatedFindings: EXPECTED });
    expect(listCalls()).toHaveLength(2);
  });

  it('gives up at the deadline, and stops waiting as soon as its signal aborts', async () => {
    emu.setLatency('ListFindings', 1500);
    const r = await run(finding, deps(), 100);
    expect(r.sections).toEqual({});
    expect(r.gaps).toEqual([{ section: 'relatedFindings', reason: 'deadline of 100 ms reached' }]);

    const controller = new AbortController();
    const pending = gather(finding, deps(), relatedFindingsGatherer, controller.signal);
    setTimeout(() => controller.abort(new Error('deadline')), 50);
    await expect(pending).rejects.toThrow('deadline');

    // The abandoned calls still complete on the server; let them land before the client is closed.
    while (listCalls().some((c) => c.durationMs === 0)) await new Promise((resolve) => setTimeout(resolve, 25));
    await new Promise((resolve) => setTimeout(resolve, 100));
  });
});
