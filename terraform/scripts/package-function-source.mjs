#!/usr/bin/env node
/**
 * Assembles the directory that terraform/ zips into the function's source
 * archive (data.archive_file.function_source → var.function_source_dir).
 *
 *   npm run build && node terraform/scripts/package-function-source.mjs [--root DIR] [--out DIR]
 *
 * --root: the project (default: two directories above this script).
 * --out:  where to write it (default: ROOT/build/function-source); emptied first.
 *
 * What goes in, and why:
 * - dist/, already compiled by `npm run build`, without dist/test and
 *   dist/scripts. The function is not compiled again in Cloud Build.
 * - package-lock.json, unchanged: the Cloud Functions build runs `npm ci`
 *   from it, so production gets the exact dependency tree that was tested.
 * - package.json with its scripts replaced by {"gcp-build": ""}. The Node.js
 *   buildpack runs `gcp-build` (else `build`) and, when there is one to run,
 *   installs devDependencies for it; `npm ci` also runs `prepare` (here: tsc).
 *   An empty gcp-build means no build step, NODE_ENV=production, and only
 *   production dependencies installed. Dependencies are left as they are, so
 *   package.json and the lockfile stay in sync for `npm ci`.
 *
 * The output depends only on those inputs (no timestamps), and the archive
 * provider zips with fixed mtimes and modes: same code, same SHA-256, same
 * object name, no redeploy; any change, new object, new build.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Top-level folders of dist/ that are not part of the deployed function. */
const EXCLUDED_DIST_DIRS = new Set(['test', 'scripts']);

function argValue(name) {
  const i = process.argv.indexOf(name);
  if (i === -1) return undefined;
  const value = process.argv[i + 1];
  if (value === undefined || value.startsWith('--')) throw new Error(`${name} needs a value`);
  return value;
}

function copyTree(from, to, skip = () => false) {
  let count = 0;
  for (const entry of readdirSync(from).sort()) {
    const src = join(from, entry);
    if (skip(entry)) continue;
    if (statSync(src).isDirectory()) {
      count += copyTree(src, join(to, entry));
    } else {
      mkdirSync(to, { recursive: true });
      copyFileSync(src, join(to, entry));
      count++;
    }
  }
  return count;
}

function main() {
  const root = resolve(argValue('--root') ?? join(dirname(fileURLToPath(import.meta.url)), '..', '..'));
  const out = resolve(argValue('--out') ?? join(root, 'build', 'function-source'));

  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  if (typeof pkg.main !== 'string' || !pkg.main.startsWith('dist/')) {
    throw new Error(`package.json main must point into dist/, got ${JSON.stringify(pkg.main)}`);
  }
  const firstDir = pkg.main.split('/')[1];
  if (EXCLUDED_DIST_DIRS.has(firstDir)) throw new Error(`package.json main ${pkg.main} is in an excluded folder`);
  if (!existsSync(join(root, pkg.main))) {
    throw new Error(`${pkg.main} does not exist under ${root}: run \`npm run build\` first`);
  }
  const lockfile = join(root, 'package-lock.json');
  if (!existsSync(lockfile)) throw new Error(`no package-lock.json in ${root}`);
  if (out === root || !relative(out, root).startsWith('..')) throw new Error(`--out ${out} must not contain the project`);

  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });

  const files = copyTree(join(root, 'dist'), join(out, 'dist'), (entry) => EXCLUDED_DIST_DIRS.has(entry) || entry.endsWith('.tsbuildinfo'));
  copyFileSync(lockfile, join(out, 'package-lock.json'));
  const deployed = { ...pkg, scripts: { 'gcp-build': '' } };
  writeFileSync(join(out, 'package.json'), `${JSON.stringify(deployed, null, 2)}\n`);

  console.log(`packaged ${files} files of dist/ with package.json and package-lock.json into ${out}`);
}

try {
  main();
} catch (err) {
  console.error(`package-function-source: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
