// Bundles the library's public entry points twice: for Node (node:crypto backend) and for browsers
// (@noble + WebCrypto backend). Dependencies stay external; type declarations come from tsc.
//
// The modules are grouped into a few bundle files ("layers", dist/<target>/chunks/<layer>.js) chosen
// here rather than by esbuild's automatic code splitting, which cut the library into ~20 chunks: in
// Node each extra file and import edge costs about a millisecond of loader work at start-up, more than
// compiling the code in it. A module belongs to the first layer (in the order below) whose roots reach
// it through static imports, so a layer only imports earlier layers and `core` imports none: loading
// `veritee` reads index.js and core.js, and the first Nitro verification adds nitro.js (the platform
// registry imports each platform's layer dynamically, see src/platforms/lazy.ts). Each public entry
// file (dist/<target>/nitro.js, …) re-exports exactly its source module's exports from its layer.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { build } from 'esbuild';

const root = join(import.meta.dirname, '..');

/** Public entry points (package.json `exports`): name → source module. */
export const ENTRIES = {
  index: 'src/index.ts',
  nitro: 'src/platforms/nitro/index.ts',
  dcap: 'src/platforms/dcap/index.ts',
  snp: 'src/platforms/snp/index.ts',
  pki: 'src/pki/index.ts',
  policy: 'src/policy/index.ts',
  ear: 'src/policy/ear.ts',
  errors: 'src/errors.ts',
  bytes: 'src/bytes.ts',
  channel: 'src/channel/index.ts',
  measure: 'src/measure/index.ts',
  collateral: 'src/collateral/index.ts',
  kms: 'src/kms/index.ts',
};

/**
 * Bundle files in dependency order, each with the source modules whose static imports define it. The
 * release appraisal is apart from the rest of `measure` (EIF, event logs, RTMR replay) because
 * `verify()` loads it for a policy with a `releases` section.
 */
export const LAYERS = [
  ['core', ['index', 'errors', 'bytes', 'pki', 'policy', 'ear'].map((entry) => ENTRIES[entry])],
  ['nitro', [ENTRIES.nitro]],
  ['dcap', [ENTRIES.dcap]],
  ['snp', [ENTRIES.snp]],
  ['releases', ['src/measure/releases.ts']],
  ['measure', [ENTRIES.measure]],
  ['channel', [ENTRIES.channel]],
  ['collateral', [ENTRIES.collateral]],
  ['kms', [ENTRIES.kms]],
];

const TARGETS = [
  { target: 'node', platform: 'node', backend: 'src/crypto/node.ts' },
  { target: 'browser', platform: 'browser', backend: 'src/crypto/web.ts' },
];

function fail(message) {
  throw new Error(`bundle: ${message}`);
}

function commonOptions({ platform, backend }) {
  return {
    absWorkingDir: root,
    bundle: true,
    format: 'esm',
    platform,
    target: 'es2022',
    packages: 'external',
    alias: { '#crypto': join(root, backend) },
    logLevel: 'warning',
  };
}

/** The import graph of every entry point (paths relative to the repository) and each entry's exports. */
async function analyse(options) {
  const result = await build({
    ...options,
    entryPoints: [...new Set([...Object.values(ENTRIES), ...LAYERS.flatMap(([, roots]) => roots)])],
    outdir: join(root, 'dist', '.analysis'),
    splitting: true,
    write: false,
    metafile: true,
  });
  const exportsOf = new Map();
  for (const output of Object.values(result.metafile.outputs)) {
    if (output.entryPoint !== undefined) exportsOf.set(output.entryPoint, output.exports);
  }
  return { inputs: result.metafile.inputs, exportsOf };
}

/** Source module → layer: the first layer whose entry points reach it through static imports. */
function assignLayers(inputs) {
  const layerOf = new Map();
  const visit = (file, layer) => {
    if (layerOf.has(file)) return;
    const input = inputs[file] ?? fail(`${file} is not in the import graph`);
    layerOf.set(file, layer);
    for (const edge of input.imports) {
      if (!edge.external && edge.kind === 'import-statement') visit(edge.path, layer);
    }
  };
  for (const [layer, roots] of LAYERS) {
    for (const file of roots) visit(file, layer);
  }
  // A module only reached by a dynamic import must still have a home.
  for (const [file, input] of Object.entries(inputs)) {
    for (const edge of input.imports) {
      if (edge.kind === 'dynamic-import' && !edge.external && !layerOf.has(edge.path))
        fail(`${edge.path} (imported dynamically by ${file}) is in no layer: add it to LAYERS`);
    }
  }
  return layerOf;
}

/** Bundles one file per layer; an import that crosses layers becomes an import of the other layer's file. */
function layerPlugin(layerOf) {
  const resolving = Symbol('resolving');
  const filesOf = (layer) => [...layerOf].filter(([, l]) => l === layer).map(([file]) => file);
  return {
    name: 'veritee-layers',
    setup(pluginBuild) {
      pluginBuild.onResolve({ filter: /^layer:/ }, (args) => ({
        path: args.path.slice(6),
        namespace: 'layer',
      }));
      pluginBuild.onLoad({ filter: /.*/, namespace: 'layer' }, (args) => ({
        contents: filesOf(args.path)
          .map((file) => `export * from ${JSON.stringify(join(root, file))};`)
          .join('\n'),
        resolveDir: root,
        loader: 'js',
      }));
      pluginBuild.onResolve({ filter: /.*/ }, async (args) => {
        if (args.namespace !== 'file' || args.pluginData === resolving) return undefined;
        const resolved = await pluginBuild.resolve(args.path, {
          kind: args.kind,
          importer: args.importer,
          resolveDir: args.resolveDir,
          pluginData: resolving,
        });
        if (resolved.errors.length > 0) return { errors: resolved.errors };
        if (resolved.external) return { path: resolved.path, external: true };
        const from = layerOf.get(relative(root, args.importer));
        const to = layerOf.get(relative(root, resolved.path));
        if (from === undefined || to === undefined)
          return { errors: [{ text: `${relative(root, resolved.path)} is in no layer` }] };
        return from === to ? { path: resolved.path } : { path: `./${to}.js`, external: true };
      });
    },
  };
}

/** Every source module must land in exactly one bundle file, or module state would be duplicated. */
function checkNoDuplicates(metafile) {
  const seen = new Map();
  for (const [output, { inputs }] of Object.entries(metafile.outputs)) {
    for (const input of Object.keys(inputs)) {
      if (input.startsWith('layer:')) continue;
      if (seen.has(input)) fail(`${input} is bundled into both ${seen.get(input)} and ${output}`);
      seen.set(input, output);
    }
  }
}

/**
 * Loads every bundle file in a fresh Node process (Node checks each imported name at link time, which
 * catches a name `export *` dropped because two modules of one layer export it) and compares each
 * entry file's exports with its source module's.
 */
function checkLinks(outdir, expected) {
  const script = `
    const expected = ${JSON.stringify(expected)};
    const problems = [];
    for (const layer of ${JSON.stringify(LAYERS.map(([layer]) => layer))}) await import('./chunks/' + layer + '.js');
    for (const [name, names] of Object.entries(expected)) {
      const actual = Object.keys(await import('./' + name + '.js')).sort();
      if (JSON.stringify(actual) !== JSON.stringify([...names].sort())) problems.push(name);
    }
    if (problems.length > 0) throw new Error('entry exports differ from their sources: ' + problems.join(', '));`;
  execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: outdir, stdio: 'inherit' });
}

for (const config of TARGETS) {
  const outdir = join(root, 'dist', config.target);
  rmSync(outdir, { recursive: true, force: true });
  const options = commonOptions(config);
  const { inputs, exportsOf } = await analyse(options);
  const layerOf = assignLayers(inputs);
  const result = await build({
    ...options,
    entryPoints: Object.fromEntries(LAYERS.map(([layer]) => [layer, `layer:${layer}`])),
    outdir: join(outdir, 'chunks'),
    plugins: [layerPlugin(layerOf)],
    metafile: true,
  });
  checkNoDuplicates(result.metafile);
  const expected = {};
  mkdirSync(outdir, { recursive: true });
  for (const [name, source] of Object.entries(ENTRIES)) {
    const names = exportsOf.get(source) ?? fail(`no exports found for ${source}`);
    expected[name] = names;
    writeFileSync(
      join(outdir, `${name}.js`),
      `export {\n${names.map((n) => `  ${n},\n`).join('')}} from './chunks/${layerOf.get(source)}.js';\n`,
    );
  }
  checkLinks(outdir, expected);
}
