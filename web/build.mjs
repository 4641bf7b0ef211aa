// Builds the explorer into web/dist: one ES module bundle (the library with the browser crypto backend),
// the page and its stylesheet. Usable on its own (any static host) or served by `veritee serve-verifier`.
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

const here = import.meta.dirname;
const out = join(here, 'dist');
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [join(here, 'explorer.ts')],
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  sourcemap: false,
  outfile: join(out, 'explorer.js'),
  alias: { '#crypto': join(here, '..', 'src', 'crypto', 'web.ts') },
  loader: { '.cose': 'binary' },
  logLevel: 'warning',
});
for (const file of ['index.html', 'style.css']) copyFileSync(join(here, file), join(out, file));
