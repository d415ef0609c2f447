#!/usr/bin/env node
/**
 * Bundles the deployed function (dist/functions/index.js, compiled by tsc)
 * with esbuild into build/bundle/: one entry module, index.mjs, that
 * functions-framework loads, plus chunks it imports on demand. Run after
 * `tsc`; `npm run build` does both.
 *
 *   node scripts/build-bundle.mjs [--out DIR] [--single-file] [--no-minify]
 *
 * Why a bundle: resolving and compiling a few thousand node_modules files is
 * most of what a cold instance spends before its first report (README,
 * Performance). What it does beyond concatenating:
 *
 * - Chunks, not one file. The SDKs are imported lazily (lib/clients.ts), and
 *   esbuild keeps them lazy in separate chunks; in a single file V8 would
 *   still compile all of their code before the instance listens.
 *   --single-file builds that variant, for measuring it.
 * - Protos trimmed to the services used. Each Google client package ships
 *   the protos of every API version it has in one protos.json, which its
 *   client parses twice on construction. Only the service(s) whose client
 *   modules are actually in the bundle are kept, with every type they reach
 *   (found in a first build pass, not listed by hand), and the JSON is
 *   embedded as a string for JSON.parse, which V8 reads far faster than an
 *   object literal of the same size.
 * - One gRPC stack. @google-cloud/essential-contacts pins google-gax 2 with
 *   its own grpc-js, protobufjs and google-auth-library; the bundle resolves
 *   its google-gax to the project's.
 * - Only the used part of @kubernetes/client-node. It is ESM, so esbuild can
 *   drop the API groups and helpers the function never calls, but not through
 *   a bare `await import()`: those imports are pointed at a module that
 *   re-exports exactly the names the code reads from them.
 *
 * The build fails rather than emitting a bundle that would break at run
 * time: an SDK package in the entry chunk (eager load), a client-node import
 * it cannot read the used names from, or a client whose protos it cannot
 * trim.
 */
import { build } from 'esbuild';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

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
  '@kubernetes/client-node',
  'google-gax',
  '@grpc/grpc-js',
  'protobufjs',
  'google-auth-library',
];

/** Client packages whose build/protos/protos.json is trimmed to the services their bundled clients serve. */
const PROTO_PACKAGES = ['@google-cloud/security-center', '@google-cloud/container', '@google-cloud/logging-api', '@google-cloud/essential-contacts'];

const KUBE = '@kubernetes/client-node';

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
export function trimProtos(json, rootNames, methodsByService = new Map()) {
  const index = indexProtos(json);
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
        for (const [fieldName, f] of Object.entries(msg.fields ?? {})) {
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
        nested[key] = child.fields ? stripExtensions(child) : child.methods ? { ...child, methods: Object.fromEntries(methodsOf(full, child)) } : child;
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

function commonOptions(extraPlugins, options) {
  return {
    entryPoints: { index: options.entry },
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
    plugins: [sharedGaxPlugin(), cjsDynamicImportPlugin(), patchPlugin(), ...extraPlugins],
  };
}

/** @google-cloud/essential-contacts' own google-gax 2 → the project's google-gax. */
function sharedGaxPlugin() {
  const contactsDir = packageDirOf(localRequire.resolve('@google-cloud/essential-contacts'));
  return {
    name: 'shared-gax',
    setup(b) {
      b.onResolve({ filter: /^google-gax$/ }, (args) => {
        if (!args.importer.replaceAll('\\', '/').startsWith(`${contactsDir}/`)) return undefined;
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

function patchPlugin() {
  return {
    name: 'patch-dependencies',
    setup(b) {
      for (const patch of PATCHES) {
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
          return { contents: code, loader: 'js' };
        });
      }
    },
  };
}

function protosPlugin(rootsByPackageDir, report, firstPartySources) {
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
        const trimmed = JSON.stringify(trimProtos(full, roots, methodsByService));
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

export async function buildBundle({ out = join(root, 'build', 'bundle'), singleFile = false, minify = true, entry = defaultEntry } = {}) {
  if (!existsSync(entry)) throw new Error(`${relative(root, entry)} does not exist: run tsc first (npm run build)`);
  const options = { singleFile, minify, entry };

  // Pass 1: what is in the bundle at all (nothing written).
  const first = await build({ ...commonOptions([], options), write: false, outdir: out });
  const inputs = inputsOf(first.metafile);

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
  const plugins = [protosPlugin(rootsByPackageDir, protoReport, firstPartySources)];
  if (names.size > 0) plugins.push(kubePlugin(names));
  const result = await build({ ...commonOptions(plugins, options), outdir: out });

  // Chunks reached by import() count as entry points too; the function's own is the one from `entry`.
  const entryOutput = Object.entries(result.metafile.outputs).find(([, o]) => o.entryPoint !== undefined && resolve(root, o.entryPoint) === entry);
  if (!entryOutput) throw new Error('esbuild produced no entry output');
  if (!singleFile) {
    const eager = [...new Set(Object.keys(entryOutput[1].inputs).map((p) => packageOf(resolve(root, p))).filter((p) => LAZY_PACKAGES.includes(p)))];
    if (eager.length > 0) throw new Error(`the entry chunk contains ${eager.join(', ')}: these must be imported lazily (lib/clients.ts)`);
  }
  writeFileSync(join(out, 'package.json'), `${JSON.stringify({ type: 'module', main: 'index.mjs' }, null, 2)}\n`);
  writeFileSync(join(out, 'metafile.json'), JSON.stringify(result.metafile));
  const outputs = Object.entries(result.metafile.outputs).map(([p, o]) => ({ file: relative(out, resolve(root, p)), bytes: o.bytes }));
  return { out, entry: join(out, 'index.mjs'), outputs, protos: protoReport, kubeNames: [...names].sort() };
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
    const entryBytes = res.outputs.find((o) => o.file === 'index.mjs')?.bytes ?? 0;
    console.log(`bundle: ${relative(root, res.entry)} (${(entryBytes / 1024).toFixed(0)} KiB) + ${res.outputs.length - 1} chunks, ${(total / 1048576).toFixed(1)} MiB in all`);
    for (const p of res.protos) console.log(`  protos ${p.package}: ${(p.bytesBefore / 1024).toFixed(0)} → ${(p.bytesAfter / 1024).toFixed(0)} KiB (${p.services.join(', ')})`);
    if (res.kubeNames.length > 0) console.log(`  ${KUBE}: ${res.kubeNames.join(', ')}`);
  } catch (err) {
    console.error(`build-bundle: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
}
