/**
 * The real function in its own process, as Cloud Run runs it:
 * functions-framework's main.js loading the given code (the bundle for the
 * bench; without `source`, the project's `main`, dist/, for the demo),
 * listening on a loopback port. Readiness is the moment
 * functions-framework prints "Serving function..." from its listen callback.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export interface OutcomeLine {
  outcome: string;
  reason?: string;
  findingName?: string | null;
  messageId?: string | null;
  durationMs?: number;
  [key: string]: unknown;
}

export interface FunctionProcess {
  url: string;
  child: ChildProcess;
  /** performance.now() just before spawn. */
  spawnedAt: number;
  /** Resolves with performance.now() when it is ready to serve. */
  ready: Promise<number>;
  outcomes: OutcomeLine[];
  stderr(): string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** Resident set size in MiB from /proc (Linux): current (VmRSS) or the process's peak so far (VmHWM). */
export function rssMb(pid: number, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1];
  if (kb === undefined) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(kb) / 1024;
}

/** User + system CPU seconds the process has used (/proc/PID/stat, clock ticks of 100 Hz). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

export async function startFunction(options: { root: string; source?: string; env: Record<string, string>; nodeArgs?: string[]; target?: string }): Promise<FunctionProcess> {
  const port = await freePort();
  const main = join(options.root, 'node_modules/@google-cloud/functions-framework/build/src/main.js');
  const spawnedAt = performance.now();
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), main, `--target=${options.target ?? 'triageSocatFinding'}`, '--signature-type=cloudevent', `--port=${port}`, ...(options.source ? [`--source=${options.source}`] : [])], {
    cwd: options.root,
    // Nothing from the bench's own environment but what a process needs: the function must not find credentials.
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', METADATA_SERVER_DETECTION: 'none', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const outcomes: OutcomeLine[] = [];
  let stderr = '';
  child.stderr!.on('data', (d) => {
    stderr = (stderr + String(d)).slice(-20_000);
  });
  const ready = new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the function exited with ${code} before it was ready: ${stderr.trim().slice(-2000)}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.startsWith('Serving function')) {
        resolve(performance.now());
        return;
      }
      if (!line.startsWith('{')) return;
      try {
        const entry = JSON.parse(line) as OutcomeLine & { message?: string };
        if (entry.message === 'triage outcome' || entry.message === 'response outcome') outcomes.push(entry);
      } catch {
        // Not a log line of ours.
      }
    });
  });
  ready.catch(() => undefined);
  return {
    url: `http://127.0.0.1:${port}`,
    child,
    spawnedAt,
    ready,
    outcomes,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    },
  };
}
