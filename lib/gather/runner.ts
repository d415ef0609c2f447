/**
 * Runs gatherers in parallel under one shared deadline. Each starts as soon
 * as the sections it needs are in, so the total time is the longest chain of
 * dependent calls, not their sum. Whatever fails, is denied, or is still
 * running at the deadline becomes a gap; the runner itself never throws and
 * never waits past the deadline.
 */
import { describeError } from '../errors.js';
import { cleanLine } from '../sanitize.js';
import { GatherGap, type Gap, type Gatherer } from './types.js';

export interface RunResult<Sections> {
  sections: Partial<Sections>;
  gaps: Gap[];
  /** Milliseconds each gatherer took (absent for ones that never started). */
  timingsMs: Record<string, number>;
}

function gapReason(err: unknown): string {
  if (err instanceof GatherGap) return cleanLine(err.message, 300);
  const code = (err as { code?: unknown })?.code;
  const http = (err as { statusCode?: unknown })?.statusCode ?? code;
  if (code === 7 || http === 403) return `permission denied: ${describeError(err)}`;
  if (code === 5 || http === 404) return `not found: ${describeError(err)}`;
  return cleanLine(describeError(err), 300);
}

export async function runGatherers<Deps, Sections>(
  gatherers: readonly Gatherer<Deps, Sections>[],
  input: {
    finding: Parameters<Gatherer<Deps, Sections>['missing']>[0];
    deps: Deps;
    deadlineMs: number;
    parentSignal?: AbortSignal;
    /** Called once, when every gatherer has started its work or settled without starting. */
    onAllStarted?: () => void;
  },
): Promise<RunResult<Sections>> {
  const controller = new AbortController();
  const onParentAbort = () => controller.abort(input.parentSignal?.reason);
  input.parentSignal?.addEventListener('abort', onParentAbort, { once: true });
  const sections: Partial<Sections> = {};
  const gaps: Gap[] = [];
  const timingsMs: Record<string, number> = {};
  const settled = new Map<string, Promise<boolean>>();
  const byName = new Map(gatherers.map((g) => [g.section as string, g]));
  let notStarted = gatherers.length;
  const allStarted = (): void => {
    if (notStarted < 0) return;
    notStarted = -1;
    input.onAllStarted?.();
  };
  const started = (): void => {
    if (--notStarted === 0) allStarted();
  };

  const run = (g: Gatherer<Deps, Sections>): Promise<boolean> => {
    const existing = settled.get(g.section);
    if (existing) return existing;
    const p = (async () => {
      for (const need of g.needs) {
        const dep = byName.get(need);
        const ok = dep ? await run(dep) : false;
        if (!ok) {
          gaps.push({ section: g.section, reason: `needs ${need}, which is unavailable` });
          started();
          return false;
        }
      }
      if (controller.signal.aborted) {
        gaps.push({ section: g.section, reason: 'deadline reached before it could start' });
        started();
        return false;
      }
      const missing = g.missing(input.finding, sections);
      if (missing !== null) {
        gaps.push({ section: g.section, reason: missing });
        started();
        return false;
      }
      const startedAt = performance.now();
      try {
        let gathering: ReturnType<typeof g.gather>;
        try {
          gathering = g.gather({
            finding: input.finding,
            signal: controller.signal,
            deps: input.deps,
            sections,
            addGap: (reason) => gaps.push({ section: g.section, reason: cleanLine(reason, 300) }),
          });
        } finally {
          started();
        }
        const value = await gathering;
        timingsMs[g.section] = Math.round(performance.now() - startedAt);
        if (controller.signal.aborted) throw new GatherGap('deadline reached');
        sections[g.section] = value;
        return true;
      } catch (err) {
        timingsMs[g.section] = Math.round(performance.now() - startedAt);
        gaps.push({ section: g.section, reason: controller.signal.aborted ? `deadline of ${input.deadlineMs} ms reached` : gapReason(err) });
        return false;
      }
    })();
    settled.set(g.section, p);
    return p;
  };

  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      controller.abort(new Error('deadline'));
      resolve();
    }, input.deadlineMs);
  });
  try {
    await Promise.race([Promise.all(gatherers.map(run)), deadline]);
  } finally {
    allStarted();
    clearTimeout(timer);
    input.parentSignal?.removeEventListener('abort', onParentAbort);
  }
  if (controller.signal.aborted) {
    // Gatherers still running at the deadline: record them as gaps now, ignore whatever they deliver later.
    for (const g of gatherers) {
      if (!(g.section in sections) && !gaps.some((x) => x.section === g.section)) {
        gaps.push({ section: g.section, reason: `deadline of ${input.deadlineMs} ms reached` });
      }
    }
  }
  return { sections: { ...sections }, gaps: [...gaps], timingsMs };
}
