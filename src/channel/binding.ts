/**
 * Binding a channel key into evidence. The 64 bytes the TEE puts in its report data are
 *
 *   SHA-512( label ‖ 0x00 ‖ static public key (32) ‖ context )
 *
 * where `label` separates uses (the server's channel key, the client's channel key, an HTTP evidence
 * request) so a value made for one can never be accepted as another, and `context` makes it fresh: in
 * the channel it is the Noise handshake hash at the point the evidence is sent (it covers the protocol
 * name, the prologue and the peer's fresh ephemeral key); for an HTTP request it is the client's nonce.
 */
import { backend } from '#crypto';
import { equalBytes, fromHex, utf8Encode } from '../bytes.js';
import { ErrorCode, VeriteeError } from '../errors.js';
import type { AttestationResult } from '../result.js';

export const BINDING_LABELS = {
  server: 'veritee-channel/1 server static key',
  client: 'veritee-channel/1 client static key',
  http: 'veritee-app/1 evidence request',
} as const;

export type BindingLabel = keyof typeof BINDING_LABELS;

export const REPORT_DATA_LENGTH = 64;

/** The 64-byte report data binding `publicKey` and `context` under `label`. */
export function bindingReportData(
  label: BindingLabel,
  publicKey: Uint8Array,
  context: Uint8Array,
): Uint8Array {
  if (publicKey.length !== 32) {
    throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, 'the bound public key must be 32 bytes');
  }
  const labelBytes = utf8Encode(BINDING_LABELS[label]);
  const input = new Uint8Array(labelBytes.length + 1 + publicKey.length + context.length);
  input.set(labelBytes);
  input.set(publicKey, labelBytes.length + 1);
  input.set(context, labelBytes.length + 1 + publicKey.length);
  return backend.hash('SHA-512', input);
}

/**
 * The report data a verified result carries: `report_data` for TDX, SGX and SEV-SNP, `user_data` for
 * Nitro (which has no report_data field; the NSM signs user_data the same way).
 */
export function boundDataOf(result: AttestationResult): Uint8Array | undefined {
  const hex = result.reportData ?? result.userData;
  return hex === undefined ? undefined : fromHex(hex);
}

/** Throws CHANNEL_BINDING_MISMATCH unless `result` carries exactly `expected` as its report data. */
export function checkBinding(result: AttestationResult, expected: Uint8Array, who: string): void {
  const found = boundDataOf(result);
  if (found === undefined || !equalBytes(found, expected)) {
    throw new VeriteeError(
      ErrorCode.CHANNEL_BINDING_MISMATCH,
      `${who} evidence is not bound to this channel's key and handshake`,
      {
        details:
          found === undefined
            ? 'the evidence carries no report data'
            : 'report data differs from SHA-512(label, static key, handshake hash)',
      },
    );
  }
}
