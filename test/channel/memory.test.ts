/**
 * The channel over an in-memory link, on whichever crypto backend the project selects (this file also
 * runs in the web-crypto project: @noble + WebCrypto, as in a browser).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { backend } from '#crypto';
import { utf8Decode } from '../../src/bytes.js';
import { acceptChannel, connectChannel } from '../../src/channel/channel.js';
import { type FrameLink, FrameQueue } from '../../src/channel/link.js';
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

describe(`channel in memory (${backend.name})`, () => {
  it('handshakes, verifies sim evidence and carries fragmented messages', async () => {
    const [clientLink, serverLink] = linkPair();
    const serverSide = acceptChannel(serverLink, {
      staticKeyPair: backend.x25519Generate(),
      evidence: sim.provider,
    });
    const client = await connectChannel(clientLink, { simulatorRoots: [sim.anchor], policy: SIM_POLICY });
    const server = await serverSide;
    expect(toHexString(client.handshakeHash)).toBe(toHexString(server.handshakeHash));
    const message = backend.randomBytes(150_000);
    client.send(message);
    expect(await server.receive()).toEqual(message);
    server.send('pong');
    expect(utf8Decode((await client.receive())!)).toBe('pong');
    client.close();
    expect(await server.receive()).toBeUndefined();
  });

  it('fails closed after a tampered record: later calls keep failing', async () => {
    let count = 0;
    const [clientLink, serverLink] = linkPair((toServer, frame) => {
      if (toServer && ++count === 3) frame[5]! ^= 0x80; // the first application record
      return frame;
    });
    const serverSide = acceptChannel(serverLink, {
      staticKeyPair: backend.x25519Generate(),
      evidence: sim.provider,
    });
    const client = await connectChannel(clientLink, { simulatorRoots: [sim.anchor], policy: SIM_POLICY });
    const server = await serverSide;
    client.send('one');
    client.send('two');
    await expect(server.receive()).rejects.toMatchObject({ code: 'CHANNEL_DECRYPT_FAILED' });
    await expect(server.receive()).rejects.toBeInstanceOf(VeriteeError);
    expect(() => server.send('x')).toThrow(VeriteeError);
  });
});

function toHexString(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
