/**
 * A man-in-the-middle TCP proxy for the channel's framing: it parses `u16 length ‖ frame` in both
 * directions and lets a test flip, drop, replay, reorder, inject or cut frames.
 */
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { encodeFrame, FrameDecoder, joinParts } from '../../src/channel/link.js';

export type Direction = 'toServer' | 'toClient';

/** What the proxy writes for one frame: frames (encoded for you), raw bytes, or `cut` to end. */
export type Action = { frame: Uint8Array } | { raw: Uint8Array } | 'cut';

export type Tamper = (direction: Direction, index: number, frame: Uint8Array) => Action[];

export interface Proxy {
  readonly port: number;
  close(): Promise<void>;
}

export const pass: Tamper = (_direction, _index, frame) => [{ frame }];

function pipe(from: Socket, to: Socket, direction: Direction, tamper: Tamper): void {
  const decoder = new FrameDecoder();
  let index = 0;
  from.on('data', (chunk: Buffer) => {
    for (const parts of decoder.push(chunk)) {
      const frame = joinParts(parts);
      for (const action of tamper(direction, index, frame)) {
        if (action === 'cut') {
          to.end();
          from.destroy();
          return;
        }
        if (!to.writable) return;
        to.write('frame' in action ? encodeFrame(action.frame) : action.raw);
      }
      index++;
    }
  });
  from.on('end', () => to.end());
  from.on('error', () => to.destroy());
}

export async function mitmProxy(upstreamPort: number, tamper: Tamper): Promise<Proxy> {
  const server: Server = createServer((client) => {
    const upstream = connect({ host: '127.0.0.1', port: upstreamPort });
    pipe(client, upstream, 'toServer', tamper);
    pipe(upstream, client, 'toClient', tamper);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export function flipped(frame: Uint8Array, byte = frame.length >> 1): Uint8Array {
  const copy = frame.slice();
  copy[byte]! ^= 0x01;
  return copy;
}
