/**
 * The real action modules, wired to their clients: the responder
 * (lib/wiring.ts) and the CLI's `respond` build them here, so both carry out
 * an action the same way. Planning needs no client (ACTION_PLANNERS).
 *
 * Kubernetes actions reach the control plane the way the gatherers do: GKE
 * getCluster, then lib/gather/cluster.ts controlPlaneRoute (DNS endpoint, or
 * the IP endpoint with the cluster CA). When none works, the record is a
 * `failed` one naming the setting, never a throw. Their permissions are
 * RESPONSE_ACTION_PERMISSIONS (lib/permissions.ts).
 */
import type { ComputeClients, GkeClient, KubeAccess, KubeApis, StorageClient } from '../clients.js';
import { clusterResourceName, controlPlaneRoute, fetchCluster, type Cluster } from '../gather/cluster.js';
import { cleanLine } from '../sanitize.js';
import { canonicalTimestamp } from '../timestamp.js';
import { executeCapture, planCapture } from './capture.js';
import { KUBE_ACTIONS } from './kube-actions.js';
import type { ActionPlanners } from './plan.js';
import type { ResponseActionModules } from './responder.js';
import type { EvidenceProvider } from './regather.js';
import type { CaptureEvidence, PlanContext, ResponsePlan, ResponseRecord } from './types.js';

export const ACTION_PLANNERS: ActionPlanners = {
  capture: planCapture,
  'block-c2': KUBE_ACTIONS['block-c2'].plan,
  isolate: KUBE_ACTIONS.isolate.plan,
  cordon: KUBE_ACTIONS.cordon.plan,
  'delete-pod': KUBE_ACTIONS['delete-pod'].plan,
};

export interface ActionClients {
  gke(): Promise<GkeClient>;
  kube(access: KubeAccess): Promise<KubeApis>;
  compute(): Promise<ComputeClients>;
  storage(): Promise<StorageClient>;
}

export interface ActionRun {
  /** Recorded as the approver; the responder sets its own after execute. */
  approver: string | null;
  now: () => Date;
  /** Bounds each action's requests. */
  timeoutMs: number;
}

function failed(plan: ResponsePlan, run: ActionRun, detail: string): ResponseRecord {
  return { action: plan.action, approver: run.approver, at: canonicalTimestamp(run.now().toISOString()) as string, result: 'failed', detail, undo: null };
}

/** The cluster's Kubernetes API, or why it cannot be reached. */
async function kubeOf(ctx: PlanContext, clients: ActionClients, signal: AbortSignal): Promise<KubeApis | string> {
  const c = ctx.subject.cluster;
  if (c === null) return 'the cluster is unknown';
  const name = clusterResourceName(c);
  let cluster: Cluster;
  try {
    cluster = await fetchCluster(await clients.gke(), name, signal);
  } catch (err) {
    return `GKE getCluster ${name} failed: ${cleanLine(err instanceof Error ? err.message : String(err), 300)}`;
  }
  const route = controlPlaneRoute(cluster);
  if (route.access === null) return `the control plane of ${name} cannot be reached: ${route.unreachable ?? 'no endpoint'}`;
  return clients.kube(route.access);
}

/** The capture's prepare step: the provider's evidence, or why there is none; never a rejection (the snapshot does not depend on it). */
function withEvidence(provider: EvidenceProvider): (ctx: PlanContext) => Promise<PlanContext> {
  return async (ctx) => {
    let evidence: CaptureEvidence;
    try {
      evidence = await provider(ctx.subject);
    } catch (err) {
      evidence = { bucket: null, files: [], origin: 'not re-gathered', unavailable: `re-gathering them failed: ${cleanLine(err instanceof Error ? err.message : String(err), 300)}` };
    }
    return { ...ctx, evidence };
  };
}

/**
 * `evidence`: where capture gets its files before planning (the responder:
 * lib/respond/regather.ts, re-gathered at capture time); without it (the
 * CLI), capture keeps the files the PlanContext carries (--evidence DIR), or none.
 */
export function actionModules(clients: ActionClients, run: () => ActionRun, evidence?: EvidenceProvider): ResponseActionModules {
  const kubeModule = (action: 'block-c2' | 'isolate' | 'cordon' | 'delete-pod') => ({
    plan: ACTION_PLANNERS[action],
    async execute(plan: ResponsePlan, ctx: PlanContext): Promise<ResponseRecord> {
      const r = run();
      const signal = AbortSignal.timeout(r.timeoutMs);
      const kube = await kubeOf(ctx, clients, signal);
      if (typeof kube === 'string') return failed(plan, r, `Nothing was changed: ${kube}.`);
      return KUBE_ACTIONS[action].execute(plan, kube, { approver: r.approver, signal, now: r.now });
    },
  });
  return {
    capture: {
      plan: ACTION_PLANNERS.capture,
      ...(evidence === undefined ? {} : { prepare: withEvidence(evidence) }),
      async execute(plan, ctx) {
        const r = run();
        const storage = plan.requests.some((q) => q.api === 'storage') ? await clients.storage() : null;
        // The bytes the plan was made from: the CLI's --evidence files, or what prepare re-gathered.
        return executeCapture(plan, { compute: await clients.compute(), storage }, { approver: r.approver, evidence: ctx.evidence ?? null, now: r.now });
      },
    },
    'block-c2': kubeModule('block-c2'),
    isolate: kubeModule('isolate'),
    cordon: kubeModule('cordon'),
    'delete-pod': kubeModule('delete-pod'),
  };
}
