/**
 * The contacts gatherer: the real EssentialContactsServiceClient (the
 * package's bundled google-gax 2.x and grpc-js 1.6, as production loads them)
 * against the Essential Contacts emulator, through runGatherers (gaps,
 * deadline, cache); then the emulator's own API rules through the same client.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { createContactsClient, type ContactsClient } from '../../lib/clients.js';
import { parseNotification } from '../../lib/finding/parse.js';
import type { SocatFinding } from '../../lib/finding/types.js';
import { createInstanceCache, noCache, type InstanceCache } from '../../lib/gather/cache.js';
import {
  CONTACTS_MAX_PAGES,
  CONTACTS_PAGE_SIZE,
  COMPUTE_CONTACTS_ATTEMPTS,
  NOTIFICATION_CATEGORY_NAMES,
  contactsGatherer,
  toContact,
} from '../../lib/gather/contacts.js';
import type { GatherDeps } from '../../lib/gather/deps.js';
import type { GatheredSections } from '../../lib/gather/sections.js';
import { runGatherers } from '../../lib/gather/runner.js';
import { startContactsEmulator, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, NOTIFICATION_CATEGORIES, type ContactsEmulator } from '../emulators/contacts-emulator.js';
import { Status } from '../emulators/grpc-harness.js';
import { notificationFixture } from '../support/fixtures.js';
import { testGatherDeps } from '../support/gather-deps.js';

const PROJECT_NUMBER = '987654321098';
const PROJECT_ID = 'shop-prod-4711';
const FOLDER = '556677889900';
const PARENT_FOLDER = '556677880000';
const ORG = '123456789012';

const fixture = parseNotification(notificationFixture('socat-v2'));
/** The fixture's cluster, named by project number (as Essential Contacts documents it wants). */
const finding: SocatFinding = { ...fixture, cluster: { ...(fixture.cluster as NonNullable<SocatFinding['cluster']>), project: PROJECT_NUMBER } };

let emulator: ContactsEmulator;
let client: ContactsClient;

beforeAll(async () => {
  emulator = await startContactsEmulator({ now: () => new Date('2026-11-01T00:00:00Z') });
  client = await createContactsClient({ contactsEmulatorHost: emulator.endpoint });
});

afterAll(async () => {
  await client.close();
  await emulator.stop();
});

beforeEach(() => {
  emulator.reset();
  emulator.seedProject({ projectNumber: PROJECT_NUMBER, projectId: PROJECT_ID, folders: [FOLDER, PARENT_FOLDER], organization: ORG });
});

function deps(options: { cache?: InstanceCache } = {}): GatherDeps {
  return testGatherDeps({
    settings: { relatedWindowMinutes: 60, logWindowBeforeMinutes: 30, logWindowAfterMinutes: 10, logEntriesMax: 100, logPagesMax: 5, logExcerptEntries: 5, logLineMaxChars: 500 },
    now: () => new Date('2026-11-27T02:45:00Z'),
    ownSourceName: null,
    contacts: async () => client,
    cache: options.cache ?? noCache,
  });
}

function run(opts: { deps?: GatherDeps; deadlineMs?: number; finding?: SocatFinding } = {}) {
  return runGatherers<GatherDeps, GatheredSections>([contactsGatherer], {
    finding: opts.finding ?? finding,
    deps: opts.deps ?? deps(),
    deadlineMs: opts.deadlineMs ?? 10_000,
  });
}

function computeCalls() {
  return emulator.requests('ComputeContacts');
}

describe('contactsGatherer', () => {
  it('declares what the README catalog and the IAM role are built from', () => {
    expect(contactsGatherer).toMatchObject({
      section: 'contacts',
      needs: [],
      api: 'essentialcontacts.googleapis.com EssentialContactsService.ComputeContacts',
      permissions: ['essentialcontacts.contacts.list'],
      enabledByDefault: true,
    });
  });

  it("computes the project's SECURITY contacts; ALL subscribers come too, other categories do not", async () => {
    emulator.addContact(`projects/${PROJECT_NUMBER}`, { email: 'secops@shop.example', categories: ['SECURITY', 'TECHNICAL'] });
    emulator.addContact(`projects/${PROJECT_NUMBER}`, { email: 'billing@shop.example', categories: ['BILLING'] });
    emulator.addContact(`projects/${PROJECT_NUMBER}`, { email: 'platform@shop.example', categories: ['ALL'] });
    const r = await run();
    expect(r.gaps).toEqual([]);
    expect(r.sections.contacts).toEqual({
      project: PROJECT_NUMBER,
      contacts: [
        { email: 'secops@shop.example', categories: ['SECURITY', 'TECHNICAL'] },
        { email: 'platform@shop.example', categories: ['ALL'] },
      ],
    });
    expect(computeCalls()).toHaveLength(1);
    expect(computeCalls()[0]?.request).toEqual({ parent: `projects/${PROJECT_NUMBER}`, notificationCategories: ['SECURITY'], pageSize: CONTACTS_PAGE_SIZE });
    // The client routes by parent, as against the real service.
    expect(computeCalls()[0]?.metadata['x-goog-request-params']).toBe(`parent=projects%2F${PROJECT_NUMBER}`);
  });

  it('includes contacts inherited from the folders and the organization, nearest first', async () => {
    emulator.addContact(`organizations/${ORG}`, { email: 'ciso@shop.example', categories: ['SECURITY'] });
    emulator.addContact(`folders/${PARENT_FOLDER}`, { email: 'prod-security@shop.example', categories: ['ALL'] });
    emulator.addContact(`folders/${FOLDER}`, { email: 'legal@shop.example', categories: ['LEGAL'] });
    emulator.addContact(`projects/${PROJECT_NUMBER}`, { email: 'checkout-oncall@shop.example', categories: ['SECURITY'] });
    const r = await run();
    expect(r.sections.contacts?.contacts.map((c) => c.email)).toEqual(['checkout-oncall@shop.example', 'prod-security@shop.example', 'ciso@shop.example']);
  });

  it('contacts of an ancestor the caller may not read are left out, without an error', async () => {
    emulator.addContact(`organizations/${ORG}`, { email: 'ciso@shop.example', categories: ['SECURITY'] });
    emulator.addContact(`projects/${PROJECT_NUMBER}`, { email: 'checkout-oncall@shop.example', categories: ['SECURITY'] });
    emulator.deny(`organizations/${ORG}`);
    const r = await run();
    expect(r.gaps).toEqual([]);
    expect(r.sections.contacts?.contacts.map((c) => c.email)).toEqual(['checkout-oncall@shop.example']);
  });

  it('a project without contacts gives an empty list, not a gap', async () => {
    const r = await run();
    expect(r.gaps).toEqual([]);
    expect(r.sections.contacts).toEqual({ project: PROJECT_NUMBER, contacts: [] });
  });

  it('PERMISSION_DENIED on the project becomes a permission-denied gap', async () => {
    emulator.addContact(`projects/${PROJECT_NUMBER}`, { email: 'secops@shop.example', categories: ['SECURITY'] });
    emulator.deny(`projects/${PROJECT_NUMBER}`);
    const r = await run();
    expect(r.sections.contacts).toBeUndefined();
    expect(r.gaps).toEqual([
      {
        section: 'contacts',
        reason: `permission denied: PERMISSION_DENIED: Permission 'essentialcontacts.contacts.list' denied on resource '//cloudresourcemanager.googleapis.com/projects/${PROJECT_NUMBER}' (or it may not exist).`,
      },
    ]);
  });

  it('UNAVAILABLE is retried; persisting, it becomes a gap', async () => {
    emulator.addContact(`projects/${PROJECT_NUMBER}`, { email: 'secops@shop.example', categories: ['SECURITY'] });
    emulator.injectFault('ComputeContacts', { code: Status.UNAVAILABLE, message: 'backend unavailable', times: 1 });
    const recovered = await run();
    expect(recovered.gaps).toEqual([]);
    expect(recovered.sections.contacts?.contacts).toHaveLength(1);
    expect(computeCalls().map((c) => c.code)).toEqual([Status.UNAVAILABLE, Status.OK]);

    emulator.clearRequestLog();
    emulator.injectFault('ComputeContacts', { code: Status.UNAVAILABLE, message: 'backend unavailable', times: COMPUTE_CONTACTS_ATTEMPTS });
    const r = await run();
    expect(r.sections.contacts).toBeUndefined();
    expect(r.gaps).toEqual([{ section: 'contacts', reason: 'UNAVAILABLE: backend unavailable' }]);
    expect(computeCalls()).toHaveLength(COMPUTE_CONTACTS_ATTEMPTS);
  });

  it('slower than the deadline: the runner returns at the deadline with a gap', async () => {
    emulator.addContact(`projects/${PROJECT_NUMBER}`, { email: 'secops@shop.example', categories: ['SECURITY'] });
    emulator.setLatency('ComputeContacts', 1_500);
    const cache = createInstanceCache({ maxEntries: 10, ttlSeconds: 600 });
    const r = await run({ deadlineMs: 300, deps: deps({ cache }) });
    expect(r.sections.contacts).toBeUndefined();
    expect(r.gaps).toEqual([{ section: 'contacts', reason: 'deadline of 300 ms reached' }]);
    // The abandoned call is bounded by its own timeout and still finishes: its late answer warms the cache for the next triage.
    const late = await cache.memo('contacts', `projects/${PROJECT_NUMBER}`, () => Promise.reject(new Error('expected the call still in flight')));
    expect(late).toEqual({ contacts: [{ email: 'secops@shop.example', categories: ['SECURITY'] }], truncated: false });
  });

  it('a project named by id is rejected as documented, and the gap says why', async () => {
    const byId: SocatFinding = { ...finding, projectNumber: null, cluster: { ...(finding.cluster as NonNullable<SocatFinding['cluster']>), project: PROJECT_ID } };
    const r = await run({ finding: byId });
    expect(r.sections.contacts).toBeUndefined();
    expect(r.gaps).toHaveLength(1);
    expect(r.gaps[0]?.reason).toMatch(
      new RegExp(`^Essential Contacts rejected projects/${PROJECT_ID}, which names the project by id where the API documents a project number: INVALID_ARGUMENT: `),
    );
  });

  it('reads every page up to the cap', async () => {
    for (let i = 0; i < CONTACTS_PAGE_SIZE + 20; i++) emulator.addContact(`projects/${PROJECT_NUMBER}`, { email: `p${i}@shop.example`, categories: ['SECURITY'] });
    const r = await run();
    expect(r.gaps).toEqual([]);
    expect(r.sections.contacts?.contacts).toHaveLength(CONTACTS_PAGE_SIZE + 20);
    expect(computeCalls()).toHaveLength(2);
    expect(computeCalls()[1]?.request.pageToken).toEqual(expect.any(String));
  });

  it('past the page cap it keeps what it read and records a gap', async () => {
    const total = CONTACTS_PAGE_SIZE * CONTACTS_MAX_PAGES + 1;
    for (let i = 0; i < total; i++) emulator.addContact(`projects/${PROJECT_NUMBER}`, { email: `p${i}@shop.example`, categories: ['SECURITY'] });
    const r = await run();
    const read = CONTACTS_PAGE_SIZE * CONTACTS_MAX_PAGES;
    expect(r.sections.contacts?.contacts).toHaveLength(read);
    expect(r.gaps).toEqual([{ section: 'contacts', reason: `more than ${read} contacts; only the first ${read} were read` }]);
    expect(computeCalls()).toHaveLength(CONTACTS_MAX_PAGES);
  });

  it('the instance cache serves a second triage of the same project without a call, and hands out copies', async () => {
    emulator.addContact(`projects/${PROJECT_NUMBER}`, { email: 'secops@shop.example', categories: ['SECURITY'] });
    const cache = createInstanceCache({ maxEntries: 10, ttlSeconds: 600 });
    const first = await run({ deps: deps({ cache }) });
    (first.sections.contacts?.contacts[0] as { email: string }).email = 'changed@by.a.consumer';
    const second = await run({ deps: deps({ cache }) });
    expect(second.sections.contacts?.contacts).toEqual([{ email: 'secops@shop.example', categories: ['SECURITY'] }]);
    expect(computeCalls()).toHaveLength(1);
  });

  it('a failed call is not cached: the next triage asks again', async () => {
    emulator.addContact(`projects/${PROJECT_NUMBER}`, { email: 'secops@shop.example', categories: ['SECURITY'] });
    emulator.deny(`projects/${PROJECT_NUMBER}`);
    const cache = createInstanceCache({ maxEntries: 10, ttlSeconds: 600 });
    expect((await run({ deps: deps({ cache }) })).sections.contacts).toBeUndefined();
    emulator.reset();
    emulator.seedProject({ projectNumber: PROJECT_NUMBER });
    emulator.addContact(`projects/${PROJECT_NUMBER}`, { email: 'secops@shop.example', categories: ['SECURITY'] });
    expect((await run({ deps: deps({ cache }) })).sections.contacts?.contacts).toHaveLength(1);
  });

  it("a finding whose resource is not a GKE cluster is a gap without a call", async () => {
    const r = await run({ finding: { ...finding, cluster: null } });
    expect(r.gaps).toEqual([{ section: 'contacts', reason: "the finding's resource is not a GKE cluster, so its project is unknown" }]);
    expect(computeCalls()).toEqual([]);
  });

  it('maps enum numbers to names and drops contacts without an address', () => {
    expect(toContact({ email: 'a@b.example', notificationCategorySubscriptions: [5, 2] as never })).toEqual({ email: 'a@b.example', categories: ['SECURITY', 'ALL'] });
    expect(toContact({ email: '', notificationCategorySubscriptions: ['SECURITY'] as never })).toBeNull();
    // Every category the emulator (and so enums.proto) knows has a name here.
    for (const name of NOTIFICATION_CATEGORIES) expect(Object.values(NOTIFICATION_CATEGORY_NAMES)).toContain(name);
  });
});

describe('contacts emulator, through the real client', () => {
  it('a malformed parent, or a folder named by a non-number, is INVALID_ARGUMENT', async () => {
    for (const parent of ['', 'projects', 'projects/1/contacts', 'billingAccounts/1', 'folders/prod']) {
      await expect(client.computeContacts({ parent, notificationCategories: [5 as never] }, { autoPaginate: false })).rejects.toMatchObject({ code: Status.INVALID_ARGUMENT });
    }
  });

  it('an unknown project looks like a denied one', async () => {
    await expect(client.computeContacts({ parent: 'projects/111', notificationCategories: [5 as never] }, { autoPaginate: false })).rejects.toMatchObject({ code: Status.PERMISSION_DENIED });
  });

  it('computing for ALL returns every category; ListContacts returns only the resource’s own contacts', async () => {
    emulator.addContact(`organizations/${ORG}`, { email: 'ciso@shop.example', categories: ['SECURITY'] });
    emulator.addContact(`projects/${PROJECT_NUMBER}`, { email: 'billing@shop.example', categories: ['BILLING'], languageTag: 'de', validationState: 'INVALID' });
    const [computed] = await client.computeContacts({ parent: `projects/${PROJECT_NUMBER}`, notificationCategories: ['ALL' as never] }, { autoPaginate: false });
    expect(computed.map((c) => c.email)).toEqual(['billing@shop.example', 'ciso@shop.example']);
    const [listed] = await client.listContacts({ parent: `projects/${PROJECT_NUMBER}` }, { autoPaginate: false });
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({
      name: `projects/${PROJECT_NUMBER}/contacts/2`,
      email: 'billing@shop.example',
      notificationCategorySubscriptions: ['BILLING'],
      languageTag: 'de',
      validationState: 'INVALID',
      validateTime: { seconds: String(Date.parse('2026-11-01T00:00:00Z') / 1000) },
    });
  });

  it('page size: non-positive means the default, above the maximum is coerced down', async () => {
    for (let i = 0; i < MAX_PAGE_SIZE + 5; i++) emulator.addContact(`projects/${PROJECT_NUMBER}`, { email: `p${i}@shop.example`, categories: ['SECURITY'] });
    const ask = (pageSize: number) => client.computeContacts({ parent: `projects/${PROJECT_NUMBER}`, notificationCategories: [5 as never], pageSize }, { autoPaginate: false });
    expect((await ask(0))[0]).toHaveLength(DEFAULT_PAGE_SIZE);
    expect((await ask(-3))[0]).toHaveLength(DEFAULT_PAGE_SIZE);
    expect((await ask(MAX_PAGE_SIZE + 50))[0]).toHaveLength(MAX_PAGE_SIZE);
    const [, next] = await ask(7);
    expect(next?.pageToken).toEqual(expect.any(String));
  });

  it('a page token reused with other parameters, or garbled, is INVALID_ARGUMENT', async () => {
    for (let i = 0; i < 3; i++) emulator.addContact(`projects/${PROJECT_NUMBER}`, { email: `p${i}@shop.example`, categories: ['SECURITY'] });
    const [, next] = await client.computeContacts({ parent: `projects/${PROJECT_NUMBER}`, notificationCategories: [5 as never], pageSize: 1 }, { autoPaginate: false });
    const token = next?.pageToken as string;
    await expect(client.computeContacts({ parent: `projects/${PROJECT_NUMBER}`, notificationCategories: ['ALL' as never], pageToken: token }, { autoPaginate: false })).rejects.toMatchObject({ code: Status.INVALID_ARGUMENT });
    await expect(client.computeContacts({ parent: `projects/${PROJECT_NUMBER}`, notificationCategories: [5 as never], pageToken: 'garbage' }, { autoPaginate: false })).rejects.toMatchObject({ code: Status.INVALID_ARGUMENT });
  });

  it('an RPC it does not implement answers UNIMPLEMENTED and is logged', async () => {
    await expect(client.getContact({ name: `projects/${PROJECT_NUMBER}/contacts/1` })).rejects.toMatchObject({ code: Status.UNIMPLEMENTED });
    expect(emulator.requests('GetContact')).toHaveLength(1);
  });
});
