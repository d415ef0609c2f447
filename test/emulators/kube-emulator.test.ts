/**
 * The Kubernetes emulator itself: the wire answers (Status bodies of the
 * API server's shape), auth, the write refusal, faults and TLS. Raw HTTPS
 * requests check the bytes; the real client checks that it sees them as it
 * would see a cluster.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { request } from 'node:https';
import { createKubeApis, EMULATOR_ACCESS_TOKEN } from '../../lib/clients.js';
import { base64Pem, kubeTestCert, startKubeEmulator, type KubeEmulator } from './kube-emulator.js';

let emulator: KubeEmulator;

beforeAll(async () => {
  emulator = await startKubeEmulator();
});

afterAll(async () => {
  await emulator.stop();
});

beforeEach(() => {
  emulator.reset();
});

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: any;
}

function raw(method: string, path: string, opts: { token?: string | null; ca?: string; port?: number; body?: string; contentType?: string } = {}): Promise<RawResponse> {
  const token = opts.token === undefined ? EMULATOR_ACCESS_TOKEN : opts.token;
  const body = opts.body ?? (method === 'GET' ? undefined : '{}');
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: opts.port ?? emulator.port,
        path,
        method,
        ca: opts.ca ?? kubeTestCert('ca.crt'),
        headers: {
          accept: 'application/json',
          ...(token === null ? {} : { authorization: `Bearer ${token}` }),
          ...(opts.contentType === undefined ? {} : { 'content-type': opts.contentType }),
          // Node's client frames a DELETE body only with an explicit length.
          ...(body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) }),
        },
        agent: false,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text ? JSON.parse(text) : null }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function seedPod(name = 'web-0', namespace = 'shop'): void {
  emulator.seed({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace, labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] }, status: { phase: 'Running' } });
}

describe('kube emulator', () => {
  it('access is what GKE getCluster gives: endpoint without scheme, base64 of the CA PEM', () => {
    expect(emulator.access.endpoint).toBe(`127.0.0.1:${emulator.port}`);
    expect(Buffer.from(emulator.access.caCertificate ?? '', 'base64').toString('utf8')).toBe(kubeTestCert('ca.crt'));
    expect(kubeTestCert('ca.crt')).toMatch(/^-----BEGIN CERTIFICATE-----/);
  });

  it('serves a seeded object with uid, creationTimestamp and resourceVersion filled in', async () => {
    seedPod();
    const r = await raw('GET', '/api/v1/namespaces/shop/pods/web-0');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/json');
    expect(r.body).toMatchObject({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-0', namespace: 'shop', labels: { app: 'web' } }, status: { phase: 'Running' } });
    expect(r.body.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(r.body.metadata.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(r.body.metadata.resourceVersion).toMatch(/^\d+$/);
  });

  it('401 with an Unauthorized Status without a token or with a wrong one', async () => {
    seedPod();
    const expected = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 };
    for (const token of [null, 'wrong', `${EMULATOR_ACCESS_TOKEN}x`]) {
      const r = await raw('GET', '/api/v1/namespaces/shop/pods/web-0', { token });
      expect(r.status).toBe(401);
      expect(r.body).toEqual(expected);
    }
    expect(emulator.requestLog.map((e) => e.authorized)).toEqual([false, false, false]);
  });

  it('accepts a token configured at start', async () => {
    const other = await startKubeEmulator({ token: 'other-token' });
    try {
      expect((await raw('GET', '/api/v1/nodes/n1', { port: other.port })).status).toBe(401);
      expect((await raw('GET', '/api/v1/nodes/n1', { port: other.port, token: 'other-token' })).status).toBe(404);
    } finally {
      await other.stop();
    }
  });

  it('404 NotFound Status naming the resource, qualified by group outside core', async () => {
    expect((await raw('GET', '/api/v1/namespaces/shop/pods/gone')).body).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'pods "gone" not found',
      reason: 'NotFound',
      details: { name: 'gone', kind: 'pods' },
      code: 404,
    });
    const dep = await raw('GET', '/apis/apps/v1/namespaces/shop/deployments/web');
    expect(dep.status).toBe(404);
    expect(dep.body).toMatchObject({ message: 'deployments.apps "web" not found', reason: 'NotFound', details: { name: 'web', group: 'apps', kind: 'deployments' } });
    const unknown = await raw('GET', '/apis/apps/v1/namespaces/shop/pods/web-0');
    expect(unknown.body).toMatchObject({ message: 'the server could not find the requested resource', reason: 'NotFound', code: 404 });
  });

  it('403 Forbidden Status for denied resources, namespaced and cluster-scoped', async () => {
    seedPod();
    emulator.deny({ resource: 'pods', namespace: 'shop', name: 'web-0' });
    emulator.deny({ resource: 'nodes' });
    const pod = await raw('GET', '/api/v1/namespaces/shop/pods/web-0');
    expect(pod.status).toBe(403);
    expect(pod.body).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'pods "web-0" is forbidden: User "scc-socat-triage@emulator.iam.gserviceaccount.com" cannot get resource "pods" in API group "" in the namespace "shop"',
      reason: 'Forbidden',
      details: { name: 'web-0', kind: 'pods' },
      code: 403,
    });
    expect((await raw('GET', '/api/v1/nodes/n1')).body.message).toBe(
      'nodes "n1" is forbidden: User "scc-socat-triage@emulator.iam.gserviceaccount.com" cannot get resource "nodes" in API group "" at the cluster scope',
    );
    seedPod('web-1');
    expect((await raw('GET', '/api/v1/namespaces/shop/pods/web-1')).status).toBe(200);
  });

  it('refuses with 405 the verbs it does not serve on a resource, and logs them', async () => {
    seedPod();
    emulator.seed({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } });
    const calls: [string, string][] = [
      ['PUT', '/api/v1/namespaces/shop/pods/web-0'],
      ['POST', '/api/v1/namespaces/shop/pods/web-0'],
      ['POST', '/api/v1/namespaces/shop/pods'],
      ['DELETE', '/api/v1/nodes/n1'],
      ['PATCH', '/apis/apps/v1/namespaces/shop/replicasets/w'],
      ['PATCH', '/apis/networking.k8s.io/v1/namespaces/shop/networkpolicies/p'],
    ];
    for (const [method, path] of calls) {
      const r = await raw(method, path, { contentType: 'application/json' });
      expect(r.status).toBe(405);
      expect(r.body).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'MethodNotAllowed', code: 405 });
    }
    expect(emulator.requestLog.map((e) => `${e.method} ${e.status}`)).toEqual(calls.map(([m]) => `${m} 405`));
    expect(emulator.get('Pod', 'web-0', 'shop')).toBeDefined();
    expect(emulator.get('Node', 'n1')).toBeDefined();
  });

  it('the real client sees a write refused as ApiException 405', async () => {
    emulator.seed({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } });
    const kube = await createKubeApis(emulator.access, EMULATOR_ACCESS_TOKEN);
    await expect(kube.core.deleteNode({ name: 'n1' })).rejects.toMatchObject({ code: 405 });
    expect(emulator.requestLog).toEqual([{ method: 'DELETE', path: '/api/v1/nodes/n1', authorized: true, status: 405, clientAborted: false }]);
  });

  it('the real client reads every served kind over TLS', async () => {
    const kube = await createKubeApis(emulator.access, EMULATOR_ACCESS_TOKEN);
    emulator.seed({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', labels: { team: 'payments' } } });
    emulator.seed({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } });
    seedPod();
    for (const kind of ['ReplicaSet', 'Deployment', 'StatefulSet', 'DaemonSet']) emulator.seed({ apiVersion: 'apps/v1', kind, metadata: { name: 'w', namespace: 'shop' } });
    for (const kind of ['Job', 'CronJob']) emulator.seed({ apiVersion: 'batch/v1', kind, metadata: { name: 'w', namespace: 'shop' } });
    const p = { namespace: 'shop', name: 'w' };
    const names = [
      (await kube.core.readNamespace({ name: 'shop' })).metadata?.labels?.team,
      (await kube.core.readNode({ name: 'n1' })).metadata?.name,
      (await kube.core.readNamespacedPod({ namespace: 'shop', name: 'web-0' })).metadata?.name,
      (await kube.apps.readNamespacedReplicaSet(p)).kind,
      (await kube.apps.readNamespacedDeployment(p)).kind,
      (await kube.apps.readNamespacedStatefulSet(p)).kind,
      (await kube.apps.readNamespacedDaemonSet(p)).kind,
      (await kube.batch.readNamespacedJob(p)).kind,
      (await kube.batch.readNamespacedCronJob(p)).kind,
    ];
    expect(names).toEqual(['payments', 'n1', 'web-0', 'ReplicaSet', 'Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob']);
  });

  it('the real client refuses a server its CA did not sign', async () => {
    const kube = await createKubeApis({ ...emulator.access, caCertificate: base64Pem(kubeTestCert('other-ca.crt')) }, EMULATOR_ACCESS_TOKEN);
    const err = await kube.core.readNode({ name: 'n1' }).then(
      () => null,
      (e: unknown) => e as { message: string; cause?: { code?: string } },
    );
    expect(err?.message).toBe('fetch failed');
    expect(err?.cause?.code).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    expect(emulator.requestLog).toEqual([]);
  });

  it('fails the next N matching requests with an injected status, before auth', async () => {
    seedPod();
    emulator.injectFault({ status: 503, count: 2, match: '/pods/' });
    emulator.injectFault({ status: 429, match: /\/nodes\//, retryAfterSeconds: 2 });
    const a = await raw('GET', '/api/v1/namespaces/shop/pods/web-0', { token: null });
    expect(a.status).toBe(503);
    expect(a.body).toMatchObject({ kind: 'Status', reason: 'ServiceUnavailable', code: 503 });
    expect((await raw('GET', '/api/v1/namespaces/shop/pods/web-0')).status).toBe(503);
    expect((await raw('GET', '/api/v1/namespaces/shop/pods/web-0')).status).toBe(200);
    const n = await raw('GET', '/api/v1/nodes/n1');
    expect(n.status).toBe(429);
    expect(n.headers['retry-after']).toBe('2');
    expect(n.body).toMatchObject({ reason: 'TooManyRequests', details: { retryAfterSeconds: 2 }, code: 429 });
    expect((await raw('GET', '/api/v1/nodes/n1')).status).toBe(404);
  });

  it('holds matching responses for the injected latency', async () => {
    seedPod();
    emulator.setLatency(1000, '/pods/');
    const response = raw('GET', '/api/v1/namespaces/shop/pods/web-0');
    while (emulator.requestLog.length < 1) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(emulator.requestLog[0]?.status).toBeNull();
    expect((await response).status).toBe(200);
    expect(emulator.requestLog[0]?.status).toBe(200);
    emulator.setLatency(0, '/pods/');
    expect((await raw('GET', '/api/v1/namespaces/shop/pods/web-0')).status).toBe(200);
  });

  it('rejects seeds it could not serve', () => {
    expect(() => emulator.seed({ apiVersion: 'apps/v1', kind: 'Pod', metadata: { name: 'p', namespace: 'shop' } })).toThrow(/apiVersion v1/);
    expect(() => emulator.seed({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' } })).toThrow(/namespace is required/);
    expect(() => emulator.seed({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n', namespace: 'shop' } })).toThrow(/cluster-scoped/);
    expect(() => emulator.seed({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'shop' } })).toThrow(/does not serve kind "Secret"/);
  });

  it('stop() closes kept-alive connections and a delayed response in flight', async () => {
    const other = await startKubeEmulator();
    const kube = await createKubeApis(other.access, EMULATOR_ACCESS_TOKEN);
    other.seed({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } });
    expect((await kube.core.readNode({ name: 'n1' })).metadata?.name).toBe('n1');
    other.setLatency(60_000);
    const pending = kube.core.readNode({ name: 'n1' }).then(
      () => 'answered',
      () => 'connection closed',
    );
    while (other.requestLog.length < 2) await new Promise((resolve) => setTimeout(resolve, 5));
    await other.stop();
    expect(await pending).toBe('connection closed');
  });
});

describe('the writes the responder makes', () => {
  const NP_PATH = '/apis/networking.k8s.io/v1/namespaces/shop/networkpolicies';
  // Shape of the Kubernetes docs' "default deny all ingress and all egress" example, with a pod selector.
  const policy = (name = 'deny-web', extra: Record<string, unknown> = {}) => ({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name, namespace: 'shop' },
    spec: { podSelector: { matchLabels: { app: 'web' } }, policyTypes: ['Ingress', 'Egress'], ...extra },
  });
  const json = (v: unknown) => ({ body: JSON.stringify(v), contentType: 'application/json' });

  it('creates a NetworkPolicy through the real client: 201 with the stored object; the log keeps body and content type', async () => {
    const kube = await createKubeApis(emulator.access, EMULATOR_ACCESS_TOKEN);
    const created = await kube.networking.createNamespacedNetworkPolicy({ namespace: 'shop', body: policy() });
    expect(created.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.metadata?.resourceVersion).toMatch(/^\d+$/);
    expect(emulator.get('NetworkPolicy', 'deny-web', 'shop')?.spec).toEqual(policy().spec);
    expect(emulator.requestLog).toEqual([{ method: 'POST', path: NP_PATH, authorized: true, status: 201, clientAborted: false, body: policy(), contentType: 'application/json' }]);
  });

  it('409 AlreadyExists for a second create of the same name, leaving the first', async () => {
    expect((await raw('POST', NP_PATH, json(policy()))).status).toBe(201);
    const again = await raw('POST', NP_PATH, json(policy('deny-web', { policyTypes: ['Egress'] })));
    expect(again.status).toBe(409);
    expect(again.body).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'networkpolicies.networking.k8s.io "deny-web" already exists',
      reason: 'AlreadyExists',
      details: { name: 'deny-web', group: 'networking.k8s.io', kind: 'networkpolicies' },
      code: 409,
    });
    expect(emulator.get('NetworkPolicy', 'deny-web', 'shop')?.spec?.policyTypes).toEqual(['Ingress', 'Egress']);
  });

  it('422 Invalid for what validation refuses, 400 for a namespace other than the URL, 415 for a non-JSON create', async () => {
    const badCidr = await raw('POST', NP_PATH, json(policy('p', { egress: [{ to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.1/8'] } }] }] })));
    expect(badCidr.status).toBe(422);
    expect(badCidr.body).toMatchObject({ reason: 'Invalid', code: 422, details: { name: 'p', kind: 'networkpolicies', causes: [{ field: 'spec.egress[0].to[0].ipBlock.except[0]' }] } });
    expect(badCidr.body.message).toMatch(/^NetworkPolicy\.networking\.k8s\.io "p" is invalid: spec\.egress\[0\]\.to\[0\]\.ipBlock\.except\[0\]: Invalid value/);
    const notSubset = await raw('POST', NP_PATH, json(policy('p', { egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['192.168.0.1/32'] } }] }] })));
    expect(notSubset.body.message).toContain('must be a strict subset of `cidr`');
    expect((await raw('POST', NP_PATH, json({ ...policy(), metadata: { name: 'Bad_Name', namespace: 'shop' } }))).status).toBe(422);
    expect((await raw('POST', NP_PATH, json({ ...policy(), spec: { podSelector: { matchLabels: { 'a/b/c': 'x' } } } }))).status).toBe(422);
    const elsewhere = await raw('POST', NP_PATH, json({ ...policy(), metadata: { name: 'p', namespace: 'other' } }));
    expect(elsewhere.status).toBe(400);
    expect(elsewhere.body.message).toBe('the namespace of the provided object does not match the namespace sent on the request');
    expect((await raw('POST', NP_PATH, { body: 'x: 1', contentType: 'text/plain' })).status).toBe(415);
    expect(emulator.get('NetworkPolicy', 'p', 'shop')).toBeUndefined();
  });

  it('PUT needs the current resourceVersion: 422 without one, 409 Conflict for a stale one, 200 and a new one otherwise', async () => {
    const created = (await raw('POST', NP_PATH, json(policy()))).body;
    const changed = policy('deny-web', { policyTypes: ['Egress'] });
    const without = await raw('PUT', `${NP_PATH}/deny-web`, json(changed));
    expect(without.status).toBe(422);
    expect(without.body.message).toContain('metadata.resourceVersion: Invalid value: 0x0: must be specified for an update');
    const stale = await raw('PUT', `${NP_PATH}/deny-web`, json({ ...changed, metadata: { ...changed.metadata, resourceVersion: '1' } }));
    expect(stale.status).toBe(409);
    expect(stale.body).toMatchObject({ reason: 'Conflict', message: expect.stringContaining('the object has been modified') });
    const ok = await raw('PUT', `${NP_PATH}/deny-web`, json({ ...changed, metadata: { ...changed.metadata, resourceVersion: created.metadata.resourceVersion } }));
    expect(ok.status).toBe(200);
    expect(ok.body.metadata.uid).toBe(created.metadata.uid);
    expect(ok.body.metadata.resourceVersion).not.toBe(created.metadata.resourceVersion);
    expect(ok.body.spec.policyTypes).toEqual(['Egress']);
    expect((await raw('PUT', `${NP_PATH}/gone`, json(policy('gone')))).status).toBe(404);
  });

  it('PATCH of a pod: merge patch merges labels and deletes with null; a patch changing nothing keeps resourceVersion', async () => {
    emulator.seed({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-0', namespace: 'shop', labels: { app: 'web', 'pod-template-hash': '7c5ddbdf54' } }, spec: { containers: [] } });
    const path = '/api/v1/namespaces/shop/pods/web-0';
    const patch = { metadata: { labels: { quarantine: 'abc', 'pod-template-hash': null } } };
    const r = await raw('PATCH', path, { body: JSON.stringify(patch), contentType: 'application/merge-patch+json' });
    expect(r.status).toBe(200);
    expect(r.body.metadata.labels).toEqual({ app: 'web', quarantine: 'abc' });
    const again = await raw('PATCH', path, { body: JSON.stringify(patch), contentType: 'application/merge-patch+json' });
    expect(again.body.metadata.resourceVersion).toBe(r.body.metadata.resourceVersion);
    expect(emulator.requestLog[0]).toMatchObject({ body: patch, contentType: 'application/merge-patch+json' });
  });

  it('PATCH refusals: 415 for content types it does not apply (the real client sends json-patch unless told), 422 for a bad label or a pod spec change', async () => {
    seedPod();
    const path = '/api/v1/namespaces/shop/pods/web-0';
    const kube = await createKubeApis(emulator.access, EMULATOR_ACCESS_TOKEN);
    await expect(kube.core.patchNamespacedPod({ namespace: 'shop', name: 'web-0', body: { metadata: { labels: { a: 'b' } } } })).rejects.toMatchObject({ code: 415 });
    expect(emulator.requestLog.at(-1)?.contentType).toBe('application/json-patch+json');
    const plain = await raw('PATCH', path, { body: '{}', contentType: 'application/json' });
    expect(plain.status).toBe(415);
    expect(plain.body).toMatchObject({ reason: 'UnsupportedMediaType', message: expect.stringContaining('the body of the request was in an unknown format - accepted media types include: application/json-patch+json') });
    expect((await raw('PATCH', path, { body: JSON.stringify({ spec: { containers: [] } }), contentType: 'application/strategic-merge-patch+json' })).status).toBe(415);
    const badLabel = await raw('PATCH', path, { body: JSON.stringify({ metadata: { labels: { q: 'not valid!' } } }), contentType: 'application/merge-patch+json' });
    expect(badLabel.status).toBe(422);
    expect(badLabel.body.details.causes[0].field).toBe('metadata.labels[q]');
    expect((await raw('PATCH', path, { body: JSON.stringify({ spec: { nodeName: 'x' } }), contentType: 'application/merge-patch+json' })).status).toBe(422);
    expect(emulator.get('Pod', 'web-0', 'shop')?.metadata.labels).toEqual({ app: 'web' });
  });

  it('PATCH of a node with a strategic merge patch, as kubectl cordon sends it', async () => {
    emulator.seed({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' }, spec: { podCIDR: '10.4.0.0/24' } });
    const r = await raw('PATCH', '/api/v1/nodes/n1', { body: '{"spec":{"unschedulable":true}}', contentType: 'application/strategic-merge-patch+json' });
    expect(r.status).toBe(200);
    expect(emulator.get('Node', 'n1')?.spec).toEqual({ podCIDR: '10.4.0.0/24', unschedulable: true });
    expect((await raw('PATCH', '/api/v1/nodes/n2', { body: '{}', contentType: 'application/merge-patch+json' })).status).toBe(404);
  });

  it('DELETE of a pod: 200 with the object marked for deletion, then 404; a uid precondition that does not match is 409', async () => {
    const pod = emulator.seed({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-0', namespace: 'shop' } });
    const path = '/api/v1/namespaces/shop/pods/web-0';
    const wrong = await raw('DELETE', path, json({ preconditions: { uid: 'someone-else' } }));
    expect(wrong.status).toBe(409);
    expect(wrong.body.message).toBe(`Precondition failed: UID in precondition: someone-else, UID in object meta: ${pod.metadata.uid}`);
    const kube = await createKubeApis(emulator.access, EMULATOR_ACCESS_TOKEN);
    const deleted = await kube.core.deleteNamespacedPod({ namespace: 'shop', name: 'web-0' });
    expect(deleted.metadata?.deletionTimestamp).toBeInstanceOf(Date);
    expect(emulator.get('Pod', 'web-0', 'shop')).toBeUndefined();
    await expect(kube.core.deleteNamespacedPod({ namespace: 'shop', name: 'web-0' })).rejects.toMatchObject({ code: 404 });
  });

  it('403 per verb and resource, like RBAC granting get but not create', async () => {
    emulator.deny({ resource: 'networkpolicies', verb: 'create' });
    const r = await raw('POST', NP_PATH, json(policy()));
    expect(r.status).toBe(403);
    expect(r.body).toMatchObject({
      reason: 'Forbidden',
      message:
        'networkpolicies.networking.k8s.io is forbidden: User "scc-socat-triage@emulator.iam.gserviceaccount.com" cannot create resource "networkpolicies" in API group "networking.k8s.io" in the namespace "shop"',
      details: { group: 'networking.k8s.io', kind: 'networkpolicies' },
    });
    expect((await raw('GET', `${NP_PATH}/deny-web`)).status).toBe(404);
    emulator.deny({ resource: 'pods', verb: 'delete', namespace: 'shop' });
    seedPod();
    expect((await raw('DELETE', '/api/v1/namespaces/shop/pods/web-0')).body.message).toContain('cannot delete resource "pods" in API group "" in the namespace "shop"');
    expect(emulator.get('Pod', 'web-0', 'shop')).toBeDefined();
  });
});

describe('discovery, for kubectl', () => {
  it('lists only what it serves, with the verbs it answers', async () => {
    const core = await raw('GET', '/api/v1');
    expect(core.body.kind).toBe('APIResourceList');
    const byName = Object.fromEntries((core.body.resources as { name: string; verbs: string[]; namespaced: boolean }[]).map((r) => [r.name, r]));
    expect(byName.pods).toMatchObject({ namespaced: true, verbs: ['get', 'patch', 'delete'] });
    expect(byName.nodes).toMatchObject({ namespaced: false, verbs: ['get', 'patch'] });
    expect((await raw('GET', '/apis')).body.groups.map((g: { name: string }) => g.name)).toEqual(['apps', 'batch', 'networking.k8s.io']);
    expect((await raw('GET', '/apis/networking.k8s.io/v1')).body.resources).toEqual([
      { name: 'networkpolicies', singularName: 'networkpolicy', namespaced: true, kind: 'NetworkPolicy', verbs: ['get', 'create', 'update', 'delete'] },
    ]);
    expect((await raw('GET', '/apis/policy/v1')).status).toBe(404);
  });

  it('deletes a NetworkPolicy (the undo of block-c2 and isolate), then answers 404', async () => {
    emulator.seed({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'p', namespace: 'shop' }, spec: { podSelector: {} } });
    const path = '/apis/networking.k8s.io/v1/namespaces/shop/networkpolicies/p';
    expect((await raw('DELETE', path, { body: '', contentType: 'application/json' })).status).toBe(200);
    expect(emulator.get('NetworkPolicy', 'p', 'shop')).toBeUndefined();
    expect((await raw('DELETE', path, { body: '', contentType: 'application/json' })).status).toBe(404);
  });
});
