/**
 * NetworkPolicies for the runbook's containment steps: pure builders that
 * return the manifest object and its YAML text. The namespace and the pod's
 * labels are attacker-influenced (anyone who can create a pod picks its
 * labels), so they only ever reach the text through the `yaml` library, and
 * every builder checks that parsing its own output gives the manifest back.
 *
 * Every string scalar taken from input is written double-quoted. kubectl
 * decodes manifests with YAML 1.1 rules (checked with kubectl v1.32 against a
 * fake API server): a plain `on`, `yes` or `0o17` label value arrives as true
 * or 15, while the `yaml` library, following YAML 1.2, would print those
 * strings plain. A double-quoted scalar is a string in both versions, and
 * every escape the library writes in one (\n, \t, \e, \0, \xHH, \uXXXX, \N,
 * \_, \L, \P) was checked to reach the API server as the intended character.
 */
import { createHash } from 'node:crypto';
import ipaddr from 'ipaddr.js';
import { Document, isPair, isScalar, parse, visit } from 'yaml';

export type Labels = Readonly<Record<string, string>>;

// Label syntax, https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#syntax-and-character-set
// (apimachinery validation IsQualifiedName / IsValidLabelValue): a name segment of at most 63
// characters, alphanumeric at both ends with '-', '_', '.' between, after an optional DNS-subdomain
// prefix of at most 253 characters and a '/'; a value is empty or a name segment.
const LABEL_NAME = /^[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*$/;

export function isLabelKey(key: string): boolean {
  const slash = key.indexOf('/');
  if (slash < 0) return LABEL_NAME.test(key);
  const prefix = key.slice(0, slash);
  return prefix.length <= 253 && DNS_SUBDOMAIN.test(prefix) && LABEL_NAME.test(key.slice(slash + 1));
}

export function isLabelValue(value: string): boolean {
  return value === '' || LABEL_NAME.test(value);
}

export interface IPBlock {
  cidr: string;
  except?: string[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
}

export interface NetworkPolicyPeer {
  ipBlock?: IPBlock;
  namespaceSelector?: LabelSelector;
  podSelector?: LabelSelector;
}

export interface NetworkPolicyPort {
  protocol: 'TCP' | 'UDP';
  port: number;
}

export interface NetworkPolicyEgressRule {
  to?: NetworkPolicyPeer[];
  ports?: NetworkPolicyPort[];
}

export interface NetworkPolicyManifest {
  apiVersion: 'networking.k8s.io/v1';
  kind: 'NetworkPolicy';
  metadata: { name: string; namespace: string; labels: Record<string, string> };
  spec: {
    podSelector: { matchLabels: Record<string, string> };
    /** Ingress too only in the quarantine policy (isolate), which denies both directions. */
    policyTypes: ['Egress'] | ['Ingress', 'Egress'];
    /** Absent in the deny-all policies: a policy type without rules allows nothing. */
    egress?: NetworkPolicyEgressRule[];
  };
}

export interface BuiltPolicy {
  name: string;
  manifest: NetworkPolicyManifest;
  /** One YAML document, ending in a newline. */
  yaml: string;
}

/** Lets a responder list every policy the runbook produced: `kubectl get networkpolicy -A -l app.kubernetes.io/created-by=scc-socat-triage`. */
export const CREATED_BY_LABEL = { 'app.kubernetes.io/created-by': 'scc-socat-triage' } as const;

export const BLOCK_C2_PREFIX = 'socat-triage-block-c2-';
export const DENY_EGRESS_PREFIX = 'socat-triage-deny-egress-';
export const QUARANTINE_PREFIX = 'socat-triage-quarantine-';

/**
 * Where a GKE pod's DNS queries go besides the kube-dns pods: the metadata
 * server (Cloud DNS for GKE writes it into resolv.conf) and NodeLocal
 * DNSCache. Both are host-network endpoints that no pod or namespace selector
 * can match, only an ipBlock.
 */
export const LINK_LOCAL_DNS_CIDRS: readonly string[] = ['169.254.169.254/32', '169.254.20.10/32'];

const DNS_PORTS: NetworkPolicyPort[] = [
  { protocol: 'UDP', port: 53 },
  { protocol: 'TCP', port: 53 },
];

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export interface SingleAddress {
  /** Canonical text: dotted decimal /32, or RFC 5952 /128. */
  cidr: string;
  address: string;
  family: 4 | 6;
}

/**
 * The /32 or /128 CIDR of one address, given as an address or as a CIDR of
 * that size; null for anything wider, unparsable or zoned. An IPv4-mapped
 * IPv6 address becomes its IPv4 address, which is what the pod's packets
 * carry. inet_aton forms (`10.1`, `0x7f.1`) are read as socat's resolver
 * reads them and written in dotted decimal, which is all Kubernetes accepts.
 */
export function singleAddressCidr(text: string): SingleAddress | null {
  if (text.length > 64 || text.includes('%')) return null;
  let addr: ipaddr.IPv4 | ipaddr.IPv6;
  let prefix: number | null = null;
  try {
    if (text.includes('/')) [addr, prefix] = ipaddr.parseCIDR(text);
    else addr = ipaddr.parse(text);
  } catch {
    return null;
  }
  if (prefix !== null && prefix !== (addr.kind() === 'ipv4' ? 32 : 128)) return null;
  if (addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress()) addr = (addr as ipaddr.IPv6).toIPv4Address();
  if (addr.kind() === 'ipv4') {
    const address = addr.toString();
    return { cidr: `${address}/32`, address, family: 4 };
  }
  const address = (addr as ipaddr.IPv6).toRFC5952String();
  return { cidr: `${address}/128`, address, family: 6 };
}

function sortedEntries(labels: Labels): Array<[string, string]> {
  return Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Object.fromEntries, not assignment: a label key "__proto__" must become an
 * own property, not the object's prototype.
 */
function labelMap(labels: Labels): Record<string, string> {
  return Object.fromEntries(sortedEntries(labels));
}

/**
 * Depends on the namespace and the selector only, not on the C2: applying the
 * block for a second C2 of the same pods then replaces the first policy. Two
 * "everything but X" policies would each allow the other's X, so keeping both
 * would block neither.
 */
function policyName(prefix: string, namespace: string, podLabels: Labels): string {
  const digest = createHash('sha256').update(JSON.stringify([namespace, sortedEntries(podLabels)]), 'utf8').digest('hex');
  return prefix + digest.slice(0, 8);
}

export function c2EgressPolicyName(namespace: string, podLabels: Labels): string {
  return policyName(BLOCK_C2_PREFIX, namespace, podLabels);
}

export function denyAllEgressPolicyName(namespace: string, podLabels: Labels): string {
  return policyName(DENY_EGRESS_PREFIX, namespace, podLabels);
}

function checkCommon(namespace: string, podLabels: Labels, name: string): void {
  // An empty podSelector selects every pod in the namespace.
  if (Object.keys(podLabels).length === 0) throw new RangeError('podLabels is empty: the policy would select every pod in the namespace');
  if (namespace === '') throw new RangeError('namespace is empty');
  if (name.length > 63 || !DNS1123_LABEL.test(name)) throw new RangeError(`policy name ${JSON.stringify(name)} is not a DNS-1123 label`);
}

function metadata(name: string, namespace: string): NetworkPolicyManifest['metadata'] {
  return { name, namespace, labels: { ...CREATED_BY_LABEL } };
}

export interface C2EgressPolicyInput {
  namespace: string;
  podLabels: Labels;
  /** The C2 address as a /32 or /128 CIDR (or a bare address). */
  c2Cidr: string;
  /** More single addresses the pod connects to for the same shell (both halves of a dual `A!!B`). */
  extraCidrs?: readonly string[];
  name?: string;
}

/**
 * Allows every egress of the selected pods except to the C2 address. A
 * NetworkPolicy cannot deny; once any policy selects a pod for Egress, only
 * what some policy allows gets out. So this one allows:
 *  - all addresses of both families outside the cluster, minus the C2;
 *  - every pod in the cluster (namespaceSelector {}), because CNIs such as
 *    Dataplane V2 (Cilium) do not match pod IPs with ipBlock;
 *  - DNS to kube-dns and to GKE's link-local resolvers, which are host
 *    endpoints. The DNS rule names its peers instead of allowing port 53
 *    everywhere, which would reopen C2:53.
 */
export function c2EgressPolicy(input: C2EgressPolicyInput): BuiltPolicy {
  const blocked: SingleAddress[] = [];
  for (const text of [input.c2Cidr, ...(input.extraCidrs ?? [])]) {
    const c2 = singleAddressCidr(text);
    if (c2 === null) throw new RangeError(`c2Cidr ${JSON.stringify(text)} is not a single IPv4 (/32) or IPv6 (/128) address`);
    if (!blocked.some((b) => b.cidr === c2.cidr)) blocked.push(c2);
  }
  const name = input.name ?? c2EgressPolicyName(input.namespace, input.podLabels);
  checkCommon(input.namespace, input.podLabels, name);

  const except = (family: 4 | 6): string[] => blocked.filter((b) => b.family === family).map((b) => b.cidr);
  const v4: IPBlock = except(4).length > 0 ? { cidr: '0.0.0.0/0', except: except(4) } : { cidr: '0.0.0.0/0' };
  const v6: IPBlock = except(6).length > 0 ? { cidr: '::/0', except: except(6) } : { cidr: '::/0' };
  const dnsPeers: NetworkPolicyPeer[] = [
    { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } },
    ...LINK_LOCAL_DNS_CIDRS.filter((cidr) => !blocked.some((b) => b.cidr === cidr)).map((cidr): NetworkPolicyPeer => ({ ipBlock: { cidr } })),
  ];
  const manifest: NetworkPolicyManifest = {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: metadata(name, input.namespace),
    spec: {
      podSelector: { matchLabels: labelMap(input.podLabels) },
      policyTypes: ['Egress'],
      egress: [
        { to: [{ ipBlock: v4 }, { ipBlock: v6 }] },
        { to: [{ namespaceSelector: {} }] },
        { to: dnsPeers, ports: DNS_PORTS.map((p) => ({ ...p })) },
      ],
    },
  };
  return { name, manifest, yaml: manifestYaml(manifest) };
}

export interface DenyAllEgressPolicyInput {
  namespace: string;
  podLabels: Labels;
  name?: string;
}

/** Selects the pods for Egress and allows nothing, DNS included. */
export function denyAllEgressPolicy(input: DenyAllEgressPolicyInput): BuiltPolicy {
  const name = input.name ?? denyAllEgressPolicyName(input.namespace, input.podLabels);
  checkCommon(input.namespace, input.podLabels, name);
  const manifest: NetworkPolicyManifest = {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: metadata(name, input.namespace),
    spec: { podSelector: { matchLabels: labelMap(input.podLabels) }, policyTypes: ['Egress'] },
  };
  return { name, manifest, yaml: manifestYaml(manifest) };
}

export interface QuarantinePolicyInput {
  namespace: string;
  /** The quarantine label alone (isolate): a label only the quarantined pod carries. */
  podLabels: Labels;
}

/**
 * Selects the pods for Ingress and Egress and allows nothing in either
 * direction ("Default deny all ingress and all egress traffic",
 * https://kubernetes.io/docs/concepts/services-networking/network-policies/#default-deny-all-ingress-and-all-egress-traffic).
 * Traffic between the pod and its own node stays allowed whatever the policy (same page, "The Two Sorts of Pod Isolation").
 */
export function quarantinePolicy(input: QuarantinePolicyInput): BuiltPolicy {
  const name = policyName(QUARANTINE_PREFIX, input.namespace, input.podLabels);
  checkCommon(input.namespace, input.podLabels, name);
  const manifest: NetworkPolicyManifest = {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: metadata(name, input.namespace),
    spec: { podSelector: { matchLabels: labelMap(input.podLabels) }, policyTypes: ['Ingress', 'Egress'] },
  };
  return { name, manifest, yaml: manifestYaml(manifest) };
}

/** Keys whose maps hold label keys, which are input rather than field names. */
const LABEL_MAP_KEYS = new Set(['labels', 'matchLabels']);

/**
 * The manifest as one YAML document. Values and label keys are double-quoted
 * (see the file comment); field names stay plain. No folding and no
 * multi-line scalars: every line break in the text is structure, so no input
 * can produce a line of its own (e.g. a heredoc terminator).
 */
export function manifestYaml(manifest: NetworkPolicyManifest): string {
  const doc = new Document(manifest);
  visit(doc, {
    Scalar(key, node, path) {
      if (typeof node.value !== 'string') return;
      // 'value' in a pair, an index in a sequence: always data.
      if (key !== 'key') {
        node.type = 'QUOTE_DOUBLE';
        return;
      }
      // path ends [..., Pair(labels), YAMLMap, Pair(label)]: is the enclosing pair a label map?
      const owner = path[path.length - 3];
      if (isPair(owner) && isScalar(owner.key) && LABEL_MAP_KEYS.has(String(owner.key.value))) node.type = 'QUOTE_DOUBLE';
    },
  });
  const text = doc.toString({
    lineWidth: 0,
    blockQuote: false,
    singleQuote: false,
    doubleQuotedMinMultiLineLength: Number.MAX_SAFE_INTEGER,
  });
  // A library change in quoting would otherwise go unnoticed until kubectl
  // applied a different object.
  for (const version of ['1.1', '1.2'] as const) {
    if (!sameValue(parse(text, { version }), manifest)) throw new Error(`YAML does not round-trip under YAML ${version}`);
  }
  return text;
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => sameValue(x, b[i]));
  }
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return (
    ka.length === kb.length &&
    ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
  );
}

/**
 * Characters that must not appear raw in text a person reads before pasting
 * it: controls (a tab would also trigger completion in an interactive
 * shell), format characters such as bidi overrides and zero-width
 * characters, and line/paragraph separators. JSON-style double quoting
 * escapes only the C0 controls, so the library writes the others raw. Line
 * feeds are the document's own structure.
 */
const HIDDEN_CHARACTERS = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;

/** True when `yaml` shows every character it carries (no raw control, bidi or invisible character other than its line feeds). */
export function isDisplaySafeYaml(yaml: string): boolean {
  return !HIDDEN_CHARACTERS.test(yaml.replaceAll('\n', ''));
}
