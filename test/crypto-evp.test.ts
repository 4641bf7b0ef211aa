/**
 * The veritee-evp addon (native/evp): the node backend on it computes exactly what node:crypto's API and
 * the browser backend compute (hashes, HMACs, X25519, every AEAD with every piece layout), refuses what
 * they refuse, and the addon's own contract holds (typed misuse errors, wiped output on a failed open,
 * no OpenSSL errors left behind for node:crypto, one instance per worker thread).
 */
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join as joinPath } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../src/bytes.js';
import { createNodeBackend } from '../src/crypto/node.js';
import { EVP_ADDON, type EvpAddon, evpStatus } from '../src/crypto/node-evp.js';
import type { AeadName, CryptoBackend } from '../src/crypto/types.js';
import { backend as web } from '../src/crypto/web.js';

const REQUIRED = process.env.VERITEE_REQUIRE_EVP === '1';

function loadAddon(): EvpAddon | undefined {
  try {
    return createRequire(import.meta.url)(EVP_ADDON) as EvpAddon;
  } catch (error) {
    const why = `the ${EVP_ADDON} addon does not load (${(error as Error).message.split('\n')[0]})`;
    if (REQUIRED) throw new Error(`VERITEE_REQUIRE_EVP=1 but ${why}: run npm rebuild ${EVP_ADDON}`);
    console.warn(`skipping the addon tests: ${why}`);
    return undefined;
  }
}

const addon = loadAddon();
const AEADS: AeadName[] = ['chacha20-poly1305', 'aes-256-gcm', 'aes-128-gcm'];
const KEY_BYTES: Record<AeadName, number> = { 'chacha20-poly1305': 32, 'aes-256-gcm': 32, 'aes-128-gcm': 16 };

function bytes(length: number, seed: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i * 31 + seed * 17 + 5) & 0xff);
}

function join(parts: readonly Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

/** `message` cut at the given offsets (sorted, within bounds) into views. */
function cut(message: Uint8Array, offsets: readonly number[]): Uint8Array[] {
  const points = [0, ...offsets, message.length];
  return points.slice(1).map((end, i) => message.subarray(points[i], end));
}

describe.skipIf(addon === undefined)('veritee-evp', () => {
  const evp = createNodeBackend(addon);
  const nodeApi = createNodeBackend(undefined);
  const peers: [string, CryptoBackend][] = [
    ['node:crypto API', nodeApi],
    ['web', web],
  ];

  it('is what the node backend runs on, unless switched off', () => {
    expect(evp.name).toBe('node:crypto+veritee-evp');
    expect(nodeApi.name).toBe('node:crypto');
    if (process.env.VERITEE_EVP !== 'off') expect(evpStatus()).toEqual({ loaded: true });
  });

  it('channel hashes and HMACs match node:crypto and @noble for every length around the block sizes', () => {
    for (const length of [0, 1, 55, 56, 63, 64, 65, 127, 128, 129, 1000]) {
      const data = bytes(length, length);
      for (const [, peer] of peers) {
        for (const name of ['SHA-256', 'BLAKE2b'] as const) {
          expect(toHex(evp.channelHash(name, data))).toBe(toHex(peer.channelHash(name, data)));
          for (const keyLength of [0, 32, 64, 200]) {
            const key = bytes(keyLength, 3);
            expect(toHex(evp.hmac(name, key, data))).toBe(toHex(peer.hmac(name, key, data)));
          }
        }
      }
    }
  });

  it('X25519: RFC 7748 §6.1, agreement with raw keys of the other backends, low-order keys refused', () => {
    // RFC 7748 §6.1: Alice's private key, her public key, Bob's public key and the shared secret.
    const alicePrivate = fromHex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a');
    const bobPublic = fromHex('de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f');
    expect(toHex(evp.x25519PublicKey(alicePrivate))).toBe(
      '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a',
    );
    expect(toHex(evp.x25519(alicePrivate, bobPublic))).toBe(
      '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742',
    );
    for (const [, peer] of peers) {
      const mine = evp.x25519Generate();
      const theirs = peer.x25519Generate();
      const secret = evp.x25519GenerateSecret();
      expect(toHex(evp.x25519(mine.privateKey, theirs.publicKey))).toBe(
        toHex(peer.x25519(theirs.privateKey, mine.publicKey)),
      );
      expect(toHex(secret.agree(theirs.publicKey))).toBe(
        toHex(peer.x25519(theirs.privateKey, secret.publicKey)),
      );
      expect(() => secret.agree(new Uint8Array(32))).toThrow(/all zeros/);
      expect(() => evp.x25519(mine.privateKey, new Uint8Array(32))).toThrow(/all zeros/);
      secret.erase();
      expect(() => secret.agree(theirs.publicKey)).toThrow(/erased/);
    }
  });

  it('AEAD: the same bytes as node:crypto and @noble for every AEAD and piece layout; tampering refused', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...AEADS),
        fc.uint8Array({ maxLength: 300 }),
        fc.uint8Array({ maxLength: 40 }),
        fc.array(fc.nat(), { maxLength: 5 }),
        fc.array(fc.nat(), { maxLength: 5 }),
        fc.nat(),
        (aead, plaintext, ad, sealCuts, openCuts, flip) => {
          const key = bytes(KEY_BYTES[aead], plaintext.length);
          const nonce = bytes(12, ad.length);
          const pieces = cut(
            plaintext,
            [...new Set(sealCuts.map((c) => c % (plaintext.length + 1)))].sort((a, b) => a - b),
          );
          const sealed = evp.aeadSeal(aead, key, nonce, ad, pieces);
          for (const [, peer] of peers)
            expect(toHex(sealed)).toBe(toHex(peer.aeadSeal(aead, key, nonce, ad, plaintext)));
          expect(toHex(join(evp.aeadSealParts(aead, key, nonce, ad, pieces)))).toBe(toHex(sealed));
          // Opened in pieces cut anywhere, including inside the tag.
          const received = cut(
            sealed,
            [...new Set(openCuts.map((c) => c % (sealed.length + 1)))].sort((a, b) => a - b),
          );
          expect(toHex(join(evp.aeadOpenParts(aead, key, nonce, ad, received)!))).toBe(toHex(plaintext));
          expect(toHex(evp.aeadOpen(aead, key, nonce, ad, sealed)!)).toBe(toHex(plaintext));
          const tampered = sealed.slice();
          const bit = flip % (tampered.length * 8);
          tampered[bit >> 3]! ^= 1 << (bit & 7);
          expect(evp.aeadOpen(aead, key, nonce, ad, tampered)).toBeUndefined();
          expect(
            evp.aeadOpenParts(aead, key, nonce, ad, cut(tampered, [tampered.length >> 1])),
          ).toBeUndefined();
          const otherAd = Uint8Array.of(...ad, 0);
          expect(evp.aeadOpen(aead, key, nonce, otherAd, sealed)).toBeUndefined();
          expect(evp.aeadOpen(aead, key, bytes(12, ad.length + 1), ad, sealed)).toBeUndefined();
        },
      ),
      { numRuns: 300 },
    );
  });

  it('AEAD: records up to the Noise maximum, cut around the 128-byte runs the addon feeds OpenSSL', () => {
    const cutsFor = (length: number) => [
      [],
      [1],
      [127],
      [128],
      [129],
      [1, 2, 130, 300],
      [length >> 1],
      [length - 1],
      [0, 0, length],
    ];
    for (const aead of AEADS) {
      for (const length of [127, 128, 129, 255, 256, 257, 4097, 65_408, 65_472, 65_519]) {
        const plaintext = bytes(length, length);
        const key = bytes(KEY_BYTES[aead], 7);
        const nonce = bytes(12, 8);
        const ad = bytes(length % 3, 9);
        const expected = toHex(nodeApi.aeadSeal(aead, key, nonce, ad, plaintext));
        for (const offsets of cutsFor(length)) {
          const sealed = evp.aeadSeal(
            aead,
            key,
            nonce,
            ad,
            cut(
              plaintext,
              offsets.filter((o) => o <= length),
            ),
          );
          expect(toHex(sealed)).toBe(expected);
          const received = cut(
            sealed,
            offsets.filter((o) => o <= sealed.length),
          );
          expect(toHex(join(evp.aeadOpenParts(aead, key, nonce, ad, received)!))).toBe(toHex(plaintext));
        }
      }
    }
  });

  it('AEAD: a message in more pieces than the addon takes is joined first; short ciphertext is refused', () => {
    const key = bytes(32, 1);
    const nonce = bytes(12, 2);
    const plaintext = bytes(3000, 3);
    const dribbled = Array.from(plaintext, (_, i) => plaintext.subarray(i, i + 1));
    const sealed = evp.aeadSeal('chacha20-poly1305', key, nonce, new Uint8Array(0), dribbled);
    expect(toHex(sealed)).toBe(
      toHex(nodeApi.aeadSeal('chacha20-poly1305', key, nonce, new Uint8Array(0), plaintext)),
    );
    const received = Array.from(sealed, (_, i) => sealed.subarray(i, i + 1));
    expect(
      toHex(join(evp.aeadOpenParts('chacha20-poly1305', key, nonce, new Uint8Array(0), received)!)),
    ).toBe(toHex(plaintext));
    expect(
      evp.aeadOpen('chacha20-poly1305', key, nonce, new Uint8Array(0), sealed.subarray(0, 15)),
    ).toBeUndefined();
    // The tag alone is a well-formed empty message, but not this one.
    expect(
      evp.aeadOpen('chacha20-poly1305', key, nonce, new Uint8Array(0), sealed.subarray(3000)),
    ).toBeUndefined();
  });
});

describe.skipIf(addon === undefined)('veritee-evp addon contract', () => {
  const evp = addon!;
  const key = bytes(32, 1);
  const nonce = bytes(12, 2);
  const empty = new Uint8Array(0);

  it('refuses misuse with typed errors, before touching any buffer', () => {
    const plaintext = bytes(100, 3);
    const out = new Uint8Array(116);
    const cases: [() => unknown, string, RegExp][] = [
      [
        () => evp.aeadSeal(evp.AEAD['chacha20-poly1305'], key.subarray(1), nonce, empty, [plaintext], out),
        'ERR_VERITEE_EVP_LENGTH',
        /key/,
      ],
      [
        () => evp.aeadSeal(evp.AEAD['aes-128-gcm'], key, nonce, empty, [plaintext], out),
        'ERR_VERITEE_EVP_LENGTH',
        /key/,
      ],
      [
        () => evp.aeadSeal(0, key, nonce.subarray(1), empty, [plaintext], out),
        'ERR_VERITEE_EVP_LENGTH',
        /nonce/,
      ],
      [() => evp.aeadSeal(7, key, nonce, empty, [plaintext], out), 'ERR_VERITEE_EVP_ALGORITHM', /algorithm/],
      [
        () => evp.aeadSeal(0.5, key, nonce, empty, [plaintext], out),
        'ERR_VERITEE_EVP_ALGORITHM',
        /algorithm/,
      ],
      [
        () => evp.aeadSeal(2 ** 32, key, nonce, empty, [plaintext], out),
        'ERR_VERITEE_EVP_ALGORITHM',
        /algorithm/,
      ],
      [
        () => evp.aeadSeal(0, key, nonce, empty, [plaintext], out.subarray(1)),
        'ERR_VERITEE_EVP_LENGTH',
        /out/,
      ],
      [
        () => evp.aeadSeal(0, key, nonce, empty, [plaintext], out.subarray(0, 100)),
        'ERR_VERITEE_EVP_LENGTH',
        /out/,
      ],
      [() => evp.aeadSeal(0, key, nonce, empty, 'abc' as never, out), 'ERR_VERITEE_EVP_ARGUMENTS', /parts/],
      [
        () => evp.aeadSeal(0, key, nonce, empty, [new Uint16Array(50)] as never, out),
        'ERR_VERITEE_EVP_ARGUMENTS',
        /parts/,
      ],
      [
        () =>
          evp.aeadSeal(0, key, nonce, empty, new Array(evp.MAX_PARTS + 1).fill(empty), new Uint8Array(16)),
        'ERR_VERITEE_EVP_LENGTH',
        /parts/,
      ],
      [
        () => evp.aeadOpen(0, key, nonce, empty, [bytes(15, 1)], empty),
        'ERR_VERITEE_EVP_LENGTH',
        /shorter than its tag/,
      ],
      [
        () => (evp.digest as (...a: unknown[]) => void)(0, plaintext),
        'ERR_VERITEE_EVP_ARGUMENTS',
        /number of arguments/,
      ],
      [() => evp.digest(0, plaintext, new Uint8Array(31)), 'ERR_VERITEE_EVP_LENGTH', /out/],
      [() => evp.hmac(9, key, plaintext, new Uint8Array(32)), 'ERR_VERITEE_EVP_ALGORITHM', /algorithm/],
      [() => evp.x25519Import(key.subarray(1), new Uint8Array(32)), 'ERR_VERITEE_EVP_LENGTH', /private key/],
      [
        () => evp.x25519Agree({} as never, key, new Uint8Array(32)),
        'ERR_VERITEE_EVP_ARGUMENTS',
        /X25519 key/,
      ],
    ];
    for (const [call, code, message] of cases) {
      let caught: unknown;
      try {
        call();
      } catch (error) {
        caught = error;
      }
      expect(caught, String(message)).toBeInstanceOf(Error);
      expect((caught as { code?: string }).code).toBe(code);
      expect((caught as Error).message).toMatch(message);
    }
    expect(out.every((b) => b === 0)).toBe(true);
  });

  it('refuses an output that overlaps an input (in-place use is not part of the contract)', () => {
    const buffer = new Uint8Array(300);
    const plaintext = buffer.subarray(0, 100);
    for (const out of [buffer.subarray(50, 166), buffer.subarray(99, 215)]) {
      expect(() => evp.aeadSeal(0, key, nonce, empty, [plaintext], out)).toThrow(
        expect.objectContaining({ code: 'ERR_VERITEE_EVP_OVERLAP' }),
      );
    }
    expect(() => evp.aeadSeal(0, key, nonce, empty, [plaintext], buffer.subarray(100, 216))).not.toThrow();
  });

  it('wipes the output of a failed open and leaves no OpenSSL error for node:crypto to trip on', async () => {
    const plaintext = bytes(64, 5);
    const sealed = new Uint8Array(80);
    evp.aeadSeal(0, key, nonce, empty, [plaintext], sealed);
    sealed[10]! ^= 0x40;
    const out = new Uint8Array(64).fill(0xaa);
    expect(evp.aeadOpen(0, key, nonce, empty, [sealed], out)).toBe(false);
    expect(out.every((b) => b === 0)).toBe(true);
    const shared = new Uint8Array(32).fill(0xaa);
    const mine = evp.x25519Generate(new Uint8Array(32));
    expect(evp.x25519Agree(mine, new Uint8Array(32), shared)).toBe(false);
    expect(shared.every((b) => b === 0)).toBe(true);
    // node:crypto reports the first error on OpenSSL's queue: a stale one from the addon would show here.
    const { createHash, createPrivateKey } = await import('node:crypto');
    expect(createHash('sha256').update('x').digest('hex')).toHaveLength(64);
    expect(() => createPrivateKey('not a key')).toThrow(
      expect.objectContaining({ code: 'ERR_OSSL_UNSUPPORTED' }),
    );
  });

  it('is loaded at the first channel call: importing veritee and verifying evidence never load it', () => {
    const root = joinPath(import.meta.dirname, '..');
    const url = (path: string) => JSON.stringify(pathToFileURL(joinPath(root, path)).href);
    const script = `
      const { readFileSync } = await import('node:fs');
      const loaded = () =>
        process.report.getReport().sharedObjects.some((file) => file.endsWith('veritee_evp.node'));
      const { verify } = await import(${url('dist/node/index.js')});
      const document = readFileSync(${JSON.stringify(joinPath(root, 'examples/nitro/marlin-aws-2024-12-13.cose'))});
      const result = await verify(document, { at: new Date('2024-12-13T08:00:00Z') });
      const afterVerify = loaded();
      const { CipherState } = await import(${url('dist/node/channel.js')});
      new CipherState('ChaChaPoly', new Uint8Array(32)).encryptWithAd(new Uint8Array(0), new Uint8Array(1));
      console.log(JSON.stringify({ platform: result.platform, afterVerify, afterChannel: loaded() }));`;
    const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...process.env, VERITEE_EVP: '' },
    });
    expect(JSON.parse(String(output))).toEqual({ platform: 'nitro', afterVerify: false, afterChannel: true });
  });

  it('loads in a worker thread with its own instance, computing the same bytes', async () => {
    const expected = new Uint8Array(32);
    evp.digest(evp.MD['SHA-256'], bytes(100, 9), expected);
    const source = `
      const { parentPort, workerData } = require('node:worker_threads');
      const evp = require(workerData.path);
      const out = new Uint8Array(32);
      evp.digest(evp.MD['SHA-256'], Uint8Array.from(workerData.data), out);
      parentPort.postMessage(Buffer.from(out).toString('hex'));`;
    const worker = new Worker(source, {
      eval: true,
      workerData: {
        path: createRequire(import.meta.url).resolve(EVP_ADDON),
        data: Array.from(bytes(100, 9)),
      },
    });
    const answer = await new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await worker.terminate();
    expect(answer).toBe(toHex(expected));
  });
});
