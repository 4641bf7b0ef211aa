/**
 * Builds EIF files for tests from known parts, following the published layout
 * (aws/aws-nitro-enclaves-image-format src/defs/mod.rs): a 548-byte big-endian header, then each section
 * as a 12-byte header and its data; the CRC comes from node:zlib (independent of src/measure/crc32.ts).
 */
import { crc32 } from 'node:zlib';

export interface EifPart {
  readonly type: number;
  readonly data: Uint8Array;
  readonly flags?: number;
}

export interface EifBuildOptions {
  readonly version?: number;
  readonly flags?: number;
  readonly memory?: bigint;
  readonly cpus?: bigint;
}

export const SECTION = { kernel: 1, cmdline: 2, ramdisk: 3, signature: 4, metadata: 5 } as const;

export function buildEif(parts: readonly EifPart[], options: EifBuildOptions = {}): Uint8Array {
  const size = 548 + parts.reduce((sum, part) => sum + 12 + part.data.length, 0);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  out.set([0x2e, 0x65, 0x69, 0x66], 0);
  view.setUint16(4, options.version ?? 4);
  view.setUint16(6, options.flags ?? 0);
  view.setBigUint64(8, options.memory ?? 512n * 1024n * 1024n);
  view.setBigUint64(16, options.cpus ?? 2n);
  view.setUint16(26, parts.length);
  let offset = 548;
  parts.forEach((part, i) => {
    view.setBigUint64(28 + 8 * i, BigInt(offset));
    view.setBigUint64(284 + 8 * i, BigInt(part.data.length));
    view.setUint16(offset, part.type);
    view.setUint16(offset + 2, part.flags ?? 0);
    view.setBigUint64(offset + 4, BigInt(part.data.length));
    out.set(part.data, offset + 12);
    offset += 12 + part.data.length;
  });
  fixCrc(out);
  return out;
}

/** Recomputes the CRC field (bytes 544..547) after a test edits the file. */
export function fixCrc(eif: Uint8Array): Uint8Array {
  const covered = Buffer.concat([eif.subarray(0, 544), eif.subarray(548)]);
  new DataView(eif.buffer, eif.byteOffset).setUint32(544, crc32(covered));
  return eif;
}
