/**
 * KMS protocol messages: their typed form, total parsers (bad input → `VeriteeError`, never another
 * exception), and the canonical bytes that are hashed, signed or bound into evidence.
 *
 * Byte strings travel as unpadded base64url; evidence as standard base64 or hex (as `veritee verify`).
 */
import { decodeEvidenceInput, toHex, utf8Encode } from '../bytes.js';
import { ErrorCode, VeriteeError } from '../errors.js';
import {
  APP_ID,
  b64u,
  canonicalBytes,
  fromB64u,
  type Json,
  NODE_ID,
  readArray,
  readInt,
  readObject,
  readString,
} from './codec.js';
import {
  bindingDigest,
  ED25519_PUBLIC_BYTES,
  ED25519_SIGNATURE_BYTES,
  nodeIdOf,
  sha256Of,
  signFor,
  verifyFor,
  X25519_BYTES,
} from './crypto.js';

export const MAX_NODES = 32;
/** `prev` of a registration (version 1). */
export const GENESIS_PREV = '0'.repeat(64);
export const MAX_EPOCH = 2 ** 31 - 1;
const HEX64 = /^[0-9a-f]{64}$/;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
/** The largest evidence accepted in a request (base64 text). */
export const MAX_EVIDENCE_CHARS = 128 * 1024;

// --- Node identity ----------------------------------------------------------------------------------

export interface NodeRef {
  readonly id: string;
  /** X25519 public key (base64url) that shares are encrypted to. */
  readonly hpkePublicKey: string;
  /** Ed25519 public key (base64url) that signs the node's audit entries and countersignatures. */
  readonly signingPublicKey: string;
}

export function parseNodeRef(value: unknown, path: string): NodeRef {
  const record = readObject(value, path, ['id', 'hpkePublicKey', 'signingPublicKey'], ['url', 'version']);
  const id = readString(record.id, `${path}/id`, NODE_ID);
  const hpke = fromB64u(record.hpkePublicKey, `${path}/hpkePublicKey`, X25519_BYTES);
  const signing = fromB64u(record.signingPublicKey, `${path}/signingPublicKey`, ED25519_PUBLIC_BYTES);
  if (nodeIdOf(hpke, signing) !== id) {
    throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, 'node id does not match its keys', {
      path: `${path}/id`,
    });
  }
  return { id, hpkePublicKey: b64u(hpke), signingPublicKey: b64u(signing) };
}

// --- Owner-signed policy changes --------------------------------------------------------------------

export interface PolicyChange {
  readonly appId: string;
  /** 1 for the registration, then +1 per change. */
  readonly version: number;
  /** Hash (hex) of the previous change; 64 zeros for version 1. */
  readonly prev: string;
  /** Ed25519 public key (base64url) of the owner from this version on. */
  readonly owner: string;
  /** The release policy, in the policy language of `veritee verify`. */
  readonly policy: Json;
  readonly threshold: number;
  readonly nodes: readonly NodeRef[];
  readonly issuedAt: string;
}

export interface SignedPolicyChange {
  readonly change: PolicyChange;
  /** Ed25519 by the owner of the previous version (of this version for version 1). */
  readonly signature: string;
}

export function parsePolicyChange(value: unknown, path = 'change'): PolicyChange {
  const record = readObject(value, path, [
    'appId',
    'version',
    'prev',
    'owner',
    'policy',
    'threshold',
    'nodes',
    'issuedAt',
  ]);
  const nodes = readArray(record.nodes, `${path}/nodes`, 2, MAX_NODES).map((node, index) =>
    parseNodeRef(node, `${path}/nodes/${index}`),
  );
  if (new Set(nodes.map((node) => node.id)).size !== nodes.length) {
    throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, 'a node is listed twice', { path: `${path}/nodes` });
  }
  const threshold = readInt(record.threshold, `${path}/threshold`, 2, nodes.length);
  if (typeof record.policy !== 'object' || record.policy === null || Array.isArray(record.policy)) {
    throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, 'policy must be a JSON object', {
      path: `${path}/policy`,
    });
  }
  canonicalBytes(record.policy); // integers only, bounded depth
  return {
    appId: readString(record.appId, `${path}/appId`, APP_ID),
    version: readInt(record.version, `${path}/version`, 1, MAX_EPOCH),
    prev: readString(record.prev, `${path}/prev`, HEX64),
    owner: b64u(fromB64u(record.owner, `${path}/owner`, ED25519_PUBLIC_BYTES)),
    policy: record.policy as Json,
    threshold,
    nodes,
    issuedAt: readString(record.issuedAt, `${path}/issuedAt`, ISO_TIME),
  };
}

export function parseSignedPolicyChange(value: unknown, path = 'body'): SignedPolicyChange {
  const record = readObject(value, path, ['change', 'signature']);
  return {
    change: parsePolicyChange(record.change, `${path}/change`),
    signature: b64u(fromB64u(record.signature, `${path}/signature`, ED25519_SIGNATURE_BYTES)),
  };
}

export function policyChangeHash(change: PolicyChange): string {
  return toHex(sha256Of(canonicalBytes(change as unknown as Json)));
}

export function signPolicyChange(change: PolicyChange, ownerSeed: Uint8Array): SignedPolicyChange {
  return {
    change,
    signature: b64u(signFor(ownerSeed, 'policy change', canonicalBytes(change as unknown as Json))),
  };
}

export function policyChangeSignedBy(signed: SignedPolicyChange, owner: string): boolean {
  return verifyFor(
    fromB64u(owner, 'owner', ED25519_PUBLIC_BYTES),
    'policy change',
    canonicalBytes(signed.change as unknown as Json),
    fromB64u(signed.signature, 'signature', ED25519_SIGNATURE_BYTES),
  );
}

// --- Owner-signed epoch retirement ------------------------------------------------------------------

export interface RetireOrder {
  readonly appId: string;
  readonly epoch: number;
  readonly issuedAt: string;
}

export function parseRetire(value: unknown, path = 'body'): { order: RetireOrder; signature: string } {
  const record = readObject(value, path, ['order', 'signature']);
  const order = readObject(record.order, `${path}/order`, ['appId', 'epoch', 'issuedAt']);
  return {
    order: {
      appId: readString(order.appId, `${path}/order/appId`, APP_ID),
      epoch: readInt(order.epoch, `${path}/order/epoch`, 1, MAX_EPOCH),
      issuedAt: readString(order.issuedAt, `${path}/order/issuedAt`, ISO_TIME),
    },
    signature: b64u(fromB64u(record.signature, `${path}/signature`, ED25519_SIGNATURE_BYTES)),
  };
}

export function signRetire(order: RetireOrder, ownerSeed: Uint8Array) {
  return {
    order,
    signature: b64u(signFor(ownerSeed, 'retire epoch', canonicalBytes(order as unknown as Json))),
  };
}

export function retireSignedBy(order: RetireOrder, signature: string, owner: string): boolean {
  return verifyFor(
    fromB64u(owner, 'owner', ED25519_PUBLIC_BYTES),
    'retire epoch',
    canonicalBytes(order as unknown as Json),
    fromB64u(signature, 'signature', ED25519_SIGNATURE_BYTES),
  );
}

// --- Nonces -----------------------------------------------------------------------------------------

export interface NodeNonce {
  readonly node: string;
  readonly nonce: string;
}

function parseNonces(value: unknown, path: string): readonly NodeNonce[] {
  const nonces = readArray(value, path, 1, MAX_NODES).map((item, index) => {
    const record = readObject(item, `${path}/${index}`, ['node', 'nonce']);
    return {
      node: readString(record.node, `${path}/${index}/node`, NODE_ID),
      nonce: b64u(fromB64u(record.nonce, `${path}/${index}/nonce`, 32)),
    };
  });
  for (let index = 1; index < nonces.length; index++) {
    if (nonces[index - 1]!.node >= nonces[index]!.node) {
      throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, 'nonces must be sorted by node id, one per node', {
        path,
      });
    }
  }
  return nonces;
}

function parseEvidence(value: unknown, path: string): Uint8Array {
  const text = readString(value, path, undefined, MAX_EVIDENCE_CHARS);
  try {
    return decodeEvidenceInput(utf8Encode(text));
  } catch (error) {
    throw error instanceof VeriteeError
      ? error.within(path)
      : new VeriteeError(ErrorCode.ARGUMENT_INVALID, 'evidence must be base64 or hex', { path });
  }
}

// --- Create (and reshare / rotate) ------------------------------------------------------------------

/** The public description of an epoch: the same at every node, bound into the creating evidence. */
export interface EpochRecord {
  readonly appId: string;
  readonly epoch: number;
  readonly kind: 'create' | 'rotate' | 'reshare';
  /** The policy version whose node set and threshold the epoch was split under. */
  readonly policyVersion: number;
  readonly threshold: number;
  /** Node ids in share order: share i (1-based x coordinate order) belongs to nodes[i-1]. */
  readonly nodes: readonly string[];
  /** Key-check value: Ed25519 public key derived from the secret (base64url). */
  readonly kcv: string;
  readonly salt: string;
  /** Per-share commitments (base64url SHA-256), in node order. */
  readonly commitments: readonly string[];
  /** SHA-256 of each encrypted share (enc ‖ ct), in node order. */
  readonly sealedShares: readonly string[];
  readonly createdAt: string;
}

export function parseEpochRecord(value: unknown, path = 'record'): EpochRecord {
  const record = readObject(value, path, [
    'appId',
    'epoch',
    'kind',
    'policyVersion',
    'threshold',
    'nodes',
    'kcv',
    'salt',
    'commitments',
    'sealedShares',
    'createdAt',
  ]);
  const nodes = readArray(record.nodes, `${path}/nodes`, 2, MAX_NODES).map((id, index) =>
    readString(id, `${path}/nodes/${index}`, NODE_ID),
  );
  if (new Set(nodes).size !== nodes.length) {
    throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, 'a node is listed twice', { path: `${path}/nodes` });
  }
  const list = (key: string, length: number) =>
    readArray(record[key], `${path}/${key}`, nodes.length, nodes.length).map((item, index) =>
      b64u(fromB64u(item, `${path}/${key}/${index}`, length)),
    );
  return {
    appId: readString(record.appId, `${path}/appId`, APP_ID),
    epoch: readInt(record.epoch, `${path}/epoch`, 1, MAX_EPOCH),
    kind: readString(record.kind, `${path}/kind`, /^(create|rotate|reshare)$/) as EpochRecord['kind'],
    policyVersion: readInt(record.policyVersion, `${path}/policyVersion`, 1, MAX_EPOCH),
    threshold: readInt(record.threshold, `${path}/threshold`, 2, nodes.length),
    nodes,
    kcv: b64u(fromB64u(record.kcv, `${path}/kcv`, ED25519_PUBLIC_BYTES)),
    salt: b64u(fromB64u(record.salt, `${path}/salt`, 32)),
    commitments: list('commitments', 32),
    sealedShares: list('sealedShares', 32),
    createdAt: readString(record.createdAt, `${path}/createdAt`, ISO_TIME),
  };
}

export interface SealedShare {
  readonly index: number;
  readonly enc: string;
  readonly ct: string;
}

function parseSealedShare(value: unknown, path: string, nodes: number): SealedShare {
  const record = readObject(value, path, ['index', 'enc', 'ct']);
  return {
    index: readInt(record.index, `${path}/index`, 1, nodes),
    enc: b64u(fromB64u(record.enc, `${path}/enc`, X25519_BYTES)),
    ct: b64u(fromB64u(record.ct, `${path}/ct`)),
  };
}

export function sealedShareDigest(share: SealedShare): string {
  return b64u(sha256Of(canonicalBytes({ index: share.index, enc: share.enc, ct: share.ct })));
}

export interface CreateRequest {
  readonly record: EpochRecord;
  readonly share: SealedShare;
  readonly nonces: readonly NodeNonce[];
  readonly evidence: Uint8Array;
}

export function parseCreateRequest(value: unknown, path = 'body'): CreateRequest {
  const body = readObject(value, path, ['record', 'share', 'nonces', 'evidence']);
  const record = parseEpochRecord(body.record, `${path}/record`);
  return {
    record,
    share: parseSealedShare(body.share, `${path}/share`, record.nodes.length),
    nonces: parseNonces(body.nonces, `${path}/nonces`),
    evidence: parseEvidence(body.evidence, `${path}/evidence`),
  };
}

/** report_data for create: binds the whole epoch record (and so every sealed share) and the nonces. */
export function createBinding(record: EpochRecord, nonces: readonly NodeNonce[]): Uint8Array {
  return bindingDigest(['create', canonicalBytes({ record, nonces } as unknown as Json)]);
}

// --- Recover ----------------------------------------------------------------------------------------

export interface RecoverRequest {
  readonly epoch: number;
  /** The enclave's ephemeral X25519 public key (base64url). */
  readonly ephemeralPublicKey: string;
  readonly nonces: readonly NodeNonce[];
  readonly evidence: Uint8Array;
}

export function parseRecoverRequest(value: unknown, path = 'body'): RecoverRequest {
  const body = readObject(value, path, ['epoch', 'ephemeralPublicKey', 'nonces', 'evidence']);
  return {
    epoch: readInt(body.epoch, `${path}/epoch`, 1, MAX_EPOCH),
    ephemeralPublicKey: b64u(fromB64u(body.ephemeralPublicKey, `${path}/ephemeralPublicKey`, X25519_BYTES)),
    nonces: parseNonces(body.nonces, `${path}/nonces`),
    evidence: parseEvidence(body.evidence, `${path}/evidence`),
  };
}

/** report_data for recover: app, epoch, the ephemeral key and every node's nonce. */
export function recoverBinding(
  appId: string,
  epoch: number,
  ephemeralPublicKey: string,
  nonces: readonly NodeNonce[],
): Uint8Array {
  return bindingDigest([
    'recover',
    canonicalBytes({ appId, epoch, ephemeralPublicKey, nonces } as unknown as Json),
  ]);
}

export interface RecoverResponse {
  readonly node: string;
  readonly epoch: number;
  readonly share: SealedShare;
  readonly auditSeq: number;
}

export function parseRecoverResponse(value: unknown, nodes: number, path = 'response'): RecoverResponse {
  const record = readObject(value, path, ['node', 'epoch', 'share', 'auditSeq']);
  return {
    node: readString(record.node, `${path}/node`, NODE_ID),
    epoch: readInt(record.epoch, `${path}/epoch`, 1, MAX_EPOCH),
    share: parseSealedShare(record.share, `${path}/share`, nodes),
    auditSeq: readInt(record.auditSeq, `${path}/auditSeq`, 1, Number.MAX_SAFE_INTEGER),
  };
}

// --- Sealed-state version counter -------------------------------------------------------------------

export interface SealedVersion {
  readonly appId: string;
  readonly name: string;
  readonly epoch: number;
  readonly version: number;
  /** SHA-256 (hex) of the sealed blob. */
  readonly digest: string;
}

export const SEALED_NAME = /^[A-Za-z0-9._-]{1,128}$/;

export function parseSealedVersion(value: unknown, path: string): SealedVersion {
  const record = readObject(value, path, ['appId', 'name', 'epoch', 'version', 'digest']);
  return {
    appId: readString(record.appId, `${path}/appId`, APP_ID),
    name: readString(record.name, `${path}/name`, SEALED_NAME),
    epoch: readInt(record.epoch, `${path}/epoch`, 1, MAX_EPOCH),
    version: readInt(record.version, `${path}/version`, 1, Number.MAX_SAFE_INTEGER),
    digest: readString(record.digest, `${path}/digest`, HEX64),
  };
}

/** A bump request: the version signed with the epoch's key-check key (only the app can make one). */
export function parseSealedBump(value: unknown, path = 'body') {
  const record = readObject(value, path, ['version', 'signature']);
  return {
    version: parseSealedVersion(record.version, `${path}/version`),
    signature: fromB64u(record.signature, `${path}/signature`, ED25519_SIGNATURE_BYTES),
  };
}

/** A node's countersignature of a sealed-state version. */
export interface Countersigned {
  readonly version: SealedVersion;
  readonly node: string;
  readonly signature: string;
}

export function parseCountersigned(value: unknown, path = 'countersigned'): Countersigned {
  const record = readObject(value, path, ['version', 'node', 'signature']);
  return {
    version: parseSealedVersion(record.version, `${path}/version`),
    node: readString(record.node, `${path}/node`, NODE_ID),
    signature: b64u(fromB64u(record.signature, `${path}/signature`, ED25519_SIGNATURE_BYTES)),
  };
}

export function sealedVersionBytes(version: SealedVersion): Uint8Array {
  return canonicalBytes(version as unknown as Json);
}

export function checkCountersigned(countersigned: Countersigned, node: NodeRef): boolean {
  return (
    countersigned.node === node.id &&
    verifyFor(
      fromB64u(node.signingPublicKey, 'signingPublicKey'),
      'sealed countersign',
      sealedVersionBytes(countersigned.version),
      fromB64u(countersigned.signature, 'signature'),
    )
  );
}
