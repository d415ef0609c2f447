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
 * - bundle/: the esbuild bundle that `npm run build` writes to build/bundle
 *   (scripts/build-bundle.mjs): index.mjs, which functions-framework loads,
 *   and the chunks it imports on demand. It holds the function's code and
 *   every dependency except functions-framework, which runs it. Loading one
 *   bundle instead of dist/ and a few thousand node_modules files is most of
 *   what keeps the cold start small (README, Performance). The function is
 *   not compiled or bundled again in Cloud Build.
 * - package.json with `main` pointing at bundle/index.mjs and its scripts
 *   replaced by {"gcp-build": "", "postinstall": <prime the compile cache>}.
 *   The bundle's index.mjs reads V8's compiled code from
 *   bundle/.compile-cache/ (scripts/build-bundle.mjs); that cache must come
 *   from the Node that runs the function, so it is not shipped from here
 *   but made by the buildpack's `npm ci`, whose postinstall runs
 *   bundle/prime-compile-cache.mjs on the Node running npm
 *   ($npm_node_execpath), the runtime's. That script never fails the
 *   build: without a cache the function compiles at start, as before. The
 *   Node.js buildpack runs `gcp-build` (else `build`) and, when there is one
 *   to run, installs devDependencies for it; `npm ci` would also run
 *   `prepare` (the project's is tsc, which needs devDependencies), but the
 *   deployed scripts are only these two, so it does not. An empty gcp-build
 *   means no build step, NODE_ENV=production, and only production
 *   dependencies installed. Dependencies are left as they are, so
 *   package.json and the lockfile stay in sync for `npm ci`: the installed
 *   tree is exactly the tested one, although at run time only
 *   functions-framework is loaded from it.
 * - package-lock.json, unchanged.
 *
 * The output depends only on those inputs (no timestamps), and the archive
 * provider zips with fixed mtimes and modes: same code, same SHA-256, same
 * object name, no redeploy; any change, new object, new build.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where `npm run build` leaves the bundle (scripts/build-bundle.mjs), relative to the project. */
const BUNDLE_DIR = join('build', 'bundle');
/** The bundle's entry module; the deployed package.json's `main`. */
const DEPLOYED_MAIN = 'bundle/index.mjs';
/** Build byproducts in the bundle directory that the function does not load, and a compile cache of this machine's Node. */
const NOT_SHIPPED = new Set(['metafile.json', 'package.json', '.compile-cache']);
/** Written by scripts/build-bundle.mjs into the bundle. */
const PRIME_SCRIPT = 'prime-compile-cache.mjs';

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
      count += copyTree(src, join(to, entry), skip);
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
  const bundle = join(root, BUNDLE_DIR);
  if (!existsSync(join(bundle, 'index.mjs'))) {
    throw new Error(`${join(BUNDLE_DIR, 'index.mjs')} does not exist under ${root}: run \`npm run build\` first`);
  }
  const lockfile = join(root, 'package-lock.json');
  if (!existsSync(lockfile)) throw new Error(`no package-lock.json in ${root}`);
  if (out === root || !relative(out, root).startsWith('..')) throw new Error(`--out ${out} must not contain the project`);

  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });

  // Source maps stay behind: the function never reads them, and they are kept in build/ for reading stack traces.
  const files = copyTree(bundle, join(out, 'bundle'), (entry) => NOT_SHIPPED.has(entry) || entry.endsWith('.map'));
  copyFileSync(lockfile, join(out, 'package-lock.json'));
  // No prime script in the bundle (an older build): nothing to run on install.
  const scripts = existsSync(join(bundle, PRIME_SCRIPT))
    ? { 'gcp-build': '', postinstall: `"$npm_node_execpath" bundle/${PRIME_SCRIPT}` }
    : { 'gcp-build': '' };
  const deployed = { ...pkg, main: DEPLOYED_MAIN, scripts };
  writeFileSync(join(out, 'package.json'), `${JSON.stringify(deployed, null, 2)}\n`);

  console.log(`packaged the bundle (${files} files) with package.json and package-lock.json into ${out}`);
}

try {
  main();
} catch (err) {
  console.error(`package-function-source: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
