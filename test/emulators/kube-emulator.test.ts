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

function raw(method: string, path: string, opts: { token?: string | null; ca?: string; port?: number } = {}): Promise<RawResponse> {
  const token = opts.token === undefined ? EMULATOR_ACCESS_TOKEN : opts.token;
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: opts.port ?? emulator.port,
        path,
        method,
        ca: opts.ca ?? kubeTestCert('ca.crt'),
        headers: { accept: 'application/json', ...(token === null ? {} : { authorization: `Bearer ${token}` }) },
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
    req.end(method === 'GET' ? undefined : '{}');
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

  it('refuses every verb but GET with 405, and logs it', async () => {
    seedPod();
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
      const r = await raw(method, '/api/v1/namespaces/shop/pods/web-0');
      expect(r.status).toBe(405);
      expect(r.body).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'MethodNotAllowed', code: 405 });
    }
    expect(emulator.requestLog.map((e) => `${e.method} ${e.status}`)).toEqual(['POST 405', 'PUT 405', 'PATCH 405', 'DELETE 405']);
    expect(emulator.get('Pod', 'web-0', 'shop')).toBeDefined();
  });

  it('the real client sees a write refused as ApiException 405', async () => {
    seedPod();
    const kube = await createKubeApis(emulator.access, EMULATOR_ACCESS_TOKEN);
    await expect(kube.core.deleteNamespacedPod({ namespace: 'shop', name: 'web-0' })).rejects.toMatchObject({ code: 405 });
    expect(emulator.requestLog).toEqual([{ method: 'DELETE', path: '/api/v1/namespaces/shop/pods/web-0', authorized: true, status: 405, clientAborted: false }]);
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
