/**
 * A minimal DER writer (ITU-T X.690 §8, definite lengths) for the few universal types the simulator's
 * Intel SGX PCK extension needs. Encoding only; everything it writes is read back by `pki/der.ts`.
 */
import { concatBytes } from '../../bytes.js';

const Tag = { INTEGER: 0x02, OCTET_STRING: 0x04, OID: 0x06, ENUMERATED: 0x0a, SEQUENCE: 0x30 } as const;

/** X.690 §8.1.3: short form below 128, else the long form with the fewest length octets. */
function length(n: number): Uint8Array {
  if (n < 0x80) return Uint8Array.of(n);
  const octets: number[] = [];
  for (let rest = n; rest > 0; rest = Math.floor(rest / 256)) octets.unshift(rest & 0xff);
  return Uint8Array.of(0x80 | octets.length, ...octets);
}

function tlv(tag: number, content: Uint8Array): Uint8Array {
  return concatBytes(Uint8Array.of(tag), length(content.length), content);
}

export function derSequence(...items: readonly Uint8Array[]): Uint8Array {
  return tlv(Tag.SEQUENCE, concatBytes(...items));
}

export function derOctetString(bytes: Uint8Array): Uint8Array {
  return tlv(Tag.OCTET_STRING, bytes);
}

/** X.690 §8.3: two's complement, minimal; `value` is a non-negative safe integer. */
function integerContent(value: number): Uint8Array {
  const octets: number[] = [];
  for (let rest = value; rest > 0; rest = Math.floor(rest / 256)) octets.unshift(rest & 0xff);
  if (octets.length === 0 || octets[0]! >= 0x80) octets.unshift(0);
  return Uint8Array.from(octets);
}

export function derInteger(value: number): Uint8Array {
  return tlv(Tag.INTEGER, integerContent(value));
}

export function derEnumerated(value: number): Uint8Array {
  return tlv(Tag.ENUMERATED, integerContent(value));
}

/** X.690 §8.19: first two arcs as 40·a + b, then base-128 arcs with continuation bits. */
export function derOid(dotted: string): Uint8Array {
  const arcs = dotted.split('.').map(Number);
  const out: number[] = [];
  const base128 = (arc: number): void => {
    const digits = [arc & 0x7f];
    for (let rest = Math.floor(arc / 128); rest > 0; rest = Math.floor(rest / 128))
      digits.unshift((rest & 0x7f) | 0x80);
    out.push(...digits);
  };
  base128(arcs[0]! * 40 + arcs[1]!);
  for (const arc of arcs.slice(2)) base128(arc);
  return tlv(Tag.OID, Uint8Array.from(out));
}
