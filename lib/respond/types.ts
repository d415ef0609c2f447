/**
 * The response contract (issue #15): what an action is, what it would do
 * (a plan: the exact requests, REST-shaped, so `respond --dry-run --json`
 * prints them and the tests compare them with what the emulators received),
 * and what it did (a record, kept on the enrichment finding).
 *
 * Planning is pure: it decides from a ResponseSubject (what the triage
 * learned, lib/respond/subject.ts) and the records of what was already done
 * for this detection. Execution goes through the real client libraries and
 * sends exactly the planned requests, in order.
 */
import type { ReportC2 } from '../report/types.js';
import type { VerdictLevel } from '../decide/types.js';

export const RESPONSE_ACTIONS = ['capture', 'block-c2', 'isolate', 'cordon', 'delete-pod'] as const;
export type ResponseAction = (typeof RESPONSE_ACTIONS)[number];

export function isResponseAction(value: string): value is ResponseAction {
  return (RESPONSE_ACTIONS as readonly string[]).includes(value);
}

/** Actions that change the cluster: refused for a likely_benign_admin verdict unless forced. */
export const CLUSTER_CHANGING: ReadonlySet<ResponseAction> = new Set(['block-c2', 'isolate', 'cordon', 'delete-pod']);

export type RequestApi = 'kubernetes' | 'compute' | 'storage' | 'securitycenter';

/**
 * One request as its REST API names it: Kubernetes paths as in the API
 * server's REST API (/apis/networking.k8s.io/v1/namespaces/NS/networkpolicies),
 * Compute and Cloud Storage as in their JSON APIs, SCC as in its v2 REST API.
 * Bodies are the JSON sent; null when there is none.
 */
export interface PlannedRequest {
  api: RequestApi;
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  body: unknown;
  /** PATCH only: application/merge-patch+json, application/strategic-merge-patch+json, ... */
  contentType?: string;
}

export interface ResponsePlan {
  action: ResponseAction;
  /** False when refused; then requests is empty and reason says why. */
  allowed: boolean;
  /** For people: what it does, or why it is refused. */
  reason: string;
  requests: PlannedRequest[];
  /** The command that undoes it (lib/shell/quote.ts, exact in every shell); null when nothing to undo or it cannot be undone. */
  undo: string | null;
}

/** What happened when a plan was carried out. */
export type ResponseResult =
  /** every request succeeded */
  | 'done'
  /** the change was already in place (AlreadyExists, label already set, node already cordoned): idempotent re-delivery */
  | 'already_done'
  /** refused before any request was made (plan.allowed false, approver not allowed, ...) */
  | 'refused'
  /** a request failed; detail names which and why */
  | 'failed';

export interface ResponseRecord {
  action: ResponseAction;
  /** The principal who approved it (an email), `automatic` for AUTO_RESPONSE, `cli:<who>` for the CLI; null when it could not be established. */
  approver: string | null;
  /** RFC 3339, when it was carried out (lib/timestamp.ts). */
  at: string;
  result: ResponseResult;
  /** One or two sentences: what changed, or why not. */
  detail: string;
  undo: string | null;
  /** capture only: what was preserved, where, and each evidence object's sha256. */
  capture?: CaptureArtifacts;
}

/** What a capture preserved (lib/respond/capture.ts). */
export interface CaptureArtifacts {
  snapshot: {
    project: string;
    zone: string;
    disk: string;
    name: string;
    /** created: by this run; already_existed: an earlier run (re-delivery) made it; not_taken: refused or failed. */
    state: 'created' | 'already_existed' | 'not_taken';
    /** The zone operation that made it; null when none was started here. */
    operation: string | null;
  };
  evidence: {
    /** null when EVIDENCE_BUCKET is not configured. */
    bucket: string | null;
    /** Where the files came from and as of when (e.g. `triage --save-evidence` output given with --evidence DIR). */
    origin: string | null;
    objects: CapturedObject[];
    /** Why evidence files were not kept (no bucket, no files); null when they were handed over. */
    notKept: string | null;
  };
}

export interface CapturedObject {
  /** The evidence file's name (lib/gather/evidence.ts, finding.json, evidence.json). */
  file: string;
  /** Object name in the bucket. */
  object: string;
  /** hex sha256 of the bytes kept; the object's name includes the set's digest, so an existing object holds these bytes. */
  sha256: string;
  bytes: number;
  /** stored: written by this run; already_stored: the same object (same bytes) was kept by an earlier run; not_stored: failed. */
  state: 'stored' | 'already_stored' | 'not_stored';
  /** The object's generation when written here; null otherwise. */
  generation: string | null;
}

/**
 * What planning needs to know about the detection, taken from a report
 * (the triage's, or the one stored in the enrichment finding). Every field is
 * what the triage observed; null when it did not.
 */
export interface ResponseSubject {
  /** The original CTD finding. */
  findingName: string;
  /** Our enrichment finding for it (where records are kept); null when there is none yet (CLI on a report file). */
  enrichmentFinding: string | null;
  eventTime: string | null;
  verdict: { level: VerdictLevel; score: number };
  cluster: { project: string; location: string; name: string; networkPolicyEnforced: boolean | null } | null;
  workload: { namespace: string | null; pod: string | null; container: string | null; node: string | null };
  /** The pod as read from the cluster (source 'kubernetes') or only from the finding. */
  pod: { source: 'kubernetes' | 'finding'; labels: Record<string, string>; topOwnerKind: string | null } | null;
  /** The node's Compute Engine instance, for the boot disk snapshot. */
  node: { name: string; zone: string | null; instanceId: string | null } | null;
  c2: ReportC2;
}

/** Planning input besides the subject. */
export interface PlanContext {
  subject: ResponseSubject;
  /** What was already done for this detection (from the enrichment finding). */
  previous: readonly ResponseRecord[];
  /** --force: delete-pod without capture, cluster changes on a benign verdict. */
  force: boolean;
  now: Date;
  /** capture only: the evidence files to keep and the bucket for them; absent or null: the snapshot alone. */
  evidence?: CaptureEvidence | null;
}

/** The evidence files handed to the capture action (the files `triage --save-evidence DIR` writes). */
export interface CaptureEvidence {
  /** EVIDENCE_BUCKET; null when not configured. */
  bucket: string | null;
  files: readonly EvidenceFileBytes[];
  /** For the record: where the files came from and as of when. */
  origin: string;
  /** Why there are no files (the responder's re-gathering could not run or failed, lib/respond/regather.ts); the record's notKept says it. */
  unavailable?: string;
}

export interface EvidenceFileBytes {
  name: string;
  bytes: Uint8Array;
}
