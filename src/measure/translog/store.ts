/**
 * Storage for an append-only Merkle log. Synchronous (SQLite through better-sqlite3 is synchronous, and
 * a log must append atomically). Level-0 nodes are leaf hashes; a node at (level, index) is the hash of
 * the complete subtree over leaves [index·2^level, (index+1)·2^level), stored once it is complete.
 */

export interface StoredNode {
  readonly level: number;
  readonly index: number;
  readonly hash: Uint8Array;
}

export interface LogStore {
  /** Number of entries. */
  size(): number;
  entry(index: number): Uint8Array | undefined;
  /** Hash of a complete subtree, or undefined when it is not complete (or out of range). */
  node(level: number, index: number): Uint8Array | undefined;
  /** Index of the entry with this leaf hash. */
  indexOf(leafHash: Uint8Array): number | undefined;
  /** Appends entry `index` (= size()) with its new complete nodes, atomically. */
  append(index: number, entry: Uint8Array, nodes: readonly StoredNode[]): void;
}

/** In-memory store (tests, browsers, short-lived logs). */
export class MemoryLogStore implements LogStore {
  private readonly entries: Uint8Array[] = [];
  private readonly nodes = new Map<string, Uint8Array>();
  private readonly byLeaf = new Map<string, number>();

  size(): number {
    return this.entries.length;
  }

  entry(index: number): Uint8Array | undefined {
    return this.entries[index]?.slice();
  }

  node(level: number, index: number): Uint8Array | undefined {
    return this.nodes.get(`${level}/${index}`);
  }

  indexOf(leafHash: Uint8Array): number | undefined {
    return this.byLeaf.get(hexKey(leafHash));
  }

  append(index: number, entry: Uint8Array, nodes: readonly StoredNode[]): void {
    if (index !== this.entries.length) throw new Error(`append at ${index}, size is ${this.entries.length}`);
    this.entries.push(entry.slice());
    for (const node of nodes) {
      this.nodes.set(`${node.level}/${node.index}`, node.hash);
      if (node.level === 0) this.byLeaf.set(hexKey(node.hash), node.index);
    }
  }
}

function hexKey(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes) out += byte.toString(16).padStart(2, '0');
  return out;
}
