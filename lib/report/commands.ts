/**
 * The playbook's Step 5 commands ("Investigate the running container"), ready
 * to paste into Cloud Shell or any POSIX shell (see lib/shell/quote.ts for
 * which). Every value comes from the finding and is attacker-influenced: it is
 * shell-quoted, never rewritten. A command that cannot address exactly what
 * the finding names, or that would have to hide a control or invisible
 * character of it, is null, never approximate.
 *
 * How kubectl and gcloud parse the forms used here was checked against the
 * real binaries (kubectl v1.32 against a fake API server logging request
 * URLs; gcloud 528), not assumed:
 *  - `-c VALUE` takes the next word verbatim, even `--` or `-x`.
 *  - `--namespace=VALUE` keeps a leading '-' and ':'; kubectl rejects a
 *    namespace containing '/' before any request.
 *  - `kubectl cp` splits its remote operand at the first ':' and then at '/'
 *    (`NS/POD:PATH`); the path may contain ':'. A pod name with ':' or '/'
 *    therefore cannot be written at all.
 *  - `kubectl cp` rewrites every '\\' in the remote path to '/' (Windows
 *    separators) and drops one trailing '/' (kubectl's newRemotePath; seen
 *    in the tar command it sends), so such a path cannot be copied exactly.
 *  - `kubectl cp` accepts `--` before its operands; `kubectl exec` uses `--`
 *    for the container command, so a pod starting with '-' is written as
 *    `pod/NAME` there, and a pod containing '/' cannot be written.
 *  - gcloud rejects a leading-'-' positional or flag value as a flag, and
 *    rejects a project that is not a valid project ID.
 * Kubernetes names are DNS-1123 labels/subdomains and GCP ids start with a
 * letter or digit, so the values these rules exclude only come from a hostile
 * or garbled finding.
 */
import type { SocatFinding } from '../finding/types.js';
import { isShellWritable, shellJoin } from '../shell/quote.js';
import type { Commands } from './types.js';

/**
 * Longer values make the command null: no real path (PATH_MAX 4096) or
 * Kubernetes/GCP name comes close, and it keeps reports small.
 */
export const MAX_COMMAND_VALUE_CHARS = 4096;

/**
 * The './' prefix keeps the local operand from ever looking like a flag; the
 * kept characters need no quoting and contain no ':', which kubectl cp would
 * read as POD:PATH.
 */
const LOCAL_FILE_PREFIX = './socat-evidence-';
const MAX_LOCAL_BASENAME_CHARS = 64;

/**
 * A value a command can carry (shared with the runbook): present, non-empty,
 * within the cap, and writable exactly and visibly in every supported shell
 * (no control, bidi, zero-width or other invisible character, no lone
 * surrogate).
 */
export function usable(value: string | null | undefined): value is string {
  return value != null && value !== '' && value.length <= MAX_COMMAND_VALUE_CHARS && isShellWritable(value);
}

const UNUSABLE = Symbol('unusable');

/**
 * Null when an optional value is absent (omit it), UNUSABLE when present but
 * unusable — the command must then be null, since dropping the value (e.g. -c)
 * would address something else.
 */
function optional(value: string | null | undefined): string | null | typeof UNUSABLE {
  if (value == null || value === '') return null;
  return usable(value) ? value : UNUSABLE;
}

export function buildCommands(f: SocatFinding): Commands {
  return {
    getCredentials: buildGetCredentials(f),
    copyBinary: buildCopyBinary(f),
    exec: buildExec(f),
  };
}

function buildGetCredentials(f: SocatFinding): string | null {
  const c = f.cluster;
  if (c === null) return null;
  // The resource name's project id, not projectDisplayName as the playbook's
  // wording suggests: gcloud --project takes an id and rejects display names.
  const values = [c.name, c.location, c.project];
  if (!values.every(usable) || values.some((v) => v.startsWith('-'))) return null;
  const locationFlag = c.locationType === 'regional' ? '--region' : '--zone';
  return shellJoin(['gcloud', 'container', 'clusters', 'get-credentials', c.name, locationFlag, c.location, '--project', c.project]);
}

function buildCopyBinary(f: SocatFinding): string | null {
  const { namespace, pod } = f.workload;
  const binary = f.socat?.binary;
  const container = optional(f.workload.container);
  if (!usable(namespace) || !usable(pod) || !usable(binary) || container === UNUSABLE) return null;
  if (pod.includes(':') || pod.includes('/') || namespace.includes('/')) return null;
  // kubectl cp runs `tar cf - PATH` in the container: a relative or
  // '-'-leading path would be a tar option, and a path ending in '/' (or "/")
  // would copy a whole tree. binary.path is documented as a full path.
  // kubectl would turn a backslash into '/', i.e. copy a different file.
  if (!binary.startsWith('/') || binary.endsWith('/') || binary.includes('\\')) return null;

  const containerArgs = container === null ? [] : ['-c', container];
  const local = localFileFor(binary);
  if (!namespace.includes(':') && !namespace.startsWith('-') && !pod.startsWith('-')) {
    return shellJoin(['kubectl', 'cp', `${namespace}/${pod}:${binary}`, ...containerArgs, local]);
  }
  // The namespace cannot go into the NS/POD: operand here (its ':' would end
  // the pod part, its leading '-' would make a flag); the attached flag keeps
  // it exactly, and `--` keeps a '-'-leading pod operand positional.
  return shellJoin(['kubectl', 'cp', `--namespace=${namespace}`, ...containerArgs, '--', `${pod}:${binary}`, local]);
}

/**
 * `./socat-evidence-<basename>`, keeping only [A-Za-z0-9._-] of the basename
 * (at most 64): a name the reader can trust at a glance. Only the local copy
 * is named this way; the remote path is never altered.
 */
export function localFileFor(binaryPath: string): string {
  const base = binaryPath.slice(binaryPath.lastIndexOf('/') + 1);
  const kept = base.replace(/[^A-Za-z0-9._-]/g, '').slice(0, MAX_LOCAL_BASENAME_CHARS);
  return LOCAL_FILE_PREFIX + (kept === '' ? 'binary' : kept);
}

function buildExec(f: SocatFinding): string | null {
  const { namespace, pod } = f.workload;
  const container = optional(f.workload.container);
  if (!usable(namespace) || !usable(pod) || container === UNUSABLE) return null;
  // exec reads a pod operand containing '/' as TYPE/NAME; kubectl refuses a
  // namespace with '/'.
  if (pod.includes('/') || namespace.includes('/')) return null;
  const podOperand = pod.startsWith('-') ? `pod/${pod}` : pod;
  const containerArgs = container === null ? [] : ['-c', container];
  return shellJoin(['kubectl', 'exec', `--namespace=${namespace}`, '-ti', podOperand, ...containerArgs, '--', '/bin/sh']);
}
