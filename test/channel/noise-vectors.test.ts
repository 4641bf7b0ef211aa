/**
 * Conformance of the Noise state machine (src/channel/noise.ts) with the published vectors of three
 * independent implementations: cacophony (Haskell), snow (Rust) and noise-c (C). Every handshake
 * message, every transport message and the final handshake hash must match byte for byte, on both
 * sides; then single-bit changes must be rejected.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { backend } from '#crypto';
import { fromHex, toHex } from '../../src/bytes.js';
import { type CipherState, HandshakeState } from '../../src/channel/noise.js';
import { VeriteeError } from '../../src/errors.js';
import { VECTORS } from '../helpers/vectors.js';

interface NoiseVector {
  readonly protocol_name?: string;
  readonly name?: string;
  readonly init_prologue: string;
  readonly resp_prologue: string;
  readonly init_static?: string;
  readonly resp_static?: string;
  readonly init_ephemeral: string;
  readonly resp_ephemeral: string;
  readonly init_remote_static?: string;
  readonly resp_remote_static?: string;
  readonly init_psks?: string[];
  readonly resp_psks?: string[];
  readonly handshake_hash?: string;
  readonly messages: { payload: string; ciphertext: string }[];
}

function load(file: string): NoiseVector[] {
  return JSON.parse(readFileSync(join(VECTORS, 'noise', file), 'utf8')).vectors;
}

function keyPair(privateHex: string | undefined) {
  if (privateHex === undefined) return undefined;
  const privateKey = fromHex(privateHex);
  return { privateKey, publicKey: backend.x25519PublicKey(privateKey) };
}

function side(vector: NoiseVector, initiator: boolean): HandshakeState {
  const p = initiator ? 'init' : 'resp';
  const remote = vector[`${p}_remote_static`];
  return new HandshakeState({
    protocol: vector.protocol_name ?? vector.name!,
    initiator,
    prologue: fromHex(vector[`${p}_prologue`]),
    staticKeyPair: keyPair(vector[`${p}_static`]),
    ephemeralKeyPair: keyPair(vector[`${p}_ephemeral`]),
    remoteStaticKey: remote === undefined ? undefined : fromHex(remote),
    psks: (vector[`${p}_psks`] ?? []).map((psk) => fromHex(psk)),
  });
}

/** Replays a vector: both sides write and read every message; returns how many messages matched. */
function replay(vector: NoiseVector): number {
  const initiator = side(vector, true);
  const responder = side(vector, false);
  let transport: { i: [CipherState, CipherState]; r: [CipherState, CipherState] } | undefined;
  vector.messages.forEach((message, index) => {
    const fromInitiator = index % 2 === 0;
    const payload = fromHex(message.payload);
    let wire: Uint8Array;
    let read: Uint8Array;
    if (transport === undefined) {
      const [writer, reader] = fromInitiator ? [initiator, responder] : [responder, initiator];
      wire = writer.writeMessage(payload);
      read = reader.readMessage(wire);
    } else {
      const [writer, reader] = fromInitiator ? [transport.i, transport.r] : [transport.r, transport.i];
      wire = writer[0].encryptWithAd(new Uint8Array(0), payload);
      read = reader[1].decryptWithAd(new Uint8Array(0), wire);
    }
    expect(toHex(wire), `message ${index}`).toBe(message.ciphertext);
    expect(toHex(read)).toBe(message.payload);
    if (transport === undefined && initiator.complete) {
      expect(responder.complete).toBe(true);
      const a = initiator.result!;
      const b = responder.result!;
      expect(toHex(a.handshakeHash)).toBe(toHex(b.handshakeHash));
      if (vector.handshake_hash !== undefined) expect(toHex(a.handshakeHash)).toBe(vector.handshake_hash);
      transport = { i: [a.send, a.receive], r: [b.send, b.receive] };
    }
  });
  expect(transport).toBeDefined();
  return vector.messages.length;
}

const FILES = ['cacophony.json', 'snow.json', 'noise-c-basic.json'] as const;

describe('Noise revision 34 published vectors', () => {
  for (const file of FILES) {
    const vectors = load(file);
    it(`${file}: all ${vectors.length} vectors replay byte for byte`, () => {
      let messages = 0;
      for (const vector of vectors) messages += replay(vector);
      expect(messages).toBeGreaterThan(vectors.length * 3);
    });
  }

  it('covers the channel suite Noise_XX_25519_ChaChaPoly_BLAKE2b in all three sources', () => {
    for (const file of FILES) {
      const names = load(file).map((vector) => vector.protocol_name ?? vector.name);
      expect(names).toContain('Noise_XX_25519_ChaChaPoly_BLAKE2b');
    }
  });

  it('rejects every single-bit change of each XX handshake message with a typed error', () => {
    const vector = load('cacophony.json').find(
      (v) => v.protocol_name === 'Noise_XX_25519_ChaChaPoly_BLAKE2b',
    )!;
    for (let messageIndex = 0; messageIndex < 3; messageIndex++) {
      const length = vector.messages[messageIndex]!.ciphertext.length / 2;
      // Every byte on node:crypto; every 7th on the slower pure-JS backend (same code path).
      const stride = backend.name.startsWith('node:crypto') ? 1 : 7;
      for (let byte = 0; byte < length; byte += stride) {
        const initiator = side(vector, true);
        const responder = side(vector, false);
        const parties = [initiator, responder];
        let caught: unknown;
        for (let i = 0; i <= messageIndex; i++) {
          const wire = parties[i % 2]!.writeMessage(fromHex(vector.messages[i]!.payload));
          if (i === messageIndex) wire[byte]! ^= 1 << (byte % 8);
          try {
            parties[(i + 1) % 2]!.readMessage(wire);
          } catch (error) {
            caught = error;
          }
        }
        // Message 1 is unauthenticated (e and a cleartext payload): a flipped ephemeral or payload
        // byte is only caught when message 2 fails, which the responder's next read shows.
        if (caught === undefined && messageIndex === 0) {
          const reply = responder.writeMessage(fromHex(vector.messages[1]!.payload));
          try {
            initiator.readMessage(reply);
          } catch (error) {
            caught = error;
          }
        }
        expect(caught, `message ${messageIndex} byte ${byte}`).toBeInstanceOf(VeriteeError);
      }
    }
  });

  it('refuses malformed use: wrong turn, short messages, missing keys, unknown names', () => {
    const vector = load('cacophony.json').find(
      (v) => v.protocol_name === 'Noise_XX_25519_ChaChaPoly_BLAKE2b',
    )!;
    const responder = side(vector, false);
    expect(() => responder.writeMessage()).toThrow(/not our turn/);
    expect(() => side(vector, false).readMessage(new Uint8Array(31))).toThrow(/too short/);
    for (const name of ['Noise_XX_448_ChaChaPoly_BLAKE2b', 'Noise_QQ_25519_ChaChaPoly_BLAKE2b', 'XX', '']) {
      expect(() => new HandshakeState({ protocol: name, initiator: true })).toThrow(VeriteeError);
    }
    expect(
      () => new HandshakeState({ protocol: 'Noise_XX_25519_ChaChaPoly_BLAKE2b', initiator: true }),
    ).toThrow(/static key/);
    // A low-order peer ephemeral (all zeros) makes X25519 output zero: refused, not used.
    const initiator = side(vector, true);
    const first = initiator.writeMessage();
    const r = side(vector, false);
    r.readMessage(first);
    const reply = r.writeMessage();
    reply.fill(0, 0, 32);
    expect(() => initiator.readMessage(reply)).toThrow(VeriteeError);
  });
});
