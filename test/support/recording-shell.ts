/**
 * Runs a generated command line with real bash against recording stand-ins for
 * kubectl and gcloud, so a test can compare the argv a program would really
 * receive with the argv that was intended, and can prove that nothing else ran.
 *
 * No jest import: usable from any test and from fuzzing scripts.
 *
 * Each run gets its own sandbox (stand-ins, HOME, cwd, canary dir, log), so
 * runs can go in parallel and a hostile command cannot see an earlier run's
 * traces. The sandbox is removed afterwards.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { shellQuote } from '../../lib/shell/quote.js';

export interface Invocation {
  /** The stand-in's name, e.g. 'kubectl'. */
  program: string;
  /** Arguments after the program name, decoded as UTF-8. */
  argv: string[];
  /** The same arguments as the exact bytes the program received. */
  rawArgv: Buffer[];
}

export interface RunResult {
  invocations: Invocation[];
  stdout: string;
  stderr: string;
  /** Null when bash was killed by a signal (e.g. on timeout). */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  /**
   * Names of files that appeared in $CANARY_DIR. Hostile inputs try to create
   * files there; anything in this list means injected code ran.
   */
  canaryFiles: string[];
}

export interface RunOptions {
  /** Stand-in programs to put first on PATH. Default: kubectl, gcloud. */
  programs?: readonly string[];
  /** Default 10 000. */
  timeoutMs?: number;
  /** Added to the clean environment (e.g. LANG to test locale effects). */
  env?: Readonly<Record<string, string>>;
  stdin?: string;
}

export const DEFAULT_STAND_INS: readonly string[] = ['kubectl', 'gcloud'];

/**
 * The kernel refuses any single argv string of 32 pages or more
 * (MAX_ARG_STRLEN), and the command travels as one `bash -c` argument.
 */
export const MAX_COMMAND_BYTES = 128 * 1024 - 1;

/** Inputs that run `touch $CANARY_DIR/pwned` if they ever reach bash unquoted. */
export const CANARY_PAYLOADS: readonly string[] = [
  `/tmp/x'; touch $CANARY_DIR/pwned; echo '`,
  `/tmp/x"; touch $CANARY_DIR/pwned; echo "`,
  '$(touch $CANARY_DIR/pwned)',
  '`touch $CANARY_DIR/pwned`',
  '/bin/socat\ntouch $CANARY_DIR/pwned\n',
  '/bin/socat\r\ntouch $CANARY_DIR/pwned',
  '/bin/socat; touch $CANARY_DIR/pwned',
  '/bin/socat | touch $CANARY_DIR/pwned',
  '/bin/socat && touch $CANARY_DIR/pwned',
  '/bin/socat & touch $CANARY_DIR/pwned &',
  '/bin/socat > $CANARY_DIR/pwned',
  '<(touch $CANARY_DIR/pwned)',
  '>(touch $CANARY_DIR/pwned)',
  `\\'; touch $CANARY_DIR/pwned; #`,
  `$'\\''; touch $CANARY_DIR/pwned #`,
  `'$(touch $CANARY_DIR/pwned)'`,
  '${IFS}$(touch${IFS}$CANARY_DIR/pwned)',
  '$((1))$(touch $CANARY_DIR/pwned)',
  '!$(touch $CANARY_DIR/pwned)',
  '/bin/\u202Esocat\u202C; touch $CANARY_DIR/pwned',
  '/bin/socat\u2066`touch $CANARY_DIR/pwned`\u2069',
  '/bin/socat\u2028touch $CANARY_DIR/pwned',
  '/bin/socat\x1b]0;title\x07\x1b[31m$(touch $CANARY_DIR/pwned)\x1b[0m',
  '-o $CANARY_DIR/pwned',
  '--output=$CANARY_DIR/pwned',
];

/** A bash script that appends `$# NUL program NUL arg NUL ...` to logFile. */
function standInScript(program: string, logFile: string): string {
  // A count-prefixed record survives any argument content, including
  // arguments that look like record separators; NUL cannot occur in argv.
  return [
    '#!/bin/bash',
    `printf '%s\\0' "$#" ${shellQuote(program)} "$@" >> ${shellQuote(logFile)}`,
    'exit 0',
    '',
  ].join('\n');
}

function parseLog(log: Buffer): Invocation[] {
  const fields: Buffer[] = [];
  let start = 0;
  for (let i = 0; i < log.length; i++) {
    if (log[i] === 0) {
      fields.push(log.subarray(start, i));
      start = i + 1;
    }
  }
  if (start !== log.length) throw new Error('recording log ends inside a field');
  const invocations: Invocation[] = [];
  let i = 0;
  while (i < fields.length) {
    const count = Number(fields[i]?.toString('utf8'));
    const program = fields[i + 1];
    if (!Number.isInteger(count) || count < 0 || program === undefined || i + 2 + count > fields.length) {
      throw new Error(`malformed recording log at field ${i}`);
    }
    const rawArgv = fields.slice(i + 2, i + 2 + count);
    invocations.push({ program: program.toString('utf8'), argv: rawArgv.map((b) => b.toString('utf8')), rawArgv });
    i += 2 + count;
  }
  return invocations;
}

export async function runWithStandIns(command: string, options: RunOptions = {}): Promise<RunResult> {
  if (Buffer.byteLength(command, 'utf8') > MAX_COMMAND_BYTES) {
    throw new RangeError(`command is ${Buffer.byteLength(command, 'utf8')} bytes; bash -c takes at most ${MAX_COMMAND_BYTES}`);
  }
  const programs = options.programs ?? DEFAULT_STAND_INS;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const root = await mkdtemp(path.join(tmpdir(), 'recording-shell-'));
  try {
    const binDir = path.join(root, 'bin');
    const homeDir = path.join(root, 'home');
    const workDir = path.join(root, 'work');
    const canaryDir = path.join(root, 'canary');
    const logFile = path.join(root, 'invocations.log');
    await Promise.all([binDir, homeDir, workDir, canaryDir].map((d) => mkdir(d)));
    await writeFile(logFile, '');
    for (const program of programs) {
      if (!/^[A-Za-z0-9._-]+$/.test(program)) throw new Error(`bad stand-in name ${JSON.stringify(program)}`);
      await writeFile(path.join(binDir, program), standInScript(program, logFile), { mode: 0o755 });
    }

    const env: Record<string, string> = {
      // Only the stand-ins, then system tools; the real kubectl/gcloud in
      // /usr/bin are shadowed. No LANG: bash runs in the C locale, the
      // strictest case for quoting.
      PATH: `${binDir}:/usr/bin:/bin`,
      HOME: homeDir,
      TMPDIR: workDir,
      CANARY_DIR: canaryDir,
      ...options.env,
    };

    const outcome = await new Promise<{ stdout: string; stderr: string; exitCode: number | null; signal: NodeJS.Signals | null; timedOut: boolean }>(
      (resolve, reject) => {
        // Own process group, so a timeout or a leftover background job of the
        // command can be killed as a whole without touching anything else.
        const child = spawn('/bin/bash', ['-c', command], { cwd: workDir, env, detached: true, stdio: 'pipe' });
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        let timedOut = false;
        const killGroup = (): void => {
          if (child.pid === undefined) return;
          try {
            process.kill(-child.pid, 'SIGKILL');
          } catch {
            // ESRCH: the group is already gone.
          }
        };
        const timer = setTimeout(() => {
          timedOut = true;
          killGroup();
        }, timeoutMs);
        child.stdout.on('data', (b: Buffer) => out.push(b));
        child.stderr.on('data', (b: Buffer) => err.push(b));
        child.on('error', (e) => {
          clearTimeout(timer);
          reject(e);
        });
        // 'exit' rather than waiting for the pipes alone: a background job
        // could hold them open; killing the group lets 'close' follow.
        child.on('exit', killGroup);
        child.on('close', (exitCode, signal) => {
          clearTimeout(timer);
          resolve({
            stdout: Buffer.concat(out).toString('utf8'),
            stderr: Buffer.concat(err).toString('utf8'),
            exitCode,
            signal,
            timedOut,
          });
        });
        child.stdin.on('error', () => {
          // EPIPE when bash exits without reading stdin.
        });
        child.stdin.end(options.stdin ?? '');
      },
    );

    return {
      ...outcome,
      invocations: parseLog(await readFile(logFile)),
      canaryFiles: (await readdir(canaryDir)).sort(),
    };
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
