/**
 * Whom to call (playbook Step 7, "Contact the owner of the project"): the
 * owner-like labels and annotations of the workload, its namespace and the
 * cluster, and the project's Essential Contacts for security. Pure: it only
 * picks from what the gatherers found and never guesses a person.
 *
 * Values stay as the cluster holds them (untrusted text): rendering cleans
 * and caps them.
 */
import type { ContactsSection } from '../gather/contacts.js';
import { ownerLabels } from '../gather/cluster.js';
import type { NamespaceSection } from '../gather/namespace.js';
import type { ClusterSection, PodSection } from '../gather/sections.js';
import type { Contact, OwnerHint, Owners } from './types.js';

export interface OwnersInput {
  cluster: ClusterSection | null;
  namespace: NamespaceSection | null;
  pod: PodSection | null;
  contacts: ContactsSection | null;
}

/** Per scope: a namespace with dozens of owner-like keys is noise past this. */
export const MAX_HINTS_PER_SCOPE = 10;
export const MAX_CONTACTS = 20;

/** The categories a contact must have to be asked about a security incident; ALL includes SECURITY. */
const SECURITY_CATEGORIES = new Set(['SECURITY', 'ALL']);

type Scope = OwnerHint['scope'];

/**
 * The workload's labels: the top-level owner's (the Deployment, StatefulSet,
 * CronJob... someone deployed), else the nearest owner that has any (an
 * owner the pod gatherer could not read has none), else the pod's own.
 */
function workloadLabels(pod: PodSection): Record<string, string> {
  for (let i = pod.owners.length - 1; i >= 0; i--) {
    const labels = pod.owners[i]?.labels ?? {};
    if (Object.keys(labels).length > 0) return labels;
  }
  return pod.labels;
}

/** Owner-like entries of one scope: labels before annotations, keys sorted, empty values dropped. */
function scopeHints(scope: Scope, ...maps: Record<string, string>[]): OwnerHint[] {
  const hints: OwnerHint[] = [];
  for (const map of maps) {
    const picked = ownerLabels(map);
    for (const key of Object.keys(picked).sort()) {
      const value = picked[key] as string;
      if (value.trim() !== '') hints.push({ scope, key, value });
    }
  }
  return hints;
}

/** The same key and value (case and surrounding blanks aside) says the same thing at any scope. */
function hintIdentity(h: OwnerHint): string {
  return `${h.key.trim().toLowerCase()}\u0000${h.value.trim().toLowerCase()}`;
}

/**
 * Most specific scope first: the workload's team knows the workload, the
 * cluster's owner only the platform. A broader scope repeating a key and
 * value already seen adds nothing and is dropped.
 */
function collectHints(input: OwnersInput): OwnerHint[] {
  const scopes: OwnerHint[][] = [
    input.pod ? scopeHints('workload', workloadLabels(input.pod), input.pod.annotations) : [],
    input.namespace ? scopeHints('namespace', input.namespace.labels, input.namespace.annotations) : [],
    input.cluster ? scopeHints('cluster', input.cluster.labels) : [],
  ];
  const seen = new Set<string>();
  const out: OwnerHint[] = [];
  for (const hints of scopes) {
    let kept = 0;
    for (const h of hints) {
      const id = hintIdentity(h);
      if (seen.has(id) || kept >= MAX_HINTS_PER_SCOPE) continue;
      seen.add(id);
      out.push(h);
      kept += 1;
    }
  }
  return out;
}

/**
 * One entry per address (compared case-insensitively; the same person is
 * often set on the project and inherited from the organization), categories
 * merged. Contacts subscribed to SECURITY itself come before ALL-only ones,
 * who receive everything and are less likely to be the security team.
 */
function collectContacts(section: ContactsSection | null): Contact[] {
  if (!section) return [];
  const byEmail = new Map<string, Contact>();
  for (const c of section.contacts) {
    const email = c.email.trim();
    if (email === '' || !c.categories.some((x) => SECURITY_CATEGORIES.has(x))) continue;
    const id = email.toLowerCase();
    const existing = byEmail.get(id);
    if (existing) {
      for (const cat of c.categories) if (!existing.categories.includes(cat)) existing.categories.push(cat);
    } else {
      byEmail.set(id, { email, categories: [...c.categories] });
    }
  }
  const merged = [...byEmail.values()];
  const security = merged.filter((c) => c.categories.includes('SECURITY'));
  const allOnly = merged.filter((c) => !c.categories.includes('SECURITY'));
  return [...security, ...allOnly].slice(0, MAX_CONTACTS);
}

export function collectOwners(input: OwnersInput): Owners {
  return { hints: collectHints(input), contacts: collectContacts(input.contacts) };
}
