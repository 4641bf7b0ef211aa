/**
 * The channel over an in-memory link, on whichever crypto backend the project selects (this file also
 * runs in the web-crypto project: @noble + WebCrypto, as in a browser).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { backend } from '#crypto';
import { utf8Decode } from '../../src/bytes.js';
import { acceptChannel, connectChannel } from '../../src/channel/channel.js';
import { encodeFrame, FrameDecoder, type FrameLink, FrameQueue, joinParts } from '../../src/channel/link.js';
import { CipherState, NOISE_MAX_MESSAGE } from '../../src/channel/noise.js';
import { MAX_RECORD_BODY, RecordLayer } from '../../src/channel/records.js';
import { VeriteeError } from '../../src/errors.js';
import { SIM_POLICY, type SimSetup, simSetup } from '../helpers/channel.js';

/** Two connected links; `tap` sees (and may change) every frame from client to server or back. */
function linkPair(
  tap?: (toServer: boolean, frame: Uint8Array) => Uint8Array | undefined,
): [FrameLink, FrameLink] {
  const toServer = new FrameQueue();
  const toClient = new FrameQueue();
  const make = (inbox: FrameQueue, outbox: FrameQueue, serverSide: boolean): FrameLink => ({
    send(frame) {
      const changed = tap ? tap(!serverSide, frame.slice()) : frame.slice();
      if (changed !== undefined) outbox.push(changed);
    },
    receive: () => inbox.receive(),
    close() {
      outbox.end();
      inbox.end();
    },
  });
  return [make(toClient, toServer, false), make(toServer, toClient, true)];
}

let sim: SimSetup;
beforeAll(async () => {
  sim = await simSetup();
});

/** A client and server that completed the handshake over `links`, the server attesting with the simulator. */
async function openPair([clientLink, serverLink]: [FrameLink, FrameLink]) {
  const serverSide = acceptChannel(serverLink, {
    staticKeyPair: backend.x25519Generate(),
    evidence: sim.provider,
  });
  const client = await connectChannel(clientLink, { simulatorRoots: [sim.anchor], policy: SIM_POLICY });
  return { client, server: await serverSide };
}

describe(`channel in memory (${backend.name})`, () => {
  it('handshakes, verifies sim evidence and carries fragmented messages', async () => {
    const { client, server } = await openPair(linkPair());
    expect(toHexString(client.handshakeHash)).toBe(toHexString(server.handshakeHash));
    const message = backend.randomBytes(150_000);
    client.send(message);
    expect(await server.receive()).toEqual(message);
    server.send('pong');
    expect(utf8Decode((await client.receive())!)).toBe('pong');
    client.close();
    expect(await server.receive()).toBeUndefined();
  });

  it('receiveParts gives each message as its decrypted pieces, in order with receive()', async () => {
    const { client, server } = await openPair(linkPair());
    const large = backend.randomBytes(2 * MAX_RECORD_BODY + 5);
    client.send(large);
    client.send('small');
    client.send(new Uint8Array(0));
    client.send(large);
    const pieces = (await server.receiveParts())!;
    expect(pieces.map((piece) => piece.length)).toEqual([MAX_RECORD_BODY, MAX_RECORD_BODY, 5]);
    expect(toHexString(joinParts(pieces))).toBe(toHexString(large));
    expect(utf8Decode(joinParts((await server.receiveParts())!))).toBe('small');
    expect(joinParts((await server.receiveParts())!)).toEqual(new Uint8Array(0));
    expect(await server.receive()).toEqual(large); // receive() joins the same pieces
    client.close();
    expect(await server.receiveParts()).toBeUndefined();
    expect(await server.receive()).toBeUndefined();
  });

  it('fails closed after a tampered record: later calls keep failing', async () => {
    let count = 0;
    const { client, server } = await openPair(
      linkPair((toServer, frame) => {
        if (toServer && ++count === 3) frame[5]! ^= 0x80; // the first application record
        return frame;
      }),
    );
    client.send('one');
    client.send('two');
    await expect(server.receive()).rejects.toMatchObject({ code: 'CHANNEL_DECRYPT_FAILED' });
    await expect(server.receive()).rejects.toBeInstanceOf(VeriteeError);
    expect(() => server.send('x')).toThrow(VeriteeError);
  });
});

describe(`records sealed as pieces (${backend.name})`, () => {
  it('seals to the same bytes as one AEAD call, for every AEAD and piece layout', () => {
    const key = backend.randomBytes(32);
    const nonce = backend.randomBytes(12);
    const body = backend.randomBytes(70_000);
    for (const aead of ['chacha20-poly1305', 'aes-256-gcm'] as const) {
      for (const ad of [new Uint8Array(0), backend.randomBytes(64)]) {
        const pieces = [Uint8Array.of(1), new Uint8Array(0), body.subarray(0, 65_517), body.subarray(65_517)];
        const whole = backend.aeadSeal(aead, key, nonce, ad, joinParts(pieces));
        const sealed = joinParts(backend.aeadSealParts(aead, key, nonce, ad, pieces));
        expect(toHexString(sealed)).toBe(toHexString(whole));
        expect(toHexString(backend.aeadOpen(aead, key, nonce, ad, sealed)!)).toBe(
          toHexString(joinParts(pieces)),
        );
      }
    }
  });

  it('a 64 KiB message becomes two records whose pieces the peer opens in order, and no more', () => {
    const [send] = pairedStates();
    const [, receive] = pairedStates(send.key);
    const sender = new RecordLayer(send.state, new CipherState('ChaChaPoly', backend.randomBytes(32)));
    const receiver = new RecordLayer(new CipherState('ChaChaPoly', backend.randomBytes(32)), receive.state);
    const message = backend.randomBytes(64 * 1024);
    const frames = sender.sealMessage(message);
    expect(frames.map((frame) => joinParts(frame).length)).toEqual([
      NOISE_MAX_MESSAGE,
      64 * 1024 - MAX_RECORD_BODY + 17,
    ]);
    expect(receiver.open(joinParts(frames[0]!))).toEqual({ kind: 'partial' });
    const last = receiver.open(joinParts(frames[1]!));
    expect(last.kind === 'message' && toHexString(joinParts(last.parts))).toBe(toHexString(message));
    expect(() => receiver.open(joinParts(frames[1]!))).toThrow(VeriteeError); // replayed
  });

  it('opens records from a stream cut anywhere (frames as views of the reads, the tag across two)', () => {
    const message = backend.randomBytes(2 * MAX_RECORD_BODY + 300);
    for (const chunkSize of [1, 7, 16, 17, 1000, 65_536, 65_537, 200_000]) {
      const [send, receive] = pairedStates();
      const sender = new RecordLayer(send.state, new CipherState('ChaChaPoly', backend.randomBytes(32)));
      const receiver = new RecordLayer(new CipherState('ChaChaPoly', backend.randomBytes(32)), receive.state);
      const stream = joinParts(
        [...sender.sealMessage(message), sender.sealClose()].map((f) => encodeFrame(joinParts(f))),
      );
      const decoder = new FrameDecoder();
      const records = [];
      for (let offset = 0; offset < stream.length; offset += chunkSize) {
        const chunk = stream.subarray(offset, offset + chunkSize);
        for (const parts of decoder.push(chunk)) {
          for (const part of parts) expect(part.buffer).toBe(stream.buffer); // views, not copies
          records.push(receiver.open(parts));
        }
      }
      decoder.finish();
      expect(records.map((record) => record.kind)).toEqual(['partial', 'partial', 'message', 'close']);
      const got = records[2]!;
      expect(got.kind === 'message' && toHexString(joinParts(got.parts))).toBe(toHexString(message));
    }
  });

  it('refuses a record whose tag (split across pieces) or body piece is changed, and fails closed', () => {
    for (const flip of [3, 65_520, 65_530, 65_534]) {
      const [send, receive] = pairedStates();
      const sender = new RecordLayer(send.state, new CipherState('ChaChaPoly', backend.randomBytes(32)));
      const receiver = new RecordLayer(new CipherState('ChaChaPoly', backend.randomBytes(32)), receive.state);
      const frame = joinParts(sender.sealMessage(backend.randomBytes(MAX_RECORD_BODY))[0]!).slice();
      frame[flip]! ^= 1;
      const pieces = [frame.subarray(0, 65_525), frame.subarray(65_525)]; // the tag starts at 65,519
      expect(() => receiver.open(pieces)).toThrow(
        expect.objectContaining({ code: 'CHANNEL_DECRYPT_FAILED' }),
      );
      expect(() => receiver.open(pieces)).toThrow(expect.objectContaining({ code: 'CHANNEL_CLOSED' }));
    }
  });

  it('reports CLOSE after an empty DATA_MORE record as truncation', () => {
    const [send, receive] = pairedStates();
    const sender = new RecordLayer(send.state, new CipherState('ChaChaPoly', backend.randomBytes(32)));
    const receiver = new RecordLayer(new CipherState('ChaChaPoly', backend.randomBytes(32)), receive.state);
    const emptyMore = send.state.encryptWithAd(new Uint8Array(0), Uint8Array.of(0)); // DATA_MORE, no body
    expect(receiver.open(emptyMore)).toEqual({ kind: 'partial' });
    expect(() => receiver.open(sender.sealClose())).toThrow(
      expect.objectContaining({ code: 'CHANNEL_TRUNCATED' }),
    );
  });
});

/** Two CipherStates with the same key: one to seal with, one to open with. */
function pairedStates(
  key = backend.randomBytes(32),
): [{ state: CipherState; key: Uint8Array }, { state: CipherState }] {
  return [{ state: new CipherState('ChaChaPoly', key), key }, { state: new CipherState('ChaChaPoly', key) }];
}

function toHexString(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
