/**
 * CRC-32 (IEEE 802.3; the "ISO-HDLC" CRC: reflected polynomial 0xEDB88320, initial value and final XOR
 * 0xFFFFFFFF). A checksum against accidental corruption, not a cryptographic primitive: the EIF format
 * stores one over the whole file (aws-nitro-enclaves-image-format, `crc32::IEEE`).
 *
 * Check value: CRC-32("123456789") = 0xCBF43926 (the standard's published check value).
 */

/**
 * Slicing-by-8 tables (Kounavis & Berry, "A Systematic Approach to Building High Performance
 * Software-based CRC Generators", 2005): TABLES[0] is the classic byte table; TABLES[k][n] advances
 * TABLES[k-1][n] by one more zero byte, so eight input bytes are folded per step.
 */
const TABLES: Uint32Array[] = (() => {
  const tables = Array.from({ length: 8 }, () => new Uint32Array(256));
  const first = tables[0]!;
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    first[n] = c >>> 0;
  }
  for (let k = 1; k < 8; k++) {
    const previous = tables[k - 1]!;
    const table = tables[k]!;
    for (let n = 0; n < 256; n++) table[n] = (previous[n]! >>> 8) ^ first[previous[n]! & 0xff]!;
  }
  return tables;
})();
const [T0, T1, T2, T3, T4, T5, T6, T7] = TABLES as [
  Uint32Array,
  Uint32Array,
  Uint32Array,
  Uint32Array,
  Uint32Array,
  Uint32Array,
  Uint32Array,
  Uint32Array,
];

/** Incremental CRC-32: feed the parts in order, then read `value`. */
export class Crc32 {
  private state = 0xffffffff;

  update(data: Uint8Array): this {
    let c = this.state;
    let i = 0;
    const end8 = data.length - (data.length % 8);
    for (; i < end8; i += 8) {
      c ^= data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
      c =
        T7[c & 0xff]! ^
        T6[(c >>> 8) & 0xff]! ^
        T5[(c >>> 16) & 0xff]! ^
        T4[c >>> 24]! ^
        T3[data[i + 4]!]! ^
        T2[data[i + 5]!]! ^
        T1[data[i + 6]!]! ^
        T0[data[i + 7]!]!;
    }
    for (; i < data.length; i++) c = T0[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
    this.state = c;
    return this;
  }

  get value(): number {
    return (this.state ^ 0xffffffff) >>> 0;
  }
}

export function crc32(data: Uint8Array): number {
  return new Crc32().update(data).value;
}
