/**
 * Products and TCB_VERSION decoding.
 *
 * TCB_VERSION is 8 bytes whose layout depends on the product (ABI spec 56860 §2.2 Table 3):
 * - Milan and Genoa: byte 0 BOOT_LOADER, 1 TEE, 2–5 reserved, 6 SNP, 7 MICROCODE;
 * - Turin: byte 0 FMC, 1 BOOT_LOADER, 2 TEE, 3 SNP, 4–6 reserved, 7 MICROCODE.
 * The product is therefore an input to decoding, never guessed from the bytes.
 *
 * Does not check: whether a TCB is recent enough (that is policy: `appraise.ts`).
 */
import { toHex } from '../../bytes.js';
import { ErrorCode, VeriteeError } from '../../errors.js';
import type { Cpuid } from './report.js';

export type Product = 'Milan' | 'Genoa' | 'Turin';
export const PRODUCTS: readonly Product[] = ['Milan', 'Genoa', 'Turin'];

export interface TcbVersion {
  /** FMC security patch level (Turin and later only). */
  readonly fmc?: number | undefined;
  readonly bootloader: number;
  readonly tee: number;
  readonly snp: number;
  readonly microcode: number;
  /** The 8 bytes in report order, lowercase hex. */
  readonly raw: string;
}

export type TcbComponent = 'fmc' | 'bootloader' | 'tee' | 'snp' | 'microcode';
export const TCB_COMPONENTS: readonly TcbComponent[] = ['fmc', 'bootloader', 'tee', 'snp', 'microcode'];

/** Whether the product's TCB_VERSION carries an FMC component. */
export function hasFmc(product: Product): boolean {
  return product === 'Turin';
}

function reservedMustBeZero(raw: Uint8Array, from: number, to: number, path: string): void {
  for (let i = from; i < to; i++) {
    if (raw[i] !== 0) {
      throw new VeriteeError(ErrorCode.PARSE_INVALID_VALUE, 'reserved TCB_VERSION byte must be zero', {
        path,
        offset: i,
        details: `byte ${i} of ${toHex(raw)}`,
      });
    }
  }
}

/** Decodes 8 TCB_VERSION bytes with the layout of `product` (Table 3). */
export function decodeTcb(raw: Uint8Array, product: Product, path: string): TcbVersion {
  if (raw.length !== 8) {
    throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, 'TCB_VERSION must be 8 bytes', { path });
  }
  if (product === 'Turin') {
    reservedMustBeZero(raw, 4, 7, path);
    return {
      fmc: raw[0]!,
      bootloader: raw[1]!,
      tee: raw[2]!,
      snp: raw[3]!,
      microcode: raw[7]!,
      raw: toHex(raw),
    };
  }
  reservedMustBeZero(raw, 2, 6, path);
  return { bootloader: raw[0]!, tee: raw[1]!, snp: raw[6]!, microcode: raw[7]!, raw: toHex(raw) };
}

/**
 * The product named by the report's CPUID fields (report version 3+). Family 19h models 00h–0Fh are Milan,
 * 10h–1Fh and A0h–AFh (Genoa, Bergamo, Siena: endorsed under the Genoa ARK) are Genoa; family 1Ah models
 * 00h–1Fh are Turin. Anything else is refused rather than guessed.
 */
export function productFromCpuid(cpuid: Cpuid, path = 'report/cpuid'): Product {
  const { family, model } = cpuid;
  if (family === 0x19 && model <= 0x0f) return 'Milan';
  if (family === 0x19 && ((model >= 0x10 && model <= 0x1f) || (model >= 0xa0 && model <= 0xaf))) {
    return 'Genoa';
  }
  if (family === 0x1a && model <= 0x1f) return 'Turin';
  throw new VeriteeError(ErrorCode.UNSUPPORTED, 'unknown AMD product in the report CPUID fields', {
    path,
    offset: 0x188,
    details: `family 0x${family.toString(16)}, model 0x${model.toString(16)}`,
  });
}

/** The product named by a VCEK/VLEK productName extension (`Milan-B0`, `Genoa`, …). */
export function productFromName(name: string, path: string): Product {
  const base = name.split('-')[0] ?? '';
  const product = PRODUCTS.find((p) => p === base);
  if (product === undefined) {
    throw new VeriteeError(ErrorCode.UNSUPPORTED, `unknown AMD product name "${name.slice(0, 40)}"`, {
      path,
    });
  }
  return product;
}

/**
 * The components of `tcb` below the corresponding component of `minimum` (unset minimums are not checked).
 * A component the product does not have (FMC before Turin) is not checked either.
 */
export function tcbComponentsBelow(
  tcb: TcbVersion,
  minimum: Partial<Record<TcbComponent, number>>,
): TcbComponent[] {
  const below: TcbComponent[] = [];
  for (const component of TCB_COMPONENTS) {
    const wanted = minimum[component];
    const found = tcb[component];
    if (wanted === undefined || found === undefined) continue;
    if (found < wanted) below.push(component);
  }
  return below;
}
