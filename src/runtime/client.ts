/** Node client: WebSocket through the `ws` package (Node 20 has no global WebSocket), or raw TCP. */
import WebSocket from 'ws';
import type { AttestedChannel } from '../channel/channel.js';
import { connectChannel } from '../channel/channel.js';
import { connectEnclave as connectEnclaveCore, type EnclaveClientOptions } from '../channel/client.js';
import type { WebSocketLike } from '../channel/link.js';
import { ErrorCode, VeriteeError } from '../errors.js';
import { connectTcp } from './tcp.js';

/** Opens an attested channel to `url`: `http(s)://` or `ws(s)://` (WebSocket), or `tcp://host:port`. */
export async function connectEnclave(
  url: string,
  options: EnclaveClientOptions = {},
): Promise<AttestedChannel> {
  if (url.startsWith('tcp://')) {
    const match = /^tcp:\/\/(\[[^\]]+\]|[^:/]+):(\d{1,5})\/?$/.exec(url);
    const port = Number(match?.[2]);
    if (match === null || port < 1 || port > 65535) {
      throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, `bad tcp URL "${url}" (tcp://host:port)`);
    }
    return connectChannel(await connectTcp(match[1]!.replace(/^\[|\]$/g, ''), port), options);
  }
  return connectEnclaveCore(url, {
    ...options,
    WebSocket: options.WebSocket ?? (WebSocket as unknown as new (url: string) => WebSocketLike),
  });
}
