// `npm run bench [-- name…]`: runs the named benchmarks (default: all) one after another, one core each.
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const here = import.meta.dirname;
const available = readdirSync(here)
  // channel-instructions.mjs is run under valgrind with arguments, not on its own; *lib.mjs are shared code.
  .filter(
    (file) =>
      file.endsWith('.mjs') &&
      !['run.mjs', 'lib.mjs', 'channel-lib.mjs', 'channel-instructions.mjs', 'channel-ab.mjs'].includes(file),
  )
  .map((file) => file.replace(/\.mjs$/, ''));
const wanted = process.argv.slice(2).length > 0 ? process.argv.slice(2) : available;
for (const name of wanted) {
  if (!available.includes(name))
    throw new Error(`unknown benchmark "${name}" (have: ${available.join(', ')})`);
  execFileSync(process.execPath, [join(here, `${name}.mjs`)], { stdio: 'inherit' });
}
