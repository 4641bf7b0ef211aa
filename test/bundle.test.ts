/**
 * The shape of the published bundles (dist/node, dist/browser), which decides how much a process loads
 * before its first verdict: `import 'veritee'` must read only the entry file and the core layer, and a
 * Nitro verification must add only the Nitro layer — never the Intel, AMD or release-record code.
 * Checked on the files' import graph and on the modules Node actually loads, not on timing.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');

/** Bundle files (relative to `dir`) that `file` imports: statically (import/export … from) or with import(). */
function importsOf(dir: string, file: string): { static: string[]; dynamic: string[] } {
  const text = readFileSync(join(dir, file), 'utf8');
  const matches = (pattern: RegExp) =>
    [...text.matchAll(pattern)]
      .map((m) => m[1]!)
      .filter((spec) => spec.startsWith('.'))
      .map((spec) => relative(dir, join(dir, file, '..', spec)));
  return {
    static: matches(/^(?:import|export)\s[^;]*?from\s*["']([^"']+)["']/gms),
    dynamic: matches(/\bimport\(\s*["']([^"']+)["']\s*\)/g),
  };
}

/** Files reachable from `start` (relative to the target directory) through static imports. */
function staticClosure(dir: string, start: string): string[] {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const next of importsOf(dir, file).static) visit(next);
  };
  visit(start);
  return [...seen].sort();
}

describe.each(['node', 'browser'])('dist/%s', (target) => {
  const dir = join(root, 'dist', target);

  it('`veritee` statically loads only its entry file and the core layer', () => {
    expect(staticClosure(dir, 'index.js')).toEqual(['chunks/core.js', 'index.js']);
  });

  it('the core layer loads each platform and the release appraisal only with import()', () => {
    const core = importsOf(dir, 'chunks/core.js');
    expect(core.static).toEqual([]);
    expect([...new Set(core.dynamic)].sort()).toEqual([
      'chunks/dcap.js',
      'chunks/nitro.js',
      'chunks/releases.js',
      'chunks/snp.js',
    ]);
  });

  it('the Nitro layer needs nothing but the core layer', () => {
    expect(staticClosure(dir, 'chunks/nitro.js')).toEqual(['chunks/core.js', 'chunks/nitro.js']);
  });

  it('every module file is an entry file or one of the named layers', () => {
    const chunks = readdirSync(join(dir, 'chunks')).sort();
    expect(chunks).toEqual([
      'channel.js',
      'collateral.js',
      'core.js',
      'dcap.js',
      'kms.js',
      'measure.js',
      'nitro.js',
      'releases.js',
      'snp.js',
    ]);
  });
});

describe('modules Node loads', () => {
  // A module-loading hook (it runs on Node's loader thread) appends every dist/ file Node loads to a log.
  function distFilesLoaded(script: string): string[] {
    const scratch = mkdtempSync(join(tmpdir(), 'veritee-bundle-'));
    const log = join(scratch, 'loaded.txt');
    writeFileSync(log, '');
    const hook = `data:text/javascript,${encodeURIComponent(`
      import { appendFileSync } from 'node:fs';
      export async function load(url, context, next) {
        if (url.startsWith('file:') && url.includes('/dist/')) appendFileSync(${JSON.stringify(log)}, url + '\\n');
        return next(url, context);
      }`)}`;
    const register = `data:text/javascript,${encodeURIComponent(
      `import { register } from 'node:module'; register(${JSON.stringify(hook)});`,
    )}`;
    try {
      execFileSync(process.execPath, ['--import', register, '--input-type=module', '-e', script], {
        cwd: root,
        encoding: 'utf8',
      });
      const dist = join(root, 'dist', 'node');
      return readFileSync(log, 'utf8')
        .split('\n')
        .filter((line) => line !== '')
        .map((url) => relative(dist, fileURLToPath(url)))
        .sort();
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }

  it('`import("veritee")` and a Nitro verdict load index.js, core.js and nitro.js only', () => {
    const loaded = distFilesLoaded(`
      const bytes = (await import('node:fs')).readFileSync('examples/nitro/marlin-aws-2024-12-13.cose');
      const { verify } = await import('veritee');
      const result = await verify(bytes, { at: new Date('2024-12-13T07:37:58.960Z') });
      if (result.verdict !== 'affirming') throw new Error(result.errors[0]?.message);`);
    expect(loaded).toEqual(['chunks/core.js', 'chunks/nitro.js', 'index.js']);
  });

  it('a DCAP quote adds only the DCAP layer; a policy with a releases section adds the release appraisal', () => {
    const dcap = distFilesLoaded(`
      const { verify } = await import('veritee');
      const quote = (await import('node:fs')).readFileSync('test/vectors/dcap/sgx/dcapqvl-sgx-v3-00A067110000-2023-11/quote.bin');
      const result = await verify(quote);
      if (result.platform !== 'sgx') throw new Error('not detected as SGX');`);
    expect(dcap).toEqual(['chunks/core.js', 'chunks/dcap.js', 'index.js']);

    const releases = distFilesLoaded(`
      const { generateKeyPairSync } = await import('node:crypto');
      const jwk = () => generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' });
      const { loadPolicy, verify } = await import('veritee');
      const policy = loadPolicy({
        allowDebug: true,
        releases: { signer: jwk(), repository: 'https://example.com/app', log: { origin: 'example.com/log', publicKey: jwk() } },
      });
      const bytes = (await import('node:fs')).readFileSync('examples/nitro/marlin-aws-2024-12-13.cose');
      const result = await verify(bytes, { at: new Date('2024-12-13T07:37:58.960Z'), policy });
      if (!result.verified || result.verdict !== 'contraindicated') throw new Error('no release should match');`);
    expect(releases).toEqual(['chunks/core.js', 'chunks/nitro.js', 'chunks/releases.js', 'index.js']);
  });
});
