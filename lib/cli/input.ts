/**
 * What a FINDING_NAME|FILE argument is, and reading files and standard input
 * with the same limits the function applies to a Pub/Sub message.
 */
import { readFile, stat } from 'node:fs/promises';
import { InvalidInputError } from '../errors.js';
import { MAX_MESSAGE_BYTES } from '../finding/envelope.js';
import type { Io } from './io.js';

// Segments are restricted to the characters SCC ids use, which also makes the name safe inside a filter's quotes.
const SEGMENT = '[A-Za-z0-9_.-]+';
const FINDING_NAME = new RegExp(`^((?:organizations|folders|projects)/${SEGMENT})/sources/(${SEGMENT})(?:/locations/(${SEGMENT}))?/findings/(${SEGMENT})$`);

export interface FindingRef {
  /** Canonical v2 name, always with /locations/L. */
  name: string;
  /** organizations/O/sources/S/locations/L: the parent ListFindings takes. */
  parent: string;
}

export function parseFindingName(value: string): FindingRef | null {
  const m = FINDING_NAME.exec(value);
  if (!m) return null;
  const [, scope, source, location, id] = m as unknown as [string, string, string, string | undefined, string];
  const parent = `${scope}/sources/${source}/locations/${location ?? 'global'}`;
  return { name: `${parent}/findings/${id}`, parent };
}

export type Target = { kind: 'name'; ref: FindingRef } | { kind: 'file'; path: string };

/**
 * A finding name wins over a file of the same spelling: names are what
 * operators paste from the console. A file at such a path is read as ./PATH.
 */
export function classifyTarget(arg: string): Target {
  const ref = parseFindingName(arg);
  return ref ? { kind: 'name', ref } : { kind: 'file', path: arg };
}

export async function readInput(path: string, io: Io): Promise<string> {
  if (path === '-') return io.readStdin();
  let info;
  try {
    info = await stat(path);
  } catch (err) {
    throw new InvalidInputError(`cannot read ${JSON.stringify(path)}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (!info.isFile()) throw new InvalidInputError(`${JSON.stringify(path)} is not a file`);
  if (info.size > MAX_MESSAGE_BYTES) throw new InvalidInputError(`${JSON.stringify(path)} exceeds 10 MB`);
  return readFile(path, 'utf8');
}
