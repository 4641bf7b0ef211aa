/** Loads the DCAP vectors copied under test/vectors/dcap (see its README.md). */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PCS_FILES } from '../../src/platforms/dcap/index.js';

export const VECTORS = fileURLToPath(new URL('../vectors/dcap/', import.meta.url));

export interface DcapVector {
  readonly id: string;
  readonly dir: string;
  readonly quote: Uint8Array;
  readonly collateralJson: Record<string, unknown>;
  readonly at: Date;
  readonly expected: {
    readonly verdict: string;
    readonly tcb_status?: string;
    readonly advisory_ids?: string[];
    readonly error?: string;
  };
  readonly measurements: Record<string, string>;
  readonly hasPcsFiles: boolean;
}

export function loadVector(id: string): DcapVector {
  const dir = join(VECTORS, id);
  const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8'));
  return {
    id,
    dir,
    quote: new Uint8Array(readFileSync(join(dir, 'quote.bin'))),
    collateralJson: JSON.parse(readFileSync(join(dir, 'collateral.json'), 'utf8')),
    at: new Date(expected.verification_time.iso),
    expected: expected.expected,
    measurements: expected.measurements ?? {},
    hasPcsFiles: readdirSync(dir).includes(PCS_FILES.tcbInfo),
  };
}

export function vectorIds(): string[] {
  const out: string[] = [];
  for (const platform of ['sgx', 'tdx']) {
    for (const name of readdirSync(join(VECTORS, platform)).sort()) out.push(`${platform}/${name}`);
  }
  return out;
}

/** The PCS wire-format files of a vector folder, as the CLI's folder loader would read them. */
export function pcsFiles(vector: DcapVector): Record<string, Uint8Array> {
  const out: Record<string, Uint8Array> = {};
  for (const name of Object.values(PCS_FILES))
    out[name] = new Uint8Array(readFileSync(join(vector.dir, name)));
  return out;
}

export const VALID = (v: DcapVector): boolean => v.expected.verdict === 'valid';
