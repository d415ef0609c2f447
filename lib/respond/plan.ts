/**
 * One entry for planning any action: the refusals every action shares, then
 * the action's own planner. The planners are handed in (lib/respond/actions.ts
 * has the real ones) so the responder and its tests can run on any set.
 */
import { isShellWritable, shellJoin } from '../shell/quote.js';
import { CLUSTER_CHANGING, type PlanContext, type ResponseAction, type ResponsePlan, type ResponseRecord } from './types.js';

export type ActionPlanner = (ctx: PlanContext) => ResponsePlan;
export type ActionPlanners = Readonly<Record<ResponseAction, ActionPlanner>>;

/**
 * How to force an action from a terminal, exact in every shell; the
 * placeholder FINDING when the finding's name cannot be written exactly. A
 * console approval never forces, so refusals that --force lifts say this.
 */
export function forceCommand(action: ResponseAction, ctx: PlanContext): string {
  const name = ctx.subject.findingName;
  return shellJoin(['scc-socat-triage', 'respond', isShellWritable(name) && name !== '' ? name : 'FINDING', '--action', action, '--force']);
}

export function refusedPlan(action: ResponseAction, reason: string): ResponsePlan {
  return { action, allowed: false, reason, requests: [], undo: null };
}

/** Why no planner should even be asked, or null. */
export function commonRefusal(action: ResponseAction, ctx: PlanContext): string | null {
  const { subject } = ctx;
  if (CLUSTER_CHANGING.has(action) && subject.verdict.level === 'likely_benign_admin' && !ctx.force) {
    return (
      `The verdict is likely_benign_admin (score ${subject.verdict.score}): ${action} changes the cluster and is refused for what looks like an administrator's session. ` +
      `Check the attribution in the report; if it is wrong, force it from a terminal (an approval in the console never forces): ${forceCommand(action, ctx)}`
    );
  }
  if (subject.cluster === null) return 'The finding names no GKE cluster, so there is nothing to act on.';
  return null;
}

export function planAction(action: ResponseAction, ctx: PlanContext, planners: ActionPlanners): ResponsePlan {
  const refusal = commonRefusal(action, ctx);
  if (refusal !== null) return refusedPlan(action, refusal);
  const plan = planners[action](ctx);
  // A planner that refuses must not also ask for requests: a refused plan is never carried out, even in part.
  return plan.allowed ? plan : { ...plan, requests: [], undo: null };
}

/** Whether evidence was preserved for this detection (delete-pod requires it unless forced). */
export function captured(previous: readonly ResponseRecord[]): boolean {
  return previous.some((r) => r.action === 'capture' && (r.result === 'done' || r.result === 'already_done'));
}
