/**
 * Links carry whole frames (one Noise message each) between the two ends. Over a byte stream (TCP) a
 * frame is `length(u16 BE) ‖ bytes`; over WebSocket each binary message is one frame. This file is
 * browser-safe: the TCP link lives in `runtime/tcp.ts`.
 */
import { ErrorCode, VeriteeError } from '../errors.js';
import { NOISE_MAX_MESSAGE } from './noise.js';

/**
 * One frame as pieces whose concatenation is it (a 64 KiB record is written, and read from a stream,
 * without being joined in memory).
 */
export type FrameParts = readonly Uint8Array[];

export interface FrameLink {
  /** Sends one frame (1–65535 bytes). */
  send(frame: Uint8Array): void;
  /**
   * Optional: sends one frame given as pieces (their concatenation). Stream links implement it to write
   * the pieces of a large record without joining them; without it the channel joins them for `send`.
   */
  sendParts?(parts: readonly Uint8Array[]): void;
  /** The next frame; undefined when the peer ended the link; rejects with a typed error on link errors. */
  receive(): Promise<Uint8Array | undefined>;
  /**
   * Optional: `receive`, giving the frame as pieces. Stream links implement it to hand over a frame
   * that spans several reads without joining it; the channel then opens the record from the pieces.
   */
  receiveParts?(): Promise<FrameParts | undefined>;
  /** Ends the link (after queued frames are written). */
  close(): void;
}

/**
 * A queue of received frames with one waiting reader. `push` and `end` come from the transport's
 * callbacks; `receive` is the consumer side. `onBacklog` lets a transport pause reading when the
 * consumer falls behind.
 */
export class FrameQueue<Frame extends Uint8Array | FrameParts = Uint8Array> {
  readonly #frames: Frame[] = [];
  #queuedBytes = 0;
  #ended = false;
  #error: VeriteeError | undefined;
  #waiter: { resolve: (frame: Frame | undefined) => void; reject: (error: unknown) => void } | undefined;
  readonly #highWater: number;
  readonly #onBacklog: ((paused: boolean) => void) | undefined;
  #paused = false;

  constructor(options: { highWaterBytes?: number; onBacklog?: (paused: boolean) => void } = {}) {
    this.#highWater = options.highWaterBytes ?? 1 << 20;
    this.#onBacklog = options.onBacklog;
  }

  push(frame: Frame): void {
    if (this.#ended) return;
    if (this.#waiter !== undefined) {
      const waiter = this.#waiter;
      this.#waiter = undefined;
      waiter.resolve(frame);
      return;
    }
    this.#frames.push(frame);
    this.#queuedBytes += frameLength(frame);
    if (!this.#paused && this.#queuedBytes > this.#highWater) {
      this.#paused = true;
      this.#onBacklog?.(true);
    }
  }

  /** True once `end` has been called. */
  get ended(): boolean {
    return this.#ended;
  }

  /** No more frames: `error` when the link failed, undefined on an orderly end of stream. */
  end(error?: VeriteeError): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#error = error;
    if (this.#waiter !== undefined && this.#frames.length === 0) {
      const waiter = this.#waiter;
      this.#waiter = undefined;
      if (error === undefined) waiter.resolve(undefined);
      else waiter.reject(error);
    }
  }

  receive(): Promise<Frame | undefined> {
    const frame = this.#frames.shift();
    if (frame !== undefined) {
      this.#queuedBytes -= frameLength(frame);
      if (this.#paused && this.#queuedBytes <= this.#highWater / 2) {
        this.#paused = false;
        this.#onBacklog?.(false);
      }
      return Promise.resolve(frame);
    }
    if (this.#ended)
      return this.#error === undefined ? Promise.resolve(undefined) : Promise.reject(this.#error);
    if (this.#waiter !== undefined) {
      return Promise.reject(new VeriteeError(ErrorCode.ARGUMENT_INVALID, 'receive() called concurrently'));
    }
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
    });
  }
}

/**
 * Splits a byte stream into `u16 BE length ‖ frame` frames. Total: any byte sequence yields frames or
 * a typed error (a zero length); a stream that ends inside a frame is reported by `finish()`. Frames are
 * returned as pieces: views of the chunks pushed (never copied), so the chunks must not be reused.
 */
export class FrameDecoder {
  // Unconsumed input, kept as received. At most one frame (≤ 65,537 bytes) is buffered beyond the
  // frames already returned, since a frame is returned as soon as its last byte arrives.
  #chunks: Uint8Array[] = [];
  #buffered = 0;
  #need = -1; // length of the frame being collected, or -1 while its header is not read

  /** Adds bytes; returns the complete frames they finish. */
  push(chunk: Uint8Array): FrameParts[] {
    if (chunk.length > 0) {
      this.#chunks.push(chunk);
      this.#buffered += chunk.length;
    }
    const frames: FrameParts[] = [];
    for (;;) {
      if (this.#need < 0) {
        if (this.#buffered < 2) break;
        const header = joinParts(this.#take(2));
        const length = (header[0]! << 8) | header[1]!;
        if (length === 0) throw new VeriteeError(ErrorCode.CHANNEL_PROTOCOL, 'zero-length frame');
        this.#need = length;
      }
      if (this.#buffered < this.#need) break;
      frames.push(this.#take(this.#need));
      this.#need = -1;
    }
    return frames;
  }

  /** Removes and returns the next `length` buffered bytes, as views of the chunks that hold them. */
  #take(length: number): Uint8Array[] {
    this.#buffered -= length;
    const out: Uint8Array[] = [];
    let left = length;
    while (left > 0) {
      const chunk = this.#chunks[0]!;
      if (chunk.length <= left) {
        out.push(chunk);
        this.#chunks.shift();
        left -= chunk.length;
      } else {
        out.push(chunk.subarray(0, left));
        this.#chunks[0] = chunk.subarray(left);
        left = 0;
      }
    }
    return out;
  }

  /** Bytes of an unfinished frame (non-zero at end of stream means truncation). */
  get pending(): number {
    return this.#buffered + (this.#need >= 0 ? 2 : 0);
  }

  finish(): void {
    if (this.pending > 0) {
      throw new VeriteeError(ErrorCode.CHANNEL_TRUNCATED, 'stream ended inside a frame', {
        details: `${this.pending} bytes of an unfinished frame`,
      });
    }
  }
}

/** The 2-byte big-endian length header of a stream frame (whole, or given as pieces). */
export function frameHeader(frame: Uint8Array | readonly Uint8Array[]): Uint8Array {
  const length = frameLength(frame);
  if (length === 0 || length > NOISE_MAX_MESSAGE) {
    throw new VeriteeError(ErrorCode.CHANNEL_MESSAGE_TOO_LARGE, `frame of ${length} bytes`);
  }
  return Uint8Array.of(length >> 8, length & 0xff);
}

/** The length of a frame, whole or given as pieces. */
export function frameLength(frame: Uint8Array | FrameParts): number {
  return frame instanceof Uint8Array ? frame.length : partsLength(frame);
}

function partsLength(parts: FrameParts): number {
  let length = 0;
  for (const part of parts) length += part.length;
  return length;
}

/** The concatenation of a frame's pieces (the pieces themselves when there is one). */
export function joinParts(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(partsLength(parts));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** `u16 BE length ‖ frame`, for stream transports. */
export function encodeFrame(frame: Uint8Array): Uint8Array {
  const header = frameHeader(frame);
  const out = new Uint8Array(2 + frame.length);
  out.set(header);
  out.set(frame, 2);
  return out;
}

/** The part of the WebSocket API both browsers and the `ws` package implement. */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  addEventListener(type: 'close', listener: (event: { code?: number }) => void): void;
  addEventListener(type: 'error', listener: (event: unknown) => void): void;
  addEventListener(type: 'open', listener: () => void): void;
}

const WS_OPEN = 1;

/** A link over an open WebSocket: each binary message is one frame; text messages are refused. */
export function webSocketLink(socket: WebSocketLike): FrameLink {
  socket.binaryType = 'arraybuffer';
  const queue = new FrameQueue();
  socket.addEventListener('message', (event) => {
    const data = event.data;
    if (!(data instanceof ArrayBuffer)) {
      queue.end(new VeriteeError(ErrorCode.CHANNEL_PROTOCOL, 'WebSocket text message on a binary channel'));
      socket.close(1003, 'binary only');
      return;
    }
    if (data.byteLength === 0 || data.byteLength > NOISE_MAX_MESSAGE) {
      queue.end(new VeriteeError(ErrorCode.CHANNEL_PROTOCOL, `WebSocket frame of ${data.byteLength} bytes`));
      socket.close(1009, 'frame size');
      return;
    }
    queue.push(new Uint8Array(data));
  });
  socket.addEventListener('close', () => queue.end());
  socket.addEventListener('error', () =>
    queue.end(new VeriteeError(ErrorCode.CHANNEL_TRUNCATED, 'WebSocket failed')),
  );
  return {
    send(frame) {
      if (socket.readyState !== WS_OPEN)
        throw new VeriteeError(ErrorCode.CHANNEL_CLOSED, 'WebSocket is not open');
      socket.send(frame);
    },
    receive: () => queue.receive(),
    close: () => socket.close(1000),
  };
}

/** Opens a WebSocket (browser global, or the constructor given) and resolves once it is open. */
export function openWebSocket(
  url: string,
  WebSocketClass: new (url: string) => WebSocketLike = (
    globalThis as unknown as { WebSocket: new (url: string) => WebSocketLike }
  ).WebSocket,
): Promise<WebSocketLike> {
  if (WebSocketClass === undefined) {
    return Promise.reject(new VeriteeError(ErrorCode.UNSUPPORTED, 'no WebSocket implementation available'));
  }
  return new Promise((resolve, reject) => {
    const socket = new WebSocketClass(url);
    socket.binaryType = 'arraybuffer';
    socket.addEventListener('open', () => resolve(socket));
    socket.addEventListener('error', () =>
      reject(new VeriteeError(ErrorCode.CHANNEL_HANDSHAKE_FAILED, `cannot open WebSocket ${url}`)),
    );
  });
}
