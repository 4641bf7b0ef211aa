/** backend.x25519GenerateSecret: a backend-held X25519 key agrees with raw keys of either backend. */
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../src/bytes.js';
import { backend as node } from '../src/crypto/node.js';
import type { CryptoBackend } from '../src/crypto/types.js';
import { backend as web } from '../src/crypto/web.js';

// RFC 7748 §6.1: Bob's public key, and a low-order point (u = 0) whose shared secret is all zeros.
const BOB_PUBLIC = 'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f';
const LOW_ORDER = new Uint8Array(32);

describe('x25519GenerateSecret', () => {
  for (const [name, backend, other] of [
    ['node', node, web],
    ['web', web, node],
  ] as [string, CryptoBackend, CryptoBackend][]) {
    it(`${name}: its public key and DH match a raw key pair's, on both backends`, () => {
      const secret = backend.x25519GenerateSecret();
      const peer = other.x25519Generate();
      expect(secret.publicKey.length).toBe(32);
      const mine = secret.agree(peer.publicKey);
      expect(toHex(mine)).toBe(toHex(other.x25519(peer.privateKey, secret.publicKey)));
      expect(toHex(secret.agree(fromHex(BOB_PUBLIC)))).toHaveLength(64);
    });

    it(`${name}: fresh keys differ, a low-order peer key is refused, and an erased key cannot agree`, () => {
      const a = backend.x25519GenerateSecret();
      const b = backend.x25519GenerateSecret();
      expect(toHex(a.publicKey)).not.toBe(toHex(b.publicKey));
      expect(() => a.agree(LOW_ORDER)).toThrow();
      a.erase();
      expect(() => a.agree(b.publicKey)).toThrow(/erased/);
      expect(toHex(b.agree(fromHex(BOB_PUBLIC)))).toHaveLength(64); // erasing one key leaves others alone
    });
  }
});
