/**
 * Reading an HTTP body (a request on a server, a response in a client) with a size limit: the declared
 * Content-Length is checked first, then the bytes actually streamed, and the stream is cancelled as soon
 * as the limit is passed. Browser-safe (Web Streams).
 */
import type { VeriteeError } from './errors.js';

/** Reads `message`'s whole body, or throws `tooLarge()` once it exceeds `limit` bytes. */
export async function readBodyLimited(
  message: Request | Response,
  limit: number,
  tooLarge: (detail: string) => VeriteeError,
): Promise<Uint8Array> {
  const declared = message.headers.get('content-length');
  if (declared !== null && Number(declared) > limit)
    throw tooLarge(`${declared} bytes declared, limit ${limit}`);
  if (message.body === null) return new Uint8Array(0);
  const reader = message.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > limit) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge(`over ${limit} bytes`);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}
