/**
 * Linux configfs-tsm (Documentation/ABI/testing/configfs-tsm-report): TDX and SEV-SNP guests get
 * evidence by creating a report entry, writing `inblob` (the 64-byte report data) and reading `outblob`
 * (the TDX quote or SNP report) and, for SNP, `auxblob` (the certificate table).
 *
 * Races: every write to an entry increments its `generation`. We read `generation` before writing, and
 * again after reading the blobs: anything other than exactly one increment means another writer
 * touched the entry in between, and the evidence may not be ours (PROVIDER_RACE). Each request uses its
 * own entry (removed afterwards), so concurrent requests of this process never share one.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rmdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCode, VeriteeError } from '../../errors.js';
import { checkReportData, errnoOf, failed, unavailable } from './check.js';
import type { EvidenceProvider } from './types.js';

export const TSM_REPORT_ROOT = '/sys/kernel/config/tsm/report';
const PROVIDERS: Readonly<Record<string, 'tdx' | 'sev-snp'>> = { tdx_guest: 'tdx', sev_guest: 'sev-snp' };
/** Quotes and reports are a few KiB; SNP certificate tables a few more. Anything huge is refused. */
const MAX_BLOB = 1 << 20;

/** The file operations the provider needs (node:fs/promises by default; tests pass a fake kernel). */
export interface TsmFileSystem {
  mkdir(path: string): Promise<void>;
  rmdir(path: string): Promise<void>;
  readFile(path: string): Promise<Uint8Array>;
  writeFile(path: string, data: Uint8Array): Promise<void>;
  exists(path: string): Promise<boolean>;
}

export const nodeTsmFileSystem: TsmFileSystem = {
  mkdir: async (path) => {
    await mkdir(path);
  },
  rmdir: (path) => rmdir(path),
  readFile: async (path) => new Uint8Array(await readFile(path)),
  writeFile: (path, data) => writeFile(path, data),
  exists: async (path) => {
    try {
      await stat(path);
      return true;
    } catch {
      return false;
    }
  },
};

export interface TsmProviderOptions {
  readonly root?: string;
  readonly fs?: TsmFileSystem;
}

function parseGeneration(bytes: Uint8Array): number {
  const text = new TextDecoder().decode(bytes).trim();
  if (!/^\d{1,15}$/.test(text))
    throw failed('tsm', 'generation is not a decimal counter', JSON.stringify(text.slice(0, 20)));
  return Number(text);
}

async function readBounded(fs: TsmFileSystem, path: string, what: string): Promise<Uint8Array> {
  let bytes: Uint8Array;
  try {
    bytes = await fs.readFile(path);
  } catch (error) {
    throw failed('tsm', `cannot read ${what}`, errnoOf(error));
  }
  if (bytes.length > MAX_BLOB) throw failed('tsm', `${what} is larger than ${MAX_BLOB} bytes`);
  return bytes;
}

/** True when configfs-tsm report entries can be made here. */
export async function tsmAvailable(options: TsmProviderOptions = {}): Promise<boolean> {
  return (options.fs ?? nodeTsmFileSystem).exists(options.root ?? TSM_REPORT_ROOT);
}

export function tsmProvider(options: TsmProviderOptions = {}): EvidenceProvider {
  const root = options.root ?? TSM_REPORT_ROOT;
  const fs = options.fs ?? nodeTsmFileSystem;
  let counter = 0;
  return {
    name: 'tsm',
    simulated: false,
    async getEvidence(reportData) {
      checkReportData(reportData);
      if (!(await fs.exists(root))) {
        throw unavailable(
          'tsm',
          `${root} does not exist`,
          'not a TDX or SEV-SNP guest with configfs-tsm (Linux 6.7+)',
        );
      }
      const entry = join(root, `veritee-${process.pid}-${++counter}-${randomBytes(4).toString('hex')}`);
      try {
        await fs.mkdir(entry);
      } catch (error) {
        throw failed('tsm', `cannot create a report entry in ${root}`, errnoOf(error));
      }
      try {
        return await requestReport(fs, entry, reportData);
      } finally {
        await fs.rmdir(entry).catch(() => {});
      }
    },
  };
}

async function requestReport(fs: TsmFileSystem, entry: string, reportData: Uint8Array) {
  const providerName = new TextDecoder()
    .decode(await readBounded(fs, join(entry, 'provider'), 'provider'))
    .trim();
  const platform = PROVIDERS[providerName];
  if (platform === undefined) throw failed('tsm', `unknown TSM provider "${providerName.slice(0, 40)}"`);
  const before = parseGeneration(await readBounded(fs, join(entry, 'generation'), 'generation'));
  try {
    await fs.writeFile(join(entry, 'inblob'), reportData);
  } catch (error) {
    throw failed('tsm', 'cannot write inblob', errnoOf(error));
  }
  const outblob = await readBounded(fs, join(entry, 'outblob'), 'outblob');
  const auxiliary = (await fs.exists(join(entry, 'auxblob')))
    ? await readBounded(fs, join(entry, 'auxblob'), 'auxblob')
    : undefined;
  const after = parseGeneration(await readBounded(fs, join(entry, 'generation'), 'generation'));
  if (after !== before + 1) {
    throw new VeriteeError(
      ErrorCode.PROVIDER_RACE,
      'tsm: the report entry was written by someone else meanwhile',
      {
        details: `generation ${before} before our write, ${after} after reading outblob (expected ${before + 1})`,
      },
    );
  }
  if (outblob.length === 0) throw failed('tsm', 'outblob is empty');
  return auxiliary === undefined || auxiliary.length === 0
    ? { evidence: outblob, platform }
    : { evidence: outblob, platform, auxiliary };
}
