/**
 * Every IAM permission the deployed function uses, next to the code that
 * needs it. The write-back's are listed here; each gatherer declares its own
 * (lib/gather/registry.ts), so a new gatherer cannot forget to. terraform/
 * grants exactly this list (test/terraform/permissions.test.ts checks it).
 */
import { GATHERERS } from './gather/registry.js';

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
    usedBy: 'lib/scc/writeback.ts: updateSecurityMarks writes socat_triage_* marks on the original finding',
  },
];

function gathererPermissions(): PermissionUse[] {
  const bySection = new Map<string, string[]>();
  for (const g of GATHERERS) {
    for (const permission of g.permissions) bySection.set(permission, [...(bySection.get(permission) ?? []), g.section]);
  }
  return [...bySection].map(([permission, sections]) => ({
    permission,
    usedBy: `lib/gather/registry.ts: gatherers ${sections.join(', ')}`,
  }));
}

const FAN_OUT: readonly PermissionUse[] = [
  {
    permission: 'pubsub.topics.publish',
    usedBy: 'lib/fanout.ts: publishFanout sends the triage-completed message to FANOUT_TOPIC (granted on that topic only, when set)',
  },
];

export const REQUIRED_PERMISSIONS: readonly PermissionUse[] = [...WRITE_BACK, ...gathererPermissions(), ...FAN_OUT];
