/** The library core must run in a browser: nothing under src/ imports `node:` except Node-only modules. */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = join(import.meta.dirname, '..', 'src');
// Node-only by design: the CLI, and the node:crypto backend (selected by the `node` export condition) with
// its key-generation helpers and the loader of its veritee-evp addon.
const NODE_ONLY = [
  /^cli\//,
  /^crypto\/node\.ts$/,
  /^crypto\/node-keys\.ts$/,
  /^crypto\/node-evp\.ts$/,
  /^server\//,
  /^runtime\//,
  /^collateral\/store/,
  /^kms\/node\//,
  /(^|\/)files\.ts$/,
  /^measure\/sigstore\.ts$/,
];

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sources(join(dir, entry.name))
      : entry.name.endsWith('.ts')
        ? [join(dir, entry.name)]
        : [],
  );
}

describe('browser-safe core', () => {
  it('imports nothing from node: outside Node-only modules', () => {
    const offenders = sources(SRC)
      .map((file) => relative(SRC, file))
      .filter((file) => !NODE_ONLY.some((pattern) => pattern.test(file)))
      .filter((file) =>
        /from ['"]node:|import\(['"]node:|require\(['"]node:/.test(readFileSync(join(SRC, file), 'utf8')),
      );
    expect(offenders).toEqual([]);
  });
});
