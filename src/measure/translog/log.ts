/**
 * The append-only log: entries in a `LogStore`, RFC 9162 hashing (merkle.ts), proofs served from stored
 * complete subtrees (O(log² n) node reads per proof), tree heads signed with the log's key.
 * Appends are idempotent: an entry already in the log returns its existing index.
 */
import { ErrorCode, VeriteeError } from '../../errors.js';
import { type SignedTreeHead, signTreeHead } from './checkpoint.js';
import { consistencyPath, emptyRoot, inclusionPath, leafHash, nodeHash, splitPoint } from './merkle.js';
import type { LogStore, StoredNode } from './store.js';

export interface LogOptions {
  /** The log's name, signed into every tree head (e.g. `example.com/releases`). */
  readonly origin: string;
  /** Private JWK (Ed25519 or P-256) that signs tree heads. */
  readonly privateJwk: JsonWebKey;
  /** Clock for tree-head timestamps (ms). */
  readonly now?: () => number;
  /** Largest entry accepted, in bytes. Default 1 MiB. */
  readonly maxEntryBytes?: number;
}

export interface AppendResult {
  readonly index: number;
  readonly leafHash: Uint8Array;
  /** True when the entry was already in the log. */
  readonly existing: boolean;
}

export class TransparencyLog {
  constructor(
    readonly store: LogStore,
    private readonly options: LogOptions,
  ) {}

  get origin(): string {
    return this.options.origin;
  }

  size(): number {
    return this.store.size();
  }

  append(entry: Uint8Array): AppendResult {
    const max = this.options.maxEntryBytes ?? 1 << 20;
    if (entry.length === 0 || entry.length > max) {
      throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, `log entries must be 1–${max} bytes`);
    }
    const hash = leafHash(entry);
    const existing = this.store.indexOf(hash);
    if (existing !== undefined) return { index: existing, leafHash: hash, existing: true };
    const index = this.store.size();
    this.store.append(index, entry, this.newNodes(index, hash));
    return { index, leafHash: hash, existing: false };
  }

  /** The leaf and every subtree that leaf `index` completes. */
  private newNodes(index: number, hash: Uint8Array): StoredNode[] {
    const nodes: StoredNode[] = [{ level: 0, index, hash }];
    let level = 0;
    let position = index;
    let current = hash;
    while (position % 2 === 1) {
      const left = this.store.node(level, position - 1);
      if (left === undefined) throw new Error(`log store lost node ${level}/${position - 1}`);
      current = nodeHash(left, current);
      level++;
      position = (position - 1) / 2;
      nodes.push({ level, index: position, hash: current });
    }
    return nodes;
  }

  /** MTH(D[start:end]) from stored complete subtrees. */
  subtreeHash(start: number, end: number): Uint8Array {
    const n = end - start;
    if (n <= 0) return emptyRoot();
    let level = 0;
    while (2 ** (level + 1) <= n) level++;
    if (2 ** level === n && start % n === 0) {
      const node = this.store.node(level, start / n);
      if (node === undefined) throw new Error(`log store lost node ${level}/${start / n}`);
      return node;
    }
    const k = splitPoint(n);
    return nodeHash(this.subtreeHash(start, start + k), this.subtreeHash(start + k, end));
  }

  root(size = this.size()): Uint8Array {
    this.checkSize(size, 'size');
    return this.subtreeHash(0, size);
  }

  entry(index: number): Uint8Array {
    const entry = Number.isSafeInteger(index) && index >= 0 ? this.store.entry(index) : undefined;
    if (entry === undefined)
      throw new VeriteeError(ErrorCode.LOG_ENTRY_MISSING, `no entry ${index}`, { path: 'index' });
    return entry;
  }

  indexOf(hash: Uint8Array): number | undefined {
    return this.store.indexOf(hash);
  }

  inclusionProof(index: number, size = this.size()): Uint8Array[] {
    this.checkSize(size, 'size');
    if (!Number.isSafeInteger(index) || index < 0 || index >= size) {
      throw new VeriteeError(
        ErrorCode.LOG_ENTRY_MISSING,
        `entry ${index} is not in the tree of size ${size}`,
        { path: 'index' },
      );
    }
    return inclusionPath(index, size, (a, b) => this.subtreeHash(a, b));
  }

  consistencyProof(first: number, second = this.size()): Uint8Array[] {
    this.checkSize(second, 'to');
    if (!Number.isSafeInteger(first) || first < 1 || first > second) {
      throw new VeriteeError(
        ErrorCode.ARGUMENT_INVALID,
        `consistency needs 0 < from ≤ to, got ${first} → ${second}`,
        { path: 'from' },
      );
    }
    return consistencyPath(first, second, (a, b) => this.subtreeHash(a, b));
  }

  async treeHead(): Promise<SignedTreeHead> {
    const treeSize = this.size();
    return signTreeHead(
      {
        origin: this.options.origin,
        treeSize,
        rootHash: this.root(treeSize),
        timestamp: (this.options.now ?? Date.now)(),
      },
      this.options.privateJwk,
    );
  }

  private checkSize(size: number, field: string): void {
    if (!Number.isSafeInteger(size) || size < 0 || size > this.size()) {
      throw new VeriteeError(
        ErrorCode.ARGUMENT_INVALID,
        `tree size ${size} is not between 0 and ${this.size()}`,
        { path: field },
      );
    }
  }
}
