#!/usr/bin/env node
// Thin launcher: the CLI is compiled TypeScript (npm install runs the build via "prepare").
import('../dist/lib/cli/main.js').then((m) => m.main(process.argv.slice(2))).then(
  (code) => { process.exitCode = code; },
  (err) => { process.stderr.write(`scc-socat-triage: internal error: ${err?.message ?? err}\n`); process.exitCode = 1; },
);
