/** Loads the SEV-SNP vectors copied under test/vectors/sev-snp (see its README for attribution). */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { VeriteeError } from '../../src/errors.js';

export const VECTOR_DIR = fileURLToPath(new URL('../vectors/sev-snp/', import.meta.url));

export interface TcbExpectation {
  readonly bl: number;
  readonly tee: number;
  readonly snp: number;
  readonly ucode: number;
  readonly raw: string;
}

export interface SnpVector {
  readonly id: string;
  readonly dir: string;
  readonly report: Uint8Array;
  /** VCEK/VLEK file bytes (DER, or PEM possibly followed by the chain). */
  readonly vcek: Uint8Array;
  readonly vcekIsPem: boolean;
  /** ASK/ASVK + ARK PEM as shipped with the vector. */
  readonly chain: string;
  readonly at: Date;
  readonly expected: {
    readonly parsed: Record<string, unknown> & {
      readonly current_tcb: TcbExpectation;
      readonly reported_tcb: TcbExpectation;
      readonly committed_tcb: TcbExpectation;
      readonly launch_tcb: TcbExpectation;
      readonly vek_ext: Record<string, string | number>;
    };
    readonly validity_window: { readonly not_before_unix: number; readonly not_after_unix: number };
    readonly verification_time: { readonly unix: number };
    readonly expected: { readonly verdict: string };
  };
}

export function file(id: string, name: string): Uint8Array {
  return new Uint8Array(readFileSync(`${VECTOR_DIR}${id}/${name}`));
}

export function loadVector(id: string): SnpVector {
  const dir = `${VECTOR_DIR}${id}/`;
  const expected = JSON.parse(readFileSync(`${dir}expected.json`, 'utf8'));
  const vcekIsPem = !existsSync(`${dir}vcek.der`);
  return {
    id,
    dir,
    report: file(id, 'report.bin'),
    vcek: file(id, vcekIsPem ? 'vcek.pem' : 'vcek.der'),
    vcekIsPem,
    chain: readFileSync(`${dir}ask_ark.pem`, 'utf8'),
    at: new Date(expected.verification_time.unix * 1000),
    expected,
  };
}

export const VECTOR_IDS: readonly string[] = readdirSync(VECTOR_DIR, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort();

/** Runs `fn` and returns the VeriteeError it throws; fails the test if it throws anything else or nothing. */
export async function rejection(fn: () => unknown): Promise<VeriteeError> {
  try {
    await fn();
  } catch (error) {
    if (!(error instanceof VeriteeError)) {
      throw new Error(`expected a VeriteeError, got ${String(error)}`, { cause: error });
    }
    return error;
  }
  expect.fail('expected a rejection, but it resolved');
}

/** Synchronous form of {@link rejection}. */
export function syncRejection(fn: () => unknown): VeriteeError {
  try {
    fn();
  } catch (error) {
    if (!(error instanceof VeriteeError)) {
      throw new Error(`expected a VeriteeError, got ${String(error)}`, { cause: error });
    }
    return error;
  }
  expect.fail('expected a rejection, but it returned');
}
