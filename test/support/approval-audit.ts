/**
 * A marks update as the SCC console makes it, and the Data Access audit entry
 * Cloud Logging keeps of it, for the approval tests and the demo.
 *
 * The entry's shape: AuditLog fields (google/cloud/audit/audit_log.proto:
 * serviceName, methodName, resourceName, authenticationInfo.principalEmail,
 * status, request as a Struct whose "@type" names the request message),
 * the method names of https://cloud.google.com/security-command-center/docs/audit-logging
 * (UpdateSecurityMarks: Data access, DATA_WRITE), the log
 * cloudaudit.googleapis.com%2Fdata_access of the organization, and the request
 * in proto3 JSON, where a FieldMask is a comma-separated string
 * (https://protobuf.dev/reference/protobuf/google.protobuf/#field-mask).
 */
import type { SccClient } from '../../lib/clients.js';
import type { AuditLogSeed, LoggingEmulator, SeedLogEntry } from '../emulators/logging-emulator.js';

export type ApiVersion = 'v1' | 'v2';

export interface MarkUpdate {
  organization: string;
  /** The finding, in v2 form (organizations/O/sources/S/locations/global/findings/F). */
  finding: string;
  principal: string;
  marks: Record<string, string>;
  /** Mask paths; default: marks.KEY for each key of marks. */
  paths?: string[];
  time: Date;
  /** The console may call v1: its resource names have no /locations/L. */
  version?: ApiVersion;
  insertId?: string;
  /** A refused call (PERMISSION_DENIED): status code 7 and granted false. */
  denied?: boolean;
  /** Leave the request out of the entry, as an audit log may. */
  withoutRequest?: boolean;
}

function v1Name(name: string): string {
  return name.replace(/\/locations\/[^/]+\/findings\//, '/findings/');
}

export function markUpdateAuditEntry(u: MarkUpdate): SeedLogEntry {
  const version = u.version ?? 'v2';
  const finding = version === 'v1' ? v1Name(u.finding) : u.finding;
  const marksName = `${finding}/securityMarks`;
  const paths = u.paths ?? Object.keys(u.marks).map((k) => `marks.${k}`);
  const protoPayload: AuditLogSeed = {
    serviceName: 'securitycenter.googleapis.com',
    methodName: `google.cloud.securitycenter.${version}.SecurityCenter.UpdateSecurityMarks`,
    resourceName: marksName,
    authenticationInfo: { principalEmail: u.principal },
    requestMetadata: { callerIp: '198.51.100.23', callerSuppliedUserAgent: 'Mozilla/5.0 (console)' },
    authorizationInfo: [{ resource: marksName, permission: 'securitycenter.findingsecuritymarks.update', granted: !u.denied }],
    ...(u.denied ? { status: { code: 7, message: 'PERMISSION_DENIED' } } : {}),
    ...(u.withoutRequest
      ? {}
      : {
          request: {
            '@type': `type.googleapis.com/google.cloud.securitycenter.${version}.UpdateSecurityMarksRequest`,
            securityMarks: { name: marksName, marks: u.marks },
            updateMask: paths.join(','),
          },
        }),
  };
  return {
    logName: `organizations/${u.organization}/logs/cloudaudit.googleapis.com%2Fdata_access`,
    resource: { type: 'audited_resource', labels: { service: 'securitycenter.googleapis.com', method: protoPayload.methodName as string } },
    timestamp: u.time,
    severity: u.denied ? 'ERROR' : 'NOTICE',
    ...(u.insertId ? { insertId: u.insertId } : {}),
    protoPayload,
  };
}

/** Sets the marks through the real client, as the console does, and logs the audit entry Cloud Logging would keep. */
export async function setMarksAs(scc: SccClient, logging: LoggingEmulator, u: MarkUpdate): Promise<void> {
  if (!u.denied) {
    const paths = u.paths ?? Object.keys(u.marks).map((k) => `marks.${k}`);
    await scc.updateSecurityMarks({ securityMarks: { name: `${u.finding}/securityMarks`, marks: u.marks }, updateMask: { paths } });
  }
  logging.seed([markUpdateAuditEntry(u)]);
}
