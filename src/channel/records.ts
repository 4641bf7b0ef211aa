/**
 * The transport record layer, after the handshake. Each wire frame is one Noise transport message
 * (at most 65535 bytes) whose plaintext is `type(1) ‖ body`:
 *
 *   0x00 DATA_MORE   a fragment of an application message; more fragments follow
 *   0x01 DATA_LAST   the last (or only) fragment of an application message
 *   0x02 REKEY       the sender applied Noise Rekey() to its sending key right after this record
 *   0x03 CLOSE       orderly close: the sender will send nothing more
 *
 * The type is inside the AEAD, so a dropped CLOSE (truncation) or a forged one is detected. Nonces are
 * the implicit Noise counters: a replayed, reordered, dropped or changed record fails authentication.
 * Any failure is final: the layer refuses every later call (fail closed).
 */
import { ErrorCode, VeriteeError } from '../errors.js';
import type { FrameParts } from './link.js';
import { type CipherState, NOISE_MAX_MESSAGE, TAG_LEN } from './noise.js';

export const RECORD = { dataMore: 0, dataLast: 1, rekey: 2, close: 3 } as const;
/** Application bytes per record: the Noise maximum minus the tag and the type byte. */
export const MAX_RECORD_BODY = NOISE_MAX_MESSAGE - TAG_LEN - 1;
const EMPTY = new Uint8Array(0);
const TYPE_BYTES = [0, 1, 2, 3].map((type) => Uint8Array.of(type));

export interface RecordLayerOptions {
  /** Largest application message accepted (reassembled). Default 16 MiB. */
  readonly maxMessageSize?: number;
  /** Send a REKEY record and rekey after this many records sent. Default 2^20 (≈64 GiB of full records). */
  readonly rekeyInterval?: number;
}

export type { FrameParts };

export type ReceivedRecord =
  /** A whole application message, as the pieces it was decrypted into (their concatenation is it). */
  | { readonly kind: 'message'; readonly parts: readonly Uint8Array[] }
  | { readonly kind: 'partial' }
  | { readonly kind: 'rekey' }
  | { readonly kind: 'close' };

export const DEFAULT_MAX_MESSAGE_SIZE = 16 * 1024 * 1024;
export const DEFAULT_REKEY_INTERVAL = 1 << 20;

export class RecordLayer {
  readonly #send: CipherState;
  readonly #receive: CipherState;
  readonly maxMessageSize: number;
  readonly rekeyInterval: number;
  #sentSinceRekey = 0;
  #fragments: Uint8Array[] = [];
  #fragmentBytes = 0;
  #midMessage = false; // a DATA_MORE record came and its DATA_LAST has not
  #sendClosed = false;
  #receiveClosed = false;
  #failure: VeriteeError | undefined;

  constructor(send: CipherState, receive: CipherState, options: RecordLayerOptions = {}) {
    this.#send = send;
    this.#receive = receive;
    this.maxMessageSize = positiveInteger(
      options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE,
      'maxMessageSize',
    );
    this.rekeyInterval = positiveInteger(options.rekeyInterval ?? DEFAULT_REKEY_INTERVAL, 'rekeyInterval');
  }

  get failure(): VeriteeError | undefined {
    return this.#failure;
  }

  get sendClosed(): boolean {
    return this.#sendClosed;
  }

  get receiveClosed(): boolean {
    return this.#receiveClosed;
  }

  #fail(error: VeriteeError): never {
    this.#failure ??= error;
    this.#fragments = [];
    this.#send.destroy();
    this.#receive.destroy();
    throw error;
  }

  #checkUsable(): void {
    if (this.#failure !== undefined) {
      throw new VeriteeError(ErrorCode.CHANNEL_CLOSED, 'channel failed earlier', {
        details: this.#failure.code,
      });
    }
  }

  #seal(type: number, body: Uint8Array): FrameParts {
    const frame = this.#send.encryptWithAdParts(EMPTY, [TYPE_BYTES[type]!, body]);
    this.#sentSinceRekey++;
    return frame;
  }

  /** Frames for one application message (fragmented as needed), plus a REKEY record when due. */
  sealMessage(message: Uint8Array): FrameParts[] {
    this.#checkUsable();
    if (this.#sendClosed) throw new VeriteeError(ErrorCode.CHANNEL_CLOSED, 'channel closed for sending');
    if (message.length > this.maxMessageSize) {
      throw new VeriteeError(ErrorCode.CHANNEL_MESSAGE_TOO_LARGE, 'message larger than maxMessageSize', {
        details: `${message.length} bytes, at most ${this.maxMessageSize}`,
      });
    }
    const frames: FrameParts[] = [];
    let offset = 0;
    do {
      const end = Math.min(offset + MAX_RECORD_BODY, message.length);
      const type = end === message.length ? RECORD.dataLast : RECORD.dataMore;
      frames.push(this.#seal(type, message.subarray(offset, end)));
      offset = end;
      if (this.#sentSinceRekey >= this.rekeyInterval) frames.push(this.sealRekey());
    } while (offset < message.length);
    return frames;
  }

  /** A REKEY record; the sending key changes right after it. */
  sealRekey(): FrameParts {
    this.#checkUsable();
    const frame = this.#seal(RECORD.rekey, EMPTY);
    this.#send.rekey();
    this.#sentSinceRekey = 0;
    return frame;
  }

  /** The CLOSE record; nothing can be sent after it. */
  sealClose(): FrameParts {
    this.#checkUsable();
    if (this.#sendClosed) throw new VeriteeError(ErrorCode.CHANNEL_CLOSED, 'channel already closed');
    const frame = this.#seal(RECORD.close, EMPTY);
    this.#sendClosed = true;
    return frame;
  }

  /**
   * Decrypts one frame (whole, or as pieces such as views of socket reads). Throws a typed error (and
   * fails the layer) on anything wrong; no plaintext is kept or returned before the tag is verified.
   */
  open(frame: Uint8Array | FrameParts): ReceivedRecord {
    this.#checkUsable();
    if (this.#receiveClosed) {
      this.#fail(new VeriteeError(ErrorCode.CHANNEL_PROTOCOL, 'record received after the peer closed'));
    }
    let plaintext: Uint8Array[];
    try {
      plaintext = this.#receive.decryptWithAdParts(EMPTY, frame instanceof Uint8Array ? [frame] : frame);
    } catch (error) {
      this.#fail(
        error instanceof VeriteeError
          ? error
          : new VeriteeError(ErrorCode.CHANNEL_DECRYPT_FAILED, 'decryption failed'),
      );
    }
    // The type byte heads the first non-empty piece; the rest is the body.
    const first = plaintext.findIndex((piece) => piece.length > 0);
    if (first < 0) this.#fail(new VeriteeError(ErrorCode.CHANNEL_PROTOCOL, 'empty record'));
    const type = plaintext[first]![0]!;
    const body = [plaintext[first]!.subarray(1), ...plaintext.slice(first + 1)].filter(
      (piece) => piece.length > 0,
    );
    if (type === RECORD.dataMore || type === RECORD.dataLast) return this.#data(type, body);
    if (body.length !== 0)
      this.#fail(new VeriteeError(ErrorCode.CHANNEL_PROTOCOL, 'control record with a body'));
    if (type === RECORD.rekey) {
      this.#receive.rekey();
      return { kind: 'rekey' };
    }
    if (type === RECORD.close) {
      if (this.#midMessage) {
        this.#fail(new VeriteeError(ErrorCode.CHANNEL_TRUNCATED, 'peer closed in the middle of a message'));
      }
      this.#receiveClosed = true;
      return { kind: 'close' };
    }
    return this.#fail(new VeriteeError(ErrorCode.CHANNEL_PROTOCOL, `unknown record type ${type}`));
  }

  #data(type: number, body: readonly Uint8Array[]): ReceivedRecord {
    let bodyLength = 0;
    for (const piece of body) bodyLength += piece.length;
    if (this.#fragmentBytes + bodyLength > this.maxMessageSize) {
      this.#fail(
        new VeriteeError(ErrorCode.CHANNEL_MESSAGE_TOO_LARGE, 'peer message larger than maxMessageSize', {
          details: `limit ${this.maxMessageSize} bytes`,
        }),
      );
    }
    // Fragments are kept as the decrypted pieces; the caller joins them only if it needs one array.
    this.#fragments.push(...body);
    this.#fragmentBytes += bodyLength;
    this.#midMessage = type === RECORD.dataMore;
    if (this.#midMessage) return { kind: 'partial' };
    const parts = this.#fragments;
    this.#fragments = [];
    this.#fragmentBytes = 0;
    return { kind: 'message', parts };
  }

  /** Marks the layer failed (e.g. the link ended without CLOSE) and erases the keys. */
  abort(error: VeriteeError): void {
    try {
      this.#fail(error);
    } catch {
      // recorded
    }
  }
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, `${name} must be a positive integer`);
  }
  return value;
}
