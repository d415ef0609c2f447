/**
 * Response records, kept where the engineer approved them: on our enrichment
 * finding, as source properties that sort after the report's sections (R1…R5,
 * one group per action in RESPONSE_ACTIONS order), and as one compact mark
 * per action on the original finding (`socat_response_block_c2 = done`), so a
 * console list of CTD findings shows what was done without opening ours.
 *
 * Each action keeps its latest record in three properties:
 *   R2_Response_block_c2         DONE: what changed — approved by … at …   (for people)
 *   R2_Response_block_c2_Undo    the undo command, exact in every shell (lib/shell/quote.ts), or a note
 *   R2_Response_block_c2_Record  the record as versioned JSON (read back for planning and the loop guard)
 *
 * Written with UpdateFinding and an update mask of `source_properties.KEY`
 * paths: "Individual source_properties can be added/updated by using
 * "source_properties.<property key>" in the field mask" while "an empty mask
 * is treated as updating all mutable fields and replacing source_properties"
 * (UpdateFindingRequest.update_mask, google/cloud/securitycenter/v2/securitycenter_service.proto),
 * so a record never touches the report and the triage's full rewrite carries
 * the records over (lib/scc/writeback.ts). Mark keys are letters, digits and
 * underscores ("marks.<mark_key>", UpdateSecurityMarksRequest.update_mask).
 */
import type { protos } from '@google-cloud/security-center';
import { z } from 'zod';
import { cleanLine } from '../sanitize.js';
import { toProtoValues, type Properties } from '../scc/properties.js';
import { RESPONSE_ACTIONS, isResponseAction, type ResponseAction, type ResponseRecord } from './types.js';

/** The approval a record carried out. */
export interface ApprovalRef {
  /** The audit entry (LogEntry.insert_id) of the mark change; null when the approver could not be established. */
  entryId: string | null;
  /** The mark's value, as approved. */
  markValue: string;
  /** When the mark was set (the audit entry's timestamp); null when unknown. */
  setAt: string | null;
}

export interface StoredRecord extends ResponseRecord {
  approval: ApprovalRef;
}

export const RECORD_SCHEMA_VERSION = 1;

const SUMMARY_MAX = 1500;
const DETAIL_MAX = 1500;

/** The property key of each action's summary; the others append _Undo and _Record. */
export function recordKey(action: ResponseAction): string {
  return `R${RESPONSE_ACTIONS.indexOf(action) + 1}_Response_${action.replace(/-/g, '_')}`;
}

/** Every property a record may write: the triage carries these over when it rewrites the finding. */
export const RESPONSE_PROPERTY = /^R[1-9]_Response_[a-z_0-9]+(_Undo|_Record)?$/;

/** The compact mark on the original finding. */
export function responseMarkKey(action: ResponseAction): string {
  return `socat_response_${action.replace(/-/g, '_')}`;
}

const RESULT_WORDS = { done: 'DONE', already_done: 'ALREADY DONE', refused: 'REFUSED', failed: 'FAILED' } as const;

export function recordProperties(r: StoredRecord): Properties {
  const key = recordKey(r.action);
  const by = r.approver === null ? 'approver unavailable' : `approved by ${r.approver}`;
  const detail = cleanLine(r.detail, DETAIL_MAX);
  const record = {
    v: RECORD_SCHEMA_VERSION,
    action: r.action,
    result: r.result,
    approver: r.approver === null ? null : cleanLine(r.approver, 200),
    at: r.at,
    detail,
    undo: r.undo,
    approval: { entryId: r.approval.entryId === null ? null : cleanLine(r.approval.entryId, 200), markValue: cleanLine(r.approval.markValue, 300), setAt: r.approval.setAt },
    // capture: the snapshot and each evidence object with its sha256, kept where the detail says they are ("sha256 of each in the record").
    ...(r.capture === undefined ? {} : { capture: r.capture }),
  };
  return {
    [key]: cleanLine(`${RESULT_WORDS[r.result]}: ${detail} (${by}, ${r.at})`, SUMMARY_MAX),
    // The undo is already exactly quoted; never cleaned. A key is always written, so a newer record never leaves an older undo behind.
    [`${key}_Undo`]: r.undo ?? '(nothing to undo)',
    [`${key}_Record`]: JSON.stringify(record),
  };
}

const recordSchema = z.object({
  v: z.literal(RECORD_SCHEMA_VERSION),
  action: z.string().refine(isResponseAction),
  result: z.enum(['done', 'already_done', 'refused', 'failed']),
  approver: z.string().nullable(),
  at: z.string(),
  detail: z.string(),
  undo: z.string().nullable(),
  approval: z.object({ entryId: z.string().nullable(), markValue: z.string(), setAt: z.string().nullable() }),
  // Optional within version 1: records written before it (and of other actions) have none.
  capture: z
    .object({
      snapshot: z.object({
        project: z.string(),
        zone: z.string(),
        disk: z.string(),
        name: z.string(),
        state: z.enum(['created', 'already_existed', 'not_taken']),
        operation: z.string().nullable(),
      }),
      evidence: z.object({
        bucket: z.string().nullable(),
        origin: z.string().nullable(),
        objects: z
          .array(
            z.object({
              file: z.string(),
              object: z.string(),
              sha256: z.string().regex(/^[0-9a-f]{64}$/),
              bytes: z.number().int().nonnegative(),
              state: z.enum(['stored', 'already_stored', 'not_stored']),
              generation: z.string().nullable(),
            }),
          )
          .max(64),
        notKept: z.string().nullable(),
      }),
    })
    .optional(),
});

/** A property value as a notification carries it (plain JSON) or the client returns it ({stringValue}). */
function text(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (v !== null && typeof v === 'object' && typeof (v as { stringValue?: unknown }).stringValue === 'string') return (v as { stringValue: string }).stringValue;
  return null;
}

/** The records on an enrichment finding; a record that does not parse is named in problems, never guessed at. */
export function recordsFromProperties(props: Readonly<Record<string, unknown>> | null | undefined): { records: StoredRecord[]; problems: string[] } {
  const records: StoredRecord[] = [];
  const problems: string[] = [];
  for (const action of RESPONSE_ACTIONS) {
    const key = `${recordKey(action)}_Record`;
    if (!props || !Object.hasOwn(props, key)) continue;
    const raw = text(props[key]);
    let parsed: unknown;
    try {
      parsed = raw === null ? null : JSON.parse(raw);
    } catch {
      parsed = null;
    }
    const result = recordSchema.safeParse(parsed);
    if (!result.success || result.data.action !== action) {
      problems.push(`${key} is not a record this version can read`);
      continue;
    }
    const { v: _v, ...rest } = result.data;
    records.push({ ...rest, action } as StoredRecord);
  }
  return { records, problems };
}

/** The part of v2.SecurityCenterClient records are written with. */
export interface RecordWriter {
  updateFinding(request: protos.google.cloud.securitycenter.v2.IUpdateFindingRequest): Promise<unknown>;
  updateSecurityMarks(request: protos.google.cloud.securitycenter.v2.IUpdateSecurityMarksRequest): Promise<unknown>;
}

/**
 * The record's properties on the enrichment finding, then its mark on the
 * original finding (when known). A failure throws: the caller decides
 * whether Pub/Sub retries (lib/outcome.ts).
 */
export async function writeRecord(scc: RecordWriter, where: { enrichmentFinding: string; originalFinding: string | null }, r: StoredRecord): Promise<void> {
  const props = recordProperties(r);
  await scc.updateFinding({
    finding: { name: where.enrichmentFinding, sourceProperties: toProtoValues(props) },
    updateMask: { paths: Object.keys(props).map((k) => `source_properties.${k}`) },
  });
  if (where.originalFinding === null) return;
  const key = responseMarkKey(r.action);
  await scc.updateSecurityMarks({
    securityMarks: { name: `${where.originalFinding}/securityMarks`, marks: { [key]: r.result } },
    updateMask: { paths: [`marks.${key}`] },
  });
}
