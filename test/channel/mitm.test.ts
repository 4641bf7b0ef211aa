/**
 * A man in the middle (the host) that flips, drops, replays, reorders, injects and cuts frames: every
 * change is detected and reported as a typed error, and no altered data is ever delivered.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backend } from '#crypto';
import { utf8Decode } from '../../src/bytes.js';
import { acceptChannel, connectChannel } from '../../src/channel/channel.js';
import { VeriteeError } from '../../src/errors.js';
import { connectTcp, listenTcp } from '../../src/runtime/tcp.js';
import { type EchoServer, echoServer, SIM_POLICY, type SimSetup, simSetup } from '../helpers/channel.js';
import { type Action, flipped, mitmProxy, pass, type Tamper } from '../helpers/mitm.js';

let sim: SimSetup;
let echo: EchoServer;

beforeAll(async () => {
  sim = await simSetup();
  echo = await echoServer({ evidence: sim.provider });
});
afterAll(async () => echo.close());

const clientOptions = () => ({ simulatorRoots: [sim.anchor], policy: SIM_POLICY, handshakeTimeoutMs: 5000 });

/**
 * Runs a session through a proxy: handshake, then three echoed messages. Returns the messages the
 * client received before the first error, and that error.
 */
async function session(tamper: Tamper): Promise<{ received: string[]; error: VeriteeError | undefined }> {
  const proxy = await mitmProxy(echo.port, tamper);
  const received: string[] = [];
  try {
    const channel = await connectChannel(await connectTcp('127.0.0.1', proxy.port), clientOptions());
    for (const text of ['one', 'two', 'three']) channel.send(text);
    for (let i = 0; i < 3; i++) {
      const message = await channel.receive();
      if (message === undefined) break;
      received.push(utf8Decode(message));
    }
    channel.close();
    return { received, error: undefined };
  } catch (error) {
    expect(error).toBeInstanceOf(VeriteeError);
    return { received, error: error as VeriteeError };
  } finally {
    await proxy.close();
  }
}

/** Applies `change` to the frame at `target` in `direction` (index 0 is the first handshake frame). */
function at(
  direction: 'toServer' | 'toClient',
  target: number,
  change: (frame: Uint8Array) => Action[],
): Tamper {
  return (d, index, frame) => (d === direction && index === target ? change(frame) : [{ frame }]);
}

describe('man in the middle', () => {
  it('an honest proxy changes nothing', async () => {
    const { received, error } = await session(pass);
    expect(error).toBeUndefined();
    expect(received).toEqual(['one', 'two', 'three']);
  });

  it.each([
    ['message 1 (client ephemeral)', 'toServer', 0],
    ['message 2 (server key and evidence)', 'toClient', 0],
    ['message 3 (client static key)', 'toServer', 1],
  ] as const)('detects a flipped bit in handshake %s', async (_name, direction, index) => {
    for (const byte of [0, 20, 40]) {
      const { received, error } = await session(
        at(direction, index, (f) => [{ frame: flipped(f, byte % f.length) }]),
      );
      expect(received).toEqual([]);
      expect(error?.code).toMatch(/^CHANNEL_(DECRYPT_FAILED|TRUNCATED|PROTOCOL)$/);
    }
  });

  it('detects a flipped bit in an application record, in either direction', async () => {
    const toClient = await session(at('toClient', 2, (f) => [{ frame: flipped(f) }]));
    expect(toClient.received).toEqual(['one']);
    expect(toClient.error?.code).toBe('CHANNEL_DECRYPT_FAILED');
    // Tampering towards the server: the server refuses and drops the connection without CLOSE.
    const toServer = await session(at('toServer', 3, (f) => [{ frame: flipped(f) }]));
    expect(toServer.received).toEqual(['one']);
    expect(toServer.error?.code).toBe('CHANNEL_TRUNCATED');
  });

  it('detects a dropped record', async () => {
    const { received, error } = await session(at('toClient', 2, () => []));
    expect(received).toEqual(['one']);
    expect(error?.code).toBe('CHANNEL_DECRYPT_FAILED');
  });

  it('detects a replayed record', async () => {
    const { received, error } = await session(at('toClient', 1, (frame) => [{ frame }, { frame }]));
    expect(received).toEqual(['one']);
    expect(error?.code).toBe('CHANNEL_DECRYPT_FAILED');
  });

  it('detects reordered records', async () => {
    let held: Uint8Array | undefined;
    const swap: Tamper = (direction, index, frame) => {
      if (direction !== 'toClient') return [{ frame }];
      if (index === 1) {
        held = frame;
        return [];
      }
      if (index === 2) return [{ frame }, { frame: held! }];
      return [{ frame }];
    };
    const { received, error } = await session(swap);
    expect(received).toEqual([]);
    expect(error?.code).toBe('CHANNEL_DECRYPT_FAILED');
  });

  it('detects truncation: the connection ends without the CLOSE record', async () => {
    const { received, error } = await session(at('toClient', 2, () => ['cut']));
    expect(received).toEqual(['one']);
    expect(error?.code).toBe('CHANNEL_TRUNCATED');
  });

  it('detects a stream cut inside a frame', async () => {
    const { received, error } = await session(
      at('toClient', 2, (frame) => [
        { raw: Uint8Array.of(frame.length >> 8, frame.length & 0xff, ...frame.subarray(0, 5)) },
        'cut',
      ]),
    );
    expect(received).toEqual(['one']);
    expect(error?.code).toBe('CHANNEL_TRUNCATED');
  });

  it('detects injected frames and zero-length frames', async () => {
    const injected = await session(
      at('toClient', 1, (frame) => [{ frame: backend.randomBytes(40) }, { frame }]),
    );
    expect(injected.received).toEqual([]);
    expect(injected.error?.code).toBe('CHANNEL_DECRYPT_FAILED');
    const zero = await session(at('toClient', 1, (frame) => [{ raw: Uint8Array.of(0, 0) }, { frame }]));
    expect(zero.error?.code).toBe('CHANNEL_PROTOCOL');
  });

  it('cannot relay a genuine server evidence under its own key', async () => {
    // The host terminates the client's channel itself and fetches real evidence from the real enclave
    // for each handshake (as a client of it), then presents that evidence with its own key.
    let relayed = 0;
    const relay = await listenTcp(0, '127.0.0.1', async (link) => {
      try {
        await acceptChannel(link, {
          staticKeyPair: backend.x25519Generate(),
          evidence: {
            async getEvidence() {
              let captured: Uint8Array | undefined;
              const upstream = await connectChannel(await connectTcp('127.0.0.1', echo.port), {
                ...clientOptions(),
                verifier: async (evidence) => {
                  captured = evidence;
                  const { verify } = await import('../../src/verify.js');
                  return verify(evidence, { simulatorRoots: [sim.anchor], policy: SIM_POLICY });
                },
              });
              upstream.close();
              relayed++;
              return { evidence: captured!, platform: 'sim' };
            },
          },
        });
      } catch {
        // the victim aborts
      }
    });
    const port = (relay.address() as { port: number }).port;
    const error = await connectChannel(await connectTcp('127.0.0.1', port), clientOptions()).catch((e) => e);
    expect(relayed).toBe(1);
    expect(error).toBeInstanceOf(VeriteeError);
    expect((error as VeriteeError).code).toBe('CHANNEL_BINDING_MISMATCH');
    relay.close();
  });
});
