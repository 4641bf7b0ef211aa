/** Filesystem blob store for sealed state: `dir/<first two hex>/<sha256 hex>`, written atomically. */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode, VeriteeError } from '../../errors.js';
import type { BlobStore } from '../sealed.js';

export class FileBlobStore implements BlobStore {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  #path(digest: string): string {
    if (!/^[0-9a-f]{64}$/.test(digest))
      throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, 'blob digest must be SHA-256 hex');
    return join(this.dir, digest.slice(0, 2), digest);
  }

  async put(digest: string, bytes: Uint8Array): Promise<void> {
    const path = this.#path(digest);
    if (existsSync(path)) return;
    mkdirSync(join(this.dir, digest.slice(0, 2)), { recursive: true });
    const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    writeFileSync(temporary, bytes, { flag: 'wx' });
    renameSync(temporary, path);
  }

  async get(digest: string): Promise<Uint8Array | undefined> {
    const path = this.#path(digest);
    return existsSync(path) ? new Uint8Array(readFileSync(path)) : undefined;
  }
}
