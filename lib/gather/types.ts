/**
 * The gatherer contract. A gatherer is one file: what it needs from the
 * finding, which other gatherers it waits for, the API and IAM permissions
 * it uses, and gather(). It returns its report section or throws; the runner
 * (lib/gather/runner.ts) turns throws, denials and timeouts into gaps, so a
 * gatherer never decides what a failure means for the notification.
 */
import type { SocatFinding } from '../finding/types.js';

export interface Gap {
  section: string;
  reason: string;
}

/** Thrown by a gatherer for an expected absence (e.g. the pod is already gone); the gap says why. */
export class GatherGap extends Error {
  override name = 'GatherGap';
}

export interface GatherContext<Deps, Sections> {
  finding: SocatFinding;
  /** Aborted at the shared deadline; pass it to every client call that takes one. */
  signal: AbortSignal;
  /** Injected services (clients, caches, clock, settings). */
  deps: Deps;
  /** Results of the gatherers named in `needs`, already resolved. */
  sections: Partial<Sections>;
  /** Records a gap for this section while still returning a (degraded) result, e.g. a pod already gone. */
  addGap(reason: string): void;
}

export interface Gatherer<Deps, Sections, K extends keyof Sections & string = keyof Sections & string> {
  section: K;
  description: string;
  /** Other sections this one waits for; their failure becomes this one's gap. */
  needs: readonly (keyof Sections & string)[];
  /** The API method(s) called, for the README catalog. */
  api: string;
  permissions: readonly string[];
  enabledByDefault: boolean;
  /** Null when the finding carries what gather() needs; otherwise the gap reason. */
  missing(finding: SocatFinding, sections: Partial<Sections>): string | null;
  gather(ctx: GatherContext<Deps, Sections>): Promise<Sections[K]>;
}
