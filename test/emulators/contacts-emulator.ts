/**
 * A local Essential Contacts API (google.cloud.essentialcontacts.v1) over
 * real gRPC, for tests, the demo and benchmarks. The real
 * `v1.EssentialContactsServiceClient` talks to it unchanged
 * (createContactsClient({contactsEmulatorHost: emulator.endpoint})). It loads
 * the protos that @google-cloud/essential-contacts ships, with the includes
 * of the google-gax 2.x copy that package bundles.
 *
 * ComputeContacts and ListContacts are implemented; every other RPC answers
 * UNIMPLEMENTED (and is logged), so code that starts depending on another
 * method fails loudly here instead of silently in production.
 *
 * What it mirrors from the real API (service.proto, enums.proto and the
 * "Manage Essential Contacts" guide):
 * - parents are projects/P, folders/F or organizations/O; for projects the
 *   guide says only the numeric project number is accepted ("Alphanumeric
 *   project IDs are not supported"), so a project id is INVALID_ARGUMENT
 *   unless the emulator is started with acceptProjectIds;
 * - ComputeContacts returns the resource's own contacts and those inherited
 *   from its folders and organization, filtered by notification category; a
 *   contact subscribed to ALL matches every category, and ALL in the request
 *   matches every contact;
 * - inherited contacts only come from ancestors the caller may read ("you can
 *   also view contacts inherited from its ancestor if you have the
 *   corresponding permissions for the ancestor"): deny() on an ancestor drops
 *   its contacts silently, deny() on the resource asked for is
 *   PERMISSION_DENIED;
 * - page_size: non-positive values are ignored (proto), the maximum is 100.
 * Where Google documents nothing, the emulator picks a deterministic
 * behaviour and says so in a comment (marked UNVERIFIED).
 */
import { Status, GrpcEmulator, RpcError, clientProtoIncludeDirs, invalidArgument, loadProtos, type FaultSpec, type LoadedProtos, type RequestLogEntry } from './grpc-harness.js';

export type { FaultSpec, RequestLogEntry } from './grpc-harness.js';

const PACKAGE = 'google.cloud.essentialcontacts.v1';
const SERVICE = `${PACKAGE}.EssentialContactsService`;
const CONTACT_TYPE = `${PACKAGE}.Contact`;

/** The RPCs this emulator implements; every other one answers UNIMPLEMENTED. */
export const IMPLEMENTED_RPCS = ['ComputeContacts', 'ListContacts'] as const;

/** The permission both implemented RPCs check (the guide's "To view contacts"). */
export const LIST_PERMISSION = 'essentialcontacts.contacts.list';

export const NOTIFICATION_CATEGORIES = ['ALL', 'SUSPENSION', 'SECURITY', 'TECHNICAL', 'BILLING', 'LEGAL', 'PRODUCT_UPDATES', 'TECHNICAL_INCIDENTS'] as const;
export type NotificationCategoryName = (typeof NOTIFICATION_CATEGORIES)[number];

/** The guide gives 50 as the default page size; service.proto says 100. The guide is the newer text. */
export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 100;

type Obj = Record<string, any>;

let sharedProtos: LoadedProtos | null = null;

function contactsProtos(): LoadedProtos {
  sharedProtos ??= loadProtos(['google/cloud/essentialcontacts/v1/service.proto'], clientProtoIncludeDirs('@google-cloud/essential-contacts'));
  return sharedProtos;
}

export interface ContactSeed {
  email: string;
  categories: NotificationCategoryName[];
  /** Default "en". */
  languageTag?: string;
  /** Default VALID, as the API gives new contacts. */
  validationState?: 'VALID' | 'INVALID';
  /** RFC 3339; defaults to the seeding time. */
  validateTime?: string;
}

export interface ProjectSeed {
  /** The project number: the form the API documents for project parents. */
  projectNumber: string;
  /** The project id; accepted as a parent only when the emulator runs with acceptProjectIds. */
  projectId?: string;
  /** Folder ids the project sits in, its direct parent first, up to the top-level folder. */
  folders?: string[];
  /** Organization id; omitted or null for a project outside any organization. */
  organization?: string | null;
}

export interface ContactsEmulatorOptions {
  /** Loopback by default. */
  host?: string;
  port?: number;
  /**
   * Treat projects/PROJECT_ID like projects/PROJECT_NUMBER for seeded
   * projects. Off by default, following the guide; for trying out what a
   * gatherer does if the live API turns out to be lenient.
   */
  acceptProjectIds?: boolean;
  now?: () => Date;
}

/** A contact as the API returns it (client object shape). */
export interface StoredContact {
  name: string;
  email: string;
  notificationCategorySubscriptions: NotificationCategoryName[];
  languageTag: string;
  validationState: 'VALID' | 'INVALID';
  validateTime: { seconds: string; nanos?: number };
}

export interface ContactsEmulator {
  /** 127.0.0.1:PORT, for createContactsClient({contactsEmulatorHost}). */
  readonly endpoint: string;
  readonly port: number;

  /** Places a project in the resource hierarchy; re-seeding replaces its ancestry (its contacts stay). */
  seedProject(seed: ProjectSeed): void;
  /**
   * Adds a contact to projects/N, folders/F or organizations/O (by number;
   * a seeded project's id is accepted too). Returns it as the API returns it.
   */
  addContact(resource: string, contact: ContactSeed): StoredContact;
  /** The caller lacks essentialcontacts.contacts.list on the resource. */
  deny(resource: string): void;

  /** Every call received, oldest first. */
  readonly requestLog: readonly RequestLogEntry[];
  requests(method?: string): RequestLogEntry[];
  clearRequestLog(): void;
  /** Delay calls of one RPC ("ComputeContacts") or of all ("*"); 0 removes it. */
  setLatency(method: string, ms: number): void;
  /** Fail the next N calls of an RPC with the given gRPC status. */
  injectFault(method: string, fault: FaultSpec): void;
  clearFaults(): void;
  /** Drops the hierarchy, contacts, denials, log entries, faults and latencies. */
  reset(): void;
  stop(): Promise<void>;
}

const PARENT = /^(projects|folders|organizations)\/([^/]+)$/;
const NUMERIC = /^\d+$/;

function permissionDenied(resource: string): RpcError {
  // Google's usual wording, which also does not reveal whether the resource exists.
  return new RpcError(Status.PERMISSION_DENIED, `Permission '${LIST_PERMISSION}' denied on resource '//cloudresourcemanager.googleapis.com/${resource}' (or it may not exist).`);
}

function pageSizeOf(request: Obj): number {
  const size = typeof request.pageSize === 'number' ? request.pageSize : 0;
  if (size <= 0) return DEFAULT_PAGE_SIZE;
  // UNVERIFIED: the guide gives 100 as the maximum but not what a larger value does; AIP-158 says coerce, so it does.
  return Math.min(size, MAX_PAGE_SIZE);
}

/** Page tokens bind the parameters they were issued for, as the proto asks callers to keep them identical. */
function pageToken(binding: string, offset: number): string {
  return Buffer.from(JSON.stringify({ b: binding, o: offset }), 'utf8').toString('base64url');
}

function offsetOf(token: unknown, binding: string): number {
  if (typeof token !== 'string' || token === '') return 0;
  let parsed: { b?: unknown; o?: unknown };
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { b?: unknown; o?: unknown };
  } catch {
    throw invalidArgument('Invalid page_token.');
  }
  if (typeof parsed.o !== 'number' || !Number.isInteger(parsed.o) || parsed.o < 0) throw invalidArgument('Invalid page_token.');
  // UNVERIFIED: the exact status for a token reused with other parameters; INVALID_ARGUMENT is the common one.
  if (parsed.b !== binding) throw invalidArgument('page_token does not match the other parameters of the request that returned it.');
  return parsed.o;
}

function page<T>(items: T[], request: Obj, binding: string): { items: T[]; nextPageToken: string } {
  const size = pageSizeOf(request);
  const offset = offsetOf(request.pageToken, binding);
  const slice = items.slice(offset, offset + size);
  const next = offset + size < items.length ? pageToken(binding, offset + size) : '';
  return { items: slice, nextPageToken: next };
}

function timestamp(iso: string): { seconds: string; nanos: number } {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new Error(`not an RFC 3339 time: ${JSON.stringify(iso)}`);
  return { seconds: String(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1_000_000 };
}

export async function startContactsEmulator(options: ContactsEmulatorOptions = {}): Promise<ContactsEmulator> {
  const protoSet = contactsProtos();
  const now = options.now ?? (() => new Date());
  /** Child resource → its parent, e.g. projects/1 → folders/2 → organizations/3. */
  const parentOf = new Map<string, string>();
  /** Project id → projects/NUMBER. */
  const projectIds = new Map<string, string>();
  const known = new Set<string>();
  const contacts = new Map<string, StoredContact[]>();
  const denied = new Set<string>();
  let nextContactId = 1;

  /** The canonical resource (projects/NUMBER, folders/F, organizations/O) a request's parent names. */
  function resolve(parent: unknown, field: string): string {
    if (typeof parent !== 'string' || parent === '') throw invalidArgument(`${field} is required.`);
    const m = PARENT.exec(parent);
    // UNVERIFIED: the live API's INVALID_ARGUMENT texts are undocumented; these name the accepted forms.
    if (!m) throw invalidArgument(`Invalid ${field} ${JSON.stringify(parent)}: expected organizations/{organization_id}, folders/{folder_id} or projects/{project_number}.`);
    const [, kind, id] = m as unknown as [string, string, string];
    if (NUMERIC.test(id)) return parent;
    if (kind === 'projects') {
      const byId = options.acceptProjectIds ? projectIds.get(id) : undefined;
      if (byId) return byId;
      throw invalidArgument(`Invalid ${field} ${JSON.stringify(parent)}: project IDs are not supported, use the project number.`);
    }
    throw invalidArgument(`Invalid ${field} ${JSON.stringify(parent)}: ${kind === 'folders' ? 'folder' : 'organization'} IDs are numeric.`);
  }

  /** Read check on the resource asked for; unknown resources look the same as denied ones, as with Google's APIs. */
  function checkReadable(resource: string): void {
    if (denied.has(resource) || !known.has(resource)) throw permissionDenied(resource);
  }

  function lineage(resource: string): string[] {
    const chain = [resource];
    const seen = new Set(chain);
    for (let up = parentOf.get(resource); up !== undefined && !seen.has(up); up = parentOf.get(up)) {
      chain.push(up);
      seen.add(up);
    }
    return chain;
  }

  function categoriesOf(request: Obj): string[] {
    const raw: unknown[] = Array.isArray(request.notificationCategories) ? request.notificationCategories : [];
    // UNVERIFIED: what an empty list does is undocumented (gcloud always sends one); refusing it keeps callers explicit.
    if (raw.length === 0) throw invalidArgument('notification_categories must name at least one category.');
    return raw.map(String);
  }

  function matches(contact: StoredContact, wanted: readonly string[]): boolean {
    if (wanted.includes('ALL')) return true;
    return contact.notificationCategorySubscriptions.some((c) => c === 'ALL' || wanted.includes(c));
  }

  const server = await GrpcEmulator.start({
    host: options.host,
    port: options.port,
    services: [
      {
        definition: protoSet.service(SERVICE),
        handlers: {
          ComputeContacts(request: Obj) {
            const resource = resolve(request.parent, 'parent');
            const wanted = categoriesOf(request);
            checkReadable(resource);
            const all = lineage(resource)
              .filter((r, i) => i === 0 || !denied.has(r))
              .flatMap((r) => contacts.get(r) ?? [])
              .filter((c) => matches(c, wanted));
            const binding = `compute|${resource}|${[...wanted].sort().join(',')}`;
            const p = page(all, request, binding);
            return { contacts: structuredClone(p.items), nextPageToken: p.nextPageToken };
          },
          ListContacts(request: Obj) {
            const resource = resolve(request.parent, 'parent');
            checkReadable(resource);
            const p = page(contacts.get(resource) ?? [], request, `list|${resource}`);
            return { contacts: structuredClone(p.items), nextPageToken: p.nextPageToken };
          },
        },
      },
    ],
  });

  function canonicalSeedResource(resource: string): string {
    const m = PARENT.exec(resource);
    if (!m) throw new Error(`not a projects/N, folders/F or organizations/O name: ${JSON.stringify(resource)}`);
    const [, kind, id] = m as unknown as [string, string, string];
    if (NUMERIC.test(id)) return resource;
    const byId = kind === 'projects' ? projectIds.get(id) : undefined;
    if (!byId) throw new Error(`${resource}: seed with the number${kind === 'projects' ? ' (or seedProject the id first)' : ''}`);
    return byId;
  }

  return {
    endpoint: server.endpoint,
    port: server.port,
    seedProject(seed) {
      if (!NUMERIC.test(seed.projectNumber)) throw new Error(`seedProject: projectNumber must be numeric, got ${JSON.stringify(seed.projectNumber)}`);
      const ancestors = [...(seed.folders ?? []).map((f) => `folders/${f}`), ...(seed.organization ? [`organizations/${seed.organization}`] : [])];
      for (const a of ancestors) {
        if (!NUMERIC.test(a.slice(a.indexOf('/') + 1))) throw new Error(`seedProject: folder and organization ids are numeric, got ${a}`);
      }
      const project = `projects/${seed.projectNumber}`;
      const chain = [project, ...ancestors];
      parentOf.delete(project);
      for (let i = 0; i < chain.length; i++) {
        known.add(chain[i] as string);
        if (i + 1 < chain.length) parentOf.set(chain[i] as string, chain[i + 1] as string);
      }
      if (seed.projectId !== undefined) projectIds.set(seed.projectId, project);
    },
    addContact(resource, contact) {
      const canonical = canonicalSeedResource(resource);
      if (!contact.email) throw new Error('addContact: email is required');
      if (contact.categories.length === 0) throw new Error('addContact: a contact needs at least one notification category');
      const unknown = contact.categories.filter((c) => !(NOTIFICATION_CATEGORIES as readonly string[]).includes(c));
      if (unknown.length > 0) throw new Error(`addContact: not notification categories: ${unknown.join(', ')}`);
      const stored = protoSet.roundTrip<StoredContact>(CONTACT_TYPE, {
        name: `${canonical}/contacts/${nextContactId++}`,
        email: contact.email,
        notificationCategorySubscriptions: contact.categories,
        languageTag: contact.languageTag ?? 'en',
        validationState: contact.validationState ?? 'VALID',
        validateTime: timestamp(contact.validateTime ?? now().toISOString()),
      });
      known.add(canonical);
      contacts.set(canonical, [...(contacts.get(canonical) ?? []), stored]);
      return structuredClone(stored);
    },
    deny(resource) {
      denied.add(canonicalSeedResource(resource));
    },
    get requestLog() {
      return server.requestLog;
    },
    requests: (method) => server.requests(method),
    clearRequestLog: () => server.clearRequestLog(),
    setLatency: (method, ms) => server.setLatency(method, ms),
    injectFault: (method, fault) => server.injectFault(method, fault),
    clearFaults: () => server.clearFaults(),
    reset() {
      parentOf.clear();
      projectIds.clear();
      known.clear();
      contacts.clear();
      denied.clear();
      nextContactId = 1;
      server.clearRequestLog();
      server.clearFaults();
      server.clearLatency();
    },
    stop: () => server.stop(),
  };
}
