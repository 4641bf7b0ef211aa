/**
 * RFC 9180 vectors (appendix A.1.1 base, A.1.3 auth: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256,
 * AES-128-GCM) through @hpke/core's stock suite and through the KMS suite (the same protocol on the
 * `#crypto` backend's primitives: run under both backends), plus veritee's HPKE wrappers.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Aes128Gcm, CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } from '@hpke/core';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex, utf8Encode } from '../../src/bytes.js';
import { ErrorCode } from '../../src/errors.js';
import { HpkeRecipient, hpkeSeal } from '../../src/kms/crypto.js';
import { kmsHpkeSuite } from '../../src/kms/hpke.js';

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
const suites = {
  '@hpke/core (stock WebCrypto suite)': new CipherSuite({
    kem: new DhkemX25519HkdfSha256(),
    kdf: new HkdfSha256(),
    aead: new Aes128Gcm(),
  }),
  'the KMS suite (@hpke/core on the #crypto backend)': kmsHpkeSuite(),
};
const aesVectors = vectors.filter((v) => v.aead_id === 1);

describe('HPKE (RFC 9180) vectors', () => {
  it('has the base and auth AES-128-GCM vectors', () => {
    expect(aesVectors.map((v) => v.mode).sort()).toEqual([0, 2]);
  });

  for (const [name, suite] of Object.entries(suites))
    for (const vector of aesVectors) {
      it(`${name}, mode ${vector.mode}: DeriveKeyPair, encap with the vector's ephemeral key, all ${vector.encryptions.length} messages, exports`, async () => {
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

  it('the KMS suite and the stock suite open what the other seals', async () => {
    const info = utf8Encode('interop');
    for (const [sender, receiver] of [
      [suites['@hpke/core (stock WebCrypto suite)'], kmsHpkeSuite()],
      [kmsHpkeSuite(), suites['@hpke/core (stock WebCrypto suite)']],
    ] as const) {
      const pair = await receiver.kem.generateKeyPair();
      const raw = await receiver.kem.serializePublicKey(pair.publicKey);
      const recipientPublicKey = await sender.kem.deserializePublicKey(raw);
      const message = utf8Encode('a share of 33 bytes, more or less');
      const { enc, ct } = await sender.seal({ recipientPublicKey, info }, message);
      const opened = await receiver.open({ recipientKey: pair, enc, info }, ct);
      expect(toHex(new Uint8Array(opened))).toBe(toHex(message));
    }
  });
});

describe('HpkeRecipient and hpkeSeal', () => {
  const vector = aesVectors.find((v) => v.mode === 0)!;
  const pair = { publicKey: fromHex(vector.pkRm), privateKey: fromHex(vector.skRm) };
  const first = vector.encryptions[0]!;
  const sealed = { enc: fromHex(vector.enc), ct: fromHex(first.ct) };
  const open = (recipient: HpkeRecipient, ct = sealed.ct, info = fromHex(vector.info)) =>
    recipient.open(info, { ...sealed, ct }, ErrorCode.KMS_SHARE_INVALID, 'vector', fromHex(first.aad));

  it("opens the base vector's first message, and refuses a flipped bit or another info", async () => {
    const recipient = await HpkeRecipient.fromKeyPair(pair);
    expect(toHex(recipient.publicKey)).toBe(vector.pkRm);
    expect(toHex(await open(recipient))).toBe(first.pt);
    const flipped = fromHex(first.ct);
    flipped[0]! ^= 1;
    await expect(open(recipient, flipped)).rejects.toMatchObject({ code: ErrorCode.KMS_SHARE_INVALID });
    await expect(open(recipient, sealed.ct, utf8Encode('other'))).rejects.toMatchObject({
      code: ErrorCode.KMS_SHARE_INVALID,
    });
    // The recipient still opens the genuine message after refusals.
    expect(toHex(await open(recipient))).toBe(first.pt);
  });

  it('seals to a generated recipient, which opens it once and refuses after destroy()', async () => {
    const recipient = await HpkeRecipient.generate();
    const info = utf8Encode('share to-enclave');
    const message = utf8Encode('secret share');
    const box = await hpkeSeal(recipient.publicKey, info, message);
    expect(box.enc.length).toBe(32);
    expect(box.ct.length).toBe(message.length + 16);
    const opened = await recipient.open(info, box, ErrorCode.KMS_SHARE_INVALID, 'share');
    expect(toHex(opened)).toBe(toHex(message));
    recipient.destroy();
    await expect(recipient.open(info, box, ErrorCode.KMS_SHARE_INVALID, 'share')).rejects.toMatchObject({
      code: ErrorCode.KEY_INVALID,
    });
  });

  it('refuses to seal to a low-order public key (all-zero shared secret) or a key of the wrong size', async () => {
    // u = 0 and u = 1 are points of small order on Curve25519 (RFC 7748 §6.1: the DH output is zero).
    for (const bad of [new Uint8Array(32), Uint8Array.of(1, ...new Uint8Array(31)), new Uint8Array(31)]) {
      await expect(hpkeSeal(bad, utf8Encode('x'), utf8Encode('y'))).rejects.toMatchObject({
        code: ErrorCode.KEY_INVALID,
      });
    }
  });
});
