import fc from 'fast-check';
import { isMap, isScalar, parse, parseDocument, visit } from 'yaml';
import {
  c2EgressPolicy,
  c2EgressPolicyName,
  CREATED_BY_LABEL,
  denyAllEgressPolicy,
  denyAllEgressPolicyName,
  isDisplaySafeYaml,
  LINK_LOCAL_DNS_CIDRS,
  quarantinePolicy,
  singleAddressCidr,
  type BuiltPolicy,
} from '../../lib/report/network-policy.js';

const LABELS = { app: 'api', tier: 'backend' };
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** The YAML as kubectl (YAML 1.1) and as a YAML 1.2 reader would read it. */
function readBoth(yaml: string): { v11: any; v12: any } {
  return { v11: parse(yaml, { version: '1.1' }), v12: parse(yaml, { version: '1.2' }) };
}

/** Every scalar under any matchLabels/labels map, with how it is written. */
function labelScalarTypes(yaml: string): string[] {
  const types: string[] = [];
  visit(parseDocument(yaml), {
    Pair(_key, pair) {
      if (isScalar(pair.key) && (pair.key.value === 'matchLabels' || pair.key.value === 'labels') && isMap(pair.value)) {
        for (const item of pair.value.items) {
          for (const node of [item.key, item.value]) types.push(isScalar(node) ? String(node.type) : 'not-a-scalar');
        }
      }
    },
  });
  return types;
}

/** Label values and keys that mean something to YAML, to a shell, or to a terminal. */
const HOSTILE: readonly string[] = [
  `it's`,
  `"double"`,
  `'single'`,
  `a: b`,
  `a:b`,
  `# comment`,
  `x #y`,
  `*alias`,
  `&anchor`,
  `!!str`,
  `!tag x`,
  `{a: b}`,
  `[1, 2]`,
  `}`,
  `- item`,
  `-`,
  `--`,
  `? key`,
  `|`,
  `>-`,
  `%YAML 1.1`,
  `---`,
  `...`,
  `@at`,
  '`tick`',
  `line1\nline2`,
  `\n`,
  `trailing\n`,
  `  leading and trailing spaces  `,
  ` \n `,
  `tab\there`,
  `cr\r\nlf`,
  `nul\0byte`,
  `esc\x1b[31mred`,
  `bell\x07`,
  `back\\slash \\n not a newline`,
  `EOF`,
  `\nEOF\n`,
  `$(touch $CANARY_DIR/pwned)`,
  `'; touch $CANARY_DIR/pwned; echo '`,
  `é中😀`,
  ``,
  // YAML 1.1 reads these plain scalars as booleans, numbers, null or a merge key.
  `on`, `off`, `yes`, `no`, `y`, `n`, `Y`, `N`, `true`, `False`, `~`, `null`, `Null`,
  `0o17`, `017`, `0x1F`, `0b101`, `1e3`, `1_000`, `.inf`, `-.inf`, `.NaN`, `1:20`, `2001-12-14`, `<<`, `=`,
];

describe('c2EgressPolicy: IPv4 C2', () => {
  const built = c2EgressPolicy({ namespace: 'payments', podLabels: LABELS, c2Cidr: '203.0.113.7/32' });
  const { v11: doc, v12 } = readBoth(built.yaml);

  it('is the same object in YAML 1.1 and 1.2, and equal to the manifest returned', () => {
    expect(doc).toEqual(v12);
    expect(doc).toEqual(built.manifest);
  });

  it('is a networking.k8s.io/v1 NetworkPolicy in the namespace, named deterministically', () => {
    expect(doc.apiVersion).toBe('networking.k8s.io/v1');
    expect(doc.kind).toBe('NetworkPolicy');
    expect(doc.metadata.namespace).toBe('payments');
    expect(doc.metadata.name).toBe(built.name);
    expect(doc.metadata.name).toMatch(/^socat-triage-block-c2-[0-9a-f]{8}$/);
    expect(doc.metadata.labels).toEqual(CREATED_BY_LABEL);
    expect(Object.keys(doc)).toEqual(['apiVersion', 'kind', 'metadata', 'spec']);
  });

  it('selects the pods by exactly the labels given, for Egress only', () => {
    expect(doc.spec.podSelector).toEqual({ matchLabels: LABELS });
    expect(doc.spec.policyTypes).toEqual(['Egress']);
    expect(doc.spec.ingress).toBeUndefined();
  });

  it('allows every address outside the cluster except the C2, in both families', () => {
    expect(doc.spec.egress).toHaveLength(3);
    expect(doc.spec.egress[0]).toEqual({
      to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['203.0.113.7/32'] } }, { ipBlock: { cidr: '::/0' } }],
    });
  });

  it('allows every pod of the cluster (ipBlock does not match pod IPs on Dataplane V2)', () => {
    expect(doc.spec.egress[1]).toEqual({ to: [{ namespaceSelector: {} }] });
  });

  it('allows DNS to kube-dns and to GKE link-local resolvers on port 53 only', () => {
    expect(doc.spec.egress[2]).toEqual({
      to: [
        { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } },
        { ipBlock: { cidr: '169.254.169.254/32' } },
        { ipBlock: { cidr: '169.254.20.10/32' } },
      ],
      ports: [
        { protocol: 'UDP', port: 53 },
        { protocol: 'TCP', port: 53 },
      ],
    });
    expect(typeof doc.spec.egress[2].ports[0].port).toBe('number');
  });

  it('has no rule that reaches the C2: every rule names its peers, none with an ipBlock containing the C2 unexcepted', () => {
    for (const rule of doc.spec.egress) {
      expect(Array.isArray(rule.to)).toBe(true);
      for (const peer of rule.to) {
        if (peer.ipBlock?.cidr === '0.0.0.0/0') expect(peer.ipBlock.except).toEqual(['203.0.113.7/32']);
        if (peer.ipBlock && peer.ipBlock.cidr !== '0.0.0.0/0') expect(peer.ipBlock.cidr === '::/0' || LINK_LOCAL_DNS_CIDRS.includes(peer.ipBlock.cidr)).toBe(true);
      }
    }
  });

  it('writes every label key and value double-quoted', () => {
    const types = labelScalarTypes(built.yaml);
    expect(types.length).toBeGreaterThanOrEqual(2 * (Object.keys(LABELS).length + 1));
    expect(new Set(types)).toEqual(new Set(['QUOTE_DOUBLE']));
  });
});

describe('c2EgressPolicy: IPv6 C2', () => {
  it('excepts the /128 from ::/0 and leaves 0.0.0.0/0 whole', () => {
    const built = c2EgressPolicy({ namespace: 'payments', podLabels: LABELS, c2Cidr: '2001:db8::7/128' });
    const { v11: doc, v12 } = readBoth(built.yaml);
    expect(doc).toEqual(v12);
    expect(doc).toEqual(built.manifest);
    expect(doc.spec.egress[0]).toEqual({
      to: [{ ipBlock: { cidr: '0.0.0.0/0' } }, { ipBlock: { cidr: '::/0', except: ['2001:db8::7/128'] } }],
    });
    expect(doc.spec.egress[1]).toEqual({ to: [{ namespaceSelector: {} }] });
    expect(doc.spec.egress[2].ports).toEqual([
      { protocol: 'UDP', port: 53 },
      { protocol: 'TCP', port: 53 },
    ]);
  });

  it('writes the address in RFC 5952 form, which is all Kubernetes accepts', () => {
    const built = c2EgressPolicy({ namespace: 'payments', podLabels: LABELS, c2Cidr: '2001:DB8:0:0:0:0:0:7/128' });
    expect(parse(built.yaml).spec.egress[0].to[1].ipBlock.except).toEqual(['2001:db8::7/128']);
  });

  it('blocks an IPv4-mapped address as the IPv4 address the packets carry', () => {
    const built = c2EgressPolicy({ namespace: 'payments', podLabels: LABELS, c2Cidr: '::ffff:203.0.113.7' });
    expect(parse(built.yaml).spec.egress[0].to).toEqual([
      { ipBlock: { cidr: '0.0.0.0/0', except: ['203.0.113.7/32'] } },
      { ipBlock: { cidr: '::/0' } },
    ]);
  });
});

describe('c2EgressPolicy: inputs', () => {
  it('keeps the DNS rule from reopening a C2 that is one of the link-local resolvers', () => {
    const built = c2EgressPolicy({ namespace: 'payments', podLabels: LABELS, c2Cidr: '169.254.169.254/32' });
    const dnsPeers = parse(built.yaml).spec.egress[2].to;
    expect(dnsPeers).not.toContainEqual({ ipBlock: { cidr: '169.254.169.254/32' } });
    expect(dnsPeers).toContainEqual({ ipBlock: { cidr: '169.254.20.10/32' } });
    expect(parse(built.yaml).spec.egress[0].to[0].ipBlock.except).toEqual(['169.254.169.254/32']);
  });

  it.each([
    ['203.0.113.0/24'],
    ['0.0.0.0/0'],
    ['::/0'],
    ['2001:db8::/64'],
    ['evil.example.com'],
    [''],
    ['fe80::1%eth0'],
    ['203.0.113.7/33'],
    ['203.0.113.7\n/32'],
  ])('refuses %j: not one address', (c2Cidr) => {
    expect(() => c2EgressPolicy({ namespace: 'payments', podLabels: LABELS, c2Cidr })).toThrow(RangeError);
  });

  it('refuses an empty selector, which would select every pod in the namespace', () => {
    expect(() => c2EgressPolicy({ namespace: 'payments', podLabels: {}, c2Cidr: '203.0.113.7' })).toThrow(/every pod/);
    expect(() => denyAllEgressPolicy({ namespace: 'payments', podLabels: {} })).toThrow(/every pod/);
  });

  it('refuses an empty namespace', () => {
    expect(() => denyAllEgressPolicy({ namespace: '', podLabels: LABELS })).toThrow(RangeError);
  });

  it('uses a given name only when it is a DNS-1123 label', () => {
    expect(c2EgressPolicy({ namespace: 'p', podLabels: LABELS, c2Cidr: '203.0.113.7', name: 'my-block' }).manifest.metadata.name).toBe('my-block');
    for (const name of ['My-Block', '-x', 'x-', 'a_b', 'a.b', 'x'.repeat(64), '', 'a\nb']) {
      expect(() => denyAllEgressPolicy({ namespace: 'p', podLabels: LABELS, name })).toThrow(RangeError);
    }
  });
});

describe('denyAllEgressPolicy', () => {
  it('selects the pods for Egress and allows nothing', () => {
    const built = denyAllEgressPolicy({ namespace: 'payments', podLabels: LABELS });
    const { v11: doc, v12 } = readBoth(built.yaml);
    expect(doc).toEqual(v12);
    expect(doc).toEqual(built.manifest);
    expect(doc).toEqual({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: built.name, namespace: 'payments', labels: CREATED_BY_LABEL },
      spec: { podSelector: { matchLabels: LABELS }, policyTypes: ['Egress'] },
    });
    expect(built.name).toMatch(/^socat-triage-deny-egress-[0-9a-f]{8}$/);
    expect(built.yaml).not.toMatch(/egress:/);
  });
});

describe('quarantinePolicy', () => {
  it('selects the quarantine label for Ingress and Egress and allows nothing either way', () => {
    const podLabels = { 'socat-triage.security/quarantine': '8c6ad2f1e1a94ac1a0c3d4e5f6a7b8c9' };
    const built = quarantinePolicy({ namespace: 'payments', podLabels });
    const { v11: doc, v12 } = readBoth(built.yaml);
    expect(doc).toEqual(v12);
    expect(doc).toEqual(built.manifest);
    expect(doc.spec).toEqual({ podSelector: { matchLabels: podLabels }, policyTypes: ['Ingress', 'Egress'] });
    expect(built.name).toMatch(/^socat-triage-quarantine-[0-9a-f]{8}$/);
    expect(quarantinePolicy({ namespace: 'payments', podLabels: { 'socat-triage.security/quarantine': 'other' } }).name).not.toBe(built.name);
    expect(() => quarantinePolicy({ namespace: 'payments', podLabels: {} })).toThrow(/every pod/);
  });
});

describe('policy names', () => {
  it('are DNS-1123 labels of at most 63 characters', () => {
    for (const name of [c2EgressPolicyName('payments', LABELS), denyAllEgressPolicyName('x'.repeat(300), { ['y'.repeat(300)]: 'z' })]) {
      expect(name.length).toBeLessThanOrEqual(63);
      expect(name).toMatch(DNS1123_LABEL);
    }
  });

  it('depend on namespace and selector, not on label order or on the C2', () => {
    const a = c2EgressPolicy({ namespace: 'payments', podLabels: { app: 'api', tier: 'backend' }, c2Cidr: '203.0.113.7' });
    const b = c2EgressPolicy({ namespace: 'payments', podLabels: { tier: 'backend', app: 'api' }, c2Cidr: '198.51.100.1' });
    expect(a.name).toBe(b.name);
    expect(a.yaml.replace('203.0.113.7', '198.51.100.1')).toBe(b.yaml);
    expect(c2EgressPolicyName('other', LABELS)).not.toBe(a.name);
    expect(c2EgressPolicyName('payments', { app: 'api' })).not.toBe(a.name);
    expect(c2EgressPolicyName('payments', { app: 'api', tier: 'backend2' })).not.toBe(a.name);
    // Not fooled by separators inside values.
    expect(c2EgressPolicyName('a', { b: 'c' })).not.toBe(c2EgressPolicyName('a", "b', { b: 'c' }));
  });
});

describe('hostile labels and namespaces round-trip exactly through YAML', () => {
  it.each(HOSTILE.map((v) => [JSON.stringify(v), v]))('value %s', (_title, value) => {
    const podLabels = { app: value, [`k-${value}`]: 'x' };
    for (const built of [
      c2EgressPolicy({ namespace: value || 'ns', podLabels, c2Cidr: '203.0.113.7' }),
      denyAllEgressPolicy({ namespace: value || 'ns', podLabels }),
    ]) {
      const { v11, v12 } = readBoth(built.yaml);
      for (const doc of [v11, v12]) {
        expect(doc.spec.podSelector.matchLabels).toEqual(podLabels);
        expect(Object.keys(doc.spec.podSelector.matchLabels).sort()).toEqual(Object.keys(podLabels).sort());
        expect(doc.metadata.namespace).toBe(value || 'ns');
        expect(doc).toEqual(built.manifest);
      }
      expect(new Set(labelScalarTypes(built.yaml))).toEqual(new Set(['QUOTE_DOUBLE']));
      expect(isDisplaySafeYaml(built.yaml)).toBe(true);
    }
  });

  it('as keys: every hostile string as a label key at once', () => {
    const podLabels = Object.fromEntries(HOSTILE.filter((v) => v !== '').map((v, i) => [v, `v${i}`]));
    const built = denyAllEgressPolicy({ namespace: 'ns', podLabels });
    const { v11, v12 } = readBoth(built.yaml);
    expect(v11.spec.podSelector.matchLabels).toEqual(podLabels);
    expect(v12.spec.podSelector.matchLabels).toEqual(podLabels);
  });

  it('no input makes a line of its own: the line count only depends on how many labels there are', () => {
    const lines = (labels: Record<string, string>): number => c2EgressPolicy({ namespace: 'ns', podLabels: labels, c2Cidr: '203.0.113.7' }).yaml.split('\n').length;
    const benign = lines({ a: 'b', c: 'd' });
    for (const v of HOSTILE) {
      if (v === 'a' || v === 'c') continue;
      expect(lines({ a: v, c: 'd' })).toBe(benign);
      if (v !== '') expect(lines({ a: 'b', [v]: 'd' })).toBe(benign);
    }
  });

  it('keeps "__proto__" an own label key, never the prototype', () => {
    const podLabels = Object.fromEntries([['__proto__', 'x'], ['constructor', 'y'], ['app', 'api']]);
    const built = denyAllEgressPolicy({ namespace: 'ns', podLabels });
    expect(Object.keys(built.manifest.spec.podSelector.matchLabels).sort()).toEqual(['__proto__', 'app', 'constructor']);
    for (const doc of Object.values(readBoth(built.yaml))) {
      const labels = doc.spec.podSelector.matchLabels;
      expect(Object.getPrototypeOf(labels)).toBe(Object.prototype);
      expect(Object.keys(labels).sort()).toEqual(['__proto__', 'app', 'constructor']);
      expect(Object.getOwnPropertyDescriptor(labels, '__proto__')?.value).toBe('x');
    }
  });

  it('seeded random label maps round-trip under YAML 1.1 and 1.2', () => {
    const alphabet = [
      ...Array.from({ length: 32 }, (_, i) => String.fromCharCode(i)),
      ...` !"#$%&'()*+,-./:;<=>?@[\\]^_\`{|}~aZ09`,
      'é', '中', '😀', 'y', 'o', 'n', '.', '0',
    ];
    const text = fc.string({ unit: fc.constantFrom(...alphabet), maxLength: 12 });
    const maps = fc.sample(fc.dictionary(text.filter((k) => k !== ''), text, { minKeys: 1, maxKeys: 4 }), { seed: 0x5e1ec7, numRuns: 500 });
    for (const podLabels of maps) {
      const built = c2EgressPolicy({ namespace: 'ns', podLabels, c2Cidr: '2001:db8::1' });
      const { v11, v12 } = readBoth(built.yaml);
      expect(v11.spec.podSelector.matchLabels).toEqual(podLabels);
      expect(v12.spec.podSelector.matchLabels).toEqual(podLabels);
      expect(isDisplaySafeYaml(built.yaml)).toBe(true);
    }
  });
});

describe('isDisplaySafeYaml', () => {
  it.each([
    ['U+202E right-to-left override', 'a\u202Eb'],
    ['U+2066 isolate', 'a\u2066b'],
    ['U+200B zero-width space', 'a\u200Bb'],
    ['U+FEFF', '\uFEFFa'],
    ['U+2028 line separator', 'a\u2028b'],
    ['U+0085 next line', 'a\u0085b'],
    ['U+009B CSI', 'a\u009B31mb'],
    ['DEL', 'a\x7fb'],
  ])('flags a YAML that would carry %s raw', (_name, value) => {
    const built = denyAllEgressPolicy({ namespace: 'ns', podLabels: { app: value } });
    // Still exact: only showing it is the problem.
    expect(parse(built.yaml, { version: '1.1' }).spec.podSelector.matchLabels).toEqual({ app: value });
    expect(isDisplaySafeYaml(built.yaml)).toBe(false);
  });

  it('accepts what the library escapes: C0 controls, newlines, tabs', () => {
    const built = denyAllEgressPolicy({ namespace: 'ns', podLabels: { app: 'a\x1b[31m\0\t\r\n\x07b' } });
    expect(isDisplaySafeYaml(built.yaml)).toBe(true);
    expect(built.yaml).toContain('"a\\e[31m\\0\\t\\r\\n\\ab"');
  });
});

describe('singleAddressCidr', () => {
  it.each([
    ['203.0.113.7', { cidr: '203.0.113.7/32', address: '203.0.113.7', family: 4 }],
    ['203.0.113.7/32', { cidr: '203.0.113.7/32', address: '203.0.113.7', family: 4 }],
    ['010.1.1.1', { cidr: '8.1.1.1/32', address: '8.1.1.1', family: 4 }],
    ['0x7f.1', { cidr: '127.0.0.1/32', address: '127.0.0.1', family: 4 }],
    ['2001:DB8::7', { cidr: '2001:db8::7/128', address: '2001:db8::7', family: 6 }],
    ['2001:db8:0:0:0:0:0:7/128', { cidr: '2001:db8::7/128', address: '2001:db8::7', family: 6 }],
    ['::ffff:203.0.113.7/128', { cidr: '203.0.113.7/32', address: '203.0.113.7', family: 4 }],
  ] as const)('%s', (input, expected) => {
    expect(singleAddressCidr(input)).toEqual(expected);
  });

  it.each([['203.0.113.7/24'], ['2001:db8::7/64'], ['host.example'], [''], ['fe80::1%eth0'], ['1.2.3.4 '], ['1.2.3.4/32/32'], ['x'.repeat(100)]])('refuses %j', (input) => {
    expect(singleAddressCidr(input)).toBeNull();
  });
});

/** Every built policy in this file passes the same structural invariants. */
describe('structural invariants', () => {
  const built: BuiltPolicy[] = [
    c2EgressPolicy({ namespace: 'a', podLabels: LABELS, c2Cidr: '203.0.113.7' }),
    c2EgressPolicy({ namespace: 'a', podLabels: LABELS, c2Cidr: '2001:db8::7' }),
    denyAllEgressPolicy({ namespace: 'a', podLabels: LABELS }),
  ];
  it.each(built.map((b) => [b.name, b]))('%s ends in one newline and has one document', (_name, b) => {
    expect(b.yaml.endsWith('\n')).toBe(true);
    expect(b.yaml.endsWith('\n\n')).toBe(false);
    expect(b.yaml).not.toMatch(/^(---|\.\.\.)/m);
    expect(isDisplaySafeYaml(b.yaml)).toBe(true);
  });
});
