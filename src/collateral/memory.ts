/** An in-memory collateral store (browser-safe): tests, short-lived processes, a browser tab. */
import type { CollateralItem, CollateralKind, CollateralStore } from './types.js';

export class MemoryCollateralStore implements CollateralStore {
  private readonly items = new Map<string, CollateralItem>();
  private writes = 0;

  async versions(kind: CollateralKind, key: string): Promise<readonly CollateralItem[]> {
    return [...this.items.values()]
      .filter((item) => item.kind === kind && item.key === key)
      .sort((a, b) => b.notBefore.getTime() - a.notBefore.getTime());
  }

  async byHash(contentHash: string): Promise<CollateralItem | undefined> {
    return this.items.get(contentHash);
  }

  async put(item: CollateralItem): Promise<void> {
    if (this.items.has(item.contentHash)) return;
    this.items.set(item.contentHash, item);
    this.writes++;
  }

  /** Only this object can change it, so there are no external changes to check. */
  localChanges(): number {
    return this.writes;
  }

  async list(): Promise<readonly CollateralItem[]> {
    return [...this.items.values()].sort(
      (a, b) =>
        a.kind.localeCompare(b.kind) ||
        a.key.localeCompare(b.key) ||
        b.notBefore.getTime() - a.notBefore.getTime(),
    );
  }

  async close(): Promise<void> {}
}
