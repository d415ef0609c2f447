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

// The commands leave gRPC channels and HTTP agents of lazily built clients
// open (the function keeps them for its next event); a one-shot CLI exits
// explicitly, once stdout and stderr have drained, so nothing written is lost.
function exit(code) {
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
}

if (major < 24 && existsSync(pinned) && process.env.SCC_SOCAT_TRIAGE_REEXEC !== '1') {
  const r = spawnSync(pinned, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, SCC_SOCAT_TRIAGE_REEXEC: '1' },
  });
  process.exit(r.status ?? (r.signal === 'SIGINT' ? 130 : 1));
} else {
  import('../dist/lib/cli/main.js').then((m) => m.main(process.argv.slice(2))).then(exit, (err) => {
    process.stderr.write(`scc-socat-triage: internal error: ${String(err?.message ?? err).split('\n')[0]}\n`);
    exit(1);
  });
}
