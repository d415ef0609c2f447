/**
 * The seeded world of test/support/world.ts with a fault proxy in front of
 * each gRPC emulator, for the hostile suites: per-test unique original
 * findings, instances with a fresh lookup cache, the outcome-line capture,
 * and the least-privilege audit of everything the emulators received.
 */
import type { protos } from '@google-cloud/security-center';
import type { PubSubClient, SccClient } from '../../lib/clients.js';
import type { FanoutPublisher } from '../../lib/fanout.js';
import type { HandlerDeps } from '../../lib/handler.js';
import { ENRICHMENT_CATEGORY, enrichmentFindingName } from '../../lib/scc/names.js';
import type { SccWriter } from '../../lib/scc/writeback.js';
import { CTD_SOURCE, OWN_SOURCE, seedOriginal } from '../support/scc-scenario.js';
import { startPubSubEmulator, type PubSubEmulator } from '../emulators/pubsub-emulator.js';
import { startWorld, type World } from '../support/world.js';
import { createInstance, createInstanceCache, createPubSubClient, createSccClient } from './under-test.js';
import { CONTACTS_SERVICE, GKE_SERVICE, LOGGING_SERVICE, PUBSUB_PUBLISHER_SERVICE, SCC_SERVICE, startFaultProxy, type FaultProxy } from './grpc-fault-proxy.js';

/** Where the function fans its results out (FANOUT_TOPIC): the one Pub/Sub call it makes. */
export const FANOUT_TOPIC = 'projects/sec-tools-4711/topics/socat-triage-results';

export interface Proxies {
  scc: FaultProxy;
  gke: FaultProxy;
  logging: FaultProxy;
  contacts: FaultProxy;
  pubsub: FaultProxy;
}

export interface HostileWorld {
  world: World;
  pubsub: PubSubEmulator;
  proxies: Proxies;
  /** The function's environment: every gRPC API through its proxy. */
  env: Record<string, string>;
  /** Outcome lines of every instance made by instance(), parsed. */
  logLines: Array<Record<string, unknown>>;
  /** A new function instance (own clients, own cache) on this world; `env` entries override. */
  instance(env?: Record<string, string>): HandlerDeps;
  /** A real SCC client through the proxy whose writes carry a deadline: a write slower than that fails with DEADLINE_EXCEEDED. */
  writerWithDeadline(ms: number): SccWriter;
  /** The fan-out topic through the proxy, its Publish retries bounded by `ms` in all (gax's own bound is 60 s). */
  publisherWithDeadline(ms: number): FanoutPublisher;
  stop(): Promise<void>;
}

export async function startHostileWorld(extraEnv: Record<string, string> = {}): Promise<HostileWorld> {
  const [world, pubsubEmulator] = await Promise.all([startWorld(), startPubSubEmulator()]);
  pubsubEmulator.createTopic(FANOUT_TOPIC);
  const [scc, gke, logging, contacts, pubsub] = await Promise.all([
    startFaultProxy(world.scc.endpoint, SCC_SERVICE),
    startFaultProxy(world.gke.endpoint, GKE_SERVICE),
    startFaultProxy(world.logging.endpoint, LOGGING_SERVICE),
    startFaultProxy(world.contacts.endpoint, CONTACTS_SERVICE),
    startFaultProxy(pubsubEmulator.endpoint, PUBSUB_PUBLISHER_SERVICE),
  ]);
  const proxies = { scc, gke, logging, contacts, pubsub };
  const env = {
    ...world.env,
    SCC_EMULATOR_HOST: scc.endpoint,
    GKE_EMULATOR_HOST: gke.endpoint,
    LOGGING_EMULATOR_HOST: logging.endpoint,
    CONTACTS_EMULATOR_HOST: contacts.endpoint,
    PUBSUB_EMULATOR_HOST: pubsub.endpoint,
    FANOUT_TOPIC,
    ...extraEnv,
  };
  const logLines: Array<Record<string, unknown>> = [];
  const logDestination = { write: (line: string) => void logLines.push(JSON.parse(line) as Record<string, unknown>) };
  const clients: SccClient[] = [];
  const pubsubClients: PubSubClient[] = [];
  return {
    world,
    pubsub: pubsubEmulator,
    proxies,
    env,
    logLines,
    instance(overrides = {}) {
      return createInstance({ ...env, ...overrides }, { logDestination });
    },
    writerWithDeadline(ms) {
      const client = createSccClient({ sccEmulatorHost: scc.endpoint });
      void client.then((c) => clients.push(c));
      return {
        updateFinding: async (request) => (await client).updateFinding(request, { timeout: ms }),
        updateSecurityMarks: async (request) => (await client).updateSecurityMarks(request, { timeout: ms }),
        listFindings: async (request) => (await client).listFindings(request, { autoPaginate: false, timeout: ms }),
      };
    },
    publisherWithDeadline(ms) {
      const client = createPubSubClient({ pubsubEmulatorHost: pubsub.endpoint, projectId: FANOUT_TOPIC.split('/')[1] ?? null });
      const topic = client.then((c) => {
        pubsubClients.push(c);
        return c.topic(FANOUT_TOPIC, { gaxOpts: { timeout: ms } });
      });
      return { publishMessage: async (message) => (await topic).publishMessage(message) };
    },
    async stop() {
      await Promise.all(clients.map((c) => c.close()));
      await Promise.all(pubsubClients.map((c) => c.close()));
      await Promise.all(Object.values(proxies).map((p) => p.stop()));
      await Promise.all([world.stop(), pubsubEmulator.stop()]);
    },
  };
}

/** The same instance with an empty lookup cache: what a cold instance would fetch, without new clients. */
export function withFreshCache(deps: HandlerDeps): HandlerDeps {
  if (!deps.gather) return deps;
  return { ...deps, gather: { ...deps.gather, deps: { ...deps.gather.deps, cache: createInstanceCache({ maxEntries: 1000, ttlSeconds: 300 }) } } };
}

let counter = 0;

/** A copy of `notification` as a different original finding (own id), seeded into CTD's source. */
export function freshOriginal(world: World, notification: Record<string, any>, label: string): Record<string, any> {
  counter += 1;
  const n = structuredClone(notification);
  // SCC finding ids: 1–32 alphanumerics.
  const id = `${label.replace(/[^a-z0-9]/gi, '').slice(0, 20)}${String(counter).padStart(6, '0')}`.toLowerCase().slice(-32);
  n.finding.name = `${CTD_SOURCE}/locations/global/findings/${id}`;
  delete n.finding.canonicalName;
  n.finding.securityMarks = { name: `${n.finding.name}/securityMarks` };
  seedOriginal(world.scc, n);
  return n;
}

/** Our enrichment findings about one original finding. */
export function enrichmentsOf(world: World, originalName: string): Array<Record<string, any>> {
  return world.scc.listAllFindings().filter((f: Record<string, any>) => String(f.name) === enrichmentFindingName(OWN_SOURCE, originalName) || (String(f.name).startsWith(`${OWN_SOURCE}/`) && f.sourceProperties?.I01_Original_Finding?.stringValue === originalName));
}

type UpdateFindingRequest = protos.google.cloud.securitycenter.v2.IUpdateFindingRequest;
type UpdateMarksRequest = protos.google.cloud.securitycenter.v2.IUpdateSecurityMarksRequest;

const SCC_ALLOWED = new Set(['ListFindings', 'UpdateFinding', 'UpdateSecurityMarks']);

/**
 * Everything that reached the emulators (and the calls the proxies answered
 * themselves) against the function's write surface: no write to Kubernetes
 * or GKE, reads only of the APIs the README lists, SCC writes only to our
 * own finding and the socat_triage_* marks of an original finding, and Pub/Sub
 * publishes only to the fan-out topic.
 * Returns the violations and how many calls were audited.
 */
export function leastPrivilegeAudit(hw: HostileWorld): { violations: string[]; calls: number } {
  const { world, proxies } = hw;
  const v: string[] = [];
  let calls = 0;
  for (const r of world.kube.requestLog) {
    calls += 1;
    if (r.method !== 'GET') v.push(`Kubernetes ${r.method} ${r.path}`);
  }
  const only = (what: string, methods: string[], allowed: Set<string>) => {
    for (const m of methods) {
      calls += 1;
      if (!allowed.has(m)) v.push(`${what} ${m}`);
    }
  };
  only('GKE', world.gke.requestLog.map((r) => r.method), new Set(['GetCluster']));
  only('Cloud Logging', world.logging.requestLog.map((r) => r.method), new Set(['ListLogEntries']));
  only('Essential Contacts', world.contacts.requestLog.map((r) => r.method), new Set(['ComputeContacts']));
  only('SCC', world.scc.requestLog.map((r) => r.method), SCC_ALLOWED);
  // Calls a proxy answered itself never reached an emulator's log.
  only('GKE (proxy)', proxies.gke.calls.map((c) => c.method), new Set(['GetCluster']));
  only('Cloud Logging (proxy)', proxies.logging.calls.map((c) => c.method), new Set(['ListLogEntries']));
  only('Essential Contacts (proxy)', proxies.contacts.calls.map((c) => c.method), new Set(['ComputeContacts']));
  only('SCC (proxy)', proxies.scc.calls.map((c) => c.method), SCC_ALLOWED);
  only('Pub/Sub', hw.pubsub.requestLog.map((r) => r.method), new Set(['Publish']));
  only('Pub/Sub (proxy)', proxies.pubsub.calls.map((c) => c.method), new Set(['Publish']));
  for (const r of hw.pubsub.requestLog) if (r.method === 'Publish' && r.request.topic !== FANOUT_TOPIC) v.push(`Pub/Sub Publish to ${r.request.topic}`);
  for (const r of world.scc.requestLog) {
    if (r.method === 'UpdateFinding') {
      const f = (r.request as UpdateFindingRequest).finding;
      if (!String(f?.name).startsWith(`${OWN_SOURCE}/`)) v.push(`SCC UpdateFinding outside our source: ${f?.name}`);
      if (f?.category !== ENRICHMENT_CATEGORY) v.push(`SCC UpdateFinding of category ${f?.category}`);
    }
    if (r.method === 'UpdateSecurityMarks') {
      const req = r.request as UpdateMarksRequest;
      const name = String(req.securityMarks?.name);
      if (!name.startsWith(`${CTD_SOURCE}/`) || !name.endsWith('/securityMarks')) v.push(`SCC marks on ${name}`);
      const keys = [...Object.keys(req.securityMarks?.marks ?? {}), ...(req.updateMask?.paths ?? []).map((p) => p.replace(/^marks\./, ''))];
      for (const k of keys) if (!/^socat_triage_[a-z_]+$/.test(k)) v.push(`SCC mark ${k}`);
      if ((req.updateMask?.paths ?? []).length === 0) v.push('SCC marks update without a mask (would replace every mark)');
    }
  }
  return { violations: v, calls };
}
