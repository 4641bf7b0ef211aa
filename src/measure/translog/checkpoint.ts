/**
 * Signed tree heads. The signed message is a checkpoint in the C2SP `tlog-checkpoint` body layout —
 * origin line, decimal tree size, base64 root hash — followed by one extension line `timestamp <ms>`:
 *
 * ```
 * veritee.example/releases\n
 * 42\n
 * 3q2+7w…=\n
 * timestamp 1764130000000\n
 * ```
 *
 * It is signed with the log's key (Ed25519, or ECDSA P-256 with SHA-256, DER signature) and shipped as
 * JSON `{origin, treeSize, rootHash (hex), timestamp, keyid, signature (base64)}`; the verifier rebuilds
 * the message from the fields, so no second parser of the text form is needed.
 */
import { backend } from '#crypto';
import { fromBase64, fromHex, toBase64, toHex, utf8Encode } from '../../bytes.js';
import type { SignatureScheme } from '../../crypto/types.js';
import { ErrorCode, VeriteeError, wrapErrorsAsync } from '../../errors.js';
import { publicJwkOf, type TrustedKey, trustedKeyFromJwk } from '../release.js';
import { HASH_SIZE } from './merkle.js';

export interface TreeHead {
  readonly origin: string;
  readonly treeSize: number;
  readonly rootHash: Uint8Array;
  /** Milliseconds since the Unix epoch. */
  readonly timestamp: number;
}

export interface SignedTreeHead extends TreeHead {
  readonly keyid: string;
  readonly signature: Uint8Array;
}

export interface SignedTreeHeadJson {
  readonly origin: string;
  readonly treeSize: number;
  readonly rootHash: string;
  readonly timestamp: number;
  readonly keyid: string;
  readonly signature: string;
}

const ORIGIN = /^[\x21-\x7e]{1,255}$/;

export function checkpointText(head: TreeHead): string {
  return `${head.origin}\n${head.treeSize}\n${toBase64(head.rootHash)}\ntimestamp ${head.timestamp}\n`;
}

function schemeOf(key: TrustedKey): SignatureScheme {
  return key.key.type === 'ed25519'
    ? { kind: 'ed25519' }
    : { kind: 'ecdsa', hash: 'SHA-256', encoding: 'der' };
}

function checkHead(head: TreeHead, path: string): void {
  if (!ORIGIN.test(head.origin))
    throw new VeriteeError(
      ErrorCode.PARSE_INVALID_VALUE,
      'origin must be 1–255 printable ASCII characters without spaces',
      { path: `${path}/origin` },
    );
  if (!Number.isSafeInteger(head.treeSize) || head.treeSize < 0)
    throw new VeriteeError(ErrorCode.PARSE_INVALID_VALUE, 'treeSize must be a non-negative integer', {
      path: `${path}/treeSize`,
    });
  if (!(head.rootHash instanceof Uint8Array) || head.rootHash.length !== HASH_SIZE)
    throw new VeriteeError(ErrorCode.PARSE_INVALID_VALUE, 'rootHash must be 32 bytes', {
      path: `${path}/rootHash`,
    });
  if (!Number.isSafeInteger(head.timestamp) || head.timestamp < 0)
    throw new VeriteeError(ErrorCode.PARSE_INVALID_VALUE, 'timestamp must be a non-negative integer (ms)', {
      path: `${path}/timestamp`,
    });
}

export async function signTreeHead(head: TreeHead, privateJwk: JsonWebKey): Promise<SignedTreeHead> {
  checkHead(head, 'treeHead');
  const key = trustedKeyFromJwk(publicJwkOf(privateJwk), 'log key');
  const signature = await wrapErrorsAsync(ErrorCode.KEY_INVALID, 'cannot sign with the log key', () =>
    backend.sign(privateJwk, schemeOf(key), utf8Encode(checkpointText(head))),
  );
  return { ...head, keyid: key.keyid, signature };
}

export function treeHeadToJson(head: SignedTreeHead): SignedTreeHeadJson {
  return {
    origin: head.origin,
    treeSize: head.treeSize,
    rootHash: toHex(head.rootHash),
    timestamp: head.timestamp,
    keyid: head.keyid,
    signature: toBase64(head.signature),
  };
}

/** Parses the JSON form strictly. */
export function treeHeadFromJson(json: unknown, path = 'treeHead'): SignedTreeHead {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new VeriteeError(ErrorCode.PARSE_UNEXPECTED_TYPE, 'tree head must be an object', { path });
  }
  const value = json as Record<string, unknown>;
  const keys = ['origin', 'treeSize', 'rootHash', 'timestamp', 'keyid', 'signature'];
  for (const key of Object.keys(value)) {
    if (!keys.includes(key))
      throw new VeriteeError(ErrorCode.PARSE_UNKNOWN_FIELD, `unknown field "${key}"`, {
        path: `${path}/${key}`,
      });
  }
  for (const key of keys) {
    const type = key === 'treeSize' || key === 'timestamp' ? 'number' : 'string';
    if (typeof value[key] !== type)
      throw new VeriteeError(ErrorCode.PARSE_MISSING_FIELD, `${key} must be a ${type}`, {
        path: `${path}/${key}`,
      });
  }
  const head: SignedTreeHead = {
    origin: value.origin as string,
    treeSize: value.treeSize as number,
    rootHash: fromHex(value.rootHash as string, `${path}/rootHash`),
    timestamp: value.timestamp as number,
    keyid: value.keyid as string,
    signature: fromBase64(value.signature as string, `${path}/signature`),
  };
  checkHead(head, path);
  return head;
}

/**
 * Verifies a tree head's signature under the log's key and that it names the expected origin.
 * Throws SIG_INVALID otherwise. Does not check freshness or consistency with earlier heads (client.ts).
 */
export async function verifyTreeHead(
  head: SignedTreeHead,
  logKey: TrustedKey,
  origin: string,
): Promise<TreeHead> {
  checkHead(head, 'treeHead');
  if (head.origin !== origin) {
    throw new VeriteeError(
      ErrorCode.SIG_INVALID,
      `tree head is for log "${head.origin}", expected "${origin}"`,
      { path: 'treeHead/origin' },
    );
  }
  if (head.keyid !== logKey.keyid) {
    throw new VeriteeError(ErrorCode.SIG_INVALID, 'tree head is not signed by the log key', {
      path: 'treeHead/keyid',
      details: head.keyid,
    });
  }
  const ok = await backend.verify(
    logKey.key,
    schemeOf(logKey),
    utf8Encode(checkpointText(head)),
    head.signature,
  );
  if (!ok)
    throw new VeriteeError(ErrorCode.SIG_INVALID, 'tree head signature does not verify', {
      path: 'treeHead/signature',
    });
  return { origin: head.origin, treeSize: head.treeSize, rootHash: head.rootHash, timestamp: head.timestamp };
}
