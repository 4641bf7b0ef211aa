/**
 * The node's audit log: append-only, hash-chained, each entry signed by the node. Anyone can fetch it
 * (`GET /v1/audit`) and check it with {@link verifyAuditChain}: sequence numbers contiguous from 1,
 * each `prev` equal to the previous entry's `hash`, each `hash` the SHA-256 of the entry's canonical
 * JSON without `hash` and `sig`, each `sig` an Ed25519 signature by the node's signing key over the hash.
 *
 * Entries hold identifiers, outcomes and digests only — never a share, a secret or evidence bytes.
 */
import { fromHex, toHex } from '../bytes.js';
import { ErrorCode, VeriteeError } from '../errors.js';
import {
  b64u,
  canonicalBytes,
  fromB64u,
  type Json,
  parseJsonText,
  readInt,
  readObject,
  readString,
} from './codec.js';
import { type DomainSigner, sha256Of, verifyFor } from './crypto.js';

export const GENESIS = '0'.repeat(64);

export type AuditType =
  | 'node.start'
  | 'policy.set'
  | 'policy.refused'
  | 'epoch.create'
  | 'epoch.refused'
  | 'epoch.retire'
  | 'share.release'
  | 'share.refused'
  | 'sealed.countersign'
  | 'sealed.refused';

export interface AuditEntry {
  readonly seq: number;
  readonly time: string;
  readonly node: string;
  readonly type: AuditType;
  readonly app: string | null;
  readonly epoch: number | null;
  readonly outcome: 'ok' | 'refused';
  /** The refusal's error code. */
  readonly code: string | null;
  /** Public facts: versions, digests (hex), measurement values, node ids. */
  readonly detail: { readonly [key: string]: string | number };
  readonly prev: string;
  readonly hash: string;
  readonly sig: string;
}

export type AuditEvent = Pick<AuditEntry, 'type' | 'app' | 'epoch' | 'outcome' | 'code' | 'detail'>;

function hashOf(entry: Omit<AuditEntry, 'hash' | 'sig'>): string {
  return toHex(sha256Of(canonicalBytes(entry as unknown as Json)));
}

/** Builds the next entry after `previous`, signed by the node. */
export async function buildAuditEntry(
  previous: { seq: number; hash: string } | undefined,
  node: string,
  event: AuditEvent,
  time: Date,
  sign: DomainSigner,
): Promise<AuditEntry> {
  const body = {
    seq: (previous?.seq ?? 0) + 1,
    time: time.toISOString(),
    node,
    type: event.type,
    app: event.app,
    epoch: event.epoch,
    outcome: event.outcome,
    code: event.code,
    detail: event.detail,
    prev: previous?.hash ?? GENESIS,
  };
  const hash = hashOf(body);
  return { ...body, hash, sig: b64u(await sign('audit', fromHex(hash))) };
}

const FIELDS = [
  'seq',
  'time',
  'node',
  'type',
  'app',
  'epoch',
  'outcome',
  'code',
  'detail',
  'prev',
  'hash',
  'sig',
];

/** Parses one entry (total). */
export function parseAuditEntry(value: unknown, path = 'entry'): AuditEntry {
  const record = readObject(value, path, FIELDS);
  const hex64 = /^[0-9a-f]{64}$/;
  const detail = readObject(
    record.detail,
    `${path}/detail`,
    [],
    Object.keys((record.detail as object) ?? {}),
  );
  for (const [key, item] of Object.entries(detail)) {
    if (typeof item !== 'string' && !(typeof item === 'number' && Number.isSafeInteger(item))) {
      throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, 'audit detail values are strings or integers', {
        path: `${path}/detail/${key}`,
      });
    }
  }
  return {
    seq: readInt(record.seq, `${path}/seq`, 1, Number.MAX_SAFE_INTEGER),
    time: readString(record.time, `${path}/time`, /^\d{4}-\d{2}-\d{2}T[\d:.]+Z$/),
    node: readString(record.node, `${path}/node`, /^[0-9a-f]{32}$/),
    type: readString(record.type, `${path}/type`, /^[a-z]+\.[a-z]+$/) as AuditType,
    app: record.app === null ? null : readString(record.app, `${path}/app`),
    epoch: record.epoch === null ? null : readInt(record.epoch, `${path}/epoch`, 0, 2 ** 31),
    outcome: readString(record.outcome, `${path}/outcome`, /^(ok|refused)$/) as 'ok' | 'refused',
    code: record.code === null ? null : readString(record.code, `${path}/code`, /^[A-Z_]+$/),
    detail: detail as AuditEntry['detail'],
    prev: readString(record.prev, `${path}/prev`, hex64),
    hash: readString(record.hash, `${path}/hash`, hex64),
    sig: readString(record.sig, `${path}/sig`),
  };
}

export interface AuditCheck {
  readonly entries: number;
  readonly head: string;
}

/**
 * Checks a run of entries from `seq` 1 (or continuing from `after`) against the node's signing key.
 * Throws `KMS_AUDIT_BROKEN` naming the first bad entry.
 */
export function verifyAuditChain(
  entries: readonly unknown[],
  signingPublicKey: Uint8Array,
  after: { seq: number; hash: string } = { seq: 0, hash: GENESIS },
): AuditCheck {
  let previous = after;
  for (const [index, raw] of entries.entries()) {
    const broken = (why: string) =>
      new VeriteeError(ErrorCode.KMS_AUDIT_BROKEN, `audit log broken: ${why}`, { path: `entries/${index}` });
    let entry: AuditEntry;
    try {
      entry = parseAuditEntry(typeof raw === 'string' ? parseJsonText(raw) : raw, `entries/${index}`);
    } catch (error) {
      throw broken(error instanceof VeriteeError ? error.message : 'unparseable entry');
    }
    if (entry.seq !== previous.seq + 1) throw broken(`sequence ${entry.seq} after ${previous.seq}`);
    if (entry.prev !== previous.hash) throw broken(`entry ${entry.seq} does not link to its predecessor`);
    const { hash, sig, ...body } = entry;
    if (hashOf(body) !== hash) throw broken(`entry ${entry.seq} hash does not match its content`);
    let signature: Uint8Array;
    try {
      signature = fromB64u(sig, 'sig', 64);
    } catch {
      throw broken(`entry ${entry.seq} signature is malformed`);
    }
    if (!verifyFor(signingPublicKey, 'audit', fromHex(hash), signature)) {
      throw broken(`entry ${entry.seq} signature is not the node's`);
    }
    previous = { seq: entry.seq, hash };
  }
  return { entries: previous.seq, head: previous.hash };
}
