/**
 * The optional veritee-evp addon (native/evp, node only): the channel's AEAD, hash, HMAC and X25519 calls
 * made directly on the OpenSSL inside Node, writing into buffers the caller passes. The node:crypto
 * backend uses it when it loads and falls back to node:crypto's own API otherwise; both compute the same
 * bytes (the same OpenSSL), so the choice changes speed, never results. `evpStatus()` tells which.
 */
import { createRequire } from 'node:module';
import type { AeadName, ChannelHashName } from './types.js';

/** A private X25519 key held in OpenSSL memory by the addon (an opaque handle). */
export type EvpX25519Key = { readonly __evpX25519Key: unique symbol };

/** An AEAD call's arguments: algorithm number, key, nonce, AD, the message's pieces, the output buffer. */
export type EvpAeadCall = [
  aead: number,
  key: Uint8Array,
  nonce: Uint8Array,
  ad: Uint8Array,
  parts: readonly Uint8Array[],
  out: Uint8Array,
];

/** The addon's functions (see native/evp/evp.c for the contract). */
export interface EvpAddon {
  readonly AEAD: Readonly<Record<AeadName, number>>;
  readonly MD: Readonly<Record<ChannelHashName, number>>;
  /** The most pieces `aeadSeal` / `aeadOpen` take for one message. */
  readonly MAX_PARTS: number;
  aeadSeal(...call: EvpAeadCall): void;
  aeadOpen(...call: EvpAeadCall): boolean;
  digest(md: number, data: Uint8Array, out: Uint8Array): void;
  hmac(md: number, key: Uint8Array, data: Uint8Array, out: Uint8Array): void;
  x25519Generate(publicOut: Uint8Array): EvpX25519Key;
  x25519Import(privateKey: Uint8Array, publicOut: Uint8Array): EvpX25519Key;
  x25519Agree(key: EvpX25519Key, peerPublicKey: Uint8Array, out: Uint8Array): boolean;
  x25519Erase(key: EvpX25519Key): void;
}

/** The addon's package name (native/evp, an optional dependency). */
export const EVP_ADDON = 'veritee-evp';
/** Set to `off` to run the node backend on node:crypto's own API (comparisons, debugging). */
export const EVP_SWITCH = 'VERITEE_EVP';

export interface EvpStatus {
  readonly loaded: boolean;
  /** Why it is not in use: switched off, or the load error's first line. */
  readonly reason?: string;
}

function load(): { addon?: EvpAddon; status: EvpStatus } {
  if (process.env[EVP_SWITCH] === 'off') {
    return { status: { loaded: false, reason: `${EVP_SWITCH}=off` } };
  }
  try {
    const addon = createRequire(import.meta.url)(EVP_ADDON) as EvpAddon;
    return { addon, status: { loaded: true } };
  } catch (error) {
    const firstLine = String((error as Error).message).split('\n')[0];
    return { status: { loaded: false, reason: `${EVP_ADDON} did not load: ${firstLine}` } };
  }
}

// Loaded on first use, not at import: loading it (dlopen, fetching the algorithms) takes 3.5–5 ms, which a
// process that only verifies evidence should not pay at start-up.
let loaded: ReturnType<typeof load> | undefined;

/** The addon (loaded on the first call), or undefined when it is absent or switched off. */
export function evpAddon(): EvpAddon | undefined {
  loaded ??= load();
  return loaded.addon;
}

/** Whether the node backend runs on the addon, and if not, why (loads it if not yet loaded). */
export function evpStatus(): EvpStatus {
  loaded ??= load();
  return loaded.status;
}
