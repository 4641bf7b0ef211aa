/**
 * The Noise Protocol Framework, revision 34 (noiseprotocol.org/noise.html), written from the
 * specification: CipherState (§5.1), SymmetricState (§5.2), HandshakeState (§5.3), the interactive
 * patterns NN, NK, XX, IX, IK, KK, XK (§7.4–7.5) and the `pskN` modifiers (§9), over DH 25519,
 * ChaChaPoly or AESGCM, and SHA256 or BLAKE2b.
 *
 * Primitives come from the crypto backend (`#crypto`: node:crypto or @noble/*); this module is only the
 * state machine. It is browser-safe. What it does not do: framing, message ordering between peers, or
 * anything about attestation — see `handshake.ts` and `transport.ts`.
 */
import { backend } from '#crypto';
import type { AeadName, ChannelHashName, X25519KeyPair, X25519Secret } from '../crypto/types.js';
import { ErrorCode, VeriteeError } from '../errors.js';

/** §3: every Noise message is at most 65535 bytes. */
export const NOISE_MAX_MESSAGE = 65535;
export const DH_LEN = 32;
export const KEY_LEN = 32;
export const TAG_LEN = 16;
/**
 * Nonces are counted in a JS number. The spec reserves 2^64−1; we stop far earlier, at 2^53−1, which no
 * connection reaches (2^53 records of one byte at 10 GB/s is ~28 years), and refuse to go on after it.
 */
const MAX_NONCE = Number.MAX_SAFE_INTEGER;

export type NoiseCipher = 'ChaChaPoly' | 'AESGCM';
export type NoiseHash = 'SHA256' | 'BLAKE2b';
export type Token = 'e' | 's' | 'ee' | 'es' | 'se' | 'ss' | 'psk';

interface BasePattern {
  /** Pre-message keys: `s` (or `e`) known to the other side before the handshake. */
  readonly initiatorPre: readonly ('s' | 'e')[];
  readonly responderPre: readonly ('s' | 'e')[];
  /** Message patterns, alternating initiator → responder → initiator. */
  readonly messages: readonly (readonly Token[])[];
}

/** §7.4 (one-way excluded) and §7.5: the interactive fundamental patterns veritee supports. */
const BASE_PATTERNS: Readonly<Record<string, BasePattern>> = {
  NN: { initiatorPre: [], responderPre: [], messages: [['e'], ['e', 'ee']] },
  NK: {
    initiatorPre: [],
    responderPre: ['s'],
    messages: [
      ['e', 'es'],
      ['e', 'ee'],
    ],
  },
  XX: { initiatorPre: [], responderPre: [], messages: [['e'], ['e', 'ee', 's', 'es'], ['s', 'se']] },
  IX: {
    initiatorPre: [],
    responderPre: [],
    messages: [
      ['e', 's'],
      ['e', 'ee', 'se', 's', 'es'],
    ],
  },
  IK: {
    initiatorPre: [],
    responderPre: ['s'],
    messages: [
      ['e', 'es', 's', 'ss'],
      ['e', 'ee', 'se'],
    ],
  },
  KK: {
    initiatorPre: ['s'],
    responderPre: ['s'],
    messages: [
      ['e', 'es', 'ss'],
      ['e', 'ee', 'se'],
    ],
  },
  XK: {
    initiatorPre: [],
    responderPre: ['s'],
    messages: [
      ['e', 'es'],
      ['e', 'ee'],
      ['s', 'se'],
    ],
  },
};

export interface HandshakePattern extends BasePattern {
  /** The pattern part of the protocol name, e.g. `XX` or `XXpsk3` or `NNpsk0+psk2`. */
  readonly name: string;
  /** True when the pattern has `psk` tokens (changes how `e` is processed, §9.2). */
  readonly psk: boolean;
}

export interface ProtocolName {
  readonly name: string;
  readonly pattern: HandshakePattern;
  readonly cipher: NoiseCipher;
  readonly hash: NoiseHash;
}

function protocolError(message: string, details?: string): VeriteeError {
  return new VeriteeError(ErrorCode.CHANNEL_PROTOCOL, message, { details });
}

/** Applies `pskN` modifiers (§9.2): psk0 at the start of the first message, pskN at the end of message N. */
function withPsks(base: BasePattern, modifiers: readonly number[]): (readonly Token[])[] {
  const messages = base.messages.map((message) => [...message]);
  for (const index of modifiers) {
    if (index === 0) messages[0]!.unshift('psk');
    else if (index <= messages.length) messages[index - 1]!.push('psk');
    else throw protocolError(`psk${index} is beyond the pattern's ${messages.length} messages`);
  }
  return messages;
}

/** Parses a handshake pattern name such as `XX`, `XXpsk3` or `XXpsk0+psk2`. */
export function parsePattern(name: string): HandshakePattern {
  const match = /^([A-Z]{2})((?:psk\d)(?:\+psk\d)*)?$/.exec(name);
  const base = match === null ? undefined : BASE_PATTERNS[match[1]!];
  if (match === null || base === undefined) throw protocolError(`unsupported Noise pattern "${name}"`);
  const modifiers = match[2] === undefined ? [] : match[2].split('+').map((part) => Number(part.slice(3)));
  if (new Set(modifiers).size !== modifiers.length) throw protocolError(`repeated psk modifier in "${name}"`);
  return {
    name,
    initiatorPre: base.initiatorPre,
    responderPre: base.responderPre,
    messages: withPsks(base, modifiers),
    psk: modifiers.length > 0,
  };
}

/** Parses `Noise_<pattern>_25519_<cipher>_<hash>`. */
export function parseProtocolName(name: string): ProtocolName {
  const parts = name.split('_');
  if (parts.length !== 5 || parts[0] !== 'Noise') throw protocolError(`not a Noise protocol name: "${name}"`);
  const [, patternName, dh, cipher, hash] = parts as [string, string, string, string, string];
  if (dh !== '25519') throw protocolError(`unsupported DH "${dh}" (only 25519)`);
  if (cipher !== 'ChaChaPoly' && cipher !== 'AESGCM') throw protocolError(`unsupported cipher "${cipher}"`);
  if (hash !== 'SHA256' && hash !== 'BLAKE2b') throw protocolError(`unsupported hash "${hash}"`);
  return { name, pattern: parsePattern(patternName), cipher, hash };
}

const AEAD_OF: Record<NoiseCipher, AeadName> = { ChaChaPoly: 'chacha20-poly1305', AESGCM: 'aes-256-gcm' };
const HASH_OF: Record<NoiseHash, ChannelHashName> = { SHA256: 'SHA-256', BLAKE2b: 'BLAKE2b' };
const HASH_LEN: Record<NoiseHash, number> = { SHA256: 32, BLAKE2b: 64 };
const EMPTY = new Uint8Array(0);

/**
 * §12.3/§12.4: 32 zero bits then the counter, little-endian (ChaChaPoly) or big-endian (AESGCM), written
 * over `nonce` (12 bytes, bytes 0–3 zero). Each CipherState reuses one such buffer: both backends consume
 * the nonce before returning.
 */
function encodeNonce(cipher: NoiseCipher, n: number, nonce: DataView): Uint8Array {
  const high = Math.floor(n / 0x1_0000_0000);
  const low = n >>> 0;
  if (cipher === 'ChaChaPoly') {
    nonce.setUint32(4, low, true);
    nonce.setUint32(8, high, true);
  } else {
    nonce.setUint32(4, high, false);
    nonce.setUint32(8, low, false);
  }
  return new Uint8Array(nonce.buffer, nonce.byteOffset, 12);
}

/** §5.1: a key (or none) and a nonce counter. */
function shortCiphertext(): VeriteeError {
  return new VeriteeError(ErrorCode.CHANNEL_DECRYPT_FAILED, 'ciphertext shorter than its tag');
}

export class CipherState {
  #key: Uint8Array | undefined;
  #n = 0;
  /** The nonce of the message being processed, rewritten for each (see encodeNonce). */
  readonly #nonce = new DataView(new ArrayBuffer(12));
  readonly cipher: NoiseCipher;

  constructor(cipher: NoiseCipher, key?: Uint8Array) {
    this.cipher = cipher;
    if (key !== undefined) this.initializeKey(key);
  }

  initializeKey(key: Uint8Array | undefined): void {
    if (key !== undefined && key.length !== KEY_LEN) throw protocolError('cipher key must be 32 bytes');
    this.#key = key?.slice();
    this.#n = 0;
  }

  hasKey(): boolean {
    return this.#key !== undefined;
  }

  /** The next nonce this state will use (for tests and rekey bookkeeping). */
  get nonce(): number {
    return this.#n;
  }

  #claimNonce(): number {
    if (this.#n >= MAX_NONCE) {
      throw new VeriteeError(ErrorCode.CHANNEL_NONCE_EXHAUSTED, 'nonce space exhausted; rekey or reconnect');
    }
    return this.#n;
  }

  /** Encrypts `plaintext` (or the concatenation of its parts); without a key, returns it unchanged. */
  encryptWithAd(ad: Uint8Array, plaintext: Uint8Array | readonly Uint8Array[]): Uint8Array {
    if (this.#key === undefined) return plaintext instanceof Uint8Array ? plaintext : concat(...plaintext);
    const n = this.#claimNonce();
    const nonce = encodeNonce(this.cipher, n, this.#nonce);
    const out = backend.aeadSeal(AEAD_OF[this.cipher], this.#key, nonce, ad, plaintext);
    this.#n = n + 1;
    return out;
  }

  /**
   * `encryptWithAd` for a transport record, returning pieces whose concatenation is the ciphertext
   * (a stream link writes them without joining them). Requires a key.
   */
  encryptWithAdParts(ad: Uint8Array, plaintext: readonly Uint8Array[]): Uint8Array[] {
    if (this.#key === undefined) throw protocolError('transport encryption without a key');
    const n = this.#claimNonce();
    const nonce = encodeNonce(this.cipher, n, this.#nonce);
    const out = backend.aeadSealParts(AEAD_OF[this.cipher], this.#key, nonce, ad, plaintext);
    this.#n = n + 1;
    return out;
  }

  /** Throws CHANNEL_DECRYPT_FAILED on authentication failure; the nonce is then not advanced. */
  decryptWithAd(ad: Uint8Array, ciphertext: Uint8Array): Uint8Array {
    if (this.#key === undefined) return ciphertext;
    const n = this.#claimNonce();
    if (ciphertext.length < TAG_LEN) throw shortCiphertext();
    const plaintext = backend.aeadOpen(AEAD_OF[this.cipher], this.#key, this.#nonceFor(n), ad, ciphertext);
    return this.#accept(n, plaintext);
  }

  /**
   * `decryptWithAd` for a transport record received as pieces (views of socket reads): returns the
   * plaintext as pieces, only once the tag has been verified. Requires a key.
   */
  decryptWithAdParts(ad: Uint8Array, ciphertext: readonly Uint8Array[]): Uint8Array[] {
    if (this.#key === undefined) throw protocolError('transport decryption without a key');
    const n = this.#claimNonce();
    let length = 0;
    for (const part of ciphertext) length += part.length;
    if (length < TAG_LEN) throw shortCiphertext();
    const key = this.#key;
    return this.#accept(
      n,
      backend.aeadOpenParts(AEAD_OF[this.cipher], key, this.#nonceFor(n), ad, ciphertext),
    );
  }

  #nonceFor(n: number): Uint8Array {
    return encodeNonce(this.cipher, n, this.#nonce);
  }

  #accept<T>(n: number, plaintext: T | undefined): T {
    if (plaintext === undefined) {
      throw new VeriteeError(
        ErrorCode.CHANNEL_DECRYPT_FAILED,
        'message failed authentication (tampered, replayed, reordered or from another session)',
        { details: `expected nonce ${n}` },
      );
    }
    this.#n = n + 1;
    return plaintext;
  }

  /** §4.2 REKEY(k): the first 32 bytes of ENCRYPT(k, 2^64−1, empty, 32 zero bytes). The nonce is kept. */
  rekey(): void {
    if (this.#key === undefined) throw protocolError('rekey without a key');
    const maxNonce = new Uint8Array(12);
    maxNonce.fill(0xff, 4);
    const next = backend
      .aeadSeal(AEAD_OF[this.cipher], this.#key, maxNonce, EMPTY, new Uint8Array(KEY_LEN))
      .slice(0, KEY_LEN);
    this.#key.fill(0);
    this.#key = next;
  }

  /** Best-effort erasure of the key. */
  destroy(): void {
    this.#key?.fill(0);
    this.#key = undefined;
  }
}

/** §5.2: chaining key, handshake hash, and the handshake's CipherState. */
export class SymmetricState {
  readonly hash: NoiseHash;
  readonly hashLen: number;
  readonly cipherState: CipherState;
  #ck: Uint8Array;
  #h: Uint8Array;

  constructor(protocol: ProtocolName) {
    this.hash = protocol.hash;
    this.hashLen = HASH_LEN[protocol.hash];
    const name = new TextEncoder().encode(protocol.name);
    if (name.length <= this.hashLen) {
      this.#h = new Uint8Array(this.hashLen);
      this.#h.set(name);
    } else {
      this.#h = this.#digest(name);
    }
    this.#ck = this.#h.slice();
    this.cipherState = new CipherState(protocol.cipher);
  }

  #digest(data: Uint8Array): Uint8Array {
    return backend.channelHash(HASH_OF[this.hash], data);
  }

  /** §4.3 HKDF with HMAC-HASH, returning `outputs` values of HASHLEN bytes. */
  #hkdf(ikm: Uint8Array, outputs: 2 | 3): Uint8Array[] {
    const hmac = (key: Uint8Array, data: Uint8Array) => backend.hmac(HASH_OF[this.hash], key, data);
    const tempKey = hmac(this.#ck, ikm);
    const out1 = hmac(tempKey, Uint8Array.of(1));
    const out2 = hmac(tempKey, concat(out1, Uint8Array.of(2)));
    if (outputs === 2) return [out1, out2];
    return [out1, out2, hmac(tempKey, concat(out2, Uint8Array.of(3)))];
  }

  mixKey(ikm: Uint8Array): void {
    const [ck, tempK] = this.#hkdf(ikm, 2) as [Uint8Array, Uint8Array];
    this.#ck = ck;
    this.cipherState.initializeKey(tempK.subarray(0, KEY_LEN));
  }

  mixHash(data: Uint8Array): void {
    this.#h = this.#digest(concat(this.#h, data));
  }

  mixKeyAndHash(ikm: Uint8Array): void {
    const [ck, tempH, tempK] = this.#hkdf(ikm, 3) as [Uint8Array, Uint8Array, Uint8Array];
    this.#ck = ck;
    this.mixHash(tempH);
    this.cipherState.initializeKey(tempK.subarray(0, KEY_LEN));
  }

  handshakeHash(): Uint8Array {
    return this.#h.slice();
  }

  encryptAndHash(plaintext: Uint8Array): Uint8Array {
    const ciphertext = this.cipherState.encryptWithAd(this.#h, plaintext);
    this.mixHash(ciphertext);
    return ciphertext;
  }

  decryptAndHash(ciphertext: Uint8Array): Uint8Array {
    const plaintext = this.cipherState.decryptWithAd(this.#h, ciphertext);
    this.mixHash(ciphertext);
    return plaintext;
  }

  /** §5.2 Split(): the initiator→responder and responder→initiator CipherStates. */
  split(): [CipherState, CipherState] {
    const [k1, k2] = this.#hkdf(EMPTY, 2) as [Uint8Array, Uint8Array];
    const c1 = new CipherState(this.cipherState.cipher, k1.subarray(0, KEY_LEN));
    const c2 = new CipherState(this.cipherState.cipher, k2.subarray(0, KEY_LEN));
    k1.fill(0);
    k2.fill(0);
    this.#ck.fill(0);
    this.cipherState.destroy();
    return [c1, c2];
  }
}

export interface HandshakeOptions {
  /** Full protocol name, e.g. `Noise_XX_25519_ChaChaPoly_BLAKE2b`. */
  readonly protocol: string;
  readonly initiator: boolean;
  readonly prologue?: Uint8Array;
  /**
   * This side's static key, when the pattern sends or pre-shares it: a raw pair, or a backend-held key
   * (e.g. a client's fresh key per connection).
   */
  readonly staticKeyPair?: X25519KeyPair | X25519Secret;
  /** The peer's static public key, when the pattern pre-shares it. */
  readonly remoteStaticKey?: Uint8Array;
  /** PSKs in the order the `psk` tokens consume them (32 bytes each). */
  readonly psks?: readonly Uint8Array[];
  /** A fixed ephemeral key pair. Only for test vectors: reusing an ephemeral breaks security. */
  readonly ephemeralKeyPair?: X25519KeyPair;
}

export interface HandshakeResult {
  /** This side's sending and receiving CipherStates. */
  readonly send: CipherState;
  readonly receive: CipherState;
  readonly handshakeHash: Uint8Array;
  /** The peer's static public key, when the pattern carried or pre-shared it. */
  readonly remoteStaticKey: Uint8Array | undefined;
}

/** §5.3: runs one side of a handshake, one message at a time. */
export class HandshakeState {
  readonly protocol: ProtocolName;
  readonly initiator: boolean;
  readonly #symmetric: SymmetricState;
  readonly #s: X25519Secret | undefined;
  #e: X25519Secret | undefined;
  readonly #fixedE: X25519KeyPair | undefined;
  #rs: Uint8Array | undefined;
  #re: Uint8Array | undefined;
  readonly #psks: Uint8Array[];
  #index = 0;
  #result: HandshakeResult | undefined;
  #failed = false;

  constructor(options: HandshakeOptions) {
    this.protocol = parseProtocolName(options.protocol);
    this.initiator = options.initiator;
    this.#symmetric = new SymmetricState(this.protocol);
    this.#s = options.staticKeyPair && localKey(options.staticKeyPair);
    this.#rs = options.remoteStaticKey?.slice();
    this.#fixedE = options.ephemeralKeyPair;
    this.#psks = (options.psks ?? []).map((psk) => psk.slice());
    this.#checkKeys();
    this.#symmetric.mixHash(options.prologue ?? EMPTY);
    this.#mixPreMessages();
  }

  #checkKeys(): void {
    const { pattern } = this.protocol;
    const mine = this.initiator ? pattern.initiatorPre : pattern.responderPre;
    const theirs = this.initiator ? pattern.responderPre : pattern.initiatorPre;
    const sendsStatic = pattern.messages.some(
      (tokens, i) => (i % 2 === 0) === this.initiator && tokens.includes('s'),
    );
    if ((mine.includes('s') || sendsStatic) && this.#s === undefined) {
      throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, `${pattern.name} needs this side's static key`);
    }
    if (theirs.includes('s') && this.#rs === undefined) {
      throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, `${pattern.name} needs the peer's static key`);
    }
    if (this.#rs !== undefined && this.#rs.length !== DH_LEN) {
      throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, 'remote static key must be 32 bytes');
    }
    const pskCount = pattern.messages.flat().filter((token) => token === 'psk').length;
    if (this.#psks.length !== pskCount || this.#psks.some((psk) => psk.length !== 32)) {
      throw new VeriteeError(
        ErrorCode.ARGUMENT_INVALID,
        `${pattern.name} needs ${pskCount} PSKs of 32 bytes`,
      );
    }
  }

  /** §7.1: initiator's pre-message keys, then the responder's, are hashed. */
  #mixPreMessages(): void {
    const { pattern } = this.protocol;
    for (const [owner, tokens] of [
      ['initiator', pattern.initiatorPre],
      ['responder', pattern.responderPre],
    ] as const) {
      const mine = (owner === 'initiator') === this.initiator;
      for (const token of tokens) {
        if (token !== 's') throw protocolError('pre-message ephemeral keys are not supported');
        this.#symmetric.mixHash(mine ? this.#s!.publicKey : this.#rs!);
      }
    }
  }

  /** True when it is this side's turn to write. */
  get isMyTurn(): boolean {
    return (this.#index % 2 === 0) === this.initiator;
  }

  get complete(): boolean {
    return this.#result !== undefined;
  }

  get result(): HandshakeResult | undefined {
    return this.#result;
  }

  /** The handshake hash so far (after the last message, it is the channel binding value, §11.2). */
  handshakeHash(): Uint8Array {
    return this.#result?.handshakeHash ?? this.#symmetric.handshakeHash();
  }

  /** The peer's static key, once received (or pre-shared). */
  get remoteStaticKey(): Uint8Array | undefined {
    return this.#rs?.slice();
  }

  #nextTokens(writing: boolean): readonly Token[] {
    if (this.#failed) throw protocolError('handshake already failed');
    if (this.#result !== undefined) throw protocolError('handshake already complete');
    if (this.isMyTurn !== writing) {
      throw protocolError(writing ? 'not our turn to write a handshake message' : 'not our turn to read');
    }
    return this.protocol.pattern.messages[this.#index]!;
  }

  #dh(token: 'ee' | 'es' | 'se' | 'ss'): Uint8Array {
    // For `es`: the initiator's e with the responder's s; `se`: the initiator's s with the responder's e.
    const localEphemeral = token === 'ee' || (token === 'es') === this.initiator;
    const remoteEphemeral = token === 'ee' || (token === 'se') === this.initiator;
    const local = localEphemeral ? this.#e : this.#s;
    const remote = remoteEphemeral ? this.#re : this.#rs;
    if (token === 'ss') return this.#x25519(this.#s, this.#rs);
    return this.#x25519(local, remote);
  }

  #x25519(local: X25519Secret | undefined, remote: Uint8Array | undefined): Uint8Array {
    if (local === undefined || remote === undefined) throw protocolError('DH with a missing key');
    try {
      return local.agree(remote);
    } catch (error) {
      throw new VeriteeError(ErrorCode.CHANNEL_HANDSHAKE_FAILED, 'X25519 with the peer key failed', {
        details: 'low-order or malformed public key',
        cause: error,
      });
    }
  }

  #mixEphemeral(publicKey: Uint8Array): void {
    this.#symmetric.mixHash(publicKey);
    if (this.protocol.pattern.psk) this.#symmetric.mixKey(publicKey);
  }

  #nextPsk(): Uint8Array {
    const psk = this.#psks.shift();
    if (psk === undefined) throw protocolError('no PSK left for a psk token');
    return psk;
  }

  /** WriteMessage: returns the message bytes for `payload`. */
  writeMessage(payload: Uint8Array = EMPTY): Uint8Array {
    const tokens = this.#nextTokens(true);
    try {
      const parts: Uint8Array[] = [];
      for (const token of tokens) {
        if (token === 'e') {
          // A generated ephemeral stays inside the backend; a fixed one (test vectors) is used as given.
          this.#e = this.#fixedE ? localKey(this.#fixedE) : backend.x25519GenerateSecret();
          parts.push(this.#e.publicKey);
          this.#mixEphemeral(this.#e.publicKey);
        } else if (token === 's') {
          parts.push(this.#symmetric.encryptAndHash(this.#s!.publicKey));
        } else if (token === 'psk') {
          this.#symmetric.mixKeyAndHash(this.#nextPsk());
        } else {
          this.#symmetric.mixKey(this.#dh(token));
        }
      }
      parts.push(this.#symmetric.encryptAndHash(payload));
      const message = concat(...parts);
      if (message.length > NOISE_MAX_MESSAGE) {
        throw new VeriteeError(ErrorCode.CHANNEL_MESSAGE_TOO_LARGE, 'handshake message over 65535 bytes', {
          details: `${message.length} bytes`,
        });
      }
      this.#advance();
      return message;
    } catch (error) {
      this.#fail();
      throw error;
    }
  }

  /** ReadMessage: consumes a peer message and returns its payload. Any failure ends the handshake. */
  readMessage(message: Uint8Array): Uint8Array {
    const tokens = this.#nextTokens(false);
    try {
      if (message.length > NOISE_MAX_MESSAGE) {
        throw new VeriteeError(ErrorCode.CHANNEL_MESSAGE_TOO_LARGE, 'handshake message over 65535 bytes');
      }
      let offset = 0;
      const take = (length: number, what: string): Uint8Array => {
        if (offset + length > message.length) {
          throw new VeriteeError(ErrorCode.CHANNEL_PROTOCOL, `handshake message too short for ${what}`, {
            offset,
            details: `needs ${length} bytes, ${message.length - offset} left`,
          });
        }
        const part = message.subarray(offset, offset + length);
        offset += length;
        return part;
      };
      for (const token of tokens) {
        if (token === 'e') {
          if (this.#re !== undefined) throw protocolError('peer sent a second ephemeral key');
          this.#re = take(DH_LEN, 'the ephemeral key').slice();
          this.#mixEphemeral(this.#re);
        } else if (token === 's') {
          if (this.#rs !== undefined) throw protocolError('peer sent a static key already known');
          const length = this.#symmetric.cipherState.hasKey() ? DH_LEN + TAG_LEN : DH_LEN;
          this.#rs = this.#symmetric.decryptAndHash(take(length, 'the static key')).slice();
        } else if (token === 'psk') {
          this.#symmetric.mixKeyAndHash(this.#nextPsk());
        } else {
          this.#symmetric.mixKey(this.#dh(token));
        }
      }
      const payload = this.#symmetric.decryptAndHash(message.subarray(offset)).slice();
      this.#advance();
      return payload;
    } catch (error) {
      this.#fail();
      throw error;
    }
  }

  #advance(): void {
    this.#index++;
    if (this.#index < this.protocol.pattern.messages.length) return;
    const handshakeHash = this.#symmetric.handshakeHash();
    const [c1, c2] = this.#symmetric.split();
    this.#result = {
      send: this.initiator ? c1 : c2,
      receive: this.initiator ? c2 : c1,
      handshakeHash,
      remoteStaticKey: this.#rs?.slice(),
    };
    this.#e?.erase();
    this.#e = undefined;
  }

  #fail(): void {
    this.#failed = true;
    this.#e?.erase();
    this.#e = undefined;
  }
}

/**
 * A local key as the handshake uses it (public key, DH). A raw pair (a caller's static key, a test vector's
 * fixed ephemeral) is used as given and never erased here: it belongs to the caller.
 */
function localKey(key: X25519KeyPair | X25519Secret): X25519Secret {
  if (!('privateKey' in key)) return key;
  const { privateKey, publicKey } = key;
  return { publicKey, agree: (peer) => backend.x25519(privateKey, peer), erase: () => {} };
}

function concat(...parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
