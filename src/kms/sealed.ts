/**
 * Sealed state: application state encrypted with a key derived from the app secret, stored as
 * content-addressed blobs (the address is the SHA-256 of the blob), with rollback protection by a
 * version counter that the KMS nodes countersign.
 *
 * Blob format (all integers big-endian):
 *
 *   magic   8  "VTSEALED"
 *   format  1  = 1
 *   kidLen  1  1..128, then kid (UTF-8): "<appId>/sealed-state/<name>"
 *   epoch   4  the epoch whose key-check key signed the version
 *   version 8  the counter (1, 2, …)
 *   nonce  12  AES-GCM nonce (random)
 *   ct      …  AES-256-GCM ciphertext ‖ tag; additional data = every byte before it
 *
 * Writing version v+1 needs t node countersignatures (the write quorum); reading asks every node and
 * needs n−t+1 answers (the read quorum), so every read quorum meets the last write quorum: a host that
 * serves an older blob, or hides the newest, is detected (`KMS_SEALED_ROLLBACK`).
 */
import { toHex, utf8Decode, utf8Encode } from '../bytes.js';
import { ErrorCode, VeriteeError } from '../errors.js';
import type { AppKey } from './client.js';
import { b64u, parseJsonText } from './codec.js';
import { aeadOpen, aeadSeal, randomBytes, sha256Of, signFor } from './crypto.js';
import {
  type Countersigned,
  checkCountersigned,
  type NodeRef,
  parseCountersigned,
  SEALED_NAME,
  type SealedVersion,
  sealedVersionBytes,
} from './messages.js';

export const SEALED_MAGIC = utf8Encode('VTSEALED');
const NONCE_BYTES = 12;
const MAX_KID = 128;

export interface BlobStore {
  put(digest: string, bytes: Uint8Array): Promise<void>;
  /** The blob, or undefined when absent. */
  get(digest: string): Promise<Uint8Array | undefined>;
}

export class MemoryBlobStore implements BlobStore {
  readonly blobs = new Map<string, Uint8Array>();
  async put(digest: string, bytes: Uint8Array) {
    this.blobs.set(digest, bytes.slice());
  }
  async get(digest: string) {
    return this.blobs.get(digest)?.slice();
  }
}

export interface SealedHeader {
  readonly kid: string;
  readonly epoch: number;
  readonly version: number;
  readonly nonce: Uint8Array;
  readonly headerLength: number;
}

function sealedError(message: string, offset?: number): VeriteeError {
  return new VeriteeError(ErrorCode.KMS_SEALED_INVALID, message, { offset });
}

/** Parses a blob's header (total: any bytes → header or KMS_SEALED_INVALID). */
export function parseSealedHeader(blob: Uint8Array): SealedHeader {
  if (blob.length < SEALED_MAGIC.length + 2) throw sealedError('sealed blob truncated', blob.length);
  for (let i = 0; i < SEALED_MAGIC.length; i++)
    if (blob[i] !== SEALED_MAGIC[i]) throw sealedError('not a sealed blob', i);
  let offset = SEALED_MAGIC.length;
  if (blob[offset] !== 1) throw sealedError(`sealed blob format ${blob[offset]} unsupported`, offset);
  offset++;
  const kidLength = blob[offset]!;
  offset++;
  if (kidLength === 0 || kidLength > MAX_KID) throw sealedError('bad key id length', offset - 1);
  const fixed = kidLength + 4 + 8 + NONCE_BYTES + 16;
  if (blob.length < offset + fixed) throw sealedError('sealed blob truncated', blob.length);
  let kid: string;
  try {
    kid = utf8Decode(blob.subarray(offset, offset + kidLength), 'kid');
  } catch {
    throw sealedError('key id is not UTF-8', offset);
  }
  offset += kidLength;
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const epoch = view.getUint32(offset);
  offset += 4;
  const high = view.getUint32(offset);
  const low = view.getUint32(offset + 4);
  offset += 8;
  if (high > 0x1fffff) throw sealedError('version out of range', offset - 8);
  const version = high * 2 ** 32 + low;
  const nonce = blob.slice(offset, offset + NONCE_BYTES);
  offset += NONCE_BYTES;
  if (epoch === 0 || version === 0) throw sealedError('epoch and version start at 1');
  return { kid, epoch, version, nonce, headerLength: offset };
}

export function sealedKid(appId: string, name: string): string {
  return `${appId}/sealed-state/${name}`;
}

/** Encrypts `plaintext` as version `version` of `name`. */
export async function sealBlob(
  key: AppKey,
  name: string,
  version: number,
  plaintext: Uint8Array,
): Promise<Uint8Array> {
  const kid = utf8Encode(sealedKid(key.appId, name));
  const header = new Uint8Array(SEALED_MAGIC.length + 2 + kid.length + 4 + 8 + NONCE_BYTES);
  header.set(SEALED_MAGIC, 0);
  let offset = SEALED_MAGIC.length;
  header[offset++] = 1;
  header[offset++] = kid.length;
  header.set(kid, offset);
  offset += kid.length;
  const view = new DataView(header.buffer);
  view.setUint32(offset, key.epoch);
  view.setUint32(offset + 4, Math.floor(version / 2 ** 32));
  view.setUint32(offset + 8, version >>> 0);
  offset += 12;
  header.set(randomBytes(NONCE_BYTES), offset);
  const ciphertext = await aeadSeal(
    key.derive('sealed-state', [name]),
    header.subarray(offset, offset + NONCE_BYTES),
    header,
    plaintext,
  );
  const blob = new Uint8Array(header.length + ciphertext.length);
  blob.set(header, 0);
  blob.set(ciphertext, header.length);
  return blob;
}

export async function openBlob(
  key: AppKey,
  name: string,
  blob: Uint8Array,
): Promise<{ header: SealedHeader; plaintext: Uint8Array }> {
  const header = parseSealedHeader(blob);
  if (header.kid !== sealedKid(key.appId, name))
    throw sealedError('sealed blob belongs to another app or name');
  const plaintext = await aeadOpen(
    key.derive('sealed-state', [name]),
    header.nonce,
    blob.subarray(0, header.headerLength),
    blob.subarray(header.headerLength),
  );
  return { header, plaintext };
}

export interface SealedStateOptions {
  readonly key: AppKey;
  /** Nodes of the key's epoch: URL and identity (from the policy). */
  readonly nodes: readonly { readonly url: string; readonly ref: NodeRef }[];
  readonly blobs: BlobStore;
  readonly fetch?: typeof fetch;
}

/** Sealed state of one app, rollback-protected by the node set. */
export class SealedState {
  readonly #options: SealedStateOptions;
  readonly #fetch: typeof fetch;

  constructor(options: SealedStateOptions) {
    this.#options = options;
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  }

  get #threshold() {
    return this.#options.key.record.threshold;
  }

  async #request(url: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
    const response = await this.#fetch(`${url.replace(/\/$/, '')}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    return { status: response.status, json: parseJsonText(await response.text(), 'response') };
  }

  /** The highest countersigned version a read quorum reports (0 when none has one). */
  async latest(name: string): Promise<SealedVersion | undefined> {
    if (!SEALED_NAME.test(name)) throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, 'bad sealed-state name');
    const { key, nodes } = this.#options;
    const answers = await Promise.allSettled(
      nodes.map(async (node) => {
        const { status, json } = await this.#request(node.url, `/v1/apps/${key.appId}/sealed/${name}`);
        if (status === 404) return undefined;
        if (status !== 200) throw new Error(`status ${status}`);
        const countersigned: Countersigned = parseCountersigned(json);
        if (!checkCountersigned(countersigned, node.ref)) throw new Error('bad countersignature');
        if (countersigned.version.appId !== key.appId || countersigned.version.name !== name)
          throw new Error('mismatch');
        return countersigned.version;
      }),
    );
    const ok = answers.filter((answer) => answer.status === 'fulfilled');
    const quorum = nodes.length - this.#threshold + 1;
    if (ok.length < quorum) {
      throw new VeriteeError(
        ErrorCode.KMS_NOT_ENOUGH_SHARES,
        `sealed state: ${ok.length} nodes answered, ${quorum} needed`,
      );
    }
    let best: SealedVersion | undefined;
    for (const answer of ok) {
      const version = answer.value;
      if (version !== undefined && (best === undefined || version.version > best.version)) best = version;
    }
    return best;
  }

  /** Seals `plaintext` as the next version of `name`, stores the blob, and has t nodes countersign it. */
  async write(name: string, plaintext: Uint8Array): Promise<SealedVersion> {
    const { key, nodes, blobs } = this.#options;
    const current = await this.latest(name);
    const next = (current?.version ?? 0) + 1;
    const blob = await sealBlob(key, name, next, plaintext);
    const digest = toHex(sha256Of(blob));
    await blobs.put(digest, blob);
    const version: SealedVersion = { appId: key.appId, name, epoch: key.epoch, version: next, digest };
    const signature = b64u(signFor(key.keyCheckSeed(), 'sealed version', sealedVersionBytes(version)));
    const answers = await Promise.allSettled(
      nodes.map(async (node) => {
        const { status, json } = await this.#request(node.url, `/v1/apps/${key.appId}/sealed/${name}`, {
          version,
          signature,
        });
        if (status !== 200) throw new Error(`status ${status}`);
        if (!checkCountersigned(parseCountersigned(json), node.ref)) throw new Error('bad countersignature');
      }),
    );
    const signed = answers.filter((answer) => answer.status === 'fulfilled').length;
    if (signed < this.#threshold) {
      throw new VeriteeError(
        ErrorCode.KMS_SEALED_VERSION,
        `version ${next} countersigned by ${signed} nodes, ${this.#threshold} needed`,
      );
    }
    return version;
  }

  /** Reads the newest version of `name`; an older or altered blob is refused. */
  async read(name: string): Promise<{ version: SealedVersion; plaintext: Uint8Array } | undefined> {
    const latest = await this.latest(name);
    if (latest === undefined) return undefined;
    const blob = await this.#options.blobs.get(latest.digest);
    if (blob === undefined || toHex(sha256Of(blob)) !== latest.digest) {
      throw new VeriteeError(
        ErrorCode.KMS_SEALED_ROLLBACK,
        `the store does not serve version ${latest.version} of "${name}"`,
      );
    }
    const { header, plaintext } = await openBlob(this.#options.key, name, blob);
    if (header.version !== latest.version) {
      throw new VeriteeError(
        ErrorCode.KMS_SEALED_ROLLBACK,
        `blob claims version ${header.version}, nodes countersigned ${latest.version}`,
      );
    }
    return { version: latest, plaintext };
  }

  /**
   * Opens a blob the host offers as the current state: refused when it is not the newest version the
   * nodes countersigned (a rollback).
   */
  async openOffered(name: string, blob: Uint8Array): Promise<Uint8Array> {
    const latest = await this.latest(name);
    const digest = toHex(sha256Of(blob));
    if (latest === undefined || latest.digest !== digest) {
      throw new VeriteeError(
        ErrorCode.KMS_SEALED_ROLLBACK,
        `offered blob of "${name}" is not the newest countersigned version`,
      );
    }
    return (await openBlob(this.#options.key, name, blob)).plaintext;
  }
}
