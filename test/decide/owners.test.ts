/**
 * collectOwners: which labels and annotations count as owner hints, at which
 * scope, how duplicates and caps work, and how Essential Contacts are merged.
 */
import { describe, expect, it } from '@jest/globals';
import { MAX_CONTACTS, MAX_HINTS_PER_SCOPE, collectOwners, type OwnersInput } from '../../lib/decide/owners.js';
import type { ContactsSection } from '../../lib/gather/contacts.js';
import type { NamespaceSection } from '../../lib/gather/namespace.js';
import type { ClusterSection, OwnerRef, PodSection } from '../../lib/gather/sections.js';

function cluster(labels: Record<string, string>): ClusterSection {
  return {
    location: 'us-central1',
    locationType: 'regional',
    status: 'RUNNING',
    currentMasterVersion: null,
    labels,
    ownerLabels: {},
    network: null,
    subnetwork: null,
    podCidr: null,
    servicesCidr: null,
    networkPolicyEnforced: null,
    workloadIdentityPool: null,
    privateEndpoint: null,
    loggingComponents: null,
    nodePool: null,
    consoleUrl: null,
    controlPlanePath: null,
    controlPlaneUnreachable: null,
    access: null,
  };
}

function namespace(labels: Record<string, string>, annotations: Record<string, string> = {}): NamespaceSection {
  return { name: 'shop', labels, annotations };
}

function pod(o: { labels?: Record<string, string>; annotations?: Record<string, string>; owners?: OwnerRef[]; source?: PodSection['source'] } = {}): PodSection {
  return {
    source: o.source ?? 'kubernetes',
    namespace: 'shop',
    name: 'checkout-7d9fb6c5d4-x2lqp',
    phase: 'Running',
    startTime: null,
    labels: o.labels ?? {},
    annotations: o.annotations ?? {},
    serviceAccount: null,
    node: null,
    containers: [],
    redFlags: [],
    owners: o.owners ?? [],
    consoleUrl: null,
  };
}

function contacts(...list: ContactsSection['contacts']): ContactsSection {
  return { project: '987654321098', contacts: list };
}

const none: OwnersInput = { cluster: null, namespace: null, pod: null, contacts: null };

describe('collectOwners: hints', () => {
  it.each<[string, Partial<OwnersInput>, ReturnType<typeof collectOwners>['hints']]>([
    ['nothing gathered', {}, []],
    ['cluster labels: owner-like keys only', { cluster: cluster({ team: 'platform', env: 'prod', 'cost-center': 'cc-1' }) }, [
      { scope: 'cluster', key: 'cost-center', value: 'cc-1' },
      { scope: 'cluster', key: 'team', value: 'platform' },
    ]],
    ['namespace labels, then annotations', { namespace: namespace({ team: 'checkout', 'kubernetes.io/metadata.name': 'shop' }, { 'owner-email': 'checkout@shop.example', description: 'the shop' }) }, [
      { scope: 'namespace', key: 'team', value: 'checkout' },
      { scope: 'namespace', key: 'owner-email', value: 'checkout@shop.example' },
    ]],
    ['workload: the top-level owner, not the ReplicaSet or the pod', {
      pod: pod({
        labels: { squad: 'from-pod-template' },
        owners: [
          { kind: 'ReplicaSet', name: 'checkout-7d9fb6c5d4', labels: { squad: 'from-replicaset' } },
          { kind: 'Deployment', name: 'checkout', labels: { app: 'checkout', squad: 'payments-squad' } },
        ],
      }),
    }, [{ scope: 'workload', key: 'squad', value: 'payments-squad' }]],
    ['workload: an owner that could not be read (no labels) falls back down the chain', {
      pod: pod({
        labels: { squad: 'from-pod-template' },
        owners: [
          { kind: 'ReplicaSet', name: 'checkout-7d9fb6c5d4', labels: { squad: 'from-replicaset' } },
          { kind: 'Deployment', name: 'checkout', labels: {} },
        ],
      }),
    }, [{ scope: 'workload', key: 'squad', value: 'from-replicaset' }]],
    ['workload: a bare pod uses its own labels, and its annotations', { pod: pod({ labels: { maintainer: 'alice' }, annotations: { 'oncall-rotation': 'checkout-primary', 'prometheus.io/scrape': 'true' } }) }, [
      { scope: 'workload', key: 'maintainer', value: 'alice' },
      { scope: 'workload', key: 'oncall-rotation', value: 'checkout-primary' },
    ]],
    ['a pod known only from the finding has nothing to offer', { pod: pod({ source: 'finding' }) }, []],
    ['the same rule as the cluster gatherer: on_call, Slack, contact_email, case-insensitive', { namespace: namespace({ on_call: 'pager-7', 'Slack-Channel': '#shop', contact_email: 'a@b.example', mailbox: 'no' }) }, [
      { scope: 'namespace', key: 'Slack-Channel', value: '#shop' },
      { scope: 'namespace', key: 'contact_email', value: 'a@b.example' },
      { scope: 'namespace', key: 'on_call', value: 'pager-7' },
    ]],
    ['empty or blank values say nothing', { namespace: namespace({ team: '', owner: '  ' }, { contact: '' }) }, []],
    ['values stay raw', { namespace: namespace({ owner: ' <b>Mallory</b>\u0007 ' }) }, [{ scope: 'namespace', key: 'owner', value: ' <b>Mallory</b>\u0007 ' }]],
  ])('%s', (_name, input, expected) => {
    expect(collectOwners({ ...none, ...input }).hints).toEqual(expected);
  });

  it('orders the scopes most specific first and drops what a broader scope repeats', () => {
    const owners = collectOwners({
      ...none,
      cluster: cluster({ team: 'Checkout', owner: 'platform-team' }),
      namespace: namespace({ team: 'checkout' }, { team: 'checkout', 'owner-email': 'checkout@shop.example' }),
      pod: pod({ labels: { team: 'checkout' } }),
    });
    expect(owners.hints).toEqual([
      { scope: 'workload', key: 'team', value: 'checkout' },
      { scope: 'namespace', key: 'owner-email', value: 'checkout@shop.example' },
      { scope: 'cluster', key: 'owner', value: 'platform-team' },
    ]);
  });

  it('keeps the same key with different values at different scopes: they name different people', () => {
    const owners = collectOwners({ ...none, cluster: cluster({ team: 'platform' }), pod: pod({ labels: { team: 'checkout' } }) });
    expect(owners.hints).toEqual([
      { scope: 'workload', key: 'team', value: 'checkout' },
      { scope: 'cluster', key: 'team', value: 'platform' },
    ]);
  });

  it(`caps each scope at ${MAX_HINTS_PER_SCOPE} hints`, () => {
    const many = Object.fromEntries(Array.from({ length: MAX_HINTS_PER_SCOPE + 5 }, (_, i) => [`team-${String(i).padStart(2, '0')}`, `t${i}`]));
    const owners = collectOwners({ ...none, namespace: namespace(many), cluster: cluster({ owner: 'platform' }) });
    expect(owners.hints.filter((h) => h.scope === 'namespace')).toHaveLength(MAX_HINTS_PER_SCOPE);
    expect(owners.hints.filter((h) => h.scope === 'cluster')).toEqual([{ scope: 'cluster', key: 'owner', value: 'platform' }]);
  });
});

describe('collectOwners: contacts', () => {
  it.each<[string, ContactsSection | null, ReturnType<typeof collectOwners>['contacts']]>([
    ['not gathered', null, []],
    ['none set', contacts(), []],
    ['SECURITY subscribers before ALL-only ones, otherwise in the order given', contacts(
      { email: 'platform@shop.example', categories: ['ALL'] },
      { email: 'secops@shop.example', categories: ['SECURITY'] },
      { email: 'ciso@shop.example', categories: ['SECURITY', 'LEGAL'] },
    ), [
      { email: 'secops@shop.example', categories: ['SECURITY'] },
      { email: 'ciso@shop.example', categories: ['SECURITY', 'LEGAL'] },
      { email: 'platform@shop.example', categories: ['ALL'] },
    ]],
    ['one entry per address, case aside, categories merged', contacts(
      { email: 'SecOps@shop.example', categories: ['ALL'] },
      { email: 'secops@shop.example ', categories: ['SECURITY', 'ALL'] },
    ), [{ email: 'SecOps@shop.example', categories: ['ALL', 'SECURITY'] }]],
    ['contacts for neither SECURITY nor ALL, or without an address, are dropped', contacts(
      { email: 'billing@shop.example', categories: ['BILLING'] },
      { email: '', categories: ['SECURITY'] },
    ), []],
  ])('%s', (_name, section, expected) => {
    expect(collectOwners({ ...none, contacts: section }).contacts).toEqual(expected);
  });

  it(`caps contacts at ${MAX_CONTACTS}`, () => {
    const list = Array.from({ length: MAX_CONTACTS + 3 }, (_, i) => ({ email: `p${i}@shop.example`, categories: ['SECURITY'] }));
    expect(collectOwners({ ...none, contacts: contacts(...list) }).contacts).toHaveLength(MAX_CONTACTS);
  });

  it('does not change its input', () => {
    const section = contacts({ email: 'a@shop.example', categories: ['ALL'] }, { email: 'A@shop.example', categories: ['SECURITY'] });
    const before = structuredClone(section);
    collectOwners({ ...none, contacts: section });
    expect(section).toEqual(before);
  });
});
