/**
 * Blob stores for sealed state: the filesystem (`dir/<first two hex>/<sha256 hex>`, written atomically)
 * and, for an `s3://bucket/prefix` location, an S3-compatible store (s3.ts).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode, VeriteeError } from '../../errors.js';
import type { BlobStore } from '../sealed.js';
import { parseS3Location, S3BlobStore, s3OptionsFromEnv } from './s3.js';

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

/** The blob store at `location`: `s3://bucket[/prefix]` (configured from `env`) or a directory. */
export function openBlobStore(location: string, env: NodeJS.ProcessEnv = process.env): BlobStore {
  if (location.startsWith('s3://')) return new S3BlobStore(s3OptionsFromEnv(parseS3Location(location), env));
  return new FileBlobStore(location);
}
