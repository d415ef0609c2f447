/**
 * Every IAM permission the deployed function uses, next to the call that
 * needs it. terraform/ grants exactly this list (test/terraform checks it);
 * adding a call to a Google API means adding its permission here.
 */
export interface PermissionUse {
  permission: string;
  /** The code path that needs it. */
  usedBy: string;
}

export const REQUIRED_PERMISSIONS: readonly PermissionUse[] = [
  {
    permission: 'securitycenter.findings.update',
    usedBy: 'lib/scc/writeback.ts: updateFinding upserts the enrichment finding in our own source',
  },
  {
    permission: 'securitycenter.findingsecuritymarks.update',
    usedBy: 'lib/scc/writeback.ts: updateSecurityMarks writes socat_triage_* marks on the original finding',
  },
];
