/**
 * Client helpers for an enclave app server (browser-safe: global fetch and WebSocket, or injected).
 *
 * - `connectEnclave(url)`: opens the WebSocket channel at `<url>/channel`, verifies the evidence and its
 *   binding, and returns the AttestedChannel.
 * - `fetchEnclaveEvidence(url)`: fresh evidence for a random nonce, verified and checked to bind the
 *   channel key, the signing key and that nonce.
 * - `callEnclave(url, body, keys)`: POST /call, accepted only with a valid signature by the attested key.
 * - `fetchEnclaveCollateral(url)`: the collateral the server's evidence needs but does not carry (the TDX
 *   simulator's), to pass as `collateral`; undefined when the server has none. Untrusted: `verify` checks
 *   its signatures up to the verifier's own anchors like any collateral.
 */
import { backend } from '#crypto';
import { fromBase64, fromHex, toHex } from '../bytes.js';
import { ErrorCode, VeriteeError } from '../errors.js';
import { readBodyLimited } from '../stream.js';
import { checkBinding } from './binding.js';
import { type AttestedChannel, type ClientOptions, connectChannel, verifyPeerEvidence } from './channel.js';
import { openWebSocket, type WebSocketLike, webSocketLink } from './link.js';
import {
  type EvidenceResponse,
  httpReportData,
  SIGNATURE_HEADER,
  type VerifiedEnclaveKeys,
  verifyResponseSignature,
} from './signed.js';

export interface EnclaveClientOptions extends ClientOptions {
  /** WebSocket constructor (default: the global one). */
  readonly WebSocket?: new (
    url: string,
  ) => WebSocketLike;
  /** fetch implementation (default: the global one). */
  readonly fetch?: typeof fetch;
}

/** `http://h:p[/x]` → `ws://h:p[/x]/channel`; `ws://…` URLs are used as given. */
export function channelUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, `not a URL: "${url}"`);
  }
  if (parsed.protocol === 'ws:' || parsed.protocol === 'wss:') return parsed.toString();
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, `unsupported URL scheme ${parsed.protocol}`, {
      details: 'use http(s)://, ws(s):// or (Node) tcp://',
    });
  }
  parsed.protocol = parsed.protocol === 'https:' ? 'wss:' : 'ws:';
  parsed.pathname = `${parsed.pathname.replace(/\/$/, '')}/channel`;
  return parsed.toString();
}

export async function connectEnclave(
  url: string,
  options: EnclaveClientOptions = {},
): Promise<AttestedChannel> {
  const socket = await openWebSocket(channelUrl(url), options.WebSocket);
  return connectChannel(webSocketLink(socket), options);
}

function baseUrl(url: string): string {
  return url.replace(/\/$/, '');
}

function parseEvidenceResponse(json: unknown): EvidenceResponse {
  const value = json as Partial<EvidenceResponse> | null;
  for (const key of ['evidence', 'platform', 'channelKey', 'signingKey', 'nonce'] as const) {
    if (typeof value?.[key] !== 'string') {
      throw new VeriteeError(ErrorCode.EVIDENCE_INVALID, `evidence response lacks "${key}"`);
    }
  }
  return value as EvidenceResponse;
}

export async function fetchEnclaveEvidence(
  url: string,
  options: EnclaveClientOptions = {},
): Promise<VerifiedEnclaveKeys> {
  const doFetch = options.fetch ?? fetch;
  const nonce = backend.randomBytes(32);
  const response = await doFetch(`${baseUrl(url)}/evidence?nonce=${toHex(nonce)}`);
  if (!response.ok)
    throw new VeriteeError(ErrorCode.EVIDENCE_INVALID, `evidence request failed: HTTP ${response.status}`);
  const body = parseEvidenceResponse(await response.json());
  const channelKey = fromHex(body.channelKey, 'channelKey');
  const signingKey = fromHex(body.signingKey, 'signingKey');
  if (body.nonce !== toHex(nonce)) {
    throw new VeriteeError(ErrorCode.CHANNEL_BINDING_MISMATCH, 'the enclave answered for another nonce');
  }
  const expected = httpReportData(channelKey, signingKey, nonce);
  const result = await verifyPeerEvidence(fromBase64(body.evidence, 'evidence'), expected, options, 'server');
  checkBinding(result, expected, 'server');
  return { result, channelKey, signingKey };
}

/** Largest collateral document accepted from an enclave server (real DCAP collateral is ~20 KiB). */
const MAX_COLLATERAL_BYTES = 1 << 20;

export async function fetchEnclaveCollateral(
  url: string,
  options: { fetch?: typeof fetch } = {},
): Promise<unknown> {
  const doFetch = options.fetch ?? fetch;
  const response = await doFetch(`${baseUrl(url)}/collateral`);
  if (response.status === 404) return undefined;
  if (!response.ok) {
    throw new VeriteeError(
      ErrorCode.COLLATERAL_UNAVAILABLE,
      'the enclave server did not serve its collateral',
      {
        details: `HTTP ${response.status}`,
      },
    );
  }
  const body = await readBodyLimited(
    response,
    MAX_COLLATERAL_BYTES,
    (detail) =>
      new VeriteeError(ErrorCode.COLLATERAL_INVALID, 'the enclave server sent oversized collateral', {
        details: detail,
      }),
  );
  try {
    return JSON.parse(new TextDecoder().decode(body));
  } catch {
    throw new VeriteeError(
      ErrorCode.COLLATERAL_INVALID,
      'the enclave server sent collateral that is not JSON',
    );
  }
}

export async function callEnclave(
  url: string,
  body: Uint8Array,
  keys: VerifiedEnclaveKeys,
  options: { fetch?: typeof fetch } = {},
): Promise<Uint8Array> {
  const doFetch = options.fetch ?? fetch;
  const response = await doFetch(`${baseUrl(url)}/call`, { method: 'POST', body: body as BodyInit });
  const responseBody = new Uint8Array(await response.arrayBuffer());
  await verifyResponseSignature(keys.signingKey, body, responseBody, response.headers.get(SIGNATURE_HEADER));
  if (!response.ok) {
    throw new VeriteeError(ErrorCode.EVIDENCE_INVALID, `enclave call failed: HTTP ${response.status}`);
  }
  return responseBody;
}
