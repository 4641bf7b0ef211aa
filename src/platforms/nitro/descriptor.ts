/** What the registry keeps loaded for AWS Nitro: the COSE_Sign1 sniff (the rest loads on first use). */
import type { PlatformDescriptor } from '../types.js';

/** COSE_Sign1 (RFC 9052 §4.2) starts with tag 18 (0xd2) or a 4-element array (0x84). Never throws. */
export function looksLikeCoseSign1(bytes: Uint8Array): boolean {
  return bytes.length > 1 && (bytes[0] === 0x84 || (bytes[0] === 0xd2 && bytes[1] === 0x84));
}

export const NITRO_DESCRIPTOR: PlatformDescriptor = {
  platforms: ['nitro'],
  detect: looksLikeCoseSign1,
};
