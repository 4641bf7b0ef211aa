/**
 * CRC-32 (IEEE 802.3; the "ISO-HDLC" CRC: reflected polynomial 0xEDB88320, initial value and final XOR
 * 0xFFFFFFFF). A checksum against accidental corruption, not a cryptographic primitive: the EIF format
 * stores one over the whole file (aws-nitro-enclaves-image-format, `crc32::IEEE`).
 *
 * Check value: CRC-32("123456789") = 0xCBF43926 (the standard's published check value).
 */

const TABLE: Uint32Array = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** Incremental CRC-32: feed the parts in order, then read `value`. */
export class Crc32 {
  private state = 0xffffffff;

  update(data: Uint8Array): this {
    let c = this.state;
    for (let i = 0; i < data.length; i++) c = TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
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
