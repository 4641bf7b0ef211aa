/**
 * The enclave app server: `createEnclaveServer(handler)` serves, on one HTTP port,
 *
 *   GET  /evidence?nonce=<hex>   fresh evidence binding the channel key, the signing key and the nonce
 *   GET  /collateral             endorsements the evidence needs that it does not carry (the TDX
 *                                simulator's DCAP collateral), JSON; 404 when the provider has none
 *   POST /call                   the handler over plain HTTP; the response is signed (see below)
 *   GET  /channel  (WebSocket)   the attested Noise channel: each message is handed to the handler
 *
 * Every HTTP response carries `x-veritee-signature`: Ed25519 by a key bound in the evidence over the
 * request and response bodies (`channel/signed.ts`). Secrets never leave this process or reach logs.
 */
import { type KeyObject, sign } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { backend } from '#crypto';
import { fromHex, toBase64, toHex, utf8Encode } from '../bytes.js';
import {
  type AttestedChannel,
  acceptChannel,
  type ChannelOptions,
  type EvidenceVerification,
} from '../channel/channel.js';
import { type WebSocketLike, webSocketLink } from '../channel/link.js';
import {
  type EvidenceResponse,
  httpReportData,
  MAX_NONCE,
  MIN_NONCE,
  responseSigningInput,
  SIGNATURE_HEADER,
} from '../channel/signed.js';
import { generateWithPublicJwk } from '../crypto/node-keys.js';
import type { X25519KeyPair } from '../crypto/types.js';
import { VeriteeError } from '../errors.js';
import type { AttestationResult } from '../result.js';
import type { EvidenceProvider } from './providers/types.js';

export interface RequestContext {
  /** `channel` for a message on the attested channel, `http` for POST /call. */
  readonly transport: 'channel' | 'http';
  /** The client's verified evidence, on a mutually attested channel. */
  readonly peerEvidence?: AttestationResult | undefined;
}

/** The app: one request in, one response out. */
export type EnclaveHandler = (
  request: Uint8Array,
  context: RequestContext,
) => Uint8Array | string | Promise<Uint8Array | string>;

export interface EnclaveServerOptions extends ChannelOptions {
  readonly provider: EvidenceProvider;
  /** Largest POST /call body. Default 1 MiB. */
  readonly maxBodyBytes?: number;
  /** Require mutual attestation on the channel. */
  readonly clientVerification?: EvidenceVerification;
  /** Log lines (never secrets); default: none. */
  readonly log?: (line: string) => void;
}

export interface EnclaveServer {
  readonly server: Server;
  readonly channelKey: Uint8Array;
  readonly signingKey: Uint8Array;
  readonly provider: EvidenceProvider;
  listen(port: number, host?: string): Promise<number>;
  close(): Promise<void>;
}

function toBytes(value: Uint8Array | string): Uint8Array {
  return typeof value === 'string' ? utf8Encode(value) : value;
}

function readBody(req: IncomingMessage, limit: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new Error('body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(new Uint8Array(Buffer.concat(chunks))));
    req.on('error', reject);
  });
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export function createEnclaveServer(handler: EnclaveHandler, options: EnclaveServerOptions): EnclaveServer {
  const channelKeyPair: X25519KeyPair = backend.x25519Generate();
  const signing = generateWithPublicJwk('ed25519');
  const signingKey = new Uint8Array(Buffer.from(signing.publicJwk.x!, 'base64url'));
  const maxBody = options.maxBodyBytes ?? 1 << 20;
  const log = options.log ?? (() => {});

  const respond = (
    res: ServerResponse,
    status: number,
    type: string,
    requestBody: Uint8Array,
    body: Uint8Array,
  ) => {
    const signature = signResponse(signing.privateKey, requestBody, body);
    res.writeHead(status, {
      'content-type': type,
      'content-length': body.length,
      [SIGNATURE_HEADER]: signature,
    });
    res.end(body);
  };

  const routes = async (req: IncomingMessage, requestBody: Uint8Array): Promise<[string, Uint8Array]> => {
    const url = new URL(req.url ?? '/', 'http://enclave');
    if (req.method === 'GET' && url.pathname === '/evidence') {
      const nonce = parseNonce(url.searchParams.get('nonce'));
      const reportData = httpReportData(channelKeyPair.publicKey, signingKey, nonce);
      const { evidence, platform } = await options.provider.getEvidence(reportData);
      const body: EvidenceResponse = {
        evidence: toBase64(evidence),
        platform,
        channelKey: toHex(channelKeyPair.publicKey),
        signingKey: toHex(signingKey),
        nonce: toHex(nonce),
      };
      return ['application/json', utf8Encode(JSON.stringify(body))];
    }
    if (req.method === 'GET' && url.pathname === '/collateral') {
      const collateral = await options.provider.collateral?.();
      if (collateral === undefined) throw new HttpError(404, 'this evidence provider serves no collateral');
      return ['application/json', collateral];
    }
    if (req.method === 'POST' && url.pathname === '/call') {
      return ['application/octet-stream', toBytes(await handler(requestBody, { transport: 'http' }))];
    }
    throw new HttpError(404, 'not found');
  };

  const server = createServer(async (req, res) => {
    let requestBody: Uint8Array = new Uint8Array(0);
    try {
      requestBody = await readBody(req, maxBody);
      const [type, body] = await routes(req, requestBody);
      respond(res, 200, type, requestBody, body);
    } catch (error) {
      const status = error instanceof HttpError ? error.status : error instanceof VeriteeError ? 400 : 500;
      const message =
        error instanceof HttpError || error instanceof VeriteeError
          ? { error: error instanceof VeriteeError ? error.code : 'HTTP', message: error.message }
          : { error: 'INTERNAL', message: 'the application failed' };
      if (status === 500) log(`request failed: ${error instanceof Error ? error.name : 'error'}`);
      respond(res, status, 'application/json', requestBody, utf8Encode(JSON.stringify(message)));
    }
  });

  const sockets = new WebSocketServer({ noServer: true, maxPayload: 65535 });
  server.on('upgrade', (req, socket, head) => {
    if (new URL(req.url ?? '/', 'http://enclave').pathname !== '/channel') {
      socket.destroy();
      return;
    }
    sockets.handleUpgrade(req, socket, head, (ws) => {
      void serveChannel(ws as unknown as WebSocketLike);
    });
  });

  const serveChannel = async (ws: WebSocketLike) => {
    let channel: AttestedChannel;
    try {
      channel = await acceptChannel(webSocketLink(ws), {
        ...options,
        staticKeyPair: channelKeyPair,
        evidence: options.provider,
      });
    } catch (error) {
      log(`channel handshake failed: ${error instanceof VeriteeError ? error.code : 'error'}`);
      return;
    }
    try {
      for await (const message of channel) {
        const context = { transport: 'channel' as const, peerEvidence: channel.peerEvidence };
        channel.send(toBytes(await handler(message, context)));
      }
      channel.close();
    } catch (error) {
      log(`channel ended: ${error instanceof VeriteeError ? error.code : 'application error'}`);
      channel.close();
    }
  };

  return {
    server,
    channelKey: channelKeyPair.publicKey,
    signingKey,
    provider: options.provider,
    listen(port, host = '127.0.0.1') {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.removeListener('error', reject);
          resolve((server.address() as AddressInfo).port);
        });
      });
    },
    close() {
      for (const client of sockets.clients) client.terminate();
      sockets.close();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

function parseNonce(text: string | null): Uint8Array {
  if (text === null)
    throw new HttpError(400, `nonce query parameter required (${MIN_NONCE}–${MAX_NONCE} bytes, hex)`);
  let nonce: Uint8Array;
  try {
    nonce = fromHex(text, 'nonce');
  } catch {
    throw new HttpError(400, 'nonce must be hex');
  }
  if (nonce.length < MIN_NONCE || nonce.length > MAX_NONCE) {
    throw new HttpError(400, `nonce must be ${MIN_NONCE}–${MAX_NONCE} bytes`);
  }
  return nonce;
}

function signResponse(key: KeyObject, requestBody: Uint8Array, body: Uint8Array): string {
  return toHex(new Uint8Array(sign(null, responseSigningInput(requestBody, body), key)));
}
