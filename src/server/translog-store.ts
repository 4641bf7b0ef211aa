/**
 * SQLite storage for the transparency log (Node only; better-sqlite3, synchronous). One file per log:
 * `entries` (index, bytes, leaf hash — unique), `nodes` (complete subtrees by level and index) and
 * `meta` (the log's origin, so a file is never reopened as another log). Each append is one transaction.
 */
import Database from 'better-sqlite3';
import { ErrorCode, VeriteeError } from '../errors.js';
import type { LogStore, StoredNode } from '../measure/translog/store.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS entries (idx INTEGER PRIMARY KEY, data BLOB NOT NULL, leaf_hash BLOB NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS nodes (level INTEGER NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL, PRIMARY KEY (level, idx)) WITHOUT ROWID;
`;

export class SqliteLogStore implements LogStore {
  private readonly db: Database.Database;
  private readonly statements;
  private count: number;

  /** Opens (or creates) the log database at `path` (`:memory:` for tests) for the log named `origin`. */
  constructor(path: string, origin: string) {
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.exec(SCHEMA);
    const stored = this.db.prepare('SELECT value FROM meta WHERE key = ?').get('origin') as
      | { value: string }
      | undefined;
    if (stored === undefined)
      this.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run('origin', origin);
    else if (stored.value !== origin) {
      this.db.close();
      throw new VeriteeError(
        ErrorCode.ARGUMENT_INVALID,
        `log database belongs to "${stored.value}", not "${origin}"`,
      );
    }
    this.statements = {
      entry: this.db.prepare('SELECT data FROM entries WHERE idx = ?'),
      node: this.db.prepare('SELECT hash FROM nodes WHERE level = ? AND idx = ?'),
      indexOf: this.db.prepare('SELECT idx FROM entries WHERE leaf_hash = ?'),
      insertEntry: this.db.prepare('INSERT INTO entries (idx, data, leaf_hash) VALUES (?, ?, ?)'),
      insertNode: this.db.prepare('INSERT INTO nodes (level, idx, hash) VALUES (?, ?, ?)'),
    };
    this.count = (this.db.prepare('SELECT COUNT(*) AS n FROM entries').get() as { n: number }).n;
  }

  size(): number {
    return this.count;
  }

  entry(index: number): Uint8Array | undefined {
    const row = this.statements.entry.get(index) as { data: Buffer } | undefined;
    return row === undefined ? undefined : new Uint8Array(row.data);
  }

  node(level: number, index: number): Uint8Array | undefined {
    const row = this.statements.node.get(level, index) as { hash: Buffer } | undefined;
    return row === undefined ? undefined : new Uint8Array(row.hash);
  }

  indexOf(leafHash: Uint8Array): number | undefined {
    const row = this.statements.indexOf.get(Buffer.from(leafHash)) as { idx: number } | undefined;
    return row?.idx;
  }

  append(index: number, entry: Uint8Array, nodes: readonly StoredNode[]): void {
    if (index !== this.count) throw new Error(`append at ${index}, size is ${this.count}`);
    const leaf = nodes.find((node) => node.level === 0);
    if (leaf === undefined) throw new Error('append without a leaf hash');
    this.db.transaction(() => {
      this.statements.insertEntry.run(index, Buffer.from(entry), Buffer.from(leaf.hash));
      for (const node of nodes)
        this.statements.insertNode.run(node.level, node.index, Buffer.from(node.hash));
    })();
    this.count++;
  }

  close(): void {
    this.db.close();
  }
}
