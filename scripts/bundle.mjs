// Bundles the library's public entry points twice: for Node (node:crypto backend) and for browsers
// (@noble + WebCrypto backend). One file per entry plus shared chunks, so `import 'veritee'` loads a
// handful of files instead of ~80 modules (the cold start is most of a CLI or serverless call).
// Dependencies stay external; type declarations come from tsc (dist/**/*.d.ts).
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

const root = join(import.meta.dirname, '..');
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

for (const [target, backend, platform] of [
  ['node', 'src/crypto/node.ts', 'node'],
  ['browser', 'src/crypto/web.ts', 'browser'],
]) {
  rmSync(join(root, 'dist', target), { recursive: true, force: true });
  await build({
    entryPoints: Object.fromEntries(Object.entries(ENTRIES).map(([name, path]) => [name, join(root, path)])),
    outdir: join(root, 'dist', target),
    bundle: true,
    splitting: true,
    format: 'esm',
    platform,
    target: 'es2022',
    packages: 'external',
    alias: { '#crypto': join(root, backend) },
    chunkNames: 'chunks/[name]-[hash]',
    logLevel: 'warning',
  });
}
