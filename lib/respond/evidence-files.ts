/**
 * The evidence files the capture action keeps, as bytes, from one of two
 * places; the record's origin says which, since they differ in when:
 *
 * - `respond --action capture --evidence DIR`: the files `triage --save-evidence DIR`
 *   wrote, as of that triage (readEvidenceDir).
 * - The responder re-gathering at capture time through the gatherers with a
 *   recorder, as --save-evidence does (gatheredEvidence): the same files and
 *   bytes save-evidence would write, as of the capture.
 *
 * DIR is hostile: only the names
 * save-evidence writes are taken, each a regular file opened without
 * following a symbolic link and capped in size; anything else in DIR is an
 * error naming it, so nothing is silently left out of (or slipped into) the
 * evidence.
 */
import { constants } from 'node:fs';
import { lstat, open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { FINDING_FILE, MANIFEST_FILE, MAX_EVIDENCE_FILE_BYTES } from '../cli/evidence.js';
import { renderEvidence, type EvidenceCollector } from '../cli/save-evidence.js';
import { InvalidInputError } from '../errors.js';
import { EVIDENCE_FILES } from '../gather/evidence.js';
import { canonicalTimestamp } from '../timestamp.js';
import type { CaptureEvidence, EvidenceFileBytes } from './types.js';

/** Every name save-evidence writes (lib/cli/save-evidence.ts). */
export const SAVED_EVIDENCE_NAMES: readonly string[] = [FINDING_FILE, MANIFEST_FILE, ...Object.keys(EVIDENCE_FILES)];

export async function readEvidenceDir(dir: string): Promise<EvidenceFileBytes[]> {
  const label = `--evidence ${JSON.stringify(dir)}`;
  let info;
  try {
    info = await lstat(dir);
  } catch (err) {
    throw new InvalidInputError(`${label}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (info.isSymbolicLink()) throw new InvalidInputError(`${label} is a symbolic link; name the directory triage --save-evidence wrote`);
  if (!info.isDirectory()) throw new InvalidInputError(`${label} is not a directory`);
  const names = (await readdir(dir)).sort();
  const unknown = names.filter((n) => !SAVED_EVIDENCE_NAMES.includes(n));
  if (unknown.length > 0) {
    throw new InvalidInputError(
      `${label} holds ${unknown.map((n) => JSON.stringify(n)).join(', ')}, which triage --save-evidence does not write; keep only its files (${SAVED_EVIDENCE_NAMES.join(', ')}) in the directory`,
    );
  }
  if (names.length === 0) throw new InvalidInputError(`${label} is empty; write it with triage --save-evidence DIR first`);
  const files: EvidenceFileBytes[] = [];
  for (const name of names) {
    let handle;
    try {
      handle = await open(join(dir, name), constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new InvalidInputError(`${label}: ${name}: ${code === 'ELOOP' ? 'is a symbolic link' : (code ?? (err as Error).message)}`);
    }
    try {
      const st = await handle.stat();
      if (!st.isFile()) throw new InvalidInputError(`${label}: ${name} is not a regular file`);
      if (st.size > MAX_EVIDENCE_FILE_BYTES) throw new InvalidInputError(`${label}: ${name} is larger than ${MAX_EVIDENCE_FILE_BYTES / 1024 / 1024} MiB`);
      files.push({ name, bytes: new Uint8Array(await handle.readFile()) });
    } finally {
      await handle.close();
    }
  }
  return files;
}

/** What a re-gathering recorded (lib/cli/save-evidence.ts EvidenceCollector), as the capture action's evidence. */
export async function gatheredEvidence(collector: EvidenceCollector, findingJson: string, bucket: string | null, gatheredAt: Date): Promise<CaptureEvidence> {
  const files = await renderEvidence(collector, findingJson);
  const encoder = new TextEncoder();
  return {
    bucket,
    files: files.map((f) => ({ name: f.name, bytes: encoder.encode(f.text) })),
    origin: `re-gathered by the responder at ${canonicalTimestamp(gatheredAt.toISOString())} (as of the capture, not of the triage)`,
  };
}
