/**
 * Every IAM permission the deployed function uses, next to the code that
 * needs it. The write-back's are listed here; each gatherer declares its own
 * (lib/gather/registry.ts), so a new gatherer cannot forget to. terraform/
 * grants exactly this list (test/terraform/permissions.test.ts checks it).
 */
import { EVIDENCE_GATHERERS, GATHERERS, type AnyGatherer } from './gather/registry.js';
import { PERMISSIONS as CAPTURE_PERMISSIONS } from './respond/capture.js';
import { PERMISSIONS as KUBE_ACTION_PERMISSIONS } from './respond/kube-actions.js';

export interface PermissionUse {
  permission: string;
  /** The code path that needs it: "file: what for". */
  usedBy: string;
}

const WRITE_BACK: readonly PermissionUse[] = [
  {
    permission: 'securitycenter.findings.update',
    usedBy: 'lib/scc/writeback.ts: updateFinding upserts the enrichment finding in our own source',
  },
  {
    permission: 'securitycenter.findingsecuritymarks.update',
    usedBy: 'lib/scc/writeback.ts: updateSecurityMarks writes socat_triage_* marks on the original finding (and, for AUTO_RESPONSE, socat_response on the enrichment finding)',
  },
];

/** The permissions the gatherers declare, each once, naming the gatherers that need it. */
function gathererPermissions(gatherers: readonly AnyGatherer[], usedBy: (sections: string) => string): PermissionUse[] {
  const bySection = new Map<string, string[]>();
  for (const g of gatherers) {
    for (const permission of g.permissions) bySection.set(permission, [...(bySection.get(permission) ?? []), g.section]);
  }
  return [...bySection].map(([permission, sections]) => ({ permission, usedBy: usedBy(sections.join(', ')) }));
}

const FAN_OUT: readonly PermissionUse[] = [
  {
    permission: 'pubsub.topics.publish',
    usedBy: 'lib/fanout.ts: publishFanout sends the triage-completed message to FANOUT_TOPIC (granted on that topic only, when set)',
  },
];

/** A permission the write-back needs that a gatherer needs too: listed once, both uses named (the gatherer's first). */
const WRITE_BACK_READS: readonly PermissionUse[] = [
  {
    permission: 'securitycenter.findings.list',
    usedBy: 'lib/scc/writeback.ts: a re-triage reads the enrichment finding to carry its response records over (v2 has no GetFinding)',
  },
];

/** One entry per permission; the usedBy texts of the same permission joined, the first one first. */
function merged(uses: readonly PermissionUse[]): PermissionUse[] {
  const out = new Map<string, PermissionUse>();
  for (const u of uses) {
    const seen = out.get(u.permission);
    out.set(u.permission, seen ? { permission: u.permission, usedBy: `${seen.usedBy}; ${u.usedBy}` } : { ...u });
  }
  return [...out.values()];
}

export const REQUIRED_PERMISSIONS: readonly PermissionUse[] = merged([...WRITE_BACK, ...gathererPermissions(GATHERERS, (sections) => `lib/gather/registry.ts: gatherers ${sections}`), ...WRITE_BACK_READS, ...FAN_OUT]);

/**
 * What respondSocatFinding (lib/respond/responder.ts) needs, granted to its
 * own service account and custom role (terraform/response.tf). Kept apart from
 * REQUIRED_PERMISSIONS: the triage never writes to Kubernetes or Compute.
 */
const RESPONDER_OWN: readonly PermissionUse[] = [
  {
    permission: 'securitycenter.findings.update',
    usedBy: 'lib/respond/records.ts: updateFinding writes the response records on the enrichment finding (granted on our own source only)',
  },
  {
    permission: 'securitycenter.findingsecuritymarks.update',
    usedBy: 'lib/respond/records.ts: updateSecurityMarks writes the socat_response_* result marks on the original finding',
  },
  {
    permission: 'logging.logEntries.list',
    usedBy: 'lib/respond/approval.ts: ListLogEntries on the organization, to find who set the socat_response mark',
  },
  {
    permission: 'logging.privateLogEntries.list',
    usedBy: 'lib/respond/approval.ts: the marks update is in the Data Access audit log, a private log',
  },
];

/**
 * The action modules' requests (kube-actions.ts, capture.ts export their
 * PERMISSIONS), and how lib/respond/actions.ts reaches a cluster for them.
 */
export const RESPONSE_ACTION_PERMISSIONS: readonly PermissionUse[] = [
  ...CAPTURE_PERMISSIONS,
  ...KUBE_ACTION_PERMISSIONS,
  {
    permission: 'container.clusters.get',
    usedBy: 'lib/respond/actions.ts: GKE getCluster finds the control plane the Kubernetes actions write to',
  },
  {
    permission: 'container.clusters.connect',
    usedBy: "lib/respond/actions.ts: the Kubernetes actions reach a cluster's DNS-based endpoint",
  },
];

/**
 * capture re-gathers the evidence files at capture time (lib/respond/regather.ts):
 * the original finding, then what the evidence gatherers read, so their
 * declared permissions (not a copy of them) are the responder's too.
 */
export const REGATHER_PERMISSIONS: readonly PermissionUse[] = [
  {
    permission: 'securitycenter.findings.list',
    usedBy: 'lib/respond/regather.ts: capture reads the original finding by name (ListFindings with a name filter; v2 has no GetFinding) to re-gather its evidence',
  },
  ...gathererPermissions(EVIDENCE_GATHERERS, (sections) => `lib/respond/regather.ts: capture re-gathers the evidence files through gatherers ${sections} (lib/gather/registry.ts)`),
];

export const RESPONDER_PERMISSIONS: readonly PermissionUse[] = merged([...RESPONDER_OWN, ...RESPONSE_ACTION_PERMISSIONS, ...REGATHER_PERMISSIONS]);
