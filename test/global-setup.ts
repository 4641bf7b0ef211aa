/**
 * Builds everything the suite runs against, once: dist/ (tsc), the package bundles, and the explorer
 * page — so CLI, package and browser tests exercise the real build.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

export default function setup(): void {
  const root = join(import.meta.dirname, '..');
  const run = (...args: string[]) => execFileSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
  run(join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json');
  run(join(root, 'scripts', 'bundle.mjs'));
  run(join(root, 'web', 'build.mjs'));
}
