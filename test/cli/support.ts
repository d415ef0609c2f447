/**
 * Running the CLI as an operator does: a separate process through the bin
 * launcher, with a small explicit environment (never the test runner's, which
 * could carry NO_COLOR or real credentials), asynchronously so the emulators
 * in this process keep answering. Under a pseudo-terminal via util-linux
 * `script` when it is installed.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { shellJoin } from '../../lib/shell/quote.js';
import { projectRoot } from '../support/fixtures.js';
import { CTD_SOURCE, seedOriginal } from '../support/scc-scenario.js';
import { CLUSTER_RESOURCE, type World } from '../support/world.js';
import { notificationFixture } from '../support/fixtures.js';

export const BIN = join(projectRoot(), 'bin/scc-socat-triage.js');

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** What the CLI gets besides the emulators: no credentials, no metadata server, no colour preferences. */
export function baseEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/tmp',
    METADATA_SERVER_DETECTION: 'none',
    GOOGLE_CLOUD_PROJECT: 'offline-test-project',
    ...extra,
  };
}

export interface RunOptions {
  env?: Record<string, string>;
  input?: string;
  timeoutMs?: number;
  /** Sees stderr as it arrives, with the child (to signal it mid-run). */
  onStderr?: (soFar: string, child: ChildProcess) => void;
}

export function runCli(args: string[], options: RunOptions = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: options.env ?? baseEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 25_000);
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => {
      stderr += d;
      options.onStderr?.(stderr, child);
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

export const HAS_SCRIPT = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;

/**
 * The CLI on a pseudo-terminal: stdout and stderr are both the pty (merged,
 * with \r\n line ends), as in an operator's terminal.
 */
export function runUnderPty(args: string[], env: Record<string, string>, dir: string): Promise<{ code: number | null; output: string }> {
  const scriptFile = join(dir, `pty-${Math.random().toString(36).slice(2)}.sh`);
  writeFileSync(scriptFile, `exec ${shellJoin([process.execPath, BIN, ...args])}\n`);
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qfec', `sh ${scriptFile}`, '/dev/null'], { env: { TERM: 'xterm-256color', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 25_000);
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/** Output with our SGR colour codes removed: what is left must hold no escape character at all. */
export function withoutSgr(text: string): string {
  return text.replace(/\u001b\[[0-9;]*m/g, '');
}

let counter = 0;

export interface SocatSeed {
  id?: string;
  /** organizations/O/sources/S; CTD's source in the world's organization by default (another must be added first). */
  source?: string;
  eventTime: Date;
  state?: string;
  category?: string;
  marks?: Record<string, string>;
  /** Applied to the notification's finding before seeding. */
  edit?: (finding: Record<string, any>) => void;
}

/**
 * A socat finding like the world's attack, under another id: a backfill
 * needs an organization with many of them. Returns the canonical name.
 */
export function seedSocat(world: World, seed: SocatSeed): string {
  const n = structuredClone(notificationFixture('socat-v2'));
  const id = seed.id ?? `f${String(++counter).padStart(31, '0')}`;
  const source = seed.source ?? CTD_SOURCE;
  n.finding.name = `${source}/locations/global/findings/${id}`;
  n.finding.parent = `${source}/locations/global`;
  n.finding.eventTime = seed.eventTime.toISOString();
  n.finding.state = seed.state ?? 'ACTIVE';
  if (seed.category) n.finding.category = seed.category;
  n.finding.resourceName = CLUSTER_RESOURCE;
  if (seed.marks) n.finding.securityMarks = { name: `${n.finding.name}/securityMarks`, marks: seed.marks };
  seed.edit?.(n.finding);
  // Seeds keep state and marks as given (CTD and SCC own those fields; the API would not take them).
  seedOriginal(world.scc, n);
  return n.finding.name;
}

/** Exit code with stderr beside it, so a failed expectation shows why the CLI exited as it did. */
export function exit(r: { code: number | null; stderr?: string; output?: string }): { code: number | null; stderr: string } {
  return { code: r.code, stderr: r.stderr ?? r.output ?? '' };
}
