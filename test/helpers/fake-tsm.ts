/**
 * A fake configfs-tsm kernel over a temp dir, following the kernel's file protocol
 * (Documentation/ABI/testing/configfs-tsm-report): mkdir creates an entry with `provider` and
 * `generation`; each write to `inblob` increments `generation` and makes `outblob` (and `auxblob` for
 * SEV-SNP); rmdir removes the entry. Hooks let tests race or corrupt it.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { TsmFileSystem } from '../../src/runtime/providers/tsm.js';

export interface FakeKernelOptions {
  readonly provider?: string;
  /** Called after outblob is read (e.g. to simulate another writer). */
  readonly afterOutblobRead?: (entry: string) => void;
  readonly outblob?: (inblob: Uint8Array) => Uint8Array;
}

export function bumpGeneration(entry: string): void {
  const path = join(entry, 'generation');
  writeFileSync(path, `${Number(readFileSync(path, 'utf8')) + 1}\n`);
}

export function fakeTsmKernel(
  root: string,
  options: FakeKernelOptions = {},
): TsmFileSystem & { created: string[] } {
  const created: string[] = [];
  const provider = options.provider ?? 'tdx_guest';
  return {
    created,
    async mkdir(path) {
      if (dirname(path) !== root) throw Object.assign(new Error('EPERM'), { code: 'EPERM' });
      mkdirSync(path);
      writeFileSync(join(path, 'provider'), `${provider}\n`);
      writeFileSync(join(path, 'generation'), '0\n');
      created.push(basename(path));
    },
    async rmdir(path) {
      rmSync(path, { recursive: true });
    },
    async readFile(path) {
      const bytes = new Uint8Array(readFileSync(path));
      if (basename(path) === 'outblob') options.afterOutblobRead?.(dirname(path));
      return bytes;
    },
    async writeFile(path, data) {
      if (basename(path) !== 'inblob') throw Object.assign(new Error('EACCES'), { code: 'EACCES' });
      if (data.length > 64) throw Object.assign(new Error('EINVAL'), { code: 'EINVAL' });
      const entry = dirname(path);
      writeFileSync(path, data);
      bumpGeneration(entry);
      const quote = options.outblob?.(data) ?? Uint8Array.from([0x04, 0x00, 0x02, 0x00, ...data]);
      writeFileSync(join(entry, 'outblob'), quote);
      if (provider === 'sev_guest') writeFileSync(join(entry, 'auxblob'), Uint8Array.of(1, 2, 3));
    },
    async exists(path) {
      return existsSync(path);
    },
  };
}
