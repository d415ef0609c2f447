#!/usr/bin/env node
/**
 * Bundles the deployed function (dist/functions/index.js, compiled by tsc)
 * with esbuild into build/bundle/: one entry module, index.mjs, that
 * functions-framework loads, plus chunks it imports on demand. Run after
 * `tsc`; `npm run build` does both.
 *
 *   node scripts/build-bundle.mjs [--out DIR] [--single-file] [--no-minify] [--entry FILE]
 *
 * Why a bundle: resolving and compiling a few thousand node_modules files is
 * most of what a cold instance spent before its first report (README,
 * Performance). What it does beyond concatenating:
 *
 * - Chunks, not one file. The SDKs are imported lazily (lib/clients.ts), and
 *   esbuild keeps them lazy in separate chunks; in a single file V8 compiles
 *   all of their code before the instance listens (measured: ready in about
 *   700 ms instead of about 350, 119 MiB instead of 79). --single-file builds
 *   that variant, for measuring it.
 * - Protos trimmed to what is called. Each Google client package ships the
 *   protos of every API version it has in one protos.json, which its client
 *   parses twice on construction. Only the services whose client modules
 *   are in the bundle are kept, and of those only the RPCs the function's own
 *   code calls (found by the generated method names, getCluster,
 *   listFindings...), with every type they reach and the types the clients
 *   look up by name (found in a first build pass, not listed by hand). The
 *   JSON is embedded as a string for JSON.parse, which V8 reads far faster
 *   than an object literal of the same size. A new call in lib/ is kept by
 *   the next build; only a method name computed at run time would escape
 *   the scan, and calling a trimmed RPC fails (it is not in the stub).
 * - Descriptors nobody reads are not built (PATCHES).
 * - One gRPC stack. Clients whose latest release pins an older google-gax
 *   (SHARED_GAX_PACKAGES) get the project's instead of their own copy.
 * - Only the used part of @kubernetes/client-node. It is ESM, so esbuild can
 *   drop the API groups and helpers the function never calls, but not through
 *   a bare `await import()`: those imports are pointed at a module that
 *   re-exports exactly the names the code reads from them.
 *
 * - CommonJS packages behind `await import()` keep their named exports
 *   (esbuild gives split chunks only `default`).
 * - SCC_TRIAGE_BUNDLE is defined, for lib/clients.ts.
 *
 * The build fails rather than emitting a bundle that would break at run
 * time: an SDK package in the entry chunk or a chunk it imports statically
 * (eager load), a client-node import
 * it cannot read the used names from, a client whose protos it cannot trim,
 * or a patched dependency whose code changed.
 */
import { build } from 'esbuild';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const defaultEntry = join(root, 'dist', 'functions', 'index.js');

/** Packages that must only ever be in lazily loaded chunks. */
export const LAZY_PACKAGES = [
  '@google-cloud/security-center',
  '@google-cloud/container',
  '@google-cloud/logging',
  '@google-cloud/logging-api',
  '@google-cloud/essential-contacts',
  '@google-cloud/pubsub',
  '@google-cloud/compute',
  '@google-cloud/storage',
  // Pub/Sub's generated clients, a package of their own since pubsub 6.
  '@google-cloud/pubsub-api',
  '@kubernetes/client-node',
  'google-gax',
  '@grpc/grpc-js',
  'protobufjs',
  'google-auth-library',
];

/** Client packages whose build/protos/protos.json is trimmed to the services their bundled clients serve. */
const PROTO_PACKAGES = ['@google-cloud/security-center', '@google-cloud/container', '@google-cloud/logging-api', '@google-cloud/essential-contacts', '@google-cloud/compute'];

const KUBE = '@kubernetes/client-node';

/** esbuild's entry output: the function itself. index.mjs, written here, loads it. */
const FUNCTION_MODULE = 'function';
/** V8 code cache of the bundle's modules, next to them (see COMPILE_CACHE_LOADER). */
export const COMPILE_CACHE_DIR = '.compile-cache';
/** Fills COMPILE_CACHE_DIR for the Node that runs it; the deployed package runs it on install. */
export const PRIME_SCRIPT = 'prime-compile-cache.mjs';

/**
 * The module functions-framework loads. Compiling the bundle's 4-5 MB of
 * JavaScript is much of a cold start (README, Performance), and Node keeps
 * V8's compiled code on disk when asked: the cache is enabled before the
 * function's module is imported, so it and every chunk it imports later
 * are read from the cache instead of compiled. The cache is filled at
 * install time by PRIME_SCRIPT, on the Node that will run the function
 * (V8 rejects code cached by another version, and then compiles as it
 * would have). Portable: entries are keyed by paths relative to the cache,
 * so the directory can be built in one place and run in another.
 */
const COMPILE_CACHE_LOADER = `// Written by scripts/build-bundle.mjs: enables the compile cache, then loads the function.
import { enableCompileCache } from 'node:module';
import { fileURLToPath } from 'node:url';
enableCompileCache({ directory: fileURLToPath(new URL('./${COMPILE_CACHE_DIR}/', import.meta.url)), portable: true });
await import('./${FUNCTION_MODULE}.mjs');
`;

const PRIME_COMPILE_CACHE = `// Written by scripts/build-bundle.mjs. Fills ${COMPILE_CACHE_DIR}/ with V8's code for every module of this
// bundle, on the Node that runs this script. Never fails the install: without a cache the function compiles as usual.
import { constants, enableCompileCache, flushCompileCache } from 'node:module';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
const here = new URL('./', import.meta.url);
try {
  const enabled = enableCompileCache({ directory: fileURLToPath(new URL('./${COMPILE_CACHE_DIR}/', here)), portable: true });
  if (enabled.status === constants.compileCacheStatus.FAILED) throw new Error(enabled.message);
  const modules = ['${FUNCTION_MODULE}.mjs', ...readdirSync(new URL('./chunks/', here)).filter((f) => f.endsWith('.mjs')).map((f) => 'chunks/' + f)];
  for (const m of modules) await import(new URL(m, here).href);
  flushCompileCache();
  console.log('compile cache: ' + modules.length + ' modules, Node ' + process.version);
} catch (err) {
  console.warn('compile cache not primed (the function compiles its code at start instead): ' + (err instanceof Error ? err.message : String(err)));
}
process.exit(0);
`;

// Makes the CommonJS inside an ESM bundle work: require() of Node built-ins, __dirname, __filename.
const BANNER =
  "import { createRequire as __bundleRequire } from 'node:module';" +
  'const require = __bundleRequire(import.meta.url);' +
  'const __filename = import.meta.filename;' +
  'const __dirname = import.meta.dirname;';

// ---------------------------------------------------------------------------
// Proto trimming

/** Index of every named object in a protobufjs JSON root: full name → {node, kind}. */
function indexProtos(json) {
  const index = new Map();
  const walk = (node, name) => {
    if (!node.nested) return;
    for (const [key, child] of Object.entries(node.nested)) {
      const full = name ? `${name}.${key}` : key;
      const kind = child.fields ? 'message' : child.values ? 'enum' : child.methods ? 'service' : child.extend ? 'extension' : 'namespace';
      index.set(full, { node: child, kind });
      walk(child, full);
    }
  };
  walk(json, '');
  return index;
}

/** protobufjs/protoc type resolution: innermost scope first. */
function resolveRef(index, scope, ref) {
  if (ref.startsWith('.')) return index.has(ref.slice(1)) ? ref.slice(1) : null;
  const parts = scope.split('.');
  for (let i = parts.length; i >= 0; i--) {
    const candidate = [...parts.slice(0, i), ref].filter(Boolean).join('.');
    const hit = index.get(candidate);
    if (hit && hit.kind !== 'namespace' && hit.kind !== 'extension') return candidate;
  }
  return null;
}

const SCALARS = new Set(['double', 'float', 'int32', 'int64', 'uint32', 'uint64', 'sint32', 'sint64', 'fixed32', 'fixed64', 'sfixed32', 'sfixed64', 'bool', 'string', 'bytes']);

/**
 * Keeps the given services and types and everything they reach: field,
 * map-value, request and response types, plus the long-running operation
 * response and metadata types named in method options (the clients look
 * those up by name). Extension declarations are dropped: the JSON already
 * carries every option they would parse, and an extension whose target is
 * trimmed away would make protobufjs fail to resolve the root.
 */
export function trimProtos(json, rootNames, methodsByService = new Map(), fieldsByMessage = new Map()) {
  const index = indexProtos(json);
  for (const [message, fields] of fieldsByMessage) {
    const entry = index.get(message);
    if (entry?.kind !== 'message') continue;
    const unknown = [...fields].filter((f) => !(f in entry.node.fields));
    if (unknown.length > 0) throw new Error(`protos: ${message} has no field ${unknown.join(', ')} (FIELDS_READ in lib/)`);
  }
  const fieldsOf = (name, msg) => Object.entries(msg.fields ?? {}).filter(([field]) => !fieldsByMessage.has(name) || fieldsByMessage.get(name).has(field));
  const withFieldsRead = (name, msg) => {
    if (!fieldsByMessage.has(name)) return msg;
    const fields = Object.fromEntries(fieldsOf(name, msg));
    const oneofs = Object.fromEntries(
      Object.entries(msg.oneofs ?? {})
        .map(([o, def]) => [o, { ...def, oneof: def.oneof.filter((f) => f in fields) }])
        .filter(([, def]) => def.oneof.length > 0),
    );
    const { oneofs: _dropped, ...rest } = msg;
    return Object.keys(oneofs).length > 0 ? { ...rest, fields, oneofs } : { ...rest, fields };
  };
  const methodsOf = (name, node) => Object.entries(node.methods).filter(([method]) => !methodsByService.has(name) || methodsByService.get(name).has(method));
  const keep = new Set();
  const queue = [];
  const need = (scope, ref, from) => {
    if (SCALARS.has(ref)) return;
    const full = resolveRef(index, scope, ref);
    if (full === null) throw new Error(`protos: cannot resolve ${ref} (used by ${from})`);
    if (!keep.has(full)) {
      keep.add(full);
      queue.push(full);
    }
  };
  for (const name of rootNames) {
    if (!index.has(name)) throw new Error(`protos: ${name} is not in protos.json`);
    keep.add(name);
    queue.push(name);
  }
  while (queue.length > 0) {
    const name = queue.pop();
    const { node, kind } = index.get(name);
    if (kind === 'service') {
      for (const [method, m] of methodsOf(name, node)) {
        need(name, m.requestType, `${name}.${method}`);
        need(name, m.responseType, `${name}.${method}`);
        for (const key of ['(google.longrunning.operation_info).response_type', '(google.longrunning.operation_info).metadata_type']) {
          const t = m.options?.[key];
          if (typeof t === 'string') need(name, t, `${name}.${method} ${key}`);
        }
      }
    } else if (kind === 'message') {
      // A kept message keeps its nested types (protobufjs resolves them all), so their references count too.
      const visit = (msgName, msg) => {
        for (const [fieldName, f] of fieldsOf(msgName, msg)) {
          if (f.extend) continue;
          need(msgName, f.type, `${msgName}.${fieldName}`);
        }
        for (const [nestedName, nested] of Object.entries(msg.nested ?? {})) {
          if (nested.fields) visit(`${msgName}.${nestedName}`, nested);
        }
      };
      visit(name, node);
    }
  }
  // Rebuild: namespaces on the way to a kept object, kept objects whole (minus extensions inside namespaces).
  const copy = (node, name) => {
    const out = {};
    for (const [k, v] of Object.entries(node)) if (k !== 'nested') out[k] = v;
    if (!node.nested) return out;
    const nested = {};
    for (const [key, child] of Object.entries(node.nested)) {
      const full = name ? `${name}.${key}` : key;
      if (keep.has(full)) {
        nested[key] = child.fields ? withFieldsRead(full, stripExtensions(child)) : child.methods ? { ...child, methods: Object.fromEntries(methodsOf(full, child)) } : child;
      } else if (!child.fields && !child.values && !child.methods && !child.extend && [...keep].some((k) => k.startsWith(`${full}.`))) {
        nested[key] = copy(child, full);
      }
    }
    out.nested = nested;
    return out;
  };
  return copy(json, '');
}

function stripExtensions(message) {
  if (!message.nested) return message;
  const nested = {};
  for (const [k, v] of Object.entries(message.nested)) {
    if (v.extend) continue;
    nested[k] = v.fields ? stripExtensions(v) : v;
  }
  return { ...message, nested };
}

const lowerCamel = (name) => name.charAt(0).toLowerCase() + name.slice(1);

/**
 * The RPCs of a service that `sources` call, by the client method names gax
 * generates (getCluster, listFindingsAsync, ...). null when none is found:
 * then the service keeps all of them rather than guessing.
 */
export function rpcsCalled(service, sources) {
  const called = new Set(Object.keys(service.methods).filter((rpc) => new RegExp(String.raw`\.\s*${lowerCamel(rpc)}(?:Async|Stream)?\s*\(`).test(sources)));
  return called.size > 0 ? called : null;
}

/** What a generated gax client needs from its package's protos: its service and the types it looks up by name. */
export function protoRootsOfClient(source) {
  const roots = new Set();
  for (const m of source.matchAll(/lookupService\(\s*'([^']+)'\s*\)/g)) roots.add(m[1]);
  for (const m of source.matchAll(/protoFilesRoot\.lookup\(\s*'\.?([^']+)'\s*\)/g)) roots.add(m[1]);
  return roots;
}

// ---------------------------------------------------------------------------
// @kubernetes/client-node: the names the code reads

/**
 * Names read from `await import('@kubernetes/client-node')` in one compiled
 * module: destructured (`const { A, B } = await import(...)`) or through a
 * namespace variable (`const k8s = await import(...)`, then `k8s.A`). null
 * when the module imports it in a way this does not understand.
 */
export function kubeNamesUsed(source) {
  const names = new Set();
  const spec = String.raw`await\s+import\(\s*['"]@kubernetes/client-node['"]\s*\)`;
  let understood = 0;
  for (const m of source.matchAll(new RegExp(String.raw`(?:const|let|var)\s*\{([^}]*)\}\s*=\s*${spec}`, 'g'))) {
    understood++;
    for (const part of m[1].split(',')) {
      const name = part.split(':')[0].trim();
      if (name) names.add(name);
    }
  }
  for (const m of source.matchAll(new RegExp(String.raw`(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*=\s*${spec}`, 'g'))) {
    understood++;
    const ns = m[1].replace(/\$/g, '\\$');
    for (const use of source.matchAll(new RegExp(String.raw`(?<![\w$.])${ns}(\.[A-Za-z_$][\w$]*|\s*\[|[^\w$.\s=])`, 'g'))) {
      if (!use[1].startsWith('.')) return null;
      names.add(use[1].slice(1));
    }
  }
  const all = source.match(new RegExp(String.raw`import\(\s*['"]@kubernetes/client-node['"]\s*\)`, 'g')) ?? [];
  return all.length === understood ? names : null;
}

// ---------------------------------------------------------------------------

function packageOf(path) {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*node_modules\/)/.exec(path.replaceAll('\\', '/'));
  return m ? m[1] : null;
}

function packageDirOf(path) {
  const p = path.replaceAll('\\', '/');
  const m = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(p);
  return m ? m[1] : null;
}

const localRequire = createRequire(join(root, 'package.json'));

/** `reports`: where the shared-gax and patch plugins record what they did (pass 2 only). */
function commonOptions(extraPlugins, options, reports = {}) {
  return {
    entryPoints: { [FUNCTION_MODULE]: options.entry },
    absWorkingDir: root,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    // Registration must reach the functions-framework that loads the function, not a bundled copy.
    external: ['@google-cloud/functions-framework'],
    // Some dependencies compare constructor and function names at run time.
    keepNames: true,
    minify: options.minify,
    splitting: !options.singleFile,
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunks/[name]-[hash]',
    banner: { js: BANNER },
    // lib/clients.ts: start loading the Kubernetes client while GetCluster is in flight.
    define: { SCC_TRIAGE_BUNDLE: 'true' },
    metafile: true,
    legalComments: 'none',
    logLevel: 'warning',
    plugins: [sharedGaxPlugin(reports.sharedGax), cjsDynamicImportPlugin(), patchPlugin(reports.patches), ...extraPlugins],
  };
}

/**
 * Client packages whose own google-gax the bundle replaces with the project's:
 * their latest releases pin an older major, which would put a second gax,
 * google-auth-library and protobufjs (and for gax 2 a second grpc-js) in the
 * function. Their generated clients call gax exactly as the ones generated for
 * the project's major do (compare @google-cloud/container 7's); gax 6.0.0's
 * one breaking change is the Node >= 22 floor (googleapis/google-cloud-node,
 * core/packages/gax/CHANGELOG.md, PR 8989); and test/bench/bundle.test.ts
 * runs them on it end to end.
 * - @google-cloud/essential-contacts 1.1.1, its only release: google-gax ^2.
 * - @google-cloud/security-center 9.3.1, its latest: google-gax ^5 (the
 *   project is on 6). Measured: the bundle is 6.8 MiB with both copies, 6.0
 *   with the project's alone.
 */
export const SHARED_GAX_PACKAGES = ['@google-cloud/essential-contacts', '@google-cloud/security-center'];

/** Imports of google-gax from SHARED_GAX_PACKAGES → the project's google-gax; `redirected` counts them per package. */
function sharedGaxPlugin(redirected = new Map()) {
  const dirs = SHARED_GAX_PACKAGES.map((pkg) => [pkg, packageDirOf(localRequire.resolve(pkg))]);
  return {
    name: 'shared-gax',
    setup(b) {
      b.onResolve({ filter: /^google-gax$/ }, (args) => {
        const importer = args.importer.replaceAll('\\', '/');
        const hit = dirs.find(([, dir]) => importer.startsWith(`${dir}/`));
        if (!hit) return undefined;
        redirected.set(hit[0], (redirected.get(hit[0]) ?? 0) + 1);
        return { path: localRequire.resolve('google-gax') };
      });
    },
  };
}

function kubePlugin(names) {
  const target = localRequire.resolve(KUBE);
  return {
    name: 'kube-used-names',
    setup(b) {
      b.onResolve({ filter: /^@kubernetes\/client-node$/ }, (args) => {
        if (args.importer.includes('node_modules')) return undefined;
        return { path: 'kube-used-names', namespace: 'kube-used-names' };
      });
      b.onLoad({ filter: /.*/, namespace: 'kube-used-names' }, () => ({
        contents: `export { ${[...names].sort().join(', ')} } from ${JSON.stringify(target)};\n`,
        resolveDir: root,
        loader: 'js',
      }));
    },
  };
}

/**
 * client-node's generated API classes have a method per endpoint (CoreV1Api
 * alone some three hundred, in four layers: request factory, response
 * processor, observable and object-parameter API), about a third of the
 * whole bundle, parsed on every cold start. The function calls a handful.
 * These files' classes lose every method that is not one of `keep` or its
 * ...WithHttpInfo twin (constructors and fields stay).
 */
const KUBE_API_FILES = /[\\/]@kubernetes[\\/]client-node[\\/]dist[\\/]gen[\\/](?:apis[\\/]\w+Api|types[\\/](?:ObservableAPI|ObjectParamAPI|PromiseAPI))\.js$/;

/**
 * Removes the methods not in `keep` from the classes of generated code laid
 * out as TypeScript emits it: `export class X {` at the margin, members
 * indented four spaces, each optionally after its JSDoc, closing with a line
 * `    }`. Returns null when the layout is not that (the build then fails
 * rather than guessing), else the code and what it removed.
 */
export function trimClassMethods(code, keep) {
  const lines = code.split('\n');
  const out = [];
  let removed = 0;
  let kept = 0;
  let inClass = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (!inClass) {
      out.push(line);
      if (/^export class \w+(?: extends \w+)? \{$/.test(line)) inClass = true;
      continue;
    }
    if (line === '}') {
      inClass = false;
      out.push(line);
      continue;
    }
    // A member: optional JSDoc, then its first line, then its body up to "    }".
    let j = i;
    if (lines[j] === '    /**') {
      while (j < lines.length && lines[j] !== '     */') j++;
      j++;
    }
    const head = /^    (?:async )?([A-Za-z_$][\w$]*)\(.*\) \{$/.exec(lines[j] ?? '');
    if (!head) {
      // Anything else in a class body (a field, a one-line member) is unexpected in this code.
      return null;
    }
    let end = j + 1;
    while (end < lines.length && lines[end] !== '    }' && lines[end] !== '}') end++;
    if (lines[end] !== '    }') return null;
    const name = head[1];
    const base = name.endsWith('WithHttpInfo') ? name.slice(0, -'WithHttpInfo'.length) : name;
    if (name === 'constructor' || keep.has(base)) {
      out.push(...lines.slice(i, end + 1));
      if (name !== 'constructor') kept++;
    } else {
      removed++;
    }
    i = end;
  }
  if (inClass) return null;
  return { code: out.join('\n'), removed, kept };
}

/** Methods of client-node's API classes that first-party code calls (`.readNode(`...). */
export function kubeMethodsCalled(sources) {
  return new Set([...sources.matchAll(/\.((?:read|list|create|replace|patch|delete|connect)[A-Z]\w*)\s*\(/g)].map((m) => m[1]));
}

function kubeApiPlugin(keep, report) {
  return {
    name: 'kube-api-methods',
    setup(b) {
      b.onLoad({ filter: KUBE_API_FILES }, (args) => {
        const trimmed = trimClassMethods(readFileSync(args.path, 'utf8'), keep);
        if (!trimmed) throw new Error(`${relative(root, args.path)}: not laid out as trimClassMethods expects; update it for this client-node version`);
        report.push({ file: relative(root, args.path), removed: trimmed.removed, kept: trimmed.kept });
        return { contents: trimmed.code, loader: 'js' };
      });
    },
  };
}

/**
 * client-node imports three names from undici (fetch, Agent, ProxyAgent),
 * but undici's entry module loads all of it: mock agents, cache stores,
 * WebSocket, EventSource, interceptors, about half of what its require
 * costs. client-node's `import ... from 'undici'` is pointed at a module
 * that loads just the files those three live in. The build fails if
 * client-node imports any other name from undici.
 */
const UNDICI_NAMES = { fetch: 'lib/web/fetch/index.js', Agent: 'lib/dispatcher/agent.js', ProxyAgent: 'lib/dispatcher/proxy-agent.js' };

/** The names a package's ES modules import from `specifier` (`import { a, b as c } from '...'`); null if imported any other way. */
export function namesImportedFrom(sources, specifier) {
  const names = new Set();
  const quoted = specifier.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  let understood = 0;
  for (const m of sources.matchAll(new RegExp(String.raw`import\s*\{([^}]*)\}\s*from\s*['"]${quoted}['"]`, 'g'))) {
    understood++;
    for (const part of m[1].split(',')) {
      const name = part.trim().split(/\s+as\s+/)[0];
      if (name) names.add(name);
    }
  }
  const all = sources.match(new RegExp(String.raw`(?:from\s*|import\s*\(\s*|require\s*\(\s*|import\s+)['"]${quoted}['"]`, 'g')) ?? [];
  return all.length === understood ? names : null;
}

function undiciPlugin() {
  const kubeDir = packageDirOf(localRequire.resolve(KUBE));
  const undiciDir = packageDirOf(createRequire(join(kubeDir, 'package.json')).resolve('undici'));
  let sources = '';
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) {
        if (entry.name !== 'node_modules') walk(join(dir, entry.name));
      } else if (entry.name.endsWith('.js')) sources += `${readFileSync(join(dir, entry.name), 'utf8')}\n`;
    }
  };
  walk(join(kubeDir, 'dist'));
  const used = namesImportedFrom(sources, 'undici');
  const unknown = used === null ? ['(an import the build cannot read)'] : [...used].filter((n) => !(n in UNDICI_NAMES));
  if (unknown.length > 0) throw new Error(`${KUBE} imports ${unknown.join(', ')} from undici; add it to UNDICI_NAMES in scripts/build-bundle.mjs`);
  return {
    name: 'undici-used-names',
    setup(b) {
      b.onResolve({ filter: /^undici$/ }, (args) => {
        if (!args.importer.replaceAll('\\', '/').startsWith(`${kubeDir}/`)) return undefined;
        return { path: 'undici-used-names', namespace: 'undici-used-names' };
      });
      b.onLoad({ filter: /.*/, namespace: 'undici-used-names' }, () => ({
        contents: Object.entries(UNDICI_NAMES)
          .map(([name, file]) => `exports.${name} = require(${JSON.stringify(join(undiciDir, file))})${name === 'fetch' ? '.fetch' : ''};`)
          .join('\n'),
        resolveDir: undiciDir,
        loader: 'js',
      }));
    },
  };
}

/** Whether Node would load this file as CommonJS. */
function isCommonJs(file) {
  if (file.endsWith('.cjs')) return true;
  if (file.endsWith('.mjs') || !file.endsWith('.js')) return false;
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) return JSON.parse(readFileSync(manifest, 'utf8')).type !== 'module';
    if (dirname(dir) === dir) return true;
  }
}

/**
 * `await import('cjs-package')` must give what Node gives: the module's
 * exports as named bindings. Split into its own chunk, esbuild gives only
 * `default` instead, so `const { grpc } = await import('google-gax')` would
 * read undefined. Each such import goes through an ESM module that re-exports
 * the CommonJS module's export names (read by loading it here, at build time).
 */
function cjsDynamicImportPlugin() {
  return {
    name: 'cjs-dynamic-import',
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, async (args) => {
        if (args.kind !== 'dynamic-import' || args.namespace !== 'file' || args.importer.includes('node_modules') || args.pluginData === 'cjs-facade') return undefined;
        const resolved = await b.resolve(args.path, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: 'cjs-facade' });
        if (resolved.errors.length > 0 || resolved.external || resolved.namespace !== 'file' || !isCommonJs(resolved.path)) return resolved.errors.length > 0 ? { errors: resolved.errors } : undefined;
        return { path: resolved.path, namespace: 'cjs-facade' };
      });
      b.onLoad({ filter: /.*/, namespace: 'cjs-facade' }, (args) => {
        const names = Object.keys(createRequire(args.path)(args.path)).filter((k) => k !== 'default' && /^[A-Za-z_$][\w$]*$/.test(k));
        const target = JSON.stringify(args.path);
        return {
          // require(), not import: esbuild would hand a module marked __esModule its `default` instead of module.exports.
          contents: `const m = require(${target});\nexport default m;\nexport const { ${names.join(', ')} } = m;\n`,
          resolveDir: dirname(args.path),
          loader: 'js',
        };
      });
    },
  };
}

/**
 * Source edits made while bundling, each for a measured share of the cost of
 * creating the clients, none changing what a call sends or receives. They are
 * exact text replacements with the number of places each must match: a
 * dependency whose code differs fails the build instead of being patched
 * wrongly (then check the edit against the new version, or drop it).
 */
export const PATCHES = [
  {
    file: /[\\/]@grpc[\\/]proto-loader[\\/]build[\\/]src[\\/]index\.js$/,
    // Every type of a client's protos becomes a descriptor (DescriptorProto
    // objects, every file serialized as FileDescriptorProto) for gRPC server
    // reflection, when the client is constructed. Clients never read them
    // (grpc-js and google-gax use the serializers only); they become getters.
    edits: [
      [
        `    const messageDescriptor = message.toDescriptor('proto3');
    return {
        format: 'Protocol Buffer 3 DescriptorProto',
        type: messageDescriptor.$type.toObject(messageDescriptor, descriptorOptions),
        fileDescriptorProtos: fileDescriptors,`,
        `    return {
        format: 'Protocol Buffer 3 DescriptorProto',
        get type() { const messageDescriptor = message.toDescriptor('proto3'); return messageDescriptor.$type.toObject(messageDescriptor, descriptorOptions); },
        get fileDescriptorProtos() { return fileDescriptors(); },`,
      ],
      [
        `    const enumDescriptor = enumType.toDescriptor('proto3');
    return {
        format: 'Protocol Buffer 3 EnumDescriptorProto',
        type: enumDescriptor.$type.toObject(enumDescriptor, descriptorOptions),
        fileDescriptorProtos: fileDescriptors,`,
        `    return {
        format: 'Protocol Buffer 3 EnumDescriptorProto',
        get type() { const enumDescriptor = enumType.toDescriptor('proto3'); return enumDescriptor.$type.toObject(enumDescriptor, descriptorOptions); },
        get fileDescriptorProtos() { return fileDescriptors(); },`,
      ],
      [
        `    const descriptorList = root.toDescriptor('proto3').file;
    const bufferList = descriptorList.map(value => Buffer.from(descriptor.FileDescriptorProto.encode(value).finish()));
    for (const [name, obj] of getAllHandledReflectionObjects(root, '')) {
        def[name] = createDefinition(obj, name, options, bufferList);
    }`,
        `    let bufferList;
    const fileDescriptors = () => (bufferList ??= root.toDescriptor('proto3').file.map(value => Buffer.from(descriptor.FileDescriptorProto.encode(value).finish())));
    for (const [name, obj] of getAllHandledReflectionObjects(root, '')) {
        def[name] = createDefinition(obj, name, options, fileDescriptors);
    }`,
      ],
    ],
    mustNotRemain: [/toDescriptor\('proto3'\);\n\s+return/],
  },
];

/** Applies PATCHES; `applied` gets {patch: index in PATCHES, file} for each file patched. */
function patchPlugin(applied = []) {
  return {
    name: 'patch-dependencies',
    setup(b) {
      for (const [index, patch] of PATCHES.entries()) {
        b.onLoad({ filter: patch.file }, (args) => {
          let code = readFileSync(args.path, 'utf8');
          for (const [from, to, count = 1] of patch.edits) {
            const found = code.split(from).length - 1;
            if (found !== count) throw new Error(`${relative(root, args.path)}: expected ${count} occurrence(s) of the code PATCHES edits, found ${found}: ${JSON.stringify(from.slice(0, 80))}`);
            code = code.replaceAll(from, () => to);
          }
          for (const leftover of patch.mustNotRemain ?? []) {
            if (leftover.test(code)) throw new Error(`${relative(root, args.path)}: ${leftover} still matches after PATCHES: the edits no longer cover this version`);
          }
          applied.push({ patch: index, file: relative(root, args.path) });
          return { contents: code, loader: 'js' };
        });
      }
    },
  };
}

/** Response messages read field by field: lib/gather/cluster.ts FIELDS_READ (compiled by tsc first). */
async function fieldsReadByMessage() {
  const module = join(root, 'dist', 'lib', 'gather', 'cluster.js');
  if (!existsSync(module)) throw new Error(`${relative(root, module)} does not exist: run tsc first (npm run build)`);
  const { FIELDS_READ } = await import(pathToFileURL(module).href);
  return new Map(Object.entries(FIELDS_READ).map(([message, fields]) => [message, new Set(fields)]));
}

function protosPlugin(rootsByPackageDir, report, firstPartySources, fieldsByMessage) {
  return {
    name: 'trim-protos',
    setup(b) {
      b.onLoad({ filter: /[\\/]build[\\/]protos[\\/]protos\.json$/ }, (args) => {
        const dir = packageDirOf(args.path);
        const roots = rootsByPackageDir.get(dir);
        if (!roots) return undefined;
        const full = JSON.parse(readFileSync(args.path, 'utf8'));
        const index = indexProtos(full);
        // Only the RPCs the function calls: every other one would bring its request and response types (Security
        // Center's simulations, attack paths, exports...), which a client parses on construction for nothing.
        const methodsByService = new Map();
        for (const name of roots) {
          const entry = index.get(name);
          if (entry?.kind !== 'service') continue;
          const called = rpcsCalled(entry.node, firstPartySources);
          if (called) methodsByService.set(name, called);
        }
        const trimmed = JSON.stringify(trimProtos(full, roots, methodsByService, fieldsByMessage));
        report.push({
          package: packageOf(args.path),
          services: [...roots].sort().map((r) => (methodsByService.has(r) ? `${r} (${[...methodsByService.get(r)].join(', ')})` : r)),
          bytesBefore: JSON.stringify(full).length,
          bytesAfter: trimmed.length,
        });
        return { contents: `module.exports = JSON.parse(${JSON.stringify(trimmed)});\n`, loader: 'js' };
      });
    },
  };
}

/** Files in the bundle (inputs of plugin namespaces, "namespace:path", are not files). */
function inputsOf(metafile) {
  return Object.keys(metafile.inputs)
    .filter((p) => !/^[a-z-]+:/.test(p))
    .map((p) => resolve(root, p));
}

function argValue(name) {
  const i = process.argv.indexOf(name);
  return i === -1 ? undefined : process.argv[i + 1];
}

/**
 * Pass 1 of the build: what is in the bundle at all, with the shared-gax
 * redirection and PATCHES applied, nothing written. `files` are the absolute
 * paths of the files bundled; `patched` says which file each PATCHES entry
 * applied to (test/bench/build-bundle.test.ts checks it against these very files).
 */
export async function bundleInputs({ singleFile = false, minify = true, entry = defaultEntry } = {}) {
  if (!existsSync(entry)) throw new Error(`${relative(root, entry)} does not exist: run tsc first (npm run build)`);
  const reports = { sharedGax: new Map(), patches: [] };
  const first = await build({ ...commonOptions([], { singleFile, minify, entry }, reports), write: false, outdir: join(root, 'build', 'bundle') });
  return { metafile: first.metafile, files: inputsOf(first.metafile), sharedGax: reports.sharedGax, patched: reports.patches };
}

/** Every PATCHES entry must have patched a file: one whose target moved would otherwise silently stop applying. */
function checkPatchesApplied(patched) {
  for (const [index, patch] of PATCHES.entries()) {
    if (!patched.some((p) => p.patch === index)) throw new Error(`PATCHES[${index}] (${patch.file}) matched no file in the bundle: its target moved or left the bundle; update the pattern or drop the patch`);
  }
}

export async function buildBundle({ out = join(root, 'build', 'bundle'), singleFile = false, minify = true, entry = defaultEntry } = {}) {
  const options = { singleFile, minify, entry };

  // Pass 1: what is in the bundle at all (nothing written).
  const { metafile: firstMetafile, files: inputs } = await bundleInputs(options);
  const first = { metafile: firstMetafile };

  const names = new Set();
  let firstPartySources = '';
  for (const path of Object.keys(first.metafile.inputs)) {
    if (!/^[a-z-]+:/.test(path) && !path.includes('node_modules')) firstPartySources += `${readFileSync(resolve(root, path), 'utf8')}\n`;
  }
  for (const [path, input] of Object.entries(first.metafile.inputs)) {
    if (/^[a-z-]+:/.test(path)) continue;
    const abs = resolve(root, path);
    if (abs.includes(`${'/'}node_modules${'/'}`) || abs.includes('node_modules\\')) continue;
    const imports = input.imports.filter((i) => i.original === KUBE);
    if (imports.length === 0) continue;
    if (imports.some((i) => i.kind !== 'dynamic-import')) throw new Error(`${relative(root, abs)} imports ${KUBE} statically: it must stay lazy (await import)`);
    const used = kubeNamesUsed(readFileSync(abs, 'utf8'));
    if (used === null) throw new Error(`${relative(root, abs)}: cannot tell which names it uses from ${KUBE}; use \`const { A, B } = await import('${KUBE}')\` or a namespace variable read as ns.Name`);
    for (const n of used) names.add(n);
  }

  const rootsByPackageDir = new Map();
  for (const abs of inputs) {
    const pkg = packageOf(abs);
    if (!PROTO_PACKAGES.includes(pkg) || !/_client\.js$/.test(abs)) continue;
    const roots = protoRootsOfClient(readFileSync(abs, 'utf8'));
    if (roots.size === 0) throw new Error(`${relative(root, abs)}: no service found to keep in ${pkg}'s protos`);
    const dir = packageDirOf(abs);
    const set = rootsByPackageDir.get(dir) ?? new Set();
    for (const r of roots) set.add(r);
    rootsByPackageDir.set(dir, set);
  }

  // Pass 2: the bundle.
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const protoReport = [];
  const plugins = [protosPlugin(rootsByPackageDir, protoReport, firstPartySources, await fieldsReadByMessage())];
  const kubeApiReport = [];
  if (names.size > 0) {
    plugins.push(kubePlugin(names));
    plugins.push(kubeApiPlugin(kubeMethodsCalled(firstPartySources), kubeApiReport));
    plugins.push(undiciPlugin());
  }
  const reports = { sharedGax: new Map(), patches: [] };
  const result = await build({ ...commonOptions(plugins, options, reports), outdir: out });
  checkPatchesApplied(reports.patches);

  // Chunks reached by import() count as entry points too; the function's own is the one from `entry`.
  const entryOutput = Object.entries(result.metafile.outputs).find(([, o]) => o.entryPoint !== undefined && resolve(root, o.entryPoint) === entry);
  if (!entryOutput) throw new Error('esbuild produced no entry output');
  if (!singleFile) {
    // A shared chunk the entry imports statically loads at start as surely as the entry itself.
    const atStart = new Set([entryOutput[0]]);
    const pending = [entryOutput[0]];
    while (pending.length > 0) {
      for (const i of result.metafile.outputs[pending.pop()].imports) {
        if (i.kind === 'import-statement' && !i.external && !atStart.has(i.path)) {
          atStart.add(i.path);
          pending.push(i.path);
        }
      }
    }
    const inputs = [...atStart].flatMap((o) => Object.keys(result.metafile.outputs[o].inputs));
    const eager = [...new Set(inputs.map((p) => packageOf(resolve(root, p))).filter((p) => LAZY_PACKAGES.includes(p)))];
    if (eager.length > 0) throw new Error(`the entry chunk or a chunk it imports statically contains ${eager.join(', ')}: these must be imported lazily (lib/clients.ts)`);
  }
  writeFileSync(join(out, 'index.mjs'), COMPILE_CACHE_LOADER);
  writeFileSync(join(out, PRIME_SCRIPT), PRIME_COMPILE_CACHE);
  writeFileSync(join(out, 'package.json'), `${JSON.stringify({ type: 'module', main: 'index.mjs' }, null, 2)}\n`);
  writeFileSync(join(out, 'metafile.json'), JSON.stringify(result.metafile));
  const outputs = Object.entries(result.metafile.outputs).map(([p, o]) => ({ file: relative(out, resolve(root, p)), bytes: o.bytes }));
  const kubeMethods = kubeApiReport.reduce((n, r) => ({ removed: n.removed + r.removed, kept: n.kept + r.kept }), { removed: 0, kept: 0 });
  return {
    out,
    entry: join(out, 'index.mjs'),
    outputs,
    protos: protoReport,
    kubeNames: [...names].sort(),
    kubeMethods,
    sharedGax: Object.fromEntries(reports.sharedGax),
    patches: PATCHES.map((patch, index) => ({ file: String(patch.file), edits: patch.edits.length, applied: reports.patches.filter((p) => p.patch === index).map((p) => p.file) })),
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const res = await buildBundle({
      out: argValue('--out') ? resolve(argValue('--out')) : undefined,
      singleFile: process.argv.includes('--single-file'),
      minify: !process.argv.includes('--no-minify'),
      entry: argValue('--entry') ? resolve(argValue('--entry')) : undefined,
    });
    const total = res.outputs.reduce((n, o) => n + o.bytes, 0);
    const entryBytes = res.outputs.find((o) => o.file === `${FUNCTION_MODULE}.mjs`)?.bytes ?? 0;
    console.log(`bundle: ${relative(root, res.entry)} → ${FUNCTION_MODULE}.mjs (${(entryBytes / 1024).toFixed(0)} KiB) + ${res.outputs.length - 1} chunks, ${(total / 1048576).toFixed(1)} MiB in all; ${PRIME_SCRIPT} fills ${COMPILE_CACHE_DIR}/`);
    for (const p of res.protos) console.log(`  protos ${p.package}: ${(p.bytesBefore / 1024).toFixed(0)} → ${(p.bytesAfter / 1024).toFixed(0)} KiB (${p.services.join(', ')})`);
    if (res.kubeNames.length > 0) console.log(`  ${KUBE}: ${res.kubeNames.join(', ')}; API methods kept ${res.kubeMethods.kept}, removed ${res.kubeMethods.removed}`);
    console.log(`  google-gax shared (project's ${JSON.parse(readFileSync(join(packageDirOf(localRequire.resolve('google-gax')), 'package.json'), 'utf8')).version}): ${SHARED_GAX_PACKAGES.map((p) => `${p} (${res.sharedGax[p] ?? 0} imports)`).join(', ')}`);
    for (const p of res.patches) console.log(`  patch ${p.file}: ${p.edits} edits applied to ${p.applied.join(', ')}`);
  } catch (err) {
    console.error(`build-bundle: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
}
