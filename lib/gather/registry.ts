/**
 * Every gatherer, in one list: the runner, the README catalog, the IAM list
 * and the Terraform role are all checked against it (test/gather/registry.test.ts).
 */
import { GATHERER_SECTIONS } from '../config.js';
import { clusterGatherer } from './cluster.js';
import { contactsGatherer } from './contacts.js';
import type { GatherDeps } from './deps.js';
import { EVIDENCE_FILES } from './evidence.js';
import { auditLogs, nodeK8sLogs, nodeLogs, podLogs } from './logs.js';
import { namespaceGatherer } from './namespace.js';
import { nodeGatherer } from './node.js';
import { podGatherer } from './pod.js';
import { relatedFindingsGatherer } from './related-findings.js';
import type { GatheredSections } from './sections.js';
import type { Gatherer } from './types.js';

export type AnyGatherer = Gatherer<GatherDeps, GatheredSections>;

export const GATHERERS: readonly AnyGatherer[] = [
  relatedFindingsGatherer,
  clusterGatherer,
  nodeGatherer,
  podGatherer,
  podLogs,
  auditLogs,
  nodeLogs,
  nodeK8sLogs,
  namespaceGatherer,
  contactsGatherer,
];

/** The gatherers to run: enabled by default and not switched off by configuration. */
export function enabledGatherers(disabled: readonly string[]): AnyGatherer[] {
  return GATHERERS.filter((g) => g.enabledByDefault && !disabled.includes(g.section));
}

const EVIDENCE_SECTIONS: ReadonlySet<string> = new Set(Object.values(EVIDENCE_FILES));

/**
 * The gatherers whose reads are evidence files (lib/gather/evidence.ts), as
 * enabledGatherers picks them: what the responder re-gathers for capture
 * (lib/respond/regather.ts). The others (contacts) write no file, so leaving
 * them out changes no byte of the evidence and keeps their permissions off
 * the responder. None of them needs a gatherer outside this set.
 */
export function evidenceGatherers(disabled: readonly string[]): AnyGatherer[] {
  return enabledGatherers(disabled).filter((g) => EVIDENCE_SECTIONS.has(g.section));
}

/** Every gatherer an evidence file comes from, enabled by default or not: their permissions are the responder's (lib/permissions.ts). */
export const EVIDENCE_GATHERERS: readonly AnyGatherer[] = GATHERERS.filter((g) => EVIDENCE_SECTIONS.has(g.section));

/** Keeps GATHERER_SECTIONS (config) and the registry in step at compile time and in tests. */
export const REGISTERED_SECTIONS: readonly (typeof GATHERER_SECTIONS)[number][] = GATHERERS.map((g) => g.section as (typeof GATHERER_SECTIONS)[number]);
