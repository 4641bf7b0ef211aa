/** A minimal CBOR encoder for building test documents (preferred encoding, definite lengths). */
import { encodeHead } from '../../src/cbor.js';

export type Encodable = number | string | boolean | null | Uint8Array | Encodable[] | EncMap | Tag;
/** A map as a list of entries, so tests can write duplicate keys on purpose. */
export class EncMap {
  constructor(readonly entries: [Encodable, Encodable][]) {}
}
export class Tag {
  constructor(
    readonly tag: number,
    readonly value: Encodable,
  ) {}
}

function concat(parts: Uint8Array[]): Uint8Array {
  return Uint8Array.from(parts.flatMap((p) => [...p]));
}

export function encode(value: Encodable): Uint8Array {
  if (value === null) return Uint8Array.of(0xf6);
  if (value === true) return Uint8Array.of(0xf5);
  if (value === false) return Uint8Array.of(0xf4);
  if (typeof value === 'number') return value >= 0 ? encodeHead(0, value) : encodeHead(1, -1 - value);
  if (typeof value === 'string') {
    const bytes = new TextEncoder().encode(value);
    return concat([encodeHead(3, bytes.length), bytes]);
  }
  if (value instanceof Uint8Array) return concat([encodeHead(2, value.length), value]);
  if (value instanceof Tag) return concat([encodeHead(6, value.tag), encode(value.value)]);
  if (value instanceof EncMap) {
    return concat([
      encodeHead(5, value.entries.length),
      ...value.entries.flatMap(([k, v]) => [encode(k), encode(v)]),
    ]);
  }
  return concat([encodeHead(4, value.length), ...value.map(encode)]);
}
