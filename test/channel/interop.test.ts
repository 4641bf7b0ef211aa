/**
 * Interoperability with an independent Noise implementation from npm: `noise-handshake` (libsodium via
 * sodium-universal), Noise_XX_25519_ChaChaPoly_BLAKE2b. Both role assignments, transport messages both
 * ways, and the whole attested channel against a server whose Noise layer is noise-handshake's.
 */
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backend } from '#crypto';
import { toHex, utf8Decode, utf8Encode } from '../../src/bytes.js';
import { bindingReportData } from '../../src/channel/binding.js';
import { CHANNEL_PROLOGUE, CHANNEL_PROTOCOL, connectChannel } from '../../src/channel/channel.js';
import { decodeClientFinish, decodeClientHello, encodeServerHello } from '../../src/channel/messages.js';
import { type CipherState, HandshakeState } from '../../src/channel/noise.js';
import { RECORD } from '../../src/channel/records.js';
import { connectTcp, listenTcp } from '../../src/runtime/tcp.js';
import { SIM_POLICY, type SimSetup, simSetup } from '../helpers/channel.js';

interface TheirKeyPair {
  publicKey: Uint8Array;
  secretKey: Uint8Array;
}
interface TheirNoise {
  s: TheirKeyPair;
  rs: Uint8Array | null;
  complete: boolean;
  hash: Uint8Array | null;
  tx: Uint8Array | null;
  rx: Uint8Array | null;
  initialise(prologue: Uint8Array, remoteStatic?: Uint8Array): void;
  send(payload?: Uint8Array): Uint8Array;
  recv(message: Uint8Array): Uint8Array;
  getHandshakeHash(): Uint8Array;
}
interface TheirCipher {
  encrypt(plaintext: Uint8Array, ad?: Uint8Array): Uint8Array;
  decrypt(ciphertext: Uint8Array, ad?: Uint8Array): Uint8Array;
}

const require = createRequire(import.meta.url);
const Noise = require('noise-handshake') as new (pattern: string, initiator: boolean) => TheirNoise;
const Cipher = require('noise-handshake/cipher') as new (key: Uint8Array) => TheirCipher;

function ours(initiator: boolean) {
  return new HandshakeState({
    protocol: CHANNEL_PROTOCOL,
    initiator,
    prologue: CHANNEL_PROLOGUE,
    staticKeyPair: backend.x25519Generate(),
  });
}

function transportBothWays(send: CipherState, receive: CipherState, theirs: TheirNoise) {
  const theirSend = new Cipher(theirs.tx!);
  const theirReceive = new Cipher(theirs.rx!);
  for (let i = 0; i < 5; i++) {
    const text = utf8Encode(`ours→theirs ${i}`);
    expect(theirReceive.decrypt(send.encryptWithAd(new Uint8Array(0), text))).toEqual(Buffer.from(text));
    const back = utf8Encode(`theirs→ours ${i} ${'x'.repeat(i * 1000)}`);
    expect(receive.decryptWithAd(new Uint8Array(0), theirSend.encrypt(back))).toEqual(back);
  }
}

describe('noise-handshake (npm) interoperability', () => {
  it('our initiator with their responder', () => {
    const initiator = ours(true);
    const responder = new Noise('XX', false);
    responder.initialise(CHANNEL_PROLOGUE);
    expect(toHex(responder.recv(initiator.writeMessage(utf8Encode('hello'))))).toBe(
      toHex(utf8Encode('hello')),
    );
    expect(utf8Decode(initiator.readMessage(responder.send(utf8Encode('evidence goes here'))))).toBe(
      'evidence goes here',
    );
    expect(utf8Decode(responder.recv(initiator.writeMessage(utf8Encode('finish'))))).toBe('finish');
    expect(responder.complete).toBe(true);
    const result = initiator.result!;
    expect(toHex(result.handshakeHash)).toBe(toHex(responder.hash!));
    expect(toHex(result.remoteStaticKey!)).toBe(toHex(responder.s.publicKey));
    transportBothWays(result.send, result.receive, responder);
  });

  it('their initiator with our responder', () => {
    const initiator = new Noise('XX', true);
    initiator.initialise(CHANNEL_PROLOGUE);
    const responder = ours(false);
    responder.readMessage(initiator.send());
    initiator.recv(responder.writeMessage(utf8Encode('two')));
    expect(utf8Decode(responder.readMessage(initiator.send(utf8Encode('three'))))).toBe('three');
    const result = responder.result!;
    expect(toHex(result.handshakeHash)).toBe(toHex(initiator.hash!));
    expect(toHex(result.remoteStaticKey!)).toBe(toHex(initiator.s.publicKey));
    transportBothWays(result.send, result.receive, initiator);
  });

  it('refuses a peer on another prologue', () => {
    const initiator = ours(true);
    const responder = new Noise('XX', false);
    responder.initialise(utf8Encode('someone else'));
    responder.recv(initiator.writeMessage());
    expect(() => initiator.readMessage(responder.send())).toThrow(/authentication/);
  });
});

describe('the attested channel against a noise-handshake server', () => {
  let sim: SimSetup;
  let server: Awaited<ReturnType<typeof listenTcp>>;
  let port: number;

  beforeAll(async () => {
    sim = await simSetup();
    server = await listenTcp(0, '127.0.0.1', async (link) => {
      const noise = new Noise('XX', false);
      noise.initialise(CHANNEL_PROLOGUE);
      decodeClientHello(noise.recv((await link.receive())!));
      const reportData = bindingReportData('server', noise.s.publicKey, noise.getHandshakeHash());
      const { evidence } = await sim.provider.getEvidence(reportData);
      link.send(noise.send(encodeServerHello({ requireClientEvidence: false, evidence })));
      decodeClientFinish(noise.recv((await link.receive())!));
      const send = new Cipher(noise.tx!);
      const receive = new Cipher(noise.rx!);
      const record = new Uint8Array(receive.decrypt((await link.receive())!));
      expect(record[0]).toBe(RECORD.dataLast);
      const reply = Uint8Array.from([
        RECORD.dataLast,
        ...utf8Encode('upper: '),
        ...utf8Encode(utf8Decode(record.subarray(1)).toUpperCase()),
      ]);
      link.send(send.encrypt(reply));
      link.send(send.encrypt(Uint8Array.of(RECORD.close)));
      link.close();
    });
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => server.close());

  it('verifies its evidence and exchanges records with it', async () => {
    const channel = await connectChannel(await connectTcp('127.0.0.1', port), {
      simulatorRoots: [sim.anchor],
      policy: SIM_POLICY,
    });
    expect(channel.peerEvidence?.verdict).toBe('affirming');
    channel.send('interop');
    expect(utf8Decode((await channel.receive())!)).toBe('upper: INTEROP');
    expect(await channel.receive()).toBeUndefined();
    channel.close();
  });
});
