/**
 * Runs a generated command line in a real shell against recording stand-ins
 * for kubectl and gcloud, so a test can compare the argv (and standard input)
 * a program would really receive with what was intended, and can prove that
 * nothing else ran.
 *
 * The shells are the ones an engineer pastes into or a script hands the text
 * to (SHELLS): bash (Cloud Shell), zsh (macOS), dash (Debian's and Ubuntu's
 * /bin/sh, what `child_process.exec` and `subprocess(shell=True)` run) and
 * busybox sh (Alpine and distroless debug images), each with `-c`, plus bash
 * and zsh read interactively with the options that give more characters a
 * meaning (history expansion, extended globs, `=cmd` after any `=`).
 *
 * No jest import: usable from any test and from fuzzing scripts.
 *
 * Each run gets its own sandbox (stand-ins, HOME, cwd, canary dir, log), so
 * runs can go in parallel and a hostile command cannot see an earlier run's
 * traces. The sandbox is removed afterwards.
 */
import { spawn, spawnSync } from 'node:child_process';
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
  /** What it read from standard input; null when it was not told to read it (see standInScript). */
  stdin: Buffer | null;
}

/**
 * One way of handing a command to a shell: as the argument of `-c`, or as
 * standard input of an interactive shell (as a paste into a terminal is read:
 * line by line, with history expansion).
 */
export interface ShellSpec {
  /** Name in test titles and reports. */
  name: string;
  /** Looked up on the sandbox's PATH (/usr/bin:/bin). */
  program: string;
  /** Arguments before the command (mode 'argument') or the whole argv (mode 'stdin'). */
  args: readonly string[];
  mode: 'argument' | 'stdin';
  /** Exact lines an interactive shell writes about itself on stderr without a terminal; removed from RunResult.stderr. */
  noise?: readonly RegExp[];
  /** Debian package that provides the program (for the "install it" message). */
  aptPackage: string;
}

export const SHELLS: readonly ShellSpec[] = [
  { name: 'bash -c', program: 'bash', args: ['-c'], mode: 'argument', aptPackage: 'bash' },
  { name: 'zsh -c', program: 'zsh', args: ['-f', '-c'], mode: 'argument', aptPackage: 'zsh' },
  { name: 'dash -c', program: 'dash', args: ['-c'], mode: 'argument', aptPackage: 'dash' },
  { name: 'busybox sh -c', program: 'busybox', args: ['sh', '-c'], mode: 'argument', aptPackage: 'busybox' },
  {
    // --noediting: without a terminal readline would echo every line to stderr; +m cannot silence the job-control notice.
    name: 'bash -i (history expansion, extglob)',
    program: 'bash',
    args: ['--norc', '--noprofile', '--noediting', '+m', '-i', '-H', '-O', 'extglob'],
    mode: 'stdin',
    noise: [/^bash: cannot set terminal process group \(-?\d+\): Inappropriate ioctl for device$/, /^bash: no job control in this shell$/, /^exit$/],
    aptPackage: 'bash',
  },
  {
    // The options an engineer's .zshrc commonly sets that give bare characters a meaning: `=cmd` after any `=` or `:`
    // (magicequalsubst), `^ # ~` as glob operators, `@( )` globs, '' inside single quotes (rcquotes); banghist is on.
    name: 'zsh -i (banghist, extendedglob, magicequalsubst, kshglob, rcquotes)',
    program: 'zsh',
    args: ['-f', '-i', '+o', 'promptsp', '+o', 'promptcr', '-o', 'extendedglob', '-o', 'magicequalsubst', '-o', 'kshglob', '-o', 'rcquotes', '-o', 'interactivecomments'],
    mode: 'stdin',
    aptPackage: 'zsh',
  },
];

export const DEFAULT_SHELL: ShellSpec = SHELLS[0]!;

const availability = new Map<string, boolean>();

/** True when the shell runs here (checked once, by running `exit 0` with it). */
export function shellAvailable(shell: ShellSpec): boolean {
  const key = `${shell.program} ${shell.args.join(' ')}`;
  let ok = availability.get(key);
  if (ok === undefined) {
    // No input for -c: a shell that exits before reading it would make the write fail (EPIPE) and look missing.
    const r =
      shell.mode === 'argument'
        ? spawnSync(shell.program, [...shell.args, 'exit 0'], { stdio: 'ignore', env: { PATH: '/usr/bin:/bin' }, timeout: 10_000 })
        : spawnSync(shell.program, shell.args, { input: 'exit 0\n', env: { PATH: '/usr/bin:/bin', PS1: '', PS2: '' }, timeout: 10_000 });
    ok = r.error === undefined && r.status === 0;
    availability.set(key, ok);
  }
  return ok;
}

/** One line per shell that cannot run here, saying how to install it; empty when every shell is there. */
export function missingShells(shells: readonly ShellSpec[] = SHELLS): string[] {
  const missing = shells.filter((s) => !shellAvailable(s));
  return [...new Set(missing.map((s) => `${s.program} is not installed, so "${s.name}" was not checked: apt-get install -y ${s.aptPackage} (or run .ci/run)`))];
}

export interface RunResult {
  invocations: Invocation[];
  stdout: string;
  /** What the shell wrote on stderr, minus the lines its ShellSpec lists as noise. */
  stderr: string;
  /** Null when the shell was killed by a signal (e.g. on timeout). */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  /** The shell that ran the command. */
  shell: string;
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
  /** The shell's standard input; not with a shell of mode 'stdin', whose standard input is the command. */
  stdin?: string;
  /** Default DEFAULT_SHELL (bash -c). */
  shell?: ShellSpec;
}

export const DEFAULT_STAND_INS: readonly string[] = ['kubectl', 'gcloud'];

/**
 * The kernel refuses any single argv string of 32 pages or more
 * (MAX_ARG_STRLEN), and the command travels as one `-c` argument.
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

/**
 * A bash script that appends `$# NUL program NUL arg NUL ... stdinFile NUL`
 * to logFile. Like kubectl, it reads standard input only when told to
 * (`-f -`, `--filename=-`), and keeps it in its own file: a stand-in that
 * always read it would swallow the rest of a script typed into an
 * interactive shell.
 */
function standInScript(program: string, logFile: string): string {
  // A count-prefixed record survives any argument content, including
  // arguments that look like record separators; NUL cannot occur in argv.
  return [
    '#!/bin/bash',
    'stdin_file=',
    'prev=',
    'for a in "$@"; do',
    '  if [ "$a" = --filename=- ] || { [ "$prev" = -f ] && [ "$a" = - ]; }; then',
    `    stdin_file=$(mktemp ${shellQuote(`${logFile}.stdin.XXXXXX`)}) && cat > "$stdin_file"`,
    '    break',
    '  fi',
    '  prev=$a',
    'done',
    `printf '%s\\0' "$#" ${shellQuote(program)} "$@" "$stdin_file" >> ${shellQuote(logFile)}`,
    'exit 0',
    '',
  ].join('\n');
}

async function parseLog(log: Buffer): Promise<Invocation[]> {
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
    if (!Number.isInteger(count) || count < 0 || program === undefined || i + 3 + count > fields.length) {
      throw new Error(`malformed recording log at field ${i}`);
    }
    const rawArgv = fields.slice(i + 2, i + 2 + count);
    const stdinFile = fields[i + 2 + count]!.toString('utf8');
    const stdin = stdinFile === '' ? null : await readFile(stdinFile);
    invocations.push({ program: program.toString('utf8'), argv: rawArgv.map((b) => b.toString('utf8')), rawArgv, stdin });
    i += 3 + count;
  }
  return invocations;
}

export async function runWithStandIns(command: string, options: RunOptions = {}): Promise<RunResult> {
  if (Buffer.byteLength(command, 'utf8') > MAX_COMMAND_BYTES) {
    throw new RangeError(`command is ${Buffer.byteLength(command, 'utf8')} bytes; a shell's -c takes at most ${MAX_COMMAND_BYTES}`);
  }
  const shell = options.shell ?? DEFAULT_SHELL;
  if (shell.mode === 'stdin' && options.stdin !== undefined) throw new Error(`${shell.name} reads the command from standard input; it cannot take other input`);
  if (!shellAvailable(shell)) throw new Error(missingShells([shell]).join('; '));
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
      // An interactive shell would otherwise print its prompts on stderr.
      ...(shell.mode === 'stdin' ? { PS1: '', PS2: '' } : {}),
      ...options.env,
    };
    const args = shell.mode === 'argument' ? [...shell.args, command] : [...shell.args];
    const input = shell.mode === 'argument' ? (options.stdin ?? '') : `${command}\n`;

    const outcome = await new Promise<{ stdout: string; stderr: string; exitCode: number | null; signal: NodeJS.Signals | null; timedOut: boolean }>(
      (resolve, reject) => {
        // Own process group, so a timeout or a leftover background job of the
        // command can be killed as a whole without touching anything else.
        const child = spawn(shell.program, args, { cwd: workDir, env, detached: true, stdio: 'pipe' });
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
          // EPIPE when the shell exits without reading stdin.
        });
        child.stdin.end(input);
      },
    );

    const noise = shell.noise ?? [];
    const stderr = outcome.stderr
      .split('\n')
      .filter((line) => !noise.some((re) => re.test(line)))
      .join('\n');
    return {
      ...outcome,
      stderr,
      shell: shell.name,
      invocations: await parseLog(await readFile(logFile)),
      canaryFiles: (await readdir(canaryDir)).sort(),
    };
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

/** What one pasted command must make happen: exactly one invocation of `program` with `argv`. */
export interface Expected {
  program: string;
  argv: readonly string[];
  /** Problems with what the program read on stdin; absent: it must read nothing (not be told to). */
  stdin?: (received: string) => string[];
}

export interface Scripted {
  command: string;
  expected: Expected;
  /** Names the command in problems (never the hostile value itself beyond a cut JSON form). */
  label: string;
}

export interface EverywhereReport {
  problems: string[];
  /** Shell processes run. */
  runs: number;
  /** Commands checked, summed over shells (commands × shells). */
  checks: number;
  /** One line per shell that is not installed (those are not checked). */
  missing: string[];
}

/**
 * Pastes `all` into each shell, one command per line, in as few runs as fit
 * one argument, and requires in every shell: each command gives exactly its
 * expected invocation (program, argv, stdin) and in order, nothing else is
 * invoked, no canary file appears, the shell exits 0 and writes nothing on
 * stderr. Missing shells are reported, never silently passed over.
 */
export async function runEverywhere(all: readonly Scripted[], options: { shells?: readonly ShellSpec[]; timeoutMs?: number } = {}): Promise<EverywhereReport> {
  const shells = options.shells ?? SHELLS;
  const report: EverywhereReport = { problems: [], runs: 0, checks: 0, missing: missingShells(shells) };
  const present = shells.filter(shellAvailable);
  const batches: Scripted[][] = [[]];
  let bytes = 0;
  for (const s of all) {
    const size = Buffer.byteLength(s.command, 'utf8') + 1;
    if (size > MAX_COMMAND_BYTES - 1024) {
      report.problems.push(`${s.label}: command of ${size} bytes does not fit one shell argument`);
      continue;
    }
    if (bytes + size > MAX_COMMAND_BYTES - 1024 && batches.at(-1)!.length > 0) {
      batches.push([]);
      bytes = 0;
    }
    batches.at(-1)!.push(s);
    bytes += size;
  }
  for (const batch of batches.filter((b) => b.length > 0)) {
    const script = batch.map((s) => s.command).join('\n');
    const results = await Promise.all(present.map((shell) => runWithStandIns(script, { shell, timeoutMs: options.timeoutMs ?? 60_000 })));
    for (const result of results) {
      report.runs += 1;
      const where = result.shell;
      if (result.canaryFiles.length > 0) report.problems.push(`${where}: injected code ran: ${result.canaryFiles.join(', ')}`);
      if (result.exitCode !== 0 || result.timedOut) report.problems.push(`${where}: exited ${result.exitCode} ${result.signal ?? ''}`);
      if (result.stderr !== '') report.problems.push(`${where} said: ${JSON.stringify(result.stderr.slice(0, 500))}`);
      if (result.invocations.length !== batch.length) report.problems.push(`${where}: ${result.invocations.length} invocations for ${batch.length} commands`);
      batch.forEach((s, i) => {
        const got = result.invocations[i];
        const stdin = got?.stdin == null ? null : got.stdin.toString('utf8');
        const argvOk = got !== undefined && got.program === s.expected.program && JSON.stringify(got.argv) === JSON.stringify(s.expected.argv);
        const stdinProblems = s.expected.stdin === undefined ? (stdin === null ? [] : ['read stdin it was not meant to']) : stdin === null ? ['read no stdin'] : s.expected.stdin(stdin);
        if (!argvOk) {
          const ran = got === undefined ? 'nothing' : JSON.stringify({ program: got.program, argv: got.argv });
          report.problems.push(`${where}: ${s.label}: ran ${ran} instead of ${JSON.stringify(s.expected)}; command ${JSON.stringify(s.command.slice(0, 300))}`);
        }
        for (const p of stdinProblems) report.problems.push(`${where}: ${s.label}: ${p}`);
        report.checks += 1;
      });
    }
  }
  return report;
}
