/**
 * Signed responses and fresh HTTP evidence of the enclave app server (browser-safe client side).
 *
 * `GET /evidence?nonce=<hex>` returns evidence whose report data is
 *   SHA-512("veritee-app/1 evidence request" ‖ 0x00 ‖ channel static key ‖ signing key ‖ nonce),
 * binding, for this nonce, both the channel key and the Ed25519 key that signs every HTTP response:
 *   signature = Ed25519("veritee-app/1 response" ‖ 0x00 ‖ SHA-256(request body) ‖ SHA-256(response body)).
 */
import { backend } from '#crypto';
import { concatBytes, fromHex, toBase64Url, utf8Encode } from '../bytes.js';
import { ErrorCode, VeriteeError } from '../errors.js';
import type { AttestationResult } from '../result.js';
import { bindingReportData } from './binding.js';

export const RESPONSE_SIGNATURE_LABEL = 'veritee-app/1 response';
export const SIGNATURE_HEADER = 'x-veritee-signature';
export const MIN_NONCE = 16;
export const MAX_NONCE = 64;

/** What `GET /evidence` returns (JSON). */
export interface EvidenceResponse {
  readonly evidence: string; // base64
  readonly platform: string;
  readonly channelKey: string; // hex, X25519
  readonly signingKey: string; // hex, Ed25519
  readonly nonce: string; // hex
}

export function httpReportData(
  channelKey: Uint8Array,
  signingKey: Uint8Array,
  nonce: Uint8Array,
): Uint8Array {
  if (signingKey.length !== 32)
    throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, 'signing key must be 32 bytes');
  if (nonce.length < MIN_NONCE || nonce.length > MAX_NONCE) {
    throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, `nonce must be ${MIN_NONCE}–${MAX_NONCE} bytes`);
  }
  return bindingReportData('http', channelKey, concatBytes(signingKey, nonce));
}

/** The bytes an enclave signs for one HTTP exchange. */
export function responseSigningInput(requestBody: Uint8Array, responseBody: Uint8Array): Uint8Array {
  return concatBytes(
    utf8Encode(RESPONSE_SIGNATURE_LABEL),
    Uint8Array.of(0),
    backend.hash('SHA-256', requestBody),
    backend.hash('SHA-256', responseBody),
  );
}

/** Checks an Ed25519 response signature (hex) by `signingKey` (32 bytes); throws SIG_INVALID. */
export async function verifyResponseSignature(
  signingKey: Uint8Array,
  requestBody: Uint8Array,
  responseBody: Uint8Array,
  signatureHex: string | null | undefined,
): Promise<void> {
  let signature: Uint8Array;
  try {
    signature = fromHex(signatureHex ?? '', 'signature');
  } catch {
    throw new VeriteeError(ErrorCode.SIG_INVALID, 'response signature is not hex');
  }
  if (signature.length !== 64) throw new VeriteeError(ErrorCode.SIG_INVALID, 'response is not signed');
  const key = backend.importJwk({ kty: 'OKP', crv: 'Ed25519', x: toBase64Url(signingKey) });
  const ok = await backend.verify(
    key,
    { kind: 'ed25519' },
    responseSigningInput(requestBody, responseBody),
    signature,
  );
  if (!ok)
    throw new VeriteeError(ErrorCode.SIG_INVALID, 'response signature does not verify with the attested key');
}

/** The verified outcome of an evidence request: the result and the keys it binds. */
export interface VerifiedEnclaveKeys {
  readonly result: AttestationResult;
  readonly channelKey: Uint8Array;
  readonly signingKey: Uint8Array;
}
