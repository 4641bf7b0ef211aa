// Pieces the channel benchmarks share (`bench/channel.mjs`, `bench/channel-instructions.mjs`).
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { createRequire } from 'node:module';
import { FrameQueue, joinParts } from '../dist/channel/link.js';

/**
 * An in-memory link pair. Frames travel as the pieces the sender sealed, as a stream link writes them
 * (one gather write, no join). With `hold`, each side's frames wait until `flushToSecond()` /
 * `flushToFirst()`, so the two ends of a handshake can run in separate, separately timed turns.
 */
export function memoryLinkPair({ hold = false } = {}) {
  const toFirst = new FrameQueue();
  const toSecond = new FrameQueue();
  const held = [[], []];
  const make = (inbox, outbox, heldOut) => {
    const deliver = hold ? (parts) => heldOut.push(parts) : (parts) => outbox.push(parts);
    return {
      send: (frame) => deliver([frame]),
      sendParts: deliver,
      receive: async () => {
        const parts = await inbox.receive();
        return parts === undefined ? undefined : joinParts(parts);
      },
      receiveParts: () => inbox.receive(),
      close: () => {
        outbox.end();
        inbox.end();
      },
    };
  };
  const flush = (queue, frames) => {
    for (const frame of frames.splice(0)) queue.push(frame);
  };
  const links = [make(toFirst, toSecond, held[0]), make(toSecond, toFirst, held[1])];
  links.flushToSecond = () => flush(toSecond, held[0]);
  links.flushToFirst = () => flush(toFirst, held[1]);
  return links;
}

/** Raw node:crypto ChaCha20-Poly1305 seal (and open) of `body`: one cipher object each, as node:crypto needs. */
export function rawSealOpen(key, nonce, body, open = true) {
  const cipher = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
  const sealed = cipher.update(body);
  cipher.final();
  const tag = cipher.getAuthTag();
  if (!open) return;
  const decipher = createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
  decipher.setAuthTag(tag);
  decipher.update(sealed);
  decipher.final();
}

/**
 * The same seal + open on the veritee-evp addon (undefined when the addon is not built), each output in a
 * fresh buffer as the channel's records get: the channel's own primitive, without the channel.
 */
export const rawEvpSealOpen = (() => {
  let evp;
  try {
    evp = createRequire(import.meta.url)('veritee-evp');
  } catch {
    return undefined;
  }
  const none = new Uint8Array(0);
  return (key, nonce, body) => {
    const sealed = Buffer.allocUnsafe(body.length + 16);
    evp.aeadSeal(evp.AEAD['chacha20-poly1305'], key, nonce, none, [body], sealed);
    const opened = Buffer.allocUnsafe(body.length);
    if (!evp.aeadOpen(evp.AEAD['chacha20-poly1305'], key, nonce, none, [sealed], opened)) {
      throw new Error('raw veritee-evp open failed');
    }
  };
})();
