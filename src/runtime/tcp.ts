/** Node TCP links for the channel: `u16 BE length ‖ frame` over a socket. */
import { connect, createServer, type Server, type Socket } from 'node:net';
import {
  FrameDecoder,
  type FrameLink,
  type FrameParts,
  FrameQueue,
  frameHeader,
  frameLength,
  joinParts,
} from '../channel/link.js';
import { ErrorCode, VeriteeError } from '../errors.js';

/** Frames up to this size are joined with their header and written at once (cheaper than a writev). */
const SMALL_FRAME = 4096;

/** Wraps a connected socket as a frame link. */
export function tcpLink(socket: Socket): FrameLink {
  socket.setNoDelay(true);
  let corked = false;
  const decoder = new FrameDecoder();
  // Frames are queued as views of the socket's reads (Node allocates a fresh buffer for each read).
  const queue = new FrameQueue<FrameParts>({
    onBacklog: (paused) => (paused ? socket.pause() : socket.resume()),
  });
  socket.on('data', (chunk: Buffer) => {
    try {
      for (const frame of decoder.push(chunk)) queue.push(frame);
    } catch (error) {
      queue.end(error as VeriteeError);
      socket.destroy();
    }
  });
  socket.on('end', () => {
    try {
      decoder.finish();
      queue.end();
    } catch (error) {
      queue.end(error as VeriteeError);
    }
  });
  socket.on('error', (error: NodeJS.ErrnoException) =>
    queue.end(new VeriteeError(ErrorCode.CHANNEL_TRUNCATED, 'connection failed', { details: error.code })),
  );
  socket.on('close', () => {
    // After an orderly end the queue is already ended: no error to build (every connection closes).
    if (!queue.ended) queue.end(new VeriteeError(ErrorCode.CHANNEL_TRUNCATED, 'connection closed'));
  });
  const sendParts = (parts: readonly Uint8Array[]): void => {
    if (socket.destroyed || socket.writableEnded) {
      throw new VeriteeError(ErrorCode.CHANNEL_CLOSED, 'connection is closed');
    }
    const header = frameHeader(parts);
    if (frameLength(parts) <= SMALL_FRAME) {
      socket.write(joinParts([header, ...parts]));
      return;
    }
    // Header and pieces in one corked batch (one writev): a large record is never joined in memory.
    if (!corked) {
      corked = true;
      socket.cork();
      process.nextTick(() => {
        corked = false;
        socket.uncork();
      });
    }
    socket.write(header);
    for (const part of parts) socket.write(part);
  };
  return {
    send: (frame) => sendParts([frame]),
    sendParts,
    receive: async () => {
      const parts = await queue.receive();
      return parts === undefined ? undefined : joinParts(parts);
    },
    receiveParts: () => queue.receive(),
    close() {
      if (!socket.destroyed) socket.end();
    },
  };
}

/** Opens a TCP connection and resolves with its link. */
export function connectTcp(host: string, port: number): Promise<FrameLink> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.removeAllListeners('error');
      resolve(tcpLink(socket));
    });
    socket.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new VeriteeError(ErrorCode.CHANNEL_HANDSHAKE_FAILED, `cannot connect to ${host}:${port}`, {
          details: error.code,
        }),
      ),
    );
  });
}

/** A TCP server calling `onLink` for each connection; resolves once listening. */
export function listenTcp(
  port: number,
  host: string,
  onLink: (link: FrameLink, socket: Socket) => void,
): Promise<Server> {
  const server = createServer((socket) => onLink(tcpLink(socket), socket));
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.removeListener('error', reject);
      resolve(server);
    });
  });
}
