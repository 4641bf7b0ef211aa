/**
 * Node-only: `veritee collateral fetch|export|import|list` — fill the store for given evidence, move a
 * self-contained bundle to an air-gapped verifier (verified on import), show what the store holds.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { decodeEvidenceInput } from '../bytes.js';
import { exportBundle, importBundle } from '../collateral/bundle.js';
import { collateralNeeds, type ResolverEvent } from '../collateral/resolver.js';
import { ErrorCode, VeriteeError } from '../errors.js';
import { type CollateralCliOptions, openCollateral, Progress } from './collateral-config.js';
import { EXIT, parseTime, readInput } from './io.js';
import type { CommandOutput } from './verify-command.js';

export interface CollateralCommandOptions extends CollateralCliOptions {
  readonly at?: string | undefined;
  readonly json?: boolean | undefined;
}

/** Fetches (or finds) the collateral of each evidence file; one line per file. */
export async function runCollateralFetch(
  files: readonly string[],
  options: CollateralCommandOptions,
  tty = false,
): Promise<CommandOutput> {
  if (files.length === 0)
    throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, 'give at least one evidence file');
  const at = options.at === undefined ? new Date() : parseTime(options.at);
  const progress = new Progress(tty);
  const context = openCollateral(options, progress);
  const lines: string[] = [];
  let failed = false;
  try {
    for (const file of files) {
      const bytes = decodeEvidenceInput(readInput(file, 'evidence'));
      const counts = { hit: 0, stored: 0, stale: 0 };
      const count = (event: ResolverEvent): void => {
        if (event.type in counts) counts[event.type as keyof typeof counts]++;
      };
      context.listeners.add(count);
      try {
        const needs = collateralNeeds(bytes);
        await context.resolver.resolve(bytes, at);
        lines.push(
          options.json
            ? JSON.stringify({ file, ok: true, platform: needs.platform, ...counts })
            : `${file}: ok (${needs.platform}; ${counts.stored} fetched, ${counts.hit} from the store${counts.stale > 0 ? `, ${counts.stale} stale` : ''})`,
        );
      } catch (error) {
        failed = true;
        const e = error instanceof VeriteeError ? error : undefined;
        lines.push(
          options.json
            ? JSON.stringify({
                file,
                ok: false,
                code: e?.code ?? 'ERROR',
                message: e?.message ?? String(error),
              })
            : `${file}: ${e?.code ?? 'ERROR'}: ${e?.message ?? String(error)}`,
        );
      } finally {
        context.listeners.delete(count);
      }
    }
  } finally {
    progress.done();
    await context.close();
  }
  return { stdout: `${lines.join('\n')}\n`, stderr: '', exitCode: failed ? EXIT.rejected : EXIT.accepted };
}

export async function runCollateralExport(
  file: string,
  options: CollateralCliOptions,
): Promise<CommandOutput> {
  const context = openCollateral({ ...options, offline: true });
  try {
    const bytes = await exportBundle(context.store);
    writeFileSync(file, bytes);
    const count = (await context.store.list()).length;
    return { stdout: `exported ${count} items to ${file}\n`, stderr: '', exitCode: EXIT.accepted };
  } finally {
    await context.close();
  }
}

export async function runCollateralImport(
  file: string,
  options: CollateralCommandOptions,
): Promise<CommandOutput> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(file));
  } catch {
    throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, `cannot read bundle "${file}"`);
  }
  const context = openCollateral({ ...options, offline: true });
  try {
    const at = options.at === undefined ? undefined : parseTime(options.at);
    const result = await importBundle(context.store, bytes, { at });
    return {
      stdout: `imported ${result.imported} verified items (${result.alreadyPresent} already present)\n`,
      stderr: '',
      exitCode: EXIT.accepted,
    };
  } finally {
    await context.close();
  }
}

export async function runCollateralList(options: CollateralCommandOptions): Promise<CommandOutput> {
  const context = openCollateral({ ...options, offline: true });
  try {
    const items = await context.store.list();
    const lines = items.map((item) =>
      options.json
        ? JSON.stringify({
            kind: item.kind,
            key: item.key,
            contentHash: item.contentHash,
            notBefore: item.notBefore.toISOString(),
            notAfter: item.notAfter.toISOString(),
            source: item.source,
          })
        : `${item.kind.padEnd(17)} ${item.key.padEnd(40)} ${item.notBefore.toISOString()} .. ${item.notAfter.toISOString()} ${item.contentHash.slice(0, 12)}`,
    );
    return { stdout: lines.length === 0 ? '' : `${lines.join('\n')}\n`, stderr: '', exitCode: EXIT.accepted };
  } finally {
    await context.close();
  }
}
