/**
 * COSE_Sign1 (RFC 9052 §4.2) as AWS Nitro uses it: a four-element array, optionally under tag 18, with
 * the algorithm in the protected header. This module parses and builds the Sig_structure; it does not
 * know which key or algorithm is acceptable — the caller decides.
 */

import { concatBytes, utf8Encode } from '../../bytes.js';
import {
  CborTagged,
  type CborValue,
  decodeCbor,
  encodeHead,
  expectArray,
  expectBytes,
  expectMap,
} from '../../cbor.js';
import { ErrorCode, VeriteeError } from '../../errors.js';

/** RFC 9052 §9.1: COSE_Sign1 tag. */
export const COSE_SIGN1_TAG = 18;
/** RFC 9053 §2.1: ES256 = -7, ES384 = -35, ES512 = -36. */
export const COSE_ALG = { ES256: -7, ES384: -35, ES512: -36 } as const;
/** RFC 9052 §3.1: header label for `alg`. */
const HEADER_ALG = 1;

export interface CoseSign1 {
  /** The protected header exactly as received (the bstr contents), needed for the Sig_structure. */
  readonly protectedBytes: Uint8Array;
  readonly alg: number;
  readonly payload: Uint8Array;
  readonly signature: Uint8Array;
  readonly tagged: boolean;
  /** Number of entries in the (unsigned) unprotected header. */
  readonly unprotectedSize: number;
}

/** Parses COSE_Sign1 bytes. Copies what it keeps. */
export function parseCoseSign1(bytes: Uint8Array, path = 'cose'): CoseSign1 {
  let top: CborValue = decodeCbor(bytes, { path, maxDepth: 8 });
  let tagged = false;
  if (top instanceof CborTagged) {
    if (top.tag !== COSE_SIGN1_TAG) {
      throw new VeriteeError(ErrorCode.PARSE_UNEXPECTED_TYPE, `CBOR tag ${top.tag} is not COSE_Sign1 (18)`, {
        path,
      });
    }
    top = top.value;
    tagged = true;
  }
  const parts = expectArray(top, path);
  if (parts.length !== 4) {
    throw new VeriteeError(
      ErrorCode.PARSE_MALFORMED,
      `COSE_Sign1 must have 4 elements, found ${parts.length}`,
      { path },
    );
  }
  const protectedBytes = expectBytes(parts[0], `${path}/protected`).slice();
  const unprotected = expectMap(parts[1], `${path}/unprotected`);
  if (parts[2] === null) {
    throw new VeriteeError(ErrorCode.UNSUPPORTED, 'detached COSE payloads are not supported', {
      path: `${path}/payload`,
    });
  }
  const payload = expectBytes(parts[2], `${path}/payload`).slice();
  const signature = expectBytes(parts[3], `${path}/signature`).slice();
  const alg = protectedAlgorithm(protectedBytes, `${path}/protected`);
  if (unprotected.has(HEADER_ALG)) {
    throw new VeriteeError(ErrorCode.PARSE_INVALID_VALUE, 'alg must not appear in the unprotected header', {
      path: `${path}/unprotected`,
    });
  }
  return { protectedBytes, alg, payload, signature, tagged, unprotectedSize: unprotected.size };
}

function protectedAlgorithm(protectedBytes: Uint8Array, path: string): number {
  if (protectedBytes.length === 0) {
    throw new VeriteeError(ErrorCode.PARSE_MISSING_FIELD, 'protected header is empty: no algorithm', {
      path,
    });
  }
  const header = expectMap(decodeCbor(protectedBytes, { path, maxDepth: 4 }), path);
  const alg = header.get(HEADER_ALG);
  if (typeof alg !== 'number') {
    throw new VeriteeError(ErrorCode.PARSE_MISSING_FIELD, 'protected header has no integer alg', {
      path: `${path}/1`,
    });
  }
  return alg;
}

/** RFC 9052 §4.4: Sig_structure = ["Signature1", body_protected, external_aad, payload]. */
export function sigStructure(
  cose: Pick<CoseSign1, 'protectedBytes' | 'payload'>,
  externalAad: Uint8Array = new Uint8Array(0),
): Uint8Array {
  const context = utf8Encode('Signature1');
  return concatBytes(
    encodeHead(4, 4),
    encodeHead(3, context.length),
    context,
    encodeHead(2, cose.protectedBytes.length),
    cose.protectedBytes,
    encodeHead(2, externalAad.length),
    externalAad,
    encodeHead(2, cose.payload.length),
    cose.payload,
  );
}
