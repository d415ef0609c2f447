/**
 * Playbook Step 7, "Contact the owner of the project": the project's
 * Essential Contacts for security notifications, from
 * EssentialContactsService.ComputeContacts. Compute (not List) is used
 * because it includes the contacts the project inherits from its folders and
 * organization, which is where most companies keep their security contacts.
 *
 * Asking for SECURITY also returns contacts subscribed to ALL: per the API,
 * ALL means every category, including ones added later. Inherited contacts
 * only come back from ancestors on which the caller may list contacts, so
 * the role must be granted on the folders and organization too, not only on
 * the project.
 */
import type { protos } from '@google-cloud/essential-contacts';
import type { ContactsClient } from '../clients.js';
import { describeError } from '../errors.js';
import type { Contact } from '../decide/types.js';
import type { GatherDeps } from './deps.js';
import type { GatheredSections } from './sections.js';
import { untilAborted } from './abort.js';
import { DROPPED_CONNECTION_RETRY, retry } from '../retry.js';
import { GatherGap, type Gatherer } from './types.js';


export interface ContactsSection {
  /** The project the contacts were computed for, as the finding names it. */
  project: string;
  contacts: Contact[];
}


/** The wire value of NotificationCategory.SECURITY (enums.proto). */
const SECURITY = 5 as protos.google.cloud.essentialcontacts.v1.NotificationCategory.SECURITY;

// Enum names for numbers: the client decodes enums as names, but a value
// newer than its protos arrives as a bare number.
export const NOTIFICATION_CATEGORY_NAMES: Readonly<Record<number, string>> = {
  0: 'NOTIFICATION_CATEGORY_UNSPECIFIED',
  2: 'ALL',
  3: 'SUSPENSION',
  5: 'SECURITY',
  6: 'TECHNICAL',
  7: 'BILLING',
  8: 'LEGAL',
  9: 'PRODUCT_UPDATES',
  10: 'TECHNICAL_INCIDENTS',
};

/** The documented maximum page size of ComputeContacts. */
export const CONTACTS_PAGE_SIZE = 100;
/** A project with more security contacts than this is misconfigured; the rest would not be called anyway. */
export const CONTACTS_MAX_PAGES = 3;
/**
 * Same policy as GetCluster (lib/gather/cluster.ts): only UNAVAILABLE is
 * retried, by us and a few times. The client's own config marks
 * ComputeContacts non-idempotent, so it never retries it.
 */
export const COMPUTE_CONTACTS_ATTEMPTS = 3;
/** Per call. The shared deadline usually cuts a slow call off first; this bounds the call left running after that. */
export const COMPUTE_CONTACTS_TIMEOUT_MS = 10_000;
const INVALID_ARGUMENT = 3;

export function contactsParent(project: string): string {
  return `projects/${project}`;
}

function categoryName(v: unknown): string | null {
  if (typeof v === 'number') return NOTIFICATION_CATEGORY_NAMES[v] ?? String(v);
  return typeof v === 'string' && v !== '' ? v : null;
}

export function toContact(contact: protos.google.cloud.essentialcontacts.v1.IContact): Contact | null {
  const email = typeof contact.email === 'string' ? contact.email : '';
  if (email === '') return null;
  const categories = (contact.notificationCategorySubscriptions ?? []).map(categoryName).filter((c): c is string => c !== null);
  return { email, categories };
}

interface Computed {
  contacts: Contact[];
  truncated: boolean;
}

async function computePage(client: ContactsClient, request: protos.google.cloud.essentialcontacts.v1.IComputeContactsRequest) {
  const [, , response] = await retry(() => client.computeContacts(request, { autoPaginate: false, timeout: COMPUTE_CONTACTS_TIMEOUT_MS }), {
    ...DROPPED_CONNECTION_RETRY,
    attempts: COMPUTE_CONTACTS_ATTEMPTS,
  });
  return response;
}

/**
 * Not tied to any one invocation's signal: the promise is shared through the
 * cache by concurrent triages of the same project (see loadCluster).
 */
async function loadContacts(deps: GatherDeps, parent: string): Promise<Computed> {
  const client = await deps.contacts();
  const contacts: Contact[] = [];
  let pageToken = '';
  for (let page = 1; ; page++) {
    const response = await computePage(client, { parent, notificationCategories: [SECURITY], pageSize: CONTACTS_PAGE_SIZE, ...(pageToken ? { pageToken } : {}) });
    for (const c of response?.contacts ?? []) {
      const contact = toContact(c);
      if (contact) contacts.push(contact);
    }
    pageToken = response?.nextPageToken ?? '';
    if (pageToken === '') return { contacts, truncated: false };
    if (page >= CONTACTS_MAX_PAGES) return { contacts, truncated: true };
  }
}

function abortedGap(signal: AbortSignal): GatherGap {
  const reason = signal.reason instanceof Error ? `: ${signal.reason.message}` : '';
  return new GatherGap(`stopped waiting for ComputeContacts${reason}`);
}

export const contactsGatherer: Gatherer<GatherDeps, GatheredSections, 'contacts'> = {
  section: 'contacts',
  description: "The project's Essential Contacts for security notifications, including those inherited from its folders and organization (playbook Step 7: contact the owner of the project).",
  needs: [],
  api: 'essentialcontacts.googleapis.com EssentialContactsService.ComputeContacts',
  // Google documents no permission of its own for compute; reading contacts takes contacts.list (roles/essentialcontacts.viewer).
  permissions: ['essentialcontacts.contacts.list'],
  enabledByDefault: true,
  missing(finding) {
    if (finding.cluster === null) return "the finding's resource is not a GKE cluster, so its project is unknown";
    return null;
  },
  async gather(ctx) {
    // Essential Contacts documents project numbers only; the id is tried when the finding carries no number.
    const project = ctx.finding.projectNumber ?? ctx.finding.cluster?.project;
    if (!project) throw new GatherGap("the finding's resource is not a GKE cluster, so its project is unknown");
    if (ctx.signal.aborted) throw abortedGap(ctx.signal);
    const parent = contactsParent(project);
    let computed: Computed;
    try {
      computed = await untilAborted(
        ctx.deps.cache.memo('contacts', parent, () => loadContacts(ctx.deps, parent)),
        ctx.signal,
        () => abortedGap(ctx.signal),
      );
    } catch (err) {
      // Google documents that the project must be given by number; findings name it by id.
      if ((err as { code?: unknown })?.code === INVALID_ARGUMENT && !/^\d+$/.test(project)) {
        throw new GatherGap(`Essential Contacts rejected ${parent}, which names the project by id where the API documents a project number: ${describeError(err)}`);
      }
      throw err;
    }
    if (computed.truncated) ctx.addGap(`more than ${CONTACTS_PAGE_SIZE * CONTACTS_MAX_PAGES} contacts; only the first ${computed.contacts.length} were read`);
    // The cached value is shared by every triage in this instance: hand out a copy.
    return { project, contacts: structuredClone(computed.contacts) };
  },
};
