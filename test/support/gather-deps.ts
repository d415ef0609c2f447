/**
 * GatherDeps for gatherer tests: every client refuses until a test hands in
 * the real one it drives against an emulator, so a gatherer that reaches for
 * an API it does not declare fails loudly.
 */
import type { GatherDeps, GatherSettings } from '../../lib/gather/deps.js';
import { noCache } from '../../lib/gather/cache.js';

export const TEST_SETTINGS: GatherSettings = {
  relatedWindowMinutes: 60,
  logWindowBeforeMinutes: 30,
  logWindowAfterMinutes: 10,
  logEntriesMax: 100,
  logPagesMax: 5,
  logExcerptEntries: 5,
  logLineMaxChars: 500,
};

const refuse = (what: string) => () => Promise.reject(new Error(`${what} is not used by the gatherer under test`));

export function testGatherDeps(overrides: Partial<Omit<GatherDeps, 'settings'>> & { settings?: Partial<GatherSettings> } = {}): GatherDeps {
  const { settings, ...rest } = overrides;
  return {
    now: () => new Date('2026-11-27T03:00:00Z'),
    ownSourceName: null,
    scc: refuse('SCC'),
    gke: refuse('GKE'),
    logging: refuse('Cloud Logging'),
    kube: refuse('Kubernetes'),
    contacts: refuse('Essential Contacts'),
    cache: noCache,
    ...rest,
    settings: { ...TEST_SETTINGS, ...settings },
  };
}
