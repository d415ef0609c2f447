/**
 * terraform/scripts/package-function-source.mjs, run for real on a fixture
 * project: it ships the compiled code and the lockfile, never tests or
 * sources, disables every build-time script, and is deterministic.
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
  write(root, 'lib/config.ts', 'export const x = 1;\n');
  write(root, 'node_modules/left-pad/index.js', '\n');
});

afterEach(() => rmSync(root, { recursive: true, force: true }));

function runPackager(out: string): void {
  execFileSync(process.execPath, [script, '--root', root, '--out', out], { stdio: 'pipe' });
}

describe('package-function-source.mjs', () => {
  it('ships the compiled function, lockfile and package.json, and nothing else', () => {
    const out = join(root, 'build', 'function-source');
    runPackager(out);
    expect(listFiles(out)).toEqual([
      'dist/functions/index.js',
      'dist/functions/index.js.map',
      'dist/lib/config.js',
      'package-lock.json',
      'package.json',
    ]);
    expect(readFileSync(join(out, 'package-lock.json'), 'utf8')).toBe(readFileSync(join(root, 'package-lock.json'), 'utf8'));
  });

  it('replaces the scripts with an empty gcp-build and keeps everything else of package.json', () => {
    const out = join(root, 'out');
    runPackager(out);
    const deployed = JSON.parse(readFileSync(join(out, 'package.json'), 'utf8')) as typeof fixturePackage;
    expect(deployed.scripts).toEqual({ 'gcp-build': '' });
    const { scripts: _a, ...rest } = deployed;
    const { scripts: _b, ...original } = fixturePackage;
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

  it('fails when the code was not built', () => {
    rmSync(join(root, 'dist', 'functions'), { recursive: true });
    const result = spawnSync(process.execPath, [script, '--root', root, '--out', join(root, 'out')], { encoding: 'utf8' });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/npm run build/);
  });

  it("accepts this project's package.json layout (main under dist/, outside the excluded folders)", () => {
    const pkg = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { main?: string };
    expect(pkg.main).toMatch(/^dist\/(?!test\/|scripts\/)/);
    expect(relative(projectRoot, script)).toBe('terraform/scripts/package-function-source.mjs');
  });
});
