import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const VECTORS = join(import.meta.dirname, '..', 'vectors');

export interface NitroVector {
  readonly id: string;
  readonly dir: string;
  readonly bytes: Uint8Array;
  readonly expected: {
    readonly parsed: {
      readonly module_id: string;
      readonly timestamp_ms: number;
      readonly pcrs: Record<string, string>;
      readonly public_key: string | null;
      readonly user_data: string | null;
      readonly nonce: string | null;
    };
    readonly certificate_chain: readonly { subject: string; nb: string; na: string; sha256: string }[];
    readonly validity_window: { not_before_unix_ms: number; not_after_unix_ms: number };
    readonly verification_time: { unix_ms: number; unix: number };
    readonly independent_checks: { root_is_aws_nitro_g1: boolean; cose_signature_ok: boolean };
  };
}

export function nitroVectors(): NitroVector[] {
  const root = join(VECTORS, 'nitro');
  return readdirSync(root)
    .filter((name) => !name.includes('.'))
    .sort()
    .map((name) => {
      const dir = join(root, name);
      return {
        id: name,
        dir,
        bytes: new Uint8Array(readFileSync(join(dir, 'attestation_doc.cose'))),
        expected: JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')),
      };
    });
}

export function genuineNitroVectors(): NitroVector[] {
  return nitroVectors().filter((vector) => vector.expected.independent_checks.root_is_aws_nitro_g1);
}
