/**
 * Node-only: reads `--collateral <file|dir>` for the CLI. A file is passed on as its bytes (for Intel DCAP:
 * the dcap-qvl collateral JSON); a folder as a map of file name → bytes (for Intel DCAP: the PCS
 * wire-format files `tcb_info.json`, `qe_identity.json`, `pck_crl.der`, `root_ca_crl.der` and the
 * issuer-chain PEMs). The platform module decides what it accepts; nothing here interprets the contents.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode, VeriteeError } from '../errors.js';

/** Bounds on what a collateral folder may hold. */
const MAX_FILES = 64;
const MAX_FILE_BYTES = 4 << 20;

function unreadable(path: string, error: unknown): VeriteeError {
  const reason = (error as NodeJS.ErrnoException).code ?? 'read error';
  return new VeriteeError(ErrorCode.ARGUMENT_INVALID, `cannot read collateral "${path}" (${reason})`);
}

function readBounded(path: string): Uint8Array {
  const size = statSync(path).size;
  if (size > MAX_FILE_BYTES) {
    throw new VeriteeError(ErrorCode.PARSE_LIMIT_EXCEEDED, `collateral file "${path}" is larger than 4 MiB`);
  }
  return new Uint8Array(readFileSync(path));
}

/** Reads a collateral file (its bytes) or folder (file name → bytes, regular files only). */
export function readCollateral(path: string): Uint8Array | Record<string, Uint8Array> {
  try {
    if (!statSync(path).isDirectory()) return readBounded(path);
    const out: Record<string, Uint8Array> = {};
    const entries = readdirSync(path, { withFileTypes: true }).filter((entry) => entry.isFile());
    if (entries.length > MAX_FILES) {
      throw new VeriteeError(
        ErrorCode.PARSE_LIMIT_EXCEEDED,
        `collateral folder "${path}" has over ${MAX_FILES} files`,
      );
    }
    for (const entry of entries) out[entry.name] = readBounded(join(path, entry.name));
    return out;
  } catch (error) {
    if (error instanceof VeriteeError) throw error;
    throw unreadable(path, error);
  }
}
