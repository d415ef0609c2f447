/**
 * What gatherers receive: clients (created lazily, once per instance, in
 * lib/clients.ts), the instance cache, the clock and their settings. Nothing
 * here is global; tests build it with clients pointed at the emulators.
 */
import type { ContactsClient, GkeClient, KubeAccess, KubeApis, LoggingClient, SccClient } from '../clients.js';
import type { InstanceCache } from './cache.js';
import type { EvidenceRecorder } from './evidence.js';

export interface GatherSettings {
  /** Related findings: ± this many minutes around the finding's eventTime. */
  relatedWindowMinutes: number;
  /** Log queries: from eventTime minus this... */
  logWindowBeforeMinutes: number;
  /** ...to eventTime plus this. */
  logWindowAfterMinutes: number;
  /** At most this many entries are read per log query, over all its pages. */
  logEntriesMax: number;
  /** At most this many ListLogEntries pages per log query. */
  logPagesMax: number;
  /** First and last this many entries are kept as excerpts. */
  logExcerptEntries: number;
  /** Each excerpt line is capped at this many characters. */
  logLineMaxChars: number;
}

export interface GatherDeps {
  settings: GatherSettings;
  now: () => Date;
  /** organizations/O/sources/S: our own source, whose findings are never "related". */
  ownSourceName: string | null;
  scc: () => Promise<SccClient>;
  gke: () => Promise<GkeClient>;
  logging: () => Promise<LoggingClient>;
  kube: (access: KubeAccess) => Promise<KubeApis>;
  contacts: () => Promise<ContactsClient>;
  cache: InstanceCache;
  /** Set by `triage --save-evidence`: receives what each gatherer read. */
  evidence?: EvidenceRecorder | null;
}
