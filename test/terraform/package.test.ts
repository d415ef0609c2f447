/**
 * terraform/scripts/package-function-source.mjs, run for real on a fixture
 * project: it ships the bundle and the lockfile, never dist/, tests or
 * sources, points package.json at the bundle, disables every build-time
 * script, and is deterministic.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { projectRoot } from './support.js';

const script = join(projectRoot, 'terraform', 'scripts', 'package-function-source.mjs');

const fixturePackage = {
  name: 'fixture',
  version: '1.0.0',
  type: 'module',
  main: 'dist/functions/index.js',
  scripts: { build: 'tsc', prepare: 'tsc', test: 'jest' },
  dependencies: { '@google-cloud/functions-framework': '^5.0.0' },
  devDependencies: { typescript: '^5.0.0' },
};

function write(root: string, path: string, content: string): void {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), content);
}

function listFiles(dir: string): string[] {
  return readdirSync(dir)
    .flatMap((e) => (statSync(join(dir, e)).isDirectory() ? listFiles(join(dir, e)).map((f) => `${e}/${f}`) : [e]))
    .sort();
}

let root: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'package-function-source-'));
  write(root, 'package.json', JSON.stringify(fixturePackage, null, 2));
  write(root, 'package-lock.json', '{"lockfileVersion": 3, "packages": {}}\n');
  write(root, 'dist/functions/index.js', 'export {};\n');
  write(root, 'dist/functions/index.js.map', '{}\n');
  write(root, 'dist/lib/config.js', 'export const x = 1;\n');
  write(root, 'dist/test/config.test.js', 'test("x", () => {});\n');
  write(root, 'dist/scripts/demo.js', '// demo\n');
  write(root, 'build/bundle/index.mjs', 'export {};\n');
  write(root, 'build/bundle/chunks/client-AB12CD34.mjs', 'export const c = 1;\n');
  write(root, 'build/bundle/chunks/client-AB12CD34.mjs.map', '{}\n');
  write(root, 'build/bundle/metafile.json', '{}\n');
  write(root, 'build/bundle/package.json', '{"type":"module"}\n');
  write(root, 'build/bundle/prime-compile-cache.mjs', '// primes\n');
  write(root, 'build/bundle/.compile-cache/v24.21.0-x64-0000-0/abc', 'cache of the build machine');
  write(root, 'lib/config.ts', 'export const x = 1;\n');
  write(root, 'node_modules/left-pad/index.js', '\n');
});

afterEach(() => rmSync(root, { recursive: true, force: true }));

function runPackager(out: string): void {
  execFileSync(process.execPath, [script, '--root', root, '--out', out], { stdio: 'pipe' });
}

describe('package-function-source.mjs', () => {
  it('ships the bundle, lockfile and package.json, and nothing else', () => {
    const out = join(root, 'build', 'function-source');
    runPackager(out);
    expect(listFiles(out)).toEqual(['bundle/chunks/client-AB12CD34.mjs', 'bundle/index.mjs', 'bundle/prime-compile-cache.mjs', 'package-lock.json', 'package.json']);
    expect(readFileSync(join(out, 'package-lock.json'), 'utf8')).toBe(readFileSync(join(root, 'package-lock.json'), 'utf8'));
  });

  it('points main at the bundle, replaces the scripts with an empty gcp-build and the compile-cache postinstall, and keeps everything else of package.json', () => {
    const out = join(root, 'out');
    runPackager(out);
    const deployed = JSON.parse(readFileSync(join(out, 'package.json'), 'utf8')) as typeof fixturePackage;
    expect(deployed.main).toBe('bundle/index.mjs');
    // The Node that runs npm on install (the runtime's) primes the cache; never node_modules/.bin/node.
    expect(deployed.scripts).toEqual({ 'gcp-build': '', postinstall: '"$npm_node_execpath" bundle/prime-compile-cache.mjs' });
    const { scripts: _a, main: _c, ...rest } = deployed;
    const { scripts: _b, main: _d, ...original } = fixturePackage;
    expect(rest).toEqual(original);
  });

  it('produces the same bytes twice (same code, same archive hash) and empties the output first', () => {
    const a = join(root, 'a');
    const b = join(root, 'b');
    runPackager(a);
    write(a, 'stale.txt', 'left from a previous run');
    runPackager(a);
    runPackager(b);
    expect(listFiles(a)).toEqual(listFiles(b));
    for (const f of listFiles(a)) expect(readFileSync(join(a, f))).toEqual(readFileSync(join(b, f)));
  });

  it('without a prime script in the bundle, adds no postinstall', () => {
    rmSync(join(root, 'build', 'bundle', 'prime-compile-cache.mjs'));
    const out = join(root, 'out');
    runPackager(out);
    expect((JSON.parse(readFileSync(join(out, 'package.json'), 'utf8')) as typeof fixturePackage).scripts).toEqual({ 'gcp-build': '' });
  });

  it('fails when the code was not built', () => {
    rmSync(join(root, 'build', 'bundle'), { recursive: true });
    const result = spawnSync(process.execPath, [script, '--root', root, '--out', join(root, 'out')], { encoding: 'utf8' });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/npm run build/);
  });

  it("packages what this project's build writes: npm run build bundles into build/bundle", () => {
    const pkg = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.build).toMatch(/scripts\/build-bundle\.mjs/);
    expect(readFileSync(join(projectRoot, 'scripts', 'build-bundle.mjs'), 'utf8')).toContain("join(root, 'build', 'bundle')");
    expect(readFileSync(script, 'utf8')).toContain("join('build', 'bundle')");
    expect(relative(projectRoot, script)).toBe('terraform/scripts/package-function-source.mjs');
  });
});
