/** The published entry points: Node resolves the node:crypto bundle, browsers get one without `node:`. */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? files(join(dir, entry.name)) : [join(dir, entry.name)],
  );
}

describe('package entry points', () => {
  it('`veritee/measure` resolves to the node bundle and computes PCRs and replays', () => {
    const script = `
      const m = await import('veritee/measure');
      const log = (await import('node:fs')).readFileSync('test/vectors/measure/ccel-cos113/ccel_data.dat');
      const replay = m.replayEventLog(m.parseEventLog(log));
      console.log(import.meta.resolve('veritee/measure'), typeof m.measureEif, m.crc32(new TextEncoder().encode('123456789')).toString(16), replay.steps.length);`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(out.trim()).toMatch(/dist\/node\/measure\.js function cbf43926 43$/);
  });

  it('`import "veritee"` in Node verifies the bundled document through the node bundle', () => {
    const script = `
      const { verify } = await import('veritee');
      const { parseNitroEvidence } = await import('veritee/nitro');
      const bytes = (await import('node:fs')).readFileSync('examples/nitro/marlin-aws-2024-12-13.cose');
      parseNitroEvidence(bytes);
      const result = await verify(bytes, { at: new Date('2024-12-13T07:37:58.960Z') });
      console.log(import.meta.resolve('veritee'), result.verdict);`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(out.trim()).toMatch(/dist\/node\/index\.js affirming$/);
  });

  it('the browser bundles import nothing from node:', () => {
    const offenders = files(join(root, 'dist', 'browser')).filter((file) =>
      /from\s*["']node:|import\(["']node:/.test(readFileSync(file, 'utf8')),
    );
    expect(offenders).toEqual([]);
  });
});
