/**
 * RFC 9180 vectors (appendix A.1.1 base, A.1.3 auth: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256,
 * AES-128-GCM) through @hpke/core — the suite the KMS seals shares with — and veritee's `hpkeOpen`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Aes128Gcm, CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } from '@hpke/core';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../src/bytes.js';
import { ErrorCode } from '../../src/errors.js';
import { hpkeOpen } from '../../src/kms/crypto.js';

interface Vector {
  mode: number;
  aead_id: number;
  info: string;
  ikmR: string;
  ikmE: string;
  ikmS?: string;
  skRm: string;
  pkRm: string;
  pkEm: string;
  pkSm?: string;
  enc: string;
  encryptions: { aad: string; ct: string; nonce: string; pt: string }[];
  exports: { exporter_context: string; L: number; exported_value: string }[];
}

const vectors = JSON.parse(
  readFileSync(
    join(import.meta.dirname, '..', 'vectors', 'hpke', 'rfc9180-x25519-sha256-base-auth.json'),
    'utf8',
  ),
) as Vector[];
const suite = new CipherSuite({
  kem: new DhkemX25519HkdfSha256(),
  kdf: new HkdfSha256(),
  aead: new Aes128Gcm(),
});
const aesVectors = vectors.filter((v) => v.aead_id === 1);

describe('HPKE (RFC 9180) vectors through @hpke/core', () => {
  it('has the base and auth AES-128-GCM vectors', () => {
    expect(aesVectors.map((v) => v.mode).sort()).toEqual([0, 2]);
  });

  for (const vector of aesVectors) {
    it(`mode ${vector.mode}: DeriveKeyPair, encap with the vector's ephemeral key, all ${vector.encryptions.length} messages, exports`, async () => {
      const recipient = await suite.kem.deriveKeyPair(fromHex(vector.ikmR).buffer as ArrayBuffer);
      expect(toHex(new Uint8Array(await suite.kem.serializePublicKey(recipient.publicKey)))).toBe(
        vector.pkRm,
      );
      const ekm = await suite.kem.deriveKeyPair(fromHex(vector.ikmE).buffer as ArrayBuffer);
      const senderKey =
        vector.ikmS === undefined
          ? undefined
          : await suite.kem.deriveKeyPair(fromHex(vector.ikmS).buffer as ArrayBuffer);
      const sender = await suite.createSenderContext({
        recipientPublicKey: recipient.publicKey,
        info: fromHex(vector.info),
        ekm,
        ...(senderKey === undefined ? {} : { senderKey }),
      });
      expect(toHex(new Uint8Array(sender.enc))).toBe(vector.enc);
      const receiver = await suite.createRecipientContext({
        recipientKey: recipient,
        enc: fromHex(vector.enc),
        info: fromHex(vector.info),
        ...(senderKey === undefined ? {} : { senderPublicKey: senderKey.publicKey }),
      });
      for (const message of vector.encryptions) {
        const ct = new Uint8Array(await sender.seal(fromHex(message.pt), fromHex(message.aad)));
        expect(toHex(ct)).toBe(message.ct);
        expect(toHex(new Uint8Array(await receiver.open(fromHex(message.ct), fromHex(message.aad))))).toBe(
          message.pt,
        );
      }
      for (const item of vector.exports) {
        const value = await receiver.export(fromHex(item.exporter_context), item.L);
        expect(toHex(new Uint8Array(value))).toBe(item.exported_value);
      }
    });
  }

  it("veritee's hpkeOpen opens the base vector's first message, and refuses a flipped bit", async () => {
    const vector = aesVectors.find((v) => v.mode === 0)!;
    const pair = { publicKey: fromHex(vector.pkRm), privateKey: fromHex(vector.skRm) };
    const first = vector.encryptions[0]!;
    const sealed = { enc: fromHex(vector.enc), ct: fromHex(first.ct) };
    const plain = await hpkeOpen(
      pair,
      fromHex(vector.info),
      sealed,
      ErrorCode.KMS_SHARE_INVALID,
      'vector',
      fromHex(first.aad),
    );
    expect(toHex(plain)).toBe(first.pt);
    const flipped = fromHex(first.ct);
    flipped[0]! ^= 1;
    await expect(
      hpkeOpen(
        pair,
        fromHex(vector.info),
        { ...sealed, ct: flipped },
        ErrorCode.KMS_SHARE_INVALID,
        'vector',
        fromHex(first.aad),
      ),
    ).rejects.toMatchObject({ code: ErrorCode.KMS_SHARE_INVALID });
  });
});
