/**
 * The log client: checks every tree head's signature, refuses any head that is not consistent with the
 * last one it trusted (rollback, fork, bad proof → LOG_INCONSISTENT), and checks inclusion proofs
 * before a record is trusted (LOG_PROOF_INVALID; a record the log does not have → LOG_ENTRY_MISSING).
 * Works with any `fetch` (Node 20, browsers, or a handler called in-process in tests).
 */
import { fromHex, toHex } from '../../bytes.js';
import { ErrorCode, VeriteeError } from '../../errors.js';
import type { TrustedKey } from '../release.js';
import { type SignedTreeHead, type TreeHead, treeHeadFromJson, verifyTreeHead } from './checkpoint.js';
import { leafHash, verifyConsistency, verifyInclusion } from './merkle.js';

export interface InclusionProof {
  readonly index: number;
  readonly treeSize: number;
  readonly hashes: readonly Uint8Array[];
}

export interface InclusionProofJson {
  readonly index: number;
  readonly treeSize: number;
  readonly hashes: readonly string[];
}

export function inclusionProofToJson(proof: InclusionProof): InclusionProofJson {
  return { index: proof.index, treeSize: proof.treeSize, hashes: proof.hashes.map(toHex) };
}

export function inclusionProofFromJson(json: unknown, path = 'proof'): InclusionProof {
  if (typeof json !== 'object' || json === null)
    throw new VeriteeError(ErrorCode.PARSE_UNEXPECTED_TYPE, 'proof must be an object', { path });
  const value = json as Record<string, unknown>;
  for (const key of Object.keys(value)) {
    if (!['index', 'treeSize', 'hashes'].includes(key))
      throw new VeriteeError(ErrorCode.PARSE_UNKNOWN_FIELD, `unknown field "${key}"`, {
        path: `${path}/${key}`,
      });
  }
  if (!Number.isSafeInteger(value.index) || !Number.isSafeInteger(value.treeSize)) {
    throw new VeriteeError(ErrorCode.PARSE_INVALID_VALUE, 'index and treeSize must be integers', { path });
  }
  if (!Array.isArray(value.hashes) || value.hashes.length > 64)
    throw new VeriteeError(ErrorCode.PARSE_INVALID_VALUE, 'hashes must be a list of at most 64', {
      path: `${path}/hashes`,
    });
  const hashes = value.hashes.map((hash: unknown, i: number) => {
    if (typeof hash !== 'string')
      throw new VeriteeError(ErrorCode.PARSE_UNEXPECTED_TYPE, 'must be hex', {
        path: `${path}/hashes[${i}]`,
      });
    return fromHex(hash, `${path}/hashes[${i}]`);
  });
  return { index: value.index as number, treeSize: value.treeSize as number, hashes };
}

/** Throws LOG_PROOF_INVALID unless `proof` shows `entry` in the tree `head` describes. */
export function checkInclusion(entry: Uint8Array, proof: InclusionProof, head: TreeHead): void {
  if (proof.treeSize !== head.treeSize) {
    throw new VeriteeError(
      ErrorCode.LOG_PROOF_INVALID,
      `proof is for tree size ${proof.treeSize}, the tree head is ${head.treeSize}`,
      { path: 'proof/treeSize' },
    );
  }
  if (!verifyInclusion(proof.index, proof.treeSize, leafHash(entry), proof.hashes, head.rootHash)) {
    throw new VeriteeError(
      ErrorCode.LOG_PROOF_INVALID,
      `inclusion proof for entry ${proof.index} does not verify against the tree head`,
      { path: 'proof' },
    );
  }
}

/** Throws LOG_INCONSISTENT unless `newer` extends `older` (proof from older.treeSize to newer.treeSize). */
export function checkConsistency(older: TreeHead, newer: TreeHead, proof: readonly Uint8Array[]): void {
  const fail = (why: string) =>
    new VeriteeError(ErrorCode.LOG_INCONSISTENT, `log "${newer.origin}" is inconsistent: ${why}`, {
      details: `trusted size ${older.treeSize} root ${toHex(older.rootHash)}, new size ${newer.treeSize} root ${toHex(newer.rootHash)}`,
    });
  if (older.origin !== newer.origin) throw fail('the tree heads belong to different logs');
  if (newer.treeSize < older.treeSize) throw fail('the tree shrank (rollback)');
  if (older.treeSize === 0) return;
  if (!verifyConsistency(older.treeSize, newer.treeSize, older.rootHash, newer.rootHash, proof)) {
    throw fail(
      newer.treeSize === older.treeSize
        ? 'two different roots for one size (fork)'
        : 'the consistency proof does not verify (fork)',
    );
  }
}

export interface LogClientOptions {
  readonly key: TrustedKey;
  readonly origin: string;
  readonly fetch?: (request: Request) => Promise<Response>;
  /** A tree head trusted earlier (persisted by the caller). */
  readonly trusted?: TreeHead | undefined;
}

export class LogClient {
  private trustedHead: TreeHead | undefined;
  private signed: SignedTreeHead | undefined;
  private readonly fetcher: (request: Request) => Promise<Response>;

  constructor(
    private readonly baseUrl: string,
    private readonly options: LogClientOptions,
  ) {
    this.trustedHead = options.trusted;
    this.fetcher = options.fetch ?? ((request) => fetch(request));
  }

  /** The signed form of the latest tree head this client fetched and verified (for release bundles). */
  get signedHead(): SignedTreeHead | undefined {
    return this.signed;
  }

  /** The latest tree head this client has verified. */
  get trusted(): TreeHead | undefined {
    return this.trustedHead;
  }

  /**
   * One request. Every request is idempotent (appends are idempotent too), so a network failure — e.g. a
   * kept-alive connection the server closed (ECONNRESET) — is retried once; a second failure is typed.
   */
  private async send(path: string, init?: RequestInit): Promise<Response> {
    const url = new URL(path, this.baseUrl);
    try {
      return await this.fetcher(new Request(url, init));
    } catch {
      try {
        return await this.fetcher(new Request(url, init));
      } catch (error) {
        throw new VeriteeError(ErrorCode.COLLATERAL_UNAVAILABLE, 'transparency log unreachable', {
          path,
          details:
            error instanceof Error
              ? String((error as { cause?: unknown }).cause ?? error.message).slice(0, 200)
              : undefined,
        });
      }
    }
  }

  private async getJson(path: string, init?: RequestInit): Promise<unknown> {
    const response = await this.send(path, init);
    const text = await response.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new VeriteeError(ErrorCode.PARSE_ENCODING, `log answered ${response.status} with non-JSON`, {
        path,
      });
    }
    if (!response.ok) {
      const error = body as { code?: string; message?: string };
      const code =
        error.code === ErrorCode.LOG_ENTRY_MISSING
          ? ErrorCode.LOG_ENTRY_MISSING
          : ErrorCode.COLLATERAL_UNAVAILABLE;
      throw new VeriteeError(code, `log answered ${response.status}`, { path, details: error.message });
    }
    return body;
  }

  /** Fetches the current tree head, verifies its signature and its consistency with the trusted one. */
  async update(): Promise<TreeHead> {
    const signed: SignedTreeHead = treeHeadFromJson(await this.getJson('checkpoint'));
    const head = await verifyTreeHead(signed, this.options.key, this.options.origin);
    const old = this.trustedHead;
    if (old !== undefined && old.treeSize > 0 && head.treeSize >= old.treeSize) {
      const proof =
        head.treeSize === old.treeSize
          ? []
          : (
              (await this.getJson(`proof/consistency?from=${old.treeSize}&to=${head.treeSize}`)) as {
                hashes: string[];
              }
            ).hashes.map((h, i) => fromHex(String(h), `consistency/hashes[${i}]`));
      checkConsistency(old, head, proof);
    } else if (old !== undefined) {
      checkConsistency(old, head, []);
    }
    this.trustedHead = head;
    this.signed = signed;
    return head;
  }

  /** Submits an entry (the release log takes DSSE envelope JSON); returns its index. */
  async submit(body: string): Promise<number> {
    const result = (await this.getJson('entries', {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json' },
    })) as { index: number };
    return result.index;
  }

  /**
   * Finds `entry` in the log at the trusted tree head and checks the inclusion proof. Throws
   * LOG_ENTRY_MISSING when the log does not have it, LOG_PROOF_INVALID when the proof is wrong.
   */
  async prove(entry: Uint8Array): Promise<InclusionProof> {
    const head = this.trustedHead ?? (await this.update());
    if (head.treeSize === 0) throw new VeriteeError(ErrorCode.LOG_ENTRY_MISSING, 'the log is empty');
    const json = await this.getJson(`proof/inclusion?hash=${toHex(leafHash(entry))}&size=${head.treeSize}`);
    const proof = inclusionProofFromJson(json);
    checkInclusion(entry, proof, head);
    return proof;
  }
}
