/**
 * The pieces of scripts/build-bundle.mjs that could make the deployed bundle
 * differ from what the tests run, checked against the installed packages:
 * trimmed protos must still give each client everything it looks up and
 * every RPC the function calls; the client-node name scan must see every
 * name lib/ reads; the dependency patches must still match their code, in
 * the very files the bundle takes (esbuild's first pass, nothing written);
 * one google-gax in it. Offline, no timing.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { protobuf } from 'google-gax';
import { FIELDS_READ } from '../../lib/gather/cluster.js';
import { projectRoot } from '../support/fixtures.js';

interface BuildBundle {
  trimProtos(json: unknown, roots: Iterable<string>, methods?: Map<string, Set<string>>, fields?: Map<string, Set<string>>): Record<string, unknown>;
  protoRootsOfClient(source: string): Set<string>;
  rpcsCalled(service: { methods: Record<string, unknown> }, sources: string): Set<string> | null;
  kubeNamesUsed(source: string): Set<string> | null;
  trimClassMethods(code: string, keep: Set<string>): { code: string; removed: number; kept: number } | null;
  kubeMethodsCalled(sources: string): Set<string>;
  PATCHES: Array<{ file: RegExp; edits: Array<[string, string, number?]> }>;
  SHARED_GAX_PACKAGES: string[];
  bundleInputs(): Promise<{ files: string[]; sharedGax: Map<string, number>; patched: Array<{ patch: number; file: string }> }>;
}

const root = projectRoot();
const req = createRequire(join(root, 'package.json'));
let bb: BuildBundle;

beforeAll(async () => {
  bb = (await import(pathToFileURL(join(root, 'scripts', 'build-bundle.mjs')).href)) as BuildBundle;
});

const CLIENTS = [
  ['@google-cloud/security-center', '@google-cloud/security-center/build/src/v2/security_center_client.js', 'google.cloud.securitycenter.v2.SecurityCenter'],
  ['@google-cloud/container', '@google-cloud/container/build/src/v1/cluster_manager_client.js', 'google.container.v1.ClusterManager'],
  ['@google-cloud/logging-api', '@google-cloud/logging-api/build/src/v2/logging_service_v2_client.js', 'google.logging.v2.LoggingServiceV2'],
  ['@google-cloud/essential-contacts', '@google-cloud/essential-contacts/build/src/v1/essential_contacts_service_client.js', 'google.cloud.essentialcontacts.v1.EssentialContactsService'],
] as const;

/** The function's own compiled code: what the bundle scans for RPC calls. */
function libSources(): string {
  return ['scc/writeback.js', 'gather/related-findings.js', 'gather/cluster.js', 'gather/log-query.js', 'gather/contacts.js']
    .map((f) => readFileSync(join(root, 'dist', 'lib', f), 'utf8'))
    .join('\n');
}

describe('proto trimming', () => {
  it.each(CLIENTS)('%s: the trimmed root resolves and has the service, the RPCs the function calls and the types the client looks up', (pkg, clientModule, service) => {
    const full = req(`${pkg}/build/protos/protos.json`) as { nested: Record<string, unknown> };
    const roots = bb.protoRootsOfClient(readFileSync(req.resolve(clientModule), 'utf8'));
    expect(roots).toContain(service);
    const fullRoot = protobuf.Root.fromJSON(full as protobuf.INamespace);
    const called = bb.rpcsCalled(fullRoot.lookupService(service).toJSON() as { methods: Record<string, unknown> }, libSources());
    expect(called).not.toBeNull();
    const trimmed = bb.trimProtos(full, roots, new Map([[service, called!]]));
    const trimmedRoot = protobuf.Root.fromJSON(trimmed as protobuf.INamespace);
    expect(() => trimmedRoot.resolveAll()).not.toThrow();
    expect(Object.keys(trimmedRoot.lookupService(service).methods).sort()).toEqual([...called!].sort());
    for (const name of roots) expect(trimmedRoot.lookup(name)).not.toBeNull();
    // Every message a kept RPC sends or receives is the full message, not a trimmed one.
    for (const rpc of called!) {
      const method = trimmedRoot.lookupService(service).methods[rpc]!;
      for (const type of [method.resolvedRequestType!, method.resolvedResponseType!]) {
        expect(Object.keys(type.fields)).toEqual(Object.keys(fullRoot.lookupType(type.fullName).fields));
      }
    }
    expect(JSON.stringify(trimmed).length).toBeLessThan(JSON.stringify(full).length);
  });

  describe('response fields read (lib/gather/cluster.ts FIELDS_READ)', () => {
    const service = 'google.container.v1.ClusterManager';
    const full = () => req('@google-cloud/container/build/protos/protos.json') as { nested: Record<string, unknown> };
    const fields = () => new Map(Object.entries(FIELDS_READ).map(([m, f]) => [m, new Set<string>(f)]));
    const trimmedRoot = () => protobuf.Root.fromJSON(bb.trimProtos(full(), [service], new Map([[service, new Set(['GetCluster'])]]), fields()) as protobuf.INamespace);

    it('keeps exactly the fields read of Cluster and NodePool, and the types only those reach', () => {
      const root = trimmedRoot();
      expect(() => root.resolveAll()).not.toThrow();
      for (const [message, read] of Object.entries(FIELDS_READ)) expect(Object.keys(root.lookupType(message).fields).sort()).toEqual([...read].sort());
      // Reached only through fields not read: gone.
      expect(root.lookup('google.container.v1.NodeConfig')).toBeNull();
      expect(root.lookup('google.container.v1.AddonsConfig')).toBeNull();
      // Reached through a field read: whole.
      const ipPolicy = root.lookupType('google.container.v1.IPAllocationPolicy');
      const fullRoot = protobuf.Root.fromJSON(full() as protobuf.INamespace);
      expect(Object.keys(ipPolicy.fields)).toEqual(Object.keys(fullRoot.lookupType('google.container.v1.IPAllocationPolicy').fields));
    });

    it('decodes a full Cluster into the fields read, skipping the others', () => {
      const fullType = protobuf.Root.fromJSON(full() as protobuf.INamespace).lookupType('google.container.v1.Cluster');
      const bytes = fullType.encode(fullType.fromObject({ name: 'c', description: 'not read', nodeConfig: { machineType: 'e2' }, nodePools: [{ name: 'p', config: { diskSizeGb: 10 }, instanceGroupUrls: ['u'] }] })).finish();
      const decoded = trimmedRoot().lookupType('google.container.v1.Cluster').toObject(trimmedRoot().lookupType('google.container.v1.Cluster').decode(bytes));
      expect(decoded).toEqual({ name: 'c', nodePools: [{ name: 'p', instanceGroupUrls: ['u'] }] });
    });

    it('fails the build on a field the protos do not have', () => {
      expect(() => bb.trimProtos(full(), [service], new Map(), new Map([['google.container.v1.Cluster', new Set(['name', 'endpoints'])]]))).toThrow(/has no field endpoints/);
    });
  });

  it('finds the RPCs by the method names gax generates', () => {
    const service = { methods: { ListFindings: {}, UpdateFinding: {}, GroupFindings: {} } };
    expect(bb.rpcsCalled(service, 'await client.listFindings(request)')).toEqual(new Set(['ListFindings']));
    expect(bb.rpcsCalled(service, 'for await (const x of c.listFindingsAsync(r))')).toEqual(new Set(['ListFindings']));
    expect(bb.rpcsCalled(service, 'nothing here')).toBeNull();
  });
});

describe('@kubernetes/client-node names', () => {
  it('reads the names lib/ uses, destructured or through a namespace variable', () => {
    expect(bb.kubeNamesUsed("const { Observable } = await import('@kubernetes/client-node');")).toEqual(new Set(['Observable']));
    expect(bb.kubeNamesUsed("const k8s = await import('@kubernetes/client-node'); new k8s.KubeConfig(); k8s.CoreV1Api;")).toEqual(new Set(['KubeConfig', 'CoreV1Api']));
  });

  it('refuses what it cannot follow, so the bundle never lacks a name', () => {
    expect(bb.kubeNamesUsed("const k8s = await import('@kubernetes/client-node'); use(k8s);")).toBeNull();
    expect(bb.kubeNamesUsed("import('@kubernetes/client-node').then((m) => m.KubeConfig);")).toBeNull();
    expect(bb.kubeNamesUsed("const k8s = await import('@kubernetes/client-node'); k8s['KubeConfig'];")).toBeNull();
  });

  it('covers the compiled lib/ modules that import it', () => {
    for (const file of ['clients.js', 'gather/kube.js', 'respond/kube-actions.js']) {
      expect(bb.kubeNamesUsed(readFileSync(join(root, 'dist', 'lib', file), 'utf8'))).not.toBeNull();
    }
  });
});

describe('client-node API methods', () => {
  const generated = [
    'export class FooApi extends BaseApi {',
    '    constructor(configuration) {',
    '        this.configuration = configuration;',
    '    }',
    '    /**',
    '     * read the specified Node',
    '     */',
    '    async readNode(name, _options) {',
    "        if (name === null) { throw new Error('}'); }",
    '        return 1;',
    '    }',
    '    readNodeWithHttpInfo(param, options) {',
    '        return 2;',
    '    }',
    '    async listNode(_options) {',
    '        return 3;',
    '    }',
    '}',
    'export const after = 1;',
  ].join('\n');

  it('keeps the constructor and the called methods with their WithHttpInfo twins, and nothing else', () => {
    const r = bb.trimClassMethods(generated, new Set(['readNode']));
    expect(r).not.toBeNull();
    expect(r!.kept).toBe(2);
    expect(r!.removed).toBe(1);
    expect(r!.code).toContain('constructor(configuration)');
    expect(r!.code).toContain('async readNode(name, _options)');
    expect(r!.code).toContain('readNodeWithHttpInfo(param, options)');
    expect(r!.code).not.toContain('listNode');
    expect(r!.code).toContain('export const after = 1;');
    // Still JavaScript: the class is closed and what follows is intact.
    expect(() => new Function(r!.code.replace(/export /g, '').replace('extends BaseApi', ''))).not.toThrow();
  });

  it('refuses a layout it does not know rather than guess', () => {
    expect(bb.trimClassMethods('export class A {\n    static x = 1;\n}', new Set())).toBeNull();
    expect(bb.trimClassMethods('export class A {\n    get x() {\n        return 1;\n    }\n', new Set())).toBeNull();
  });

  it('understands every generated API file of the installed client-node', () => {
    const dir = join(dirname(req.resolve('@kubernetes/client-node')), 'gen');
    const files = [
      ...readdirSync(join(dir, 'apis')).filter((f) => /^\w+Api\.js$/.test(f)).map((f) => join(dir, 'apis', f)),
      ...['ObservableAPI.js', 'ObjectParamAPI.js', 'PromiseAPI.js'].map((f) => join(dir, 'types', f)),
    ];
    expect(files.length).toBeGreaterThan(50);
    for (const file of files) expect([file, bb.trimClassMethods(readFileSync(file, 'utf8'), new Set(['readNode'])) !== null]).toEqual([file, true]);
  });

  it('finds every Kubernetes read lib/ makes', () => {
    const kube = ['clients.js', 'gather/kube.js', 'gather/node.js', 'gather/pod.js', 'gather/namespace.js']
      .map((f) => readFileSync(join(root, 'dist', 'lib', f), 'utf8'))
      .join('\n');
    const called = bb.kubeMethodsCalled(kube);
    for (const m of ['readNode', 'readNamespacedPod', 'readNamespace', 'readNamespacedReplicaSet', 'readNamespacedDeployment', 'readNamespacedJob']) {
      expect(called).toContain(m);
    }
  });
});

describe('the responder\'s Kubernetes calls survive the trim once it is bundled', () => {
  it('finds every client-node method and name lib/respond/kube-actions.ts uses', () => {
    const source = readFileSync(join(root, 'dist', 'lib', 'respond', 'kube-actions.js'), 'utf8');
    const called = bb.kubeMethodsCalled(source);
    for (const m of ['createNamespacedNetworkPolicy', 'readNamespacedNetworkPolicy', 'replaceNamespacedNetworkPolicy', 'readNamespacedPod', 'patchNamespacedPod', 'deleteNamespacedPod', 'readNode', 'patchNode']) {
      expect(called).toContain(m);
    }
    expect(bb.kubeNamesUsed(source)).toEqual(new Set(['setHeaderOptions']));
    expect(bb.kubeNamesUsed(readFileSync(join(root, 'dist', 'lib', 'clients.js'), 'utf8'))).toContain('NetworkingV1Api');
  });
});

describe('what the bundle takes', () => {
  let inputs: Awaited<ReturnType<BuildBundle['bundleInputs']>>;
  beforeAll(async () => {
    inputs = await bb.bundleInputs();
  }, 60_000);

  it('each dependency patch targets a file in the bundle and still matches it exactly as often as it expects', () => {
    for (const [index, patch] of bb.PATCHES.entries()) {
      const targets = inputs.files.filter((f) => patch.file.test(f));
      // A target that moved (or left the bundle) would otherwise make the patch silently stop applying.
      expect({ patch: index, inBundle: targets.length > 0 }).toEqual({ patch: index, inBundle: true });
      expect(inputs.patched.filter((p) => p.patch === index).length).toBe(targets.length);
      for (const file of targets) {
        const code = readFileSync(file, 'utf8');
        for (const [from, , count = 1] of patch.edits) expect({ file, found: code.split(from).length - 1 }).toEqual({ file, found: count });
      }
    }
  });

  it('has one google-gax: the clients pinned to older majors run on the project\'s', () => {
    const project = `${join(root, 'node_modules', 'google-gax')}/`;
    expect(req.resolve('google-gax').startsWith(project)).toBe(true);
    const gaxFiles = inputs.files.filter((f) => /[\\/]node_modules[\\/]google-gax[\\/]/.test(f));
    expect(gaxFiles.length).toBeGreaterThan(0);
    expect(gaxFiles.filter((f) => !f.startsWith(project))).toEqual([]);
    for (const pkg of bb.SHARED_GAX_PACKAGES) expect({ pkg, redirected: (inputs.sharedGax.get(pkg) ?? 0) > 0 }).toEqual({ pkg, redirected: true });
  });
});
