#!/usr/bin/env node
// Thin launcher for the compiled CLI (npm install builds it via "prepare").
// npm and npx may put the machine's own node first on PATH; the project pins
// Node 24 through the `node` package, so an older node re-executes the CLI on it.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pinned = join(root, 'node_modules', 'node', 'bin', 'node');
const major = Number(process.versions.node.split('.')[0]);

if (major < 24 && existsSync(pinned) && process.env.SCC_SOCAT_TRIAGE_REEXEC !== '1') {
  const r = spawnSync(pinned, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, SCC_SOCAT_TRIAGE_REEXEC: '1' },
  });
  process.exit(r.status ?? 1);
} else {
  import('../dist/lib/cli/main.js').then((m) => m.main(process.argv.slice(2))).then(
    (code) => { process.exitCode = code; },
    (err) => { process.stderr.write(`scc-socat-triage: internal error: ${err?.message ?? err}\n`); process.exitCode = 1; },
  );
}
